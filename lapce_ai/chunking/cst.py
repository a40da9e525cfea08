"""Cut a tree-sitter CST into semantic chunks.

A definition that fits the size limit is one chunk (nested definitions included). A larger one
is split: its own code between child definitions (a class header, fields) becomes chunks of its
kind, and each child definition is chunked recursively; a large definition without children is
split along its CST children. Module-level code between definitions becomes ``module`` chunks.
A short comment/decorator gap right before a definition joins that definition, so doc comments
travel with the code they describe. A gap of a few bare tokens (the ``}`` or ``end`` closing a
class cut into its methods) is no chunk: it would answer nothing, under the class's name.
"""

from __future__ import annotations

import bisect
import contextlib
import functools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata

import tree_sitter
import xxhash

from lapce_ai.chunking.ids import chunk_id, content_hash
from lapce_ai.chunking.model import PARSER_CST, TEST_KIND, Chunk
from lapce_ai.parsing.languages import (
    Definition,
    DocNodes,
    LanguageSpec,
    definitions,
    is_doc_node,
    registry_fingerprint,
)

# Kinds whose nested functions are methods.
CLASS_LIKE = frozenset({"class", "struct", "impl", "interface", "trait", "enum", "module", "namespace", "type"})
# Kinds that only scope the names inside them (C++/C#/PHP/TypeScript namespaces): the definitions
# inside are what a search asks for. (A test block groups tests only when it holds some: a test
# with a type or helper of its own is that test.)
SCOPE_KINDS = frozenset({"namespace"})
MAX_DEPTH = 200  # deeper than this, nodes are split by lines: no recursion blow-ups
# Bumped whenever the same tree gives other chunks: caches of chunked files must not serve the
# old ones, and indexes re-chunk their files (2: documentation nodes join their definition;
# 3: so do comments a grammar put at the end of the node before, Kotlin's KDoc after imports;
# a recovered name with an invented token is named by its last part; 4: also when more
# documentation follows that node, like Haskell's haddock in the import list, then a signature;
# 5: a language's documentation nodes no longer count towards the small code that may join,
# and a node is opened when its documentation is followed only by small nodes, a pragma say;
# 6: also when small code outside it, a fixity or an annotation, sits before the definition;
# 7: a namespace that fits in one chunk is named after its one definition, or opened where it
# holds several, each then in its own chunk; 8: test blocks (`describe`, `it`, `test`) are named
# definitions, and a definition holding them is opened like a namespace; 9: a one-line piece whose
# line its neighbour's piece shares joins that neighbour instead of repeating the line; 10: a gap of bare
# tokens, like the `}` closing a class opened into its methods, is no chunk; 11: a test block holding
# no test but a definition of its own, a type or helper, is one chunk named after the test).
CHUNKER_VERSION = 11


@dataclass(frozen=True)
class ChunkLimits:
    max_chars: int = 2400
    max_lines: int = 80
    min_chars: int = 120  # smaller gaps merge into a neighbour instead of standing alone


