"""Language registry: which files are which language, and where their definitions are.

What a language *is* lives in data: ``languages.toml`` (names, grammars, file names and
extensions) and ``queries/<name>.scm`` (tree-sitter queries that capture each definition as
``@definition.<kind>`` with its name as ``@name``). This module only loads and applies them.
"""

from __future__ import annotations

import fnmatch
import functools
import re
import threading
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import PurePosixPath
from typing import cast

import tree_sitter
import tree_sitter_language_pack
import xxhash
from tree_sitter_language_pack import SupportedLanguage

_DEFINITION_PREFIX = "definition."
_NAME_CAPTURE = "name"
_INHERITS = "; inherits:"


# (node type, the pattern its text must start with, or None for any text)
DocNodes = tuple[tuple[str, re.Pattern[bytes] | None], ...]


def is_doc_node(doc_nodes: DocNodes, node: tree_sitter.Node) -> bool:
    """Whether ``node`` is one of a language's documentation nodes."""
    for node_type, pattern in doc_nodes:
        if node.type == node_type and (pattern is None or pattern.match(node.text or b"")):
            return True
    return False


def _doc_nodes(language: str, raw: object) -> DocNodes:
    if not isinstance(raw, dict):
        raise ValueError(f"languages.toml: [{language}] doc_nodes must be a table of node type = text pattern")
    return tuple((str(t), re.compile(str(p).encode()) if p else None) for t, p in raw.items())


def _macro_lines(language: str, raw: object) -> re.Pattern[bytes] | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw:
        raise ValueError(f"languages.toml: [{language}] macro_lines must be a non-empty regex")
    return re.compile(raw.encode(), re.MULTILINE)


def _pattern(language: str, key: str, table: dict[str, object], group: str) -> re.Pattern[str] | None:
    raw = table.get(key)
    if raw is None:
        return None
    try:
        pattern = re.compile(raw) if isinstance(raw, str) else None
    except re.error:
        pattern = None
    if pattern is None or group not in pattern.groupindex:
        raise ValueError(f"languages.toml: [{language}] {key} must be a regex with a group named {group!r}")
    return pattern


def _extension_files(language: str, raw: object) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or len(raw) != 1 or raw.isalnum() or raw in "./\\":
        raise ValueError(f"languages.toml: [{language}] extension_files must be one punctuation character")
    return raw


def _flag(language: str, key: str, raw: object) -> bool:
    if not isinstance(raw, bool):
        raise ValueError(f"languages.toml: [{language}] {key} must be true or false")
    return raw


@dataclass(frozen=True)
class LanguageSpec:
    name: str
    grammar: str | None  # None: no CST, legacy chunker only
    extensions: tuple[str, ...]
    filenames: tuple[str, ...]
    # Nodes that document the definition right below them, besides comments: Haskell's
    # ``haddock``, Elixir's ``@doc``/``@spec`` attributes, Julia's docstrings.
    doc_nodes: DocNodes = ()
    aliases: tuple[str, ...] = ()  # other names a search filter may use ("js", "golang", "c++")
    # Whole lines a second parse reads as comments when the file does not parse cleanly as written
    # (C/C++ attribute-like macros on a line of their own): see ``parsing.recovery``.
    macro_lines: re.Pattern[bytes] | None = None
    # Joins a type's name to a feature's in the name of a file extending the type ("+" in
    # Swift's ``Deque+Codable.swift``); None where the language has no such convention.
    extension_files: str | None = None
    # A file is itself a type named after its stem (Zig's ``Allocator.zig``).
    file_is_type: bool = False
    # Interfaces implemented by having their methods (search.method_sets): the line declaring
    # one (group ``name``: Go's ``type Render interface``, Python's ``class P(Protocol):``), a
    # method declared in a type's body (group ``name``), and Go's methods declared on a receiver
    # outside it (group ``type``: ``func (c *Context) Abort()``).
    structural_declaration: re.Pattern[str] | None = None
    method_line: re.Pattern[str] | None = None
    method_receiver: re.Pattern[str] | None = None
    # An interface embedded in a structural one's body (group ``name``: Go's ``Reader`` line in
    # ``type ReadWriter interface``): its methods are required too.
    embedded_line: re.Pattern[str] | None = None
    # A class declared to be implemented by others though its kind is no interface or trait
    # (group ``name``: ``abstract class Handler``, Python's ``class Handler(ABC):``).
    abstract_declaration: re.Pattern[str] | None = None
    # A member line that makes its type abstract however the type is declared (group ``member``:
    # Python's ``@abstractmethod``, C++'s ``virtual void f() = 0;``).
    abstract_member: re.Pattern[str] | None = None


@dataclass(frozen=True)
class Definition:
    node: tree_sitter.Node
    kind: str  # from the capture name after "definition."
    name: str  # text of the @name node, whitespace collapsed
    doc_nodes: DocNodes = ()  # the language's ``LanguageSpec.doc_nodes``


