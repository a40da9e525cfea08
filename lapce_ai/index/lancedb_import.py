"""Import LanceDB without the cost of its REST namespace client.

``lancedb`` imports ``lance_namespace``, whose client package builds pydantic validators for
every REST endpoint at import time: 1.7 s of a 2.9 s import on this machine, paid by every CLI
call although an embedded index never talks REST. Registering that package without running its
``__init__`` keeps its submodules (the data models lancedb needs) importable and skips the rest.
"""

from __future__ import annotations

import importlib.util
import sys
import types

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


_register_client_package_lazily()

import lancedb  # noqa: E402

__all__ = ["lancedb"]
