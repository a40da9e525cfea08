"""Workspace discovery: which files are indexed, and why the others are not.

Honours ``.gitignore`` (nested, git's wildmatch rules via ``pathspec``) and ``.lapceignore``,
skips vendored/generated folders, binaries, files over the size cap and symlinks that leave the
workspace. Every skipped file is counted by reason (SPEC §2).
"""

from __future__ import annotations

import os
import stat
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

IGNORE_FILES = (".gitignore", ".lapceignore")

# Folders that hold other people's or generated code; indexing them drowns the user's own code.
VENDORED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        "node_modules",
        "bower_components",
        "vendor",
        "third_party",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".tox",
        ".nox",
        ".eggs",
        ".next",
        ".nuxt",
        ".gradle",
        ".idea",
        ".vscode",
        "site-packages",
        ".cache",
        ".terraform",
    }
)
# Names builds write their output under. A folder of one of these names is output only where a
# build puts it: beside a build manifest, not itself a source package (a Python package called
# `coverage`, Lua modules under `luarocks/build/` are code), or tagged as a cache (Cargo's `target`).
OUTPUT_DIRS = frozenset({"build", "dist", "target", "coverage"})
BUILD_MANIFESTS = frozenset(
    {
        "package.json",
        "Cargo.toml",
        "pom.xml",
        "build.gradle",
        "build.gradle.kts",
        "settings.gradle",
        "settings.gradle.kts",
        "setup.py",
        "setup.cfg",
        "pyproject.toml",
        "CMakeLists.txt",
        "Makefile",
        "meson.build",
        "go.mod",
        "mix.exs",
        "composer.json",
        "build.zig",
        "Package.swift",
        "build.sbt",
        "stack.yaml",
        "cabal.project",
        "Gemfile",
        "deno.json",
    }
)
BUILD_MANIFEST_SUFFIXES = (".csproj", ".fsproj", ".sln", ".cabal", ".gemspec", ".rockspec")
SOURCE_PACKAGE_MARKERS = ("__init__.py", "mod.rs", "lib.rs")
GENERATED_SUFFIXES = (".min.js", ".min.css", ".map", ".lock", "-lock.json", ".pb.go", "_pb2.py")
BINARY_PROBE_BYTES = 8192


class SkipReason:
    IGNORED = "ignored"
    VENDORED = "vendored"
    GENERATED = "generated"
    BINARY = "binary"
    TOO_LARGE = "too_large"
    SYMLINK_OUTSIDE = "symlink_outside"
    UNREADABLE = "unreadable"
    NOT_REGULAR = "not_regular"


@dataclass(frozen=True)
class DiscoveredFile:
    relpath: str  # POSIX, relative to the workspace root
    abspath: Path
    size: int
    mtime_ns: int


KnownText = Callable[[str, int, int], bool]


@dataclass
class DiscoveryReport:
    files: list[DiscoveredFile] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    skipped_paths: dict[str, str] = field(default_factory=dict)  # relpath -> reason (for reports)

    def skip(self, relpath: str, reason: str) -> None:
        self.skipped[reason] += 1
        self.skipped_paths[relpath] = reason


@dataclass
class _IgnoreScope:
    base: str  # relative dir ("" for root) the patterns are anchored at
    spec: pathspec.PathSpec  # type: ignore[type-arg]


