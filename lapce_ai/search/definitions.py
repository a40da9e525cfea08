"""Where a name is defined: the declarations that the definition signal ranks up.

A chunk defines a name when its text declares it (``class Builder``, ``def parse``; an alias
such as ``const Order = std.math.Order`` does not), when it carries it as its symbol, or when it
is a file that is itself the type (Zig's ``Allocator.zig``). For a name defined in a dependency,
the places that re-export it stand in for its definition. A member named with its owner
(``Deque.prepend``, Go's ``Context.Header``) is told from other definitions of the name by its
symbol path or its receiver.
"""

from __future__ import annotations

import re

import numpy as np

from lapce_ai.parsing.languages import language_for_path
from lapce_ai.search.blocks import block_start, is_hollow
from lapce_ai.search.corpus import Corpus, IntArray
from lapce_ai.search.tokenize import symbol_name, symbol_path_segments, symbol_segment

# Chunks a symbol query reads to find the name's declaration (a name used more often than this
# is declared in a chunk the pools or the symbol table hold anyway, or is too common to tell).
MAX_DECLARATION_SCAN = 1000

_DEF_KEYWORDS = (
    "class|module|defmodule|def|defp|defmacro|interface|struct|enum|trait|type|typedef|func|function|"
    "object|fn|fun|impl|namespace|protocol|record|macro_rules!|let|const|var|val"
)


# A declaration keyword, then a Go receiver ("func (e *Engine) "), qualifiers ("Rack::",
# "errors."), ending where the name starts, on the keyword's line (a Haskell parameter called
# `fun` above a line that starts with a name declares nothing).
_DECLARED_BEFORE = re.compile(
    r"(?:^|[\s(])(" + _DEF_KEYWORDS + r")[ \t]+(?:\([^()\n]*\)\s*)?(?:[A-Za-z_][A-Za-z0-9_]*(?:\.|::?))*\Z",
    re.MULTILINE,
)
_AFTER_NAME = frozenset(" \t\r\n\f\v<({:[;=,")
# C's `struct timespec *ts` or `struct timespec ts` names a type it uses, not one it declares:
# after a tag keyword, a name followed by another name or a pointer is a use.
_TAG_KEYWORDS = frozenset({"struct", "union", "enum"})
_TAG_USE_AFTER = re.compile(r"\s*(?:[*&]|(?!where\b|final\b|__attribute__\b|alignas\b)[A-Za-z_])")


# `const Order = std.math.Order;`, `const heap = std.heap;`, `const Random = @import("Random.zig");`,
# `const Router = require("./router")`: a name bound to a module or to the same name elsewhere
# is an alias, a use of what is defined there.
_ASSIGNED = re.compile(r"[ \t]*=[ \t]*([^;\n]*)")
_IMPORT_CALL = re.compile(r"(?:@import|require|import)\s*\(")
_QUALIFIED_TAIL = re.compile(r"(?:[A-Za-z_][A-Za-z0-9_]*(?:\.|::))+([A-Za-z_][A-Za-z0-9_]*)[ \t]*")


def _aliases(content: str, end: int, name: str) -> bool:
    """Whether the declaration of ``name`` ending at ``end`` only binds it to an import or to
    the same name in another module."""
    assigned = _ASSIGNED.match(content, end)
    if assigned is None:
        return False
    value = assigned.group(1)
    if _IMPORT_CALL.match(value):
        return True
    tail = _QUALIFIED_TAIL.fullmatch(value)
    return tail is not None and tail.group(1) == name


def declares(content: str, name: str) -> bool:
    """Whether ``content`` declares ``name`` (``class Builder``, ``def parse``): each occurrence
    is checked against the text just before it, so long chunks cost a few string searches."""
    at = content.find(name)
    while at != -1:
        end = at + len(name)
        if end == len(content) or content[end] in _AFTER_NAME:
            keyword = _DECLARED_BEFORE.search(content[max(0, at - 160) : at])
            if (
                keyword
                and not (keyword.group(1) in _TAG_KEYWORDS and _TAG_USE_AFTER.match(content, end))
                and not _aliases(content, end, name)
            ):
                return True
        at = content.find(name, at + 1)
    return False


