"""Which files a query names, when it names files: by path (``router.go``, ``routing/mod.rs``)
or by module (``starlette.middleware.cors``, ``Data.Map.Strict``, ``Rack::Response``).

A path is matched as the end of a file's path, in any case. A module path is matched against
each file's module: its path without the extension, under the name of the indexed folder (an
index of ``starlette/`` holds ``middleware/cors.py``, module ``starlette/middleware/cors``), a
package's ``__init__.py`` / ``mod.rs`` / ``index.ts`` standing for its folder and ``src/`` /
``lib/`` folders left out (``axum::routing`` is ``axum/src/routing/mod.rs``); each segment as
written or in snake case (``Phoenix.Router`` -> ``lib/phoenix/router.ex``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lapce_ai.search.corpus import Corpus

# A file that stands for its folder: `mod.rs`, `index.ts`, `__init__.py`, ...
FOLDER_NAMED = frozenset({"mod", "index", "__init__", "lib", "main", "init", "package", "module"})

SOURCE_FOLDERS = frozenset({"src", "lib"})

_LEADING_DIR = re.compile(r"^(?:\./|/)+")
_MODULE_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:(?:\.|::)[A-Za-z_][A-Za-z0-9_]*)+")
_MODULE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:(?:\.|::)[A-Za-z_][A-Za-z0-9_]*)*")
_MODULE_SEPARATOR = re.compile(r"\.|::")
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


@dataclass(frozen=True)
class NamedFiles:
    files: tuple[int, ...]  # file numbers of the corpus
    by_path: bool  # named by a path (not a symbol query), else by a module path (maybe also a symbol)


def named_files(query: str, corpus: Corpus) -> NamedFiles | None:
    """The files ``query`` names, or None when it names none."""
    by_path = _by_path(query, corpus)
    if by_path:
        return NamedFiles(by_path, True)
    by_module = module_files(query, corpus) if _MODULE_PATH.fullmatch(query) else ()
    return NamedFiles(by_module, False) if by_module else None


# A sentence that places its question in a file: "in context.go", "inside `routing/mod.rs`",
# "within the file BitSet+Sorted.swift". Other mentions are context, not the place to look:
# "Generate data for fpioconst.c" is answered by gen-fpioconst.c, "functions for stdlib.h" by a
# header stdlib.h includes.
_MENTIONED = re.compile(
    r"\b(?i:in|inside|within)\s+(?i:the\s+)?(?i:file\s+)?[`'\"]?"
    r"((?:[\w+-]+[/\\])*[\w+-]+(?:\.[\w+-]+)*\.[A-Za-z][A-Za-z0-9]{0,9})(?![\w/\\])"
)


def mentioned_files(query: str, corpus: Corpus) -> tuple[int, ...]:
    """The files a sentence places its question in ("how does Abort work in context.go"). The
    file name must be written in its own case: prose says `Node.js`, not the file `node.js`."""
    found: dict[int, None] = {}
    for m in _MENTIONED.finditer(query):
        written = m.group(1).replace("\\", "/")
        name = written.rsplit("/", 1)[-1]
        for f in _by_path(written, corpus):
            if corpus.files[f][1].rsplit("/", 1)[-1] == name:
                found[f] = None
    return tuple(found)


def files_named(name: str, corpus: Corpus) -> list[int]:
    """The files whose name (the last path segment) is ``name``, as written."""
    tables = corpus.derived("named_files", _Tables.build)
    return [f for f in tables.by_name.get(name.lower(), ()) if corpus.files[f][1].rpartition("/")[2] == name]


def files_named_any_case(name: str, corpus: Corpus) -> list[int]:
    """The files whose name (the last path segment) is ``name``, in any case."""
    return list(corpus.derived("named_files", _Tables.build).by_name.get(name.lower(), ()))


def _by_path(query: str, corpus: Corpus) -> tuple[int, ...]:
    if not any(mark in query for mark in "./\\"):
        return ()
    wanted = _LEADING_DIR.sub("", query.replace("\\", "/")).lower()
    if not wanted or wanted.endswith("/"):
        return ()
    tables = corpus.derived("named_files", _Tables.build)
    found = []
    for f in tables.by_name.get(wanted.rsplit("/", 1)[-1], ()):
        path = corpus.files[f][1].lower()
        if path == wanted or path.endswith("/" + wanted):
            found.append(f)
    return tuple(found)


def module_files(query: str, corpus: Corpus) -> tuple[int, ...]:
    """The files whose module path is, or ends with, ``query`` (``starlette.routing``; also a
    single name, ``routing``, for the module part of ``routing.Router``)."""
    if not _MODULE_NAME.fullmatch(query):
        return ()
    segments = _MODULE_SEPARATOR.split(query)
    forms = {"/".join(s.lower() for s in segments), "/".join(snake_case(s) for s in segments)}
    tables = corpus.derived("named_files", _Tables.build)
    candidates = dict.fromkeys(
        [*tables.by_module_name.get(segments[-1].lower(), ()), *tables.by_module_name.get(snake_case(segments[-1]), ())]
    )
    found = []
    for f in candidates:
        module = tables.modules[f]
        if any(module == form or module.endswith("/" + form) for form in forms):
            found.append(f)
    return tuple(found)


def snake_case(name: str) -> str:
    return _CAMEL_BOUNDARY.sub("_", name).lower()


@dataclass(frozen=True)
class _Tables:
    by_name: dict[str, list[int]]  # file name, lower-case -> files
    modules: list[str]  # per file: its module path, lower-case
    by_module_name: dict[str, list[int]]  # the module path's last segment -> files

    @classmethod
    def build(cls, corpus: Corpus) -> _Tables:
        by_name: dict[str, list[int]] = {}
        modules: list[str] = []
        by_module_name: dict[str, list[int]] = {}
        for f, (root, path) in enumerate(corpus.files):
            name = path.rsplit("/", 1)[-1].lower()
            by_name.setdefault(name, []).append(f)
            module = module_path(root, path)
            modules.append(module)
            by_module_name.setdefault(module.rsplit("/", 1)[-1], []).append(f)
        return cls(by_name, modules, by_module_name)


def module_path(root: str, path: str) -> str:
    """``root`` ``/src/starlette``, ``path`` ``middleware/cors.py`` -> ``starlette/middleware/cors``;
    ``src/routing/mod.rs`` -> ``<root name>/routing``."""
    return "/".join(module_segments(root, path)).lower()


def module_segments(root: str, path: str) -> list[str]:
    """The segments of a file's module path, in their own case (``module_path``)."""
    folders = [p for p in root.replace("\\", "/").split("/") if p][-1:] + [p for p in path.split("/") if p][:-1]
    name = path.rsplit("/", 1)[-1]
    stem = name if name.startswith(".") else name.split(".", 1)[0]
    names = [*folders, stem]
    if stem.lower() in FOLDER_NAMED and folders:
        names = folders  # a package's __init__.py, mod.rs, index.ts: its folder
    # A source folder is not part of the module name: axum/src/routing is axum::routing.
    kept = [p for p in names[:-1] if p.lower() not in SOURCE_FOLDERS]
    last = names[-1]
    if last.lower() in SOURCE_FOLDERS and names is folders and kept:
        last = kept.pop()  # src/lib.rs: the crate itself
    return [*kept, last]
