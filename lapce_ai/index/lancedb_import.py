"""Import LanceDB without two import-time costs that an embedded index never needs.

1. ``lancedb`` imports ``lance_namespace``, whose REST client package builds pydantic validators
   for every endpoint at import time (1.7 s of a 2.9 s import here, paid by every CLI call).
   Registering that package without running its ``__init__`` keeps its submodules (the data
   models lancedb needs) importable and skips the rest.
2. On Python 3.11 lancedb decorates its methods with the ``overrides`` package, which
   disassembles base classes at import; on 3.12+ it uses ``typing.override``, a no-op. We give
   3.11 the 3.12 behaviour for the duration of the import only.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from typing import Any

_CLIENT = "lance_namespace_urllib3_client"


def _register_client_package_lazily() -> None:
    if _CLIENT in sys.modules:
        return
    spec = importlib.util.find_spec(_CLIENT)
    if spec is None or not spec.submodule_search_locations:
        return
    package = types.ModuleType(_CLIENT)
    package.__path__ = list(spec.submodule_search_locations)
    package.__spec__ = spec
    package.__file__ = spec.origin
    sys.modules[_CLIENT] = package


def _no_op_override(method: Any) -> Any:
    return method


class _EnforceOverrides:
    pass


def _import_lancedb() -> types.ModuleType:
    _register_client_package_lazily()
    shimmed = sys.version_info < (3, 12) and "overrides" not in sys.modules
    if shimmed:
        shim = types.ModuleType("overrides")
        shim.override = _no_op_override  # type: ignore[attr-defined]
        shim.EnforceOverrides = _EnforceOverrides  # type: ignore[attr-defined]
        sys.modules["overrides"] = shim
    try:
        import lancedb as module
    finally:
        if shimmed:
            del sys.modules["overrides"]  # later importers get the real package
    return module


lancedb = _import_lancedb()

__all__ = ["lancedb"]