# Where a name defined elsewhere (a dependency) is re-exported: Rust ``pub use a::{B, Name``,
# TypeScript ``export { B, Name``, Elixir ``defdelegate name``; or aliased (``_aliases``).
_REEXPORTED_BEFORE = re.compile(
    r"(?:\bpub(?:\([^)]*\))?\s+use\s+[\w:]*(?:\{[^;{}]*)?|\bexport\s+(?:type\s+)?\{[^;{}]*|\bdefdelegate\s+)\Z"
)


def reexports(content: str, name: str) -> bool:
    at = content.find(name)
    while at != -1:
        end = at + len(name)
        whole = (at == 0 or not _is_word(content[at - 1])) and (end == len(content) or not _is_word(content[end]))
        if whole and _REEXPORTED_BEFORE.search(content[max(0, at - 400) : at]):
            return True
        if whole and _DECLARED_BEFORE.search(content[max(0, at - 160) : at]) and _aliases(content, end, name):
            return True
        at = content.find(name, at + 1)
    return False


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def defining_chunks(
    corpus: Corpus, chunks: list[int], names_lower: frozenset[str], names: tuple[str, ...]
) -> dict[int, bool]:
    """The chunks among ``chunks`` that define a name, each with whether it spells the name as
    queried: they declare it (``class Builder``, case-sensitive), or carry it as their symbol
    (any case: ``values`` for ``Values``). A definition too large for one chunk is split into
    pieces that all carry its symbol; where a chunk of the file declares the name, the other
    pieces do not count (they are the class's fields or its closing lines, not its definition)."""
    declaring = {i for i in chunks if any(declares(corpus.contents[i], n) for n in names)}
    declaring |= _files_as_types(corpus, chunks, names)
    declaring_files = {int(corpus.file_of[i]) for i in declaring}
    found = dict.fromkeys(declaring, True)
    for i in chunks:
        sym = corpus.symbols[i]
        if sym and i not in found and symbol_name(sym) in names_lower and int(corpus.file_of[i]) not in declaring_files:
            # A definition named only at its closing `}` (its first lines joined its first
            # member's chunk) is defined where it begins.
            at = block_start(corpus, i) if is_hollow(corpus.contents[i]) else i
            found[at] = found.get(at, False) or symbol_segment(sym) in names
    return dict(sorted(found.items()))


def _files_as_types(corpus: Corpus, chunks: list[int], names: tuple[str, ...]) -> set[int]:
    """The first chunk of each file among ``chunks`` that is itself the type a name spells, in a
    language where a file is a type (``file_is_type``: Zig's ``Allocator.zig``)."""
    heads = corpus.derived("file_heads", _file_heads)
    found: set[int] = set()
    for i in chunks:
        path = corpus.paths[i]
        if heads[corpus.file_of[i]] != i or path.rpartition("/")[2].split(".", 1)[0] not in names:
            continue
        spec = language_for_path(path)
        if spec is not None and spec.file_is_type:
            found.add(i)
    return found


def _file_heads(corpus: Corpus) -> IntArray:
    """Each file's first chunk (in position order)."""
    order = np.lexsort((corpus.position, corpus.file_of))
    first = np.ones(order.size, dtype=bool)
    first[1:] = corpus.file_of[order[1:]] != corpus.file_of[order[:-1]]
    heads = np.full(len(corpus.files), -1, dtype=np.int64)
    heads[corpus.file_of[order[first]]] = order[first]
    return heads


def member_of(corpus: Corpus, chunk: int, owner: str, names: tuple[str, ...]) -> bool:
    """Whether a definition is a member of ``owner`` (any case): its symbol path says so
    (`Deque.prepend`, `Rack.Builder.use`; a chunk named after a type that declares the name
    inside, `Deque`, is that type), or, where symbols carry no owner, a Go receiver does
    (`func (c *Context) Header`)."""
    segments = symbol_path_segments(corpus.symbols[chunk])
    lower = {n.lower() for n in names}
    if segments and segments[-1].lower() not in lower:
        segments = [*segments, ""]  # the chunk is the owner itself
    if len(segments) >= 2 and segments[-2].lower() == owner.lower():
        return True
    receiver = _GO_RECEIVER.search(corpus.contents[chunk])
    return bool(receiver and receiver.group(1).lower() == owner.lower() and receiver.group(2) in names)


# `func (c *Context) Header(`: the receiver's type and the method's name.
_GO_RECEIVER = re.compile(r"\bfunc\s*\(\s*\w*\s*\*?\s*([A-Za-z_]\w*)(?:\[[^\]\n]*\])?\s*\)\s*([A-Za-z_]\w*)")
