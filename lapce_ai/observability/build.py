"""Which build of the code is running: a release's build id, or a checkout's commit.

A release (``make release``) is a shiv zipapp that runs from its dependencies unpacked under
``$SHIV_ROOT/lapce-ai-service_<build id>/site-packages``, the build id being a hash of everything
it bundles: its first 12 hex digits name the build. A checkout (``make run``, or ``/opt/lapce-ai``
updated with ``git pull``) is named ``git:`` and the first 12 digits of the commit it started at.
``/health``'s ``build``, ``--version`` and the ``lapce_ai_build_info`` metric report it, so two
builds of one version are told apart.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import lapce_ai

_UNPACKED = re.compile(r".+_([0-9a-f]{64})")
_COMMIT = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")


def build_of(package_dir: Path) -> str | None:
    """The build id (its first 12 hex digits) of a release unpacked around ``package_dir``."""
    site_packages = package_dir.parent
    if site_packages.name != "site-packages":
        return None
    found = _UNPACKED.fullmatch(site_packages.parent.name)
    return found.group(1)[:12] if found else None


def commit_of(checkout: Path) -> str | None:
    """The commit a git checkout is at, read from its files (no ``git`` process); None when it is
    no checkout or its HEAD cannot be resolved."""
    git = checkout / ".git"
    try:
        if git.is_file():  # a worktree or submodule: "gitdir: <path>"
            pointer = git.read_text(encoding="utf-8").strip()
            if not pointer.startswith("gitdir:"):
                return None
            git = (checkout / pointer.removeprefix("gitdir:").strip()).resolve()
        head = (git / "HEAD").read_text(encoding="utf-8").strip()
        if not head.startswith("ref:"):
            return head if _COMMIT.fullmatch(head) else None
        ref = head.removeprefix("ref:").strip()
        for gitdir in (git, _common_dir(git)):
            loose = gitdir / ref
            if loose.is_file():
                commit = loose.read_text(encoding="utf-8").strip()
                return commit if _COMMIT.fullmatch(commit) else None
            packed = gitdir / "packed-refs"
            if packed.is_file():
                for line in packed.read_text(encoding="utf-8").splitlines():
                    commit, _, name = line.partition(" ")
                    if name == ref and _COMMIT.fullmatch(commit):
                        return commit
    except (OSError, UnicodeDecodeError):
        return None
    return None


def _common_dir(gitdir: Path) -> Path:
    """A worktree's shared git directory (where its branches live), else ``gitdir`` itself."""
    common = gitdir / "commondir"
    try:
        return (gitdir / common.read_text(encoding="utf-8").strip()).resolve() if common.is_file() else gitdir
    except (OSError, UnicodeDecodeError):
        return gitdir


@functools.cache
def running_build() -> str | None:
    """This process's build: a release's build id, ``git:<commit>`` in a checkout, else None
    (a plain install)."""
    package_dir = Path(lapce_ai.__file__).resolve().parent
    release = build_of(package_dir)
    if release is not None:
        return release
    commit = commit_of(package_dir.parent)
    return f"git:{commit[:12]}" if commit else None


def version_line(prog: str) -> str:
    """``--version``'s answer: ``lapce-index 0.1.0``, and ``(build 1a2b3c4d5e6f)`` where known."""
    build = running_build()
    return f"{prog} {lapce_ai.__version__}" + (f" (build {build})" if build else "")