class WorkspaceWalker:
    def __init__(self, root: Path, max_file_bytes: int = 10 * 1024 * 1024, include_vendored: bool = False):
        self._known_text: KnownText | None = None
        self.root = root.resolve()
        self.max_file_bytes = max_file_bytes
        self.include_vendored = include_vendored

    def discover(self, known_text: KnownText | None = None) -> DiscoveryReport:
        """Walk the workspace. ``known_text(relpath, size, mtime_ns)`` says a file is already known
        to be text at that size and mtime, so its binary probe (a read) can be skipped."""
        report = DiscoveryReport()
        if not self.root.is_dir():
            raise NotADirectoryError(f"workspace root is not a directory: {self.root}")
        self._known_text = known_text
        for entry in self._walk("", [], report):
            report.files.append(entry)
        report.files.sort(key=lambda f: f.relpath)
        return report

    def check_file(self, relpath: str) -> DiscoveredFile | str:
        """Classify one file (used by the watcher): the file, or the reason it is skipped."""
        parts = relpath.split("/")
        scopes: list[_IgnoreScope] = []
        for depth in range(len(parts)):
            rel_dir = "/".join(parts[:depth])
            scopes = scopes + self._load_scopes(rel_dir)
            if depth < len(parts) - 1:
                if self._vendored(rel_dir, parts[depth]):
                    return SkipReason.VENDORED
                if self._ignored(scopes, "/".join(parts[: depth + 1]), is_dir=True):
                    return SkipReason.IGNORED
        if self._ignored(scopes, relpath, is_dir=False):
            return SkipReason.IGNORED
        return self._classify(relpath)

    # -- internals -------------------------------------------------------------------------

    def _walk(self, rel_dir: str, scopes: list[_IgnoreScope], report: DiscoveryReport) -> Iterator[DiscoveredFile]:
        scopes = scopes + self._load_scopes(rel_dir)
        abs_dir = self.root / rel_dir if rel_dir else self.root
        try:
            entries = sorted(os.scandir(abs_dir), key=lambda e: e.name)
        except OSError:
            report.skip(rel_dir or ".", SkipReason.UNREADABLE)
            return
        names = [e.name for e in entries]  # a folder's siblings, for the build-output check
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                report.skip(rel, SkipReason.UNREADABLE)
                continue
            if is_dir:
                if self._vendored(rel_dir, entry.name, names):
                    report.skip(rel + "/", SkipReason.VENDORED)
                    continue
                if self._ignored(scopes, rel, is_dir=True):
                    report.skip(rel + "/", SkipReason.IGNORED)
                    continue
                yield from self._walk(rel, scopes, report)
                continue
            if entry.name in IGNORE_FILES:
                continue
            if self._ignored(scopes, rel, is_dir=False):
                report.skip(rel, SkipReason.IGNORED)
                continue
            result = self._classify(rel)
            if isinstance(result, str):
                report.skip(rel, result)
            else:
                yield result

    def _vendored(self, rel_parent: str, name: str, siblings: list[str] | None = None) -> bool:
        """Whether the folder ``name`` in ``rel_parent`` holds vendored, installed or built code.
        ``siblings``: the parent's entry names, when the caller has listed them already."""
        if self.include_vendored:
            return False
        if name in VENDORED_DIRS:
            return True
        path = self.root / rel_parent / name
        if (path / "pyvenv.cfg").is_file():  # a virtualenv, whatever it is called
            return True
        if name not in OUTPUT_DIRS:
            return False
        if (path / "CACHEDIR.TAG").is_file():
            return True
        if any((path / marker).is_file() for marker in SOURCE_PACKAGE_MARKERS):
            return False
        if siblings is None:
            try:
                siblings = os.listdir(path.parent)
            except OSError:
                return False
        return any(n in BUILD_MANIFESTS or n.endswith(BUILD_MANIFEST_SUFFIXES) for n in siblings)

    def _classify(self, rel: str) -> DiscoveredFile | str:
        path = self.root / rel
        try:
            lst = path.lstat()
        except OSError:
            return SkipReason.UNREADABLE
        if stat.S_ISLNK(lst.st_mode):
            try:
                target = path.resolve(strict=True)
            except (OSError, RuntimeError):
                return SkipReason.SYMLINK_OUTSIDE
            if not target.is_relative_to(self.root):
                return SkipReason.SYMLINK_OUTSIDE
            try:
                lst = target.stat()
            except OSError:
                return SkipReason.UNREADABLE
        if not stat.S_ISREG(lst.st_mode):
            return SkipReason.NOT_REGULAR
        if rel.endswith(GENERATED_SUFFIXES):
            return SkipReason.GENERATED
        if lst.st_size > self.max_file_bytes:
            return SkipReason.TOO_LARGE
        found = DiscoveredFile(relpath=rel, abspath=path, size=lst.st_size, mtime_ns=lst.st_mtime_ns)
        if self._known_text is not None and self._known_text(rel, lst.st_size, lst.st_mtime_ns):
            return found
        try:
            with open(path, "rb") as fh:
                head = fh.read(BINARY_PROBE_BYTES)
        except OSError:
            return SkipReason.UNREADABLE
        if _looks_binary(head):
            return SkipReason.BINARY
        return found

    def _load_scopes(self, rel_dir: str) -> list[_IgnoreScope]:
        scopes = []
        abs_dir = self.root / rel_dir if rel_dir else self.root
        for name in IGNORE_FILES:
            try:
                lines = (abs_dir / name).read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                continue
            scopes.append(_IgnoreScope(rel_dir, pathspec.PathSpec.from_lines("gitignore", lines)))
        return scopes

    @staticmethod
    def _ignored(scopes: list[_IgnoreScope], rel: str, is_dir: bool) -> bool:
        ignored = False
        for scope in scopes:  # later (deeper) scopes override earlier ones, as in git
            sub = rel[len(scope.base) + 1 :] if scope.base else rel
            candidate = sub + "/" if is_dir else sub
            result = scope.spec.check_file(candidate)
            if result.include is not None:
                ignored = bool(result.include)
        return ignored


def _looks_binary(head: bytes) -> bool:
    if b"\x00" in head:
        # UTF-16 text has NULs too, but a BOM says so.
        return not head.startswith((b"\xff\xfe", b"\xfe\xff"))
    return False