@dataclass(frozen=True)
class _Index:
    languages: dict[str, LanguageSpec]
    by_filename: dict[str, LanguageSpec]
    by_filename_folded: dict[str, LanguageSpec]
    filename_globs: tuple[tuple[str, LanguageSpec], ...]
    by_extension: dict[str, LanguageSpec]  # lower-case, with the leading dot
    by_alias: dict[str, LanguageSpec]  # lower-case names and aliases


def all_languages() -> dict[str, LanguageSpec]:
    return dict(_index().languages)


def canonical_language(name: str) -> str | None:
    """The registry's name for a language a user named (any case, or an alias); None if unknown."""
    spec = _index().by_alias.get(name.strip().lower())
    return spec.name if spec is not None else None


@functools.cache
def chunk_kinds() -> frozenset[str]:
    """Every kind a chunk can have: the definition kinds the query files capture, ``method``
    (a function nested in a class-like definition), ``module`` (code between definitions) and
    ``window`` (the line-window parser's)."""
    kinds = {"method", "module", "window"}
    for item in resources.files(__package__).joinpath("queries").iterdir():
        if item.name.endswith(".scm"):
            kinds.update(re.findall(r"@definition\.([A-Za-z_]+)", item.read_text(encoding="utf-8")))
    return frozenset(kinds)


def language_by_name(name: str) -> LanguageSpec | None:
    return _index().languages.get(name)


def language_for_path(relpath: str) -> LanguageSpec | None:
    """The language of a path, from its file name first and then its extension."""
    index = _index()
    basename = PurePosixPath(relpath.replace("\\", "/")).name
    if not basename:
        return None
    spec = index.by_filename.get(basename) or index.by_filename_folded.get(basename.lower())
    if spec is not None:
        return spec
    folded = basename.lower()
    for pattern, spec in index.filename_globs:
        if fnmatch.fnmatchcase(folded, pattern):
            return spec
    # Longest suffix first, so a compound extension (".d.ts" style) can win over its tail.
    dot = folded.find(".", 1)
    while dot != -1:
        spec = index.by_extension.get(folded[dot:])
        if spec is not None:
            return spec
        dot = folded.find(".", dot + 1)
    return None


def has_grammar(spec: LanguageSpec) -> bool:
    return spec.grammar is not None and _query_source(spec.name) is not None


def new_parser(spec: LanguageSpec) -> tree_sitter.Parser:
    """A fresh parser: parsers are not thread-safe, so callers keep one per thread."""
    return tree_sitter.Parser(_language(spec))


def definitions(spec: LanguageSpec, root: tree_sitter.Node) -> list[Definition]:
    """Every definition under ``root``, sorted by (start_byte, -end_byte).

    Duplicates are dropped: a node matched by several patterns keeps the earliest pattern's
    kind and name, and a definition inside another of the same kind and name (a decorated
    function and its bare function node) is dropped in favour of the outer one.
    """
    query = _query(spec)
    if query is None:
        return []
    found: list[tuple[int, Definition]] = []
    for pattern, captures in tree_sitter.QueryCursor(query).matches(root):
        names = captures.get(_NAME_CAPTURE)
        if not names:
            continue
        for capture, nodes in captures.items():
            if capture.startswith(_DEFINITION_PREFIX) and nodes:
                kind = capture[len(_DEFINITION_PREFIX) :]
                found.append((pattern, Definition(nodes[0], kind, _node_text(names[0]), spec.doc_nodes)))
    return _dedupe(found)


def _dedupe(found: list[tuple[int, Definition]]) -> list[Definition]:
    # The same node matched by several patterns: the earliest pattern in the .scm wins.
    by_range: dict[tuple[int, int], tuple[int, Definition]] = {}
    for pattern, d in found:
        key = (d.node.start_byte, d.node.end_byte)
        kept = by_range.get(key)
        if kept is None or pattern < kept[0]:
            by_range[key] = (pattern, d)
    ordered = sorted((d for _, d in by_range.values()), key=lambda d: (d.node.start_byte, -d.node.end_byte))
    # A definition wrapped by another of the same kind and name (a decorated function and the
    # function itself) is one definition: keep the outer node.
    out: list[Definition] = []
    open_defs: list[Definition] = []  # enclosing definitions of the current position
    for d in ordered:
        while open_defs and open_defs[-1].node.end_byte <= d.node.start_byte:
            open_defs.pop()
        if any(o.kind == d.kind and o.name == d.name and d.node.end_byte <= o.node.end_byte for o in open_defs):
            continue
        out.append(d)
        open_defs.append(d)
    return out


def _node_text(node: tree_sitter.Node) -> str:
    # A name tree-sitter completed with an invented token (``static T meta()`` after an unknown
    # macro reads as ``T::meta`` with a MISSING ``::``) is named by its own last part.
    name = node.child_by_field_name("name")
    if node.has_error and name is not None and not name.has_error:
        node = name
    raw = node.text or b""
    return " ".join(raw.decode("utf-8", errors="replace").split())


# -- loading ---------------------------------------------------------------------------------


