"""Incremental re-parse and re-chunking of a file held in the hot tier.

When a hot file changes, the edit is computed from the two sources, applied to a copy of the old
tree (``tree.edit``) and the new source is parsed from it. Chunks are then re-derived only for the
innermost definition that contains every changed byte (the edit plus ``changed_ranges``); the
pieces before it are reused as they are and the pieces after it with shifted offsets and lines.

Correctness comes first: this must equal a from-scratch ``CstChunker.chunk``. Whenever the
shortcut cannot prove that (the change touches module-level code, a definition's head, the
nesting or kind/name of an enclosing definition, or whether an enclosing definition still needs
splitting), it returns ``None`` and the caller chunks the whole tree. The recording below mirrors
the chunker's private steps, so tests compare both on many random edits.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import tree_sitter

from lapce_ai.chunking.cst import ChunkLimits, CstChunker, _Def, _nest, _Piece
from lapce_ai.chunking.ids import chunk_id, content_hash
from lapce_ai.chunking.model import PARSER_CST, Chunk
from lapce_ai.parsing.languages import Definition, LanguageSpec, _dedupe, _query, definitions


@dataclass(frozen=True, slots=True)
class Edit:
    start_byte: int
    old_end_byte: int
    new_end_byte: int
    start_point: tuple[int, int]
    old_end_point: tuple[int, int]
    new_end_point: tuple[int, int]


@dataclass(frozen=True, slots=True)
class Symbol:
    """One definition for an outline: 1-based inclusive lines, dotted symbol path."""

    kind: str
    symbol: str
    start_line: int
    end_line: int


@dataclass(frozen=True, slots=True)
class _Span:
    """A definition with its byte range (hot tier only: lets an edit shift it)."""

    start: int
    end: int
    sym: Symbol


@dataclass(frozen=True, slots=True)
class _Emission:
    """One ``_emit_def`` call of the chunker: which pieces a definition produced, at what depth."""

    start: int
    end: int
    kind: str
    symbol: str
    depth: int
    first: int  # pieces[first:last] came from this definition (nested ones included)
    last: int


@dataclass(frozen=True)
class Structure:
    """What the hot tier keeps beside a tree so the next edit can be re-chunked in place."""

    pieces: list[_Piece]
    piece_chunks: list[Chunk | None]  # None: the piece was blank and produced no chunk
    ordinals: list[int]
    emissions: list[_Emission]  # pre-order
    spans: list[_Span]  # every definition, pre-order

    @property
    def chunks(self) -> list[Chunk]:
        return [c for c in self.piece_chunks if c is not None]

    @property
    def symbols(self) -> list[Symbol]:
        return [s.sym for s in self.spans]


# -- edits -------------------------------------------------------------------------------------


def compute_edit(old: bytes, new: bytes) -> Edit | None:
    """The single replaced span turning ``old`` into ``new`` (None when they are equal)."""
    if old == new:
        return None
    prefix = _common_prefix(old, new)
    limit = min(len(old), len(new)) - prefix
    suffix = _common_suffix(old, new, limit)
    old_end = len(old) - suffix
    new_end = len(new) - suffix
    return Edit(prefix, old_end, new_end, _point(old, prefix), _point(old, old_end), _point(new, new_end))


def _common_prefix(a: bytes, b: bytes) -> int:
    n = min(len(a), len(b))
    lo = 0
    step = 4096
    # Block compares run at memcmp speed; a binary search finishes the last block.
    while lo + step <= n and a[lo : lo + step] == b[lo : lo + step]:
        lo += step
    hi = min(lo + step, n)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _common_suffix(a: bytes, b: bytes, limit: int) -> int:
    la, lb = len(a), len(b)
    lo = 0
    step = 4096
    while lo + step <= limit and a[la - lo - step : la - lo] == b[lb - lo - step : lb - lo]:
        lo += step
    hi = min(lo + step, limit)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[la - mid : la - lo] == b[lb - mid : lb - lo]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _point(source: bytes, offset: int) -> tuple[int, int]:
    row = source.count(b"\n", 0, offset)
    return row, offset - (source.rfind(b"\n", 0, offset) + 1)


def reparse(
    parser: tree_sitter.Parser, old_tree: tree_sitter.Tree, old_source: bytes, new_source: bytes
) -> tuple[tree_sitter.Tree, Edit, list[tree_sitter.Range]] | None:
    """Parse ``new_source`` reusing ``old_tree`` (left untouched: it is edited on a copy)."""
    edit = compute_edit(old_source, new_source)
    if edit is None:
        return None
    base = old_tree.copy()
    base.edit(
        start_byte=edit.start_byte,
        old_end_byte=edit.old_end_byte,
        new_end_byte=edit.new_end_byte,
        start_point=edit.start_point,
        old_end_point=edit.old_end_point,
        new_end_point=edit.new_end_point,
    )
    tree = parser.parse(new_source, base)
    return tree, edit, list(base.changed_ranges(tree))


# -- full chunking, recorded -------------------------------------------------------------------


class _Recorder(CstChunker):
    """The real chunker, noting which pieces each definition produced."""

    def __init__(self, limits: ChunkLimits):
        super().__init__(limits)
        self.notes: list[_Emission] = []

    def _emit_def(self, d: _Def, out: list[_Piece], source: bytes, depth: int) -> None:
        at = len(self.notes)
        self.notes.append(_Emission(d.node.start_byte, d.node.end_byte, d.kind, d.symbol, depth, len(out), -1))
        super()._emit_def(d, out, source, depth)
        note = self.notes[at]
        self.notes[at] = _Emission(note.start, note.end, note.kind, note.symbol, depth, note.first, len(out))

    def emissions(self, piece_offset: int = 0) -> list[_Emission]:
        if not piece_offset:
            return self.notes
        return [
            _Emission(n.start, n.end, n.kind, n.symbol, n.depth, n.first + piece_offset, n.last + piece_offset)
            for n in self.notes
        ]


def full_structure(
    limits: ChunkLimits, path: str, spec: LanguageSpec, source: bytes, tree: tree_sitter.Tree
) -> Structure:
    """Chunk the whole tree (exactly as ``CstChunker.chunk``) and keep the structure."""
    rec = _Recorder(limits)
    forest = _nest(definitions(spec, tree.root_node))
    pieces: list[_Piece] = []
    rec._emit_region(tree.root_node, forest, "module", "", pieces, source, 0)
    piece_chunks, ordinals = _make_chunks(path, spec.name, pieces, source, _Lines(source))
    return Structure(pieces, piece_chunks, ordinals, rec.emissions(), _flatten(forest))


class _Lines:
    """0-based line of a byte offset, counting forward from the last question (cheap in order)."""

    def __init__(self, source: bytes, pos: int = 0, line: int = 0):
        self.source = source
        self.pos = pos
        self.line = line

    def of(self, offset: int) -> int:
        if offset < self.pos:
            self.pos, self.line = 0, 0
        self.line += self.source.count(b"\n", self.pos, offset)
        self.pos = offset
        return self.line


def _chunk_for(path: str, language: str, piece: _Piece, source: bytes, lines: _Lines) -> Chunk | None:
    """A piece's chunk with ordinal 0 (the caller fixes the id); whole lines, like ``_to_chunks``."""
    end_byte = max(piece.start_byte, piece.end_byte - 1)
    first = lines.of(piece.start_byte)
    last = lines.of(end_byte)
    lo = source.rfind(b"\n", 0, piece.start_byte) + 1
    hi = source.find(b"\n", end_byte)
    if hi == -1:
        hi = len(source)
    # Decoding the line span alone equals slicing the decoded file: "\n" never sits inside a
    # UTF-8 sequence, so replacement characters fall the same way.
    content = source[lo:hi].decode("utf-8", errors="replace")
    if not content.strip():
        return None
    return Chunk(
        id="",
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


def _make_chunks(
    path: str, language: str, pieces: list[_Piece], source: bytes, lines: _Lines
) -> tuple[list[Chunk | None], list[int]]:
    drafts = [_chunk_for(path, language, p, source, lines) for p in pieces]
    return _number(drafts, [-1] * len(drafts))


def _number(drafts: list[Chunk | None], old_ordinals: list[int]) -> tuple[list[Chunk | None], list[int]]:
    """Ordinals among same (symbol, kind) chunks, in order (as ``_to_chunks``); a reused chunk
    keeps its id unless its ordinal moved."""
    seen: Counter[tuple[str, str]] = Counter()
    ordinals: list[int] = []
    out: list[Chunk | None] = []
    for draft, old_ordinal in zip(drafts, old_ordinals, strict=True):
        if draft is None:
            ordinals.append(-1)
            out.append(None)
            continue
        key = (draft.symbol, draft.kind)
        ordinal = seen[key]
        seen[key] += 1
        ordinals.append(ordinal)
        if draft.id and ordinal == old_ordinal:
            out.append(draft)
        else:
            out.append(_with(draft, chunk_id(draft.path, draft.symbol, draft.kind, ordinal)))
    return out, ordinals


def _with(c: Chunk, cid: str, line_shift: int = 0) -> Chunk:
    return Chunk(
        cid,
        c.path,
        c.language,
        c.kind,
        c.symbol,
        c.start_line + line_shift,
        c.end_line + line_shift,
        c.parser,
        c.content,
        c.content_hash,
    )


def _flatten(forest: list[_Def]) -> list[_Span]:
    out: list[_Span] = []
    stack = list(reversed(forest))
    while stack:
        d = stack.pop()
        out.append(_Span(d.node.start_byte, d.node.end_byte, Symbol(d.kind, d.symbol, *_node_lines(d.node))))
        stack.extend(reversed(d.children))
    return out


def _node_lines(node: tree_sitter.Node) -> tuple[int, int]:
    """1-based inclusive lines, the last one being the line of the node's last byte."""
    start = node.start_point.row
    end = node.end_point.row
    if node.end_point.column == 0 and end > start:
        end -= 1
    return start + 1, end + 1


# -- incremental -------------------------------------------------------------------------------


def rechunk(
    limits: ChunkLimits,
    path: str,
    spec: LanguageSpec,
    old: Structure,
    old_source: bytes,
    new_source: bytes,
    tree: tree_sitter.Tree,
    edit: Edit,
    changed: list[tree_sitter.Range],
) -> Structure | None:
    """Re-derive only the chunks of the innermost definition holding the change (None: can't)."""
    delta = edit.new_end_byte - edit.old_end_byte
    lo, hi = edit.start_byte, edit.new_end_byte
    for r in changed:
        lo, hi = min(lo, r.start_byte), max(hi, r.end_byte)
    hi_old = hi - delta  # hi >= new_end_byte, so this is the same place in the old source

    target = -1
    for i, em in enumerate(old.emissions):
        # Strictly after the start: the definition's head (and its attached comments) is intact.
        if em.start < lo and hi_old <= em.end:
            target = i  # pre-order: a later container is a deeper one
    if target < 0:
        return None
    em = old.emissions[target]
    if em.first >= em.last:
        return None
    new_end = em.end + delta
    ancestors = [a for a in old.emissions[:target] if a.start <= em.start and em.end <= a.end]

    # Definitions touching the span, in their real context: enclosing ones included, so nesting,
    # method-vs-function and same-name de-duplication come out as in a full run.
    forest = _nest(_definitions_in(spec, tree.root_node, em.start, new_end))
    level = forest
    chain: list[_Def] = []
    for a in [*ancestors, em]:
        want = (a.start, a.end + delta)
        found = next((d for d in level if (d.node.start_byte, d.node.end_byte) == want), None)
        if found is None or found.kind != a.kind or found.symbol != a.symbol:
            return None
        chain.append(found)
        level = found.children
    rec = _Recorder(limits)
    # Every enclosing definition must still be too big to be a single chunk.
    if any(rec._fits(a.start, a.end + delta, new_source) for a in ancestors):
        return None
    if em.first > 0 and old.pieces[em.first - 1].end_byte > em.start:
        return None
    if em.last < len(old.pieces) and old.pieces[em.last].start_byte < em.end:
        return None

    fresh: list[_Piece] = []
    rec._emit_def(chain[-1], fresh, new_source, em.depth)
    if not fresh:
        return None
    attach = old.pieces[em.first].start_byte
    if attach < em.start:  # the comment/decorator gap above joined the first piece
        fresh[0] = _Piece(attach, fresh[0].end_byte, fresh[0].kind, fresh[0].symbol)
    dp = len(fresh) - (em.last - em.first)
    line_delta = new_source.count(b"\n", edit.start_byte, edit.new_end_byte) - old_source.count(
        b"\n", edit.start_byte, edit.old_end_byte
    )

    before = old.pieces[: em.first]
    after = [_Piece(p.start_byte + delta, p.end_byte + delta, p.kind, p.symbol) for p in old.pieces[em.last :]]
    pieces = before + fresh + after

    drafts: list[Chunk | None] = list(old.piece_chunks[: em.first])
    # A reused piece sharing a line with the edit has new content (chunks are whole lines).
    k = em.first - 1
    while k >= 0 and _line_end(old_source, old.pieces[k]) >= edit.start_byte:
        drafts[k] = _chunk_for(path, spec.name, before[k], new_source, _Lines(new_source))
        k -= 1
    lines = _Lines(new_source)
    drafts.extend(_chunk_for(path, spec.name, p, new_source, lines) for p in fresh)
    for j, p in enumerate(old.pieces[em.last :]):
        c = old.piece_chunks[em.last + j]
        if _line_start(old_source, p) <= edit.old_end_byte:
            drafts.append(_chunk_for(path, spec.name, after[j], new_source, lines))
        else:
            drafts.append(None if c is None else _with(c, c.id, line_delta))
    old_ordinals = [*old.ordinals[: em.first], *([-1] * len(fresh)), *old.ordinals[em.last :]]
    piece_chunks, ordinals = _number(drafts, old_ordinals)

    emissions = [
        _Emission(a.start, a.end + delta, a.kind, a.symbol, a.depth, a.first, a.last + dp)
        if a.start <= em.start and em.end <= a.end
        else a
        for a in old.emissions[:target]
    ]
    emissions.extend(rec.emissions(em.first))
    skip = target + 1
    while skip < len(old.emissions) and old.emissions[skip].start < em.end and old.emissions[skip].end <= em.end:
        skip += 1  # em's nested emissions were re-derived above
    emissions.extend(
        _Emission(a.start + delta, a.end + delta, a.kind, a.symbol, a.depth, a.first + dp, a.last + dp)
        for a in old.emissions[skip:]
    )
    spans = _respan(old.spans, em, delta, line_delta, chain)
    if spans is None:
        return None
    return Structure(pieces, piece_chunks, ordinals, emissions, spans)


def _respan(spans: list[_Span], em: _Emission, delta: int, line_delta: int, chain: list[_Def]) -> list[_Span] | None:
    s = next(
        (i for i, sp in enumerate(spans) if (sp.start, sp.end, sp.sym.symbol) == (em.start, em.end, em.symbol)), -1
    )
    if s < 0:
        return None
    e = s + 1
    while e < len(spans) and spans[e].end <= em.end and spans[e].start >= em.start:
        e += 1
    enclosing = {(d.node.start_byte, d.node.end_byte): d for d in chain[:-1]}
    out: list[_Span] = []
    for sp in spans[:s]:
        if not (sp.start <= em.start and em.end <= sp.end):
            out.append(sp)
            continue
        d = enclosing.get((sp.start, sp.end + delta))
        if d is None:  # an enclosing definition that is not on the chain: be safe, chunk afresh
            return None
        out.append(_Span(sp.start, sp.end + delta, Symbol(sp.sym.kind, sp.sym.symbol, *_node_lines(d.node))))
    out.extend(_flatten([chain[-1]]))
    for sp in spans[e:]:
        moved = Symbol(sp.sym.kind, sp.sym.symbol, sp.sym.start_line + line_delta, sp.sym.end_line + line_delta)
        out.append(_Span(sp.start + delta, sp.end + delta, moved))
    return out


def _line_end(source: bytes, p: _Piece) -> int:
    end = source.find(b"\n", max(p.start_byte, p.end_byte - 1))
    return len(source) if end == -1 else end


def _line_start(source: bytes, p: _Piece) -> int:
    return source.rfind(b"\n", 0, p.start_byte) + 1


def _definitions_in(spec: LanguageSpec, root: tree_sitter.Node, start: int, end: int) -> list[Definition]:
    """``definitions(spec, root)`` limited to matches that touch [start, end)."""
    query = _query(spec)
    if query is None:
        return []
    cursor = tree_sitter.QueryCursor(query)
    cursor.set_byte_range(start, end)
    found: list[tuple[int, Definition]] = []
    for pattern, captures in cursor.matches(root):
        names = captures.get("name")
        if not names:
            continue
        for capture, nodes in captures.items():
            if capture.startswith("definition.") and nodes:
                raw = names[0].text or b""
                name = " ".join(raw.decode("utf-8", errors="replace").split())
                found.append((pattern, Definition(nodes[0], capture[len("definition.") :], name)))
    return _dedupe(found)