@functools.cache
def chunker_fingerprint(limits: ChunkLimits = ChunkLimits()) -> str:
    """What decides a parsed file's chunks besides its bytes: this chunker, the grammars and the
    definition queries, and the size limits."""
    h = xxhash.xxh3_64()
    h.update(f"{CHUNKER_VERSION}|{limits.max_chars}|{limits.max_lines}|{limits.min_chars}|".encode())
    for dist in ("tree-sitter", "tree-sitter-language-pack"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            h.update(f"{dist}={metadata.version(dist)}|".encode())
    h.update(registry_fingerprint().encode())
    return h.hexdigest()


@dataclass
class _Def:
    node: tree_sitter.Node
    kind: str
    symbol: str
    children: list[_Def] = field(default_factory=list)
    doc_nodes: DocNodes = ()  # nodes documenting it, besides comments


@dataclass
class _Piece:
    start_byte: int
    end_byte: int
    kind: str
    symbol: str


class CstChunker:
    def __init__(self, limits: ChunkLimits | None = None):
        self.limits = limits or ChunkLimits()

    def chunk(self, path: str, spec: LanguageSpec, source: bytes, tree: tree_sitter.Tree) -> list[Chunk]:
        text = source.decode("utf-8", errors="replace")
        lines = text.split("\n")  # only "\n": line numbers must agree with the byte offsets
        line_starts = _line_starts(source)
        forest = _nest(definitions(spec, tree.root_node))
        pieces: list[_Piece] = []
        self._emit_region(tree.root_node, forest, "module", "", pieces, source, 0)
        return _to_chunks(path, spec.name, pieces, lines, line_starts)

    # -- regions --------------------------------------------------------------------------

    def _emit_def(self, d: _Def, out: list[_Piece], source: bytes, depth: int) -> None:
        node = d.node
        fits = self._fits(node.start_byte, node.end_byte, source)
        scope = _opened(d)
        only = d.children[0] if len(d.children) == 1 else None
        if scope and only is not None and fits and not (only.kind == TEST_KIND and _opened(only)):
            # A namespace only scopes names: one that holds a single definition (a C# file's
            # class) is that definition's chunk, named after it (unless that is a block of tests).
            out.append(_Piece(node.start_byte, node.end_byte, only.kind, only.symbol))
        elif scope and d.children:
            # Several definitions each get their own chunk, even where the namespace would fit in one.
            self._emit_region(node, d.children, d.kind, d.symbol, out, source, depth + 1)
        elif fits:
            out.append(_Piece(node.start_byte, node.end_byte, d.kind, d.symbol))
        elif d.children:
            self._emit_region(node, d.children, d.kind, d.symbol, out, source, depth + 1)
        else:
            for start, end in self._split_nodes(list(node.children), source, depth + 1):
                out.append(_Piece(start, end, d.kind, d.symbol))

    def _emit_region(
        self,
        container: tree_sitter.Node,
        defs: list[_Def],
        gap_kind: str,
        gap_symbol: str,
        out: list[_Piece],
        source: bytes,
        depth: int,
    ) -> None:
        """Emit ``container``'s code: child definitions recursively, the gaps between as chunks."""
        self._emit_items(_interleave(container, defs, depth), gap_kind, gap_symbol, out, source, depth)

    def _emit_items(
        self,
        items: list[_Def | tree_sitter.Node],
        gap_kind: str,
        gap_symbol: str,
        out: list[_Piece],
        source: bytes,
        depth: int,
    ) -> None:
        """Emit a region's items in order (also the incremental re-chunker's loop over a stretch)."""
        pending_gap: list[tree_sitter.Node] = []
        for item in items:
            if isinstance(item, _Def):
                pending_gap = _open_trailing_comments(pending_gap, item.doc_nodes, self.limits.min_chars)
                attach = self._attachable_prefix(pending_gap, item, source)
                rest = pending_gap[: len(pending_gap) - len(attach)]
                self._flush_gap(rest, gap_kind, gap_symbol, out, source, depth)
                pending_gap = []
                before = len(out)
                self._emit_def(item, out, source, depth)
                if attach and len(out) > before:
                    first = out[before]
                    out[before] = _Piece(attach[0].start_byte, first.end_byte, first.kind, first.symbol)
            else:
                pending_gap.append(item)
        self._flush_gap(pending_gap, gap_kind, gap_symbol, out, source, depth)

    def _attachable_prefix(self, gap: list[tree_sitter.Node], d: _Def, source: bytes) -> list[tree_sitter.Node]:
        """Trailing comments/small nodes directly above a definition belong to it; the language's
        documentation nodes (a haddock, an ``@doc``) also across one blank line."""
        taken: list[tree_sitter.Node] = []
        size = 0
        next_start_row = d.node.start_point.row
        for node in reversed(gap):
            is_doc = is_doc_node(d.doc_nodes, node)
            if not is_doc:  # documentation is no "small code": a long doc does not stop a pragma
                size += node.end_byte - node.start_byte
            is_comment = is_doc or "comment" in node.type or node.type in {"decorator", "attribute_item", "annotation"}
            adjacent = next_start_row - node.end_point.row <= (2 if is_doc else 1)
            if not adjacent or not (is_comment or size < self.limits.min_chars):
                break
            taken.append(node)
            next_start_row = node.start_point.row
        taken.reverse()
        return taken

    def _flush_gap(
        self,
        gap: list[tree_sitter.Node],
        kind: str,
        symbol: str,
        out: list[_Piece],
        source: bytes,
        depth: int,
    ) -> None:
        nodes = [n for n in gap if source[n.start_byte : n.end_byte].strip()]
        if not nodes:
            return
        if not any(n.is_named for n in nodes) and nodes[-1].end_byte - nodes[0].start_byte < self.limits.min_chars:
            # A few bare tokens: the `}`, `end` or `})` closing a definition opened into its
            # members, or a block holding definitions. A chunk of them would answer nothing.
            return
        for start, end in self._split_nodes(nodes, source, depth):
            out.append(_Piece(start, end, kind, symbol))

    # -- splitting ------------------------------------------------------------------------

    def _fits(self, start: int, end: int, source: bytes) -> bool:
        if end - start > self.limits.max_chars:
            return False
        return source.count(b"\n", start, end) < self.limits.max_lines

    def _split_nodes(self, nodes: list[tree_sitter.Node], source: bytes, depth: int) -> list[tuple[int, int]]:
        """Group sibling nodes greedily into ranges within the limits; recurse into big ones."""
        ranges: list[tuple[int, int]] = []
        cur: tuple[int, int] | None = None
        for node in nodes:
            start, end = node.start_byte, node.end_byte
            if not self._fits(start, end, source):
                if cur:
                    ranges.append(cur)
                    cur = None
                if depth < MAX_DEPTH and node.child_count:
                    ranges.extend(self._split_nodes(list(node.children), source, depth + 1))
                else:
                    ranges.extend(self._split_lines(start, end, source))
                continue
            if cur and self._fits(cur[0], end, source):
                cur = (cur[0], end)
            else:
                if cur:
                    ranges.append(cur)
                cur = (start, end)
        if cur:
            ranges.append(cur)
        merged = _merge_tiny(ranges, self.limits.min_chars, lambda a, b: self._fits(a, b, source))
        return _join_shared_lines(merged, source, self.limits.max_chars)

    def _split_lines(self, start: int, end: int, source: bytes) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []
        pos = start
        while pos < end:
            stop = pos
            lines = 0
            while stop < end and lines < self.limits.max_lines and stop - pos < self.limits.max_chars:
                nl = source.find(b"\n", stop, end)
                stop = end if nl == -1 else nl + 1
                lines += 1
            if stop - pos > self.limits.max_chars * 2:  # one enormous line (minified code)
                stop = pos + self.limits.max_chars
            out.append((pos, stop))
            pos = stop
        return out


def _opened(d: _Def) -> bool:
    """A definition cut into its definitions even where it would fit in one chunk: a namespace,
    a test block holding others, a class or module of tests (ExUnit's, minitest's)."""
    return d.kind in SCOPE_KINDS or any(c.kind == TEST_KIND for c in d.children)


def _nest(defs: list[Definition]) -> list[_Def]:
    """Turn the flat, position-sorted definition list into a containment forest."""
    roots: list[_Def] = []
    stack: list[_Def] = []
    for d in defs:
        while stack and not (
            d.node.start_byte >= stack[-1].node.start_byte and d.node.end_byte <= stack[-1].node.end_byte
        ):
            stack.pop()
        parent = stack[-1] if stack else None
        kind = d.kind
        if kind == "function" and parent is not None and parent.kind in CLASS_LIKE:
            kind = "method"
        symbol = f"{parent.symbol}.{d.name}" if parent and parent.symbol else d.name
        node = _Def(d.node, kind, symbol, doc_nodes=d.doc_nodes)
        (parent.children if parent else roots).append(node)
        stack.append(node)
    return roots


def _interleave(container: tree_sitter.Node, defs: list[_Def], depth: int) -> list[_Def | tree_sitter.Node]:
    """Container's content in order: definitions, and the CST nodes of the code between them."""
    out: list[_Def | tree_sitter.Node] = []
    def_starts = {(d.node.start_byte, d.node.end_byte): d for d in defs}

    def visit(node: tree_sitter.Node, level: int) -> None:
        for child in node.children:
            key = (child.start_byte, child.end_byte)
            if key in def_starts:
                out.append(def_starts.pop(key))
            elif level < MAX_DEPTH and any(child.start_byte <= s and e <= child.end_byte for s, e in def_starts):
                visit(child, level + 1)
            else:
                out.append(child)

    visit(container, depth)
    # Definitions the walk could not place (odd trees) still get emitted, in position order.
    leftovers = sorted(def_starts.values(), key=lambda d: d.node.start_byte)
    if leftovers:
        out.extend(leftovers)
        out.sort(key=lambda x: x.node.start_byte if isinstance(x, _Def) else x.start_byte)
    return out


def _open_trailing_comments(gap: list[tree_sitter.Node], doc_nodes: DocNodes, small: int) -> list[tree_sitter.Node]:
    """Some grammars end a node with the comments that follow it (Kotlin's import list and
    package header hold the next class's KDoc, Haskell's the next function's haddock, maybe
    with a pragma after it): open the last node before the gap's trailing documentation and
    small code into its children when it ends with such a comment (then at most ``small``
    bytes of code), so the comment can join the definition below with the rest."""

    def documents(node: tree_sitter.Node) -> bool:
        return "comment" in node.type or is_doc_node(doc_nodes, node)

    def ends_with_documentation(node: tree_sitter.Node) -> bool:
        kids = node.children
        j = len(kids) - 1
        while j >= 0 and not documents(kids[j]) and kids[j].end_byte - kids[j].start_byte < small:
            j -= 1
        if j >= 0 and documents(kids[j]):
            return True
        tail = node
        while tail.child_count and not documents(tail):
            tail = tail.children[-1]
        return documents(tail)

    opened = True
    while opened:
        opened = False
        # Past the documentation and small code (an annotation a grammar left outside the
        # definition) that may join the definition anyway.
        code = 0
        for i in range(len(gap) - 1, -1, -1):
            node = gap[i]
            if documents(node):
                continue
            if node.child_count and ends_with_documentation(node):
                gap = [*gap[:i], *node.children, *gap[i + 1 :]]
                opened = True
                break
            code += node.end_byte - node.start_byte
            if code >= small:
                break
    return gap


def _merge_tiny(
    ranges: list[tuple[int, int]], min_chars: int, fits: Callable[[int, int], bool]
) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in ranges:
        if merged and (end - start < min_chars or merged[-1][1] - merged[-1][0] < min_chars):
            prev = merged[-1]
            if fits(prev[0], end):
                merged[-1] = (prev[0], end)
                continue
        merged.append((start, end))
    return merged


def _join_shared_lines(ranges: list[tuple[int, int]], source: bytes, max_chars: int) -> list[tuple[int, int]]:
    """A short range within one line that a longer neighbour's range shares joins that neighbour:
    chunks are whole lines, so on its own it would repeat a line of the neighbour's chunk (a long
    docstring's opening quotes, a long function's signature before the ``{`` of its body). The
    cuts of one enormous line (minified code) stay apart."""
    joined: list[tuple[int, int]] = []
    for start, end in ranges:
        if joined:
            prev_start, prev_end = joined[-1]
            same_line = b"\n" not in source[prev_end:start]
            if same_line and _one_line(source, prev_start, prev_end, max_chars) != _one_line(
                source, start, end, max_chars
            ):
                joined[-1] = (prev_start, end)
                continue
        joined.append((start, end))
    return joined


def _one_line(source: bytes, start: int, end: int, max_chars: int) -> bool:
    """Whether a range is a fragment of one line (not a cut of an enormous one)."""
    return end - start < max_chars and b"\n" not in source[start:end].rstrip(b"\n")


def _line_starts(source: bytes) -> list[int]:
    starts = [0]
    pos = source.find(b"\n")
    while pos != -1:
        starts.append(pos + 1)
        pos = source.find(b"\n", pos + 1)
    return starts


def _line_of(offset: int, line_starts: list[int]) -> int:
    """0-based line holding byte ``offset``."""
    return bisect.bisect_right(line_starts, offset) - 1


def _to_chunks(path: str, language: str, pieces: list[_Piece], lines: list[str], line_starts: list[int]) -> list[Chunk]:
    ordinals: Counter[tuple[str, str]] = Counter()
    chunks: list[Chunk] = []
    for piece in pieces:
        end_byte = max(piece.start_byte, piece.end_byte - 1)
        first = _line_of(piece.start_byte, line_starts)
        last = _line_of(end_byte, line_starts)
        content = "\n".join(lines[first : last + 1])
        if not content.strip():
            continue
        key = (piece.symbol, piece.kind)
        ordinal = ordinals[key]
        ordinals[key] += 1
        chunks.append(
            piece_chunk(path, language, piece, first, last, content, chunk_id(path, piece.symbol, piece.kind, ordinal))
        )
    return chunks


def piece_chunk(path: str, language: str, piece: _Piece, first: int, last: int, content: str, cid: str) -> Chunk:
    """The chunk of a piece spanning 0-based lines ``first``..``last``."""
    return Chunk(
        id=cid,
        path=path,
        language=language,
        kind=piece.kind,
        symbol=piece.symbol,
        start_line=first + 1,
        end_line=last + 1,
        parser=PARSER_CST,
        content=content,
        content_hash=content_hash(content),
    )
