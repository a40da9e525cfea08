"""Which build of the code is running: a release binary's build id, or none in a checkout.

A release (``make release``) is a shiv zipapp that runs from its dependencies unpacked under
``$SHIV_ROOT/lapce-ai-service_<build id>/site-packages``, the build id being a hash of everything
it bundles. Two builds of one version are told apart by it: ``/health``'s ``build``,
``--version`` and the ``lapce_ai_build_info`` metric report it.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import lapce_ai

_UNPACKED = re.compile(r".+_([0-9a-f]{64})")


def build_of(package_dir: Path) -> str | None:
    """The build id (its first 12 hex digits) of a release unpacked around ``package_dir``."""
    site_packages = package_dir.parent
    if site_packages.name != "site-packages":
        return None
    found = _UNPACKED.fullmatch(site_packages.parent.name)
    return found.group(1)[:12] if found else None


@functools.cache
def release_build() -> str | None:
    """This process's release build id; None when it runs from a checkout or a plain install."""
    return build_of(Path(lapce_ai.__file__).resolve().parent)


def version_line(prog: str) -> str:
    """``--version``'s answer: ``lapce-index 0.1.0``, and ``(build 1a2b3c4d5e6f)`` in a release."""
    build = release_build()
    return f"{prog} {lapce_ai.__version__}" + (f" (build {build})" if build else "")