@functools.cache
def registry_fingerprint() -> str:
    """A digest of ``languages.toml`` and every query file: with a file's bytes, what decides its
    language, its route (a language gaining a grammar moves from legacy to CST) and its chunks."""
    h = xxhash.xxh3_64()
    package = resources.files(__package__)
    h.update(package.joinpath("languages.toml").read_bytes())
    for item in sorted(package.joinpath("queries").iterdir(), key=lambda p: p.name):
        if item.name.endswith(".scm"):
            h.update(item.name.encode() + b"\x00" + item.read_bytes())
    return h.hexdigest()


@functools.cache
def _index() -> _Index:
    raw = tomllib.loads(resources.files(__package__).joinpath("languages.toml").read_text(encoding="utf-8"))
    languages: dict[str, LanguageSpec] = {}
    by_filename: dict[str, LanguageSpec] = {}
    folded: dict[str, LanguageSpec] = {}
    globs: list[tuple[str, LanguageSpec]] = []
    by_extension: dict[str, LanguageSpec] = {}
    by_alias: dict[str, LanguageSpec] = {}
    for name, table in raw.items():
        if not isinstance(table, dict):
            raise ValueError(f"languages.toml: [{name}] must be a table")
        grammar = table.get("grammar")
        spec = LanguageSpec(
            name=name,
            grammar=str(grammar) if grammar is not None else None,
            extensions=tuple(str(e) for e in table.get("extensions", ())),
            filenames=tuple(str(f) for f in table.get("filenames", ())),
            doc_nodes=_doc_nodes(name, table.get("doc_nodes", {})),
            aliases=tuple(str(a) for a in table.get("aliases", ())),
            macro_lines=_macro_lines(name, table.get("macro_lines")),
            extension_files=_extension_files(name, table.get("extension_files")),
            file_is_type=_flag(name, "file_is_type", table.get("file_is_type", False)),
            structural_declaration=_pattern(name, "structural_declaration", table, "name"),
            method_line=_pattern(name, "method_line", table, "name"),
            method_receiver=_pattern(name, "method_receiver", table, "type"),
            embedded_line=_pattern(name, "embedded_line", table, "name"),
            abstract_declaration=_pattern(name, "abstract_declaration", table, "name"),
            abstract_member=_pattern(name, "abstract_member", table, "member"),
        )
        languages[name] = spec
        for alias in (name, *spec.aliases):
            if by_alias.setdefault(alias.lower(), spec) is not spec:
                raise ValueError(f"languages.toml: [{name}] alias {alias!r} already names another language")
        for filename in spec.filenames:
            if any(c in filename for c in "*?["):
                globs.append((filename.lower(), spec))
            else:
                by_filename.setdefault(filename, spec)
                folded.setdefault(filename.lower(), spec)
        for ext in spec.extensions:
            if not ext.startswith("."):
                raise ValueError(f"languages.toml: [{name}] extension {ext!r} must start with '.'")
            by_extension.setdefault(ext.lower(), spec)
    return _Index(languages, by_filename, folded, tuple(globs), by_extension, by_alias)


@functools.cache
def _query_source(name: str) -> str | None:
    """The query text of a language, with the queries it inherits prepended.

    A leading ``; inherits: a, b`` line pulls in other query files first, so grammars that
    extend one another share patterns (``_ecma.scm`` for JavaScript and TypeScript; TSX
    inherits TypeScript). Files starting with ``_`` are such includes, not languages.
    """
    path = resources.files(__package__).joinpath("queries", f"{name}.scm")
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8")
    parts: list[str] = []
    first = text.split("\n", 1)[0].strip()
    if first.startswith(_INHERITS):
        for parent in first[len(_INHERITS) :].split(","):
            inherited = _query_source(parent.strip())
            if inherited is None:
                raise ValueError(f"queries/{name}.scm inherits missing queries/{parent.strip()}.scm")
            parts.append(inherited)
    parts.append(text)
    return "\n".join(parts)


_language_lock = threading.Lock()


def _language(spec: LanguageSpec) -> tree_sitter.Language:
    if spec.grammar is None:
        raise ValueError(f"language {spec.name!r} has no tree-sitter grammar")
    with _language_lock:  # the first load of a grammar imports its binding
        return _grammar(spec.grammar)


@functools.cache
def _grammar(grammar: str) -> tree_sitter.Language:
    # Names come from languages.toml; an unknown one raises a LookupError here.
    return tree_sitter_language_pack.get_language(cast(SupportedLanguage, grammar))


_query_lock = threading.Lock()
_queries: dict[str, tree_sitter.Query | None] = {}


def _query(spec: LanguageSpec) -> tree_sitter.Query | None:
    """The compiled definitions query (compiled once; Query objects are shareable)."""
    with _query_lock:
        if spec.name in _queries:
            return _queries[spec.name]
    source = _query_source(spec.name) if spec.grammar is not None else None
    query = tree_sitter.Query(_language(spec), source) if source is not None else None
    with _query_lock:
        return _queries.setdefault(spec.name, query)
