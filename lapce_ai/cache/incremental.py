"""Incremental re-parse and re-chunking of a file held in the hot tier.

When a hot file changes, the edit is computed from the two sources, applied to a copy of the old
tree (``tree.edit``) and the new source is parsed from it. The changed bytes are the edit plus
``old_tree.changed_ranges(new_tree)`` (outside those, tree-sitter guarantees identical ancestor
nodes). Chunks are then re-derived only around them:

- inside a definition's body: that innermost definition is re-emitted alone, after checking that
  every enclosing definition is still the same (range, kind, symbol) and still too big to be one
  chunk;
- elsewhere (module-level code, a definition's head): the chunker's top-level scan is re-run
  between the nearest unchanged top-level definitions on either side, since its state resets
  after each definition.

Pieces before the stretch are reused as they are, those after it with shifted offsets and lines
(re-read when they share a line with the edit: chunks are whole lines); ordinals and ids are
renumbered. Correctness comes first: the result must equal a from-scratch ``CstChunker.chunk``,
and whenever that cannot be shown this returns ``None`` and the caller chunks the whole tree. The
recording below drives the chunker's own (private) steps, so tests compare both on many random
edits in several languages.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import tree_sitter

from lapce_ai.chunking.cst import ChunkLimits, CstChunker, _Def, _interleave, _nest, _Piece, piece_chunk
from lapce_ai.chunking.ids import chunk_id
from lapce_ai.chunking.model import Chunk
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
    return piece_chunk(path, language, piece, first, last, content, "")


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


@dataclass
class _Splice:
    """Old pieces [pieces_from, pieces_to) are replaced by ``pieces``; likewise emissions, spans."""

    pieces_from: int
    pieces_to: int
    pieces: list[_Piece]
    emissions_from: int
    emissions_to: int
    emissions: list[_Emission]  # piece indices relative to ``pieces``
    spans_from: int
    spans_to: int
    spans: list[_Span]
    ancestors: set[int]  # old emissions enclosing the change: they grow by the edit
    enclosing: dict[tuple[int, int], _Def]  # new (start, end) -> node of each enclosing definition


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
    """Re-derive only the chunks around the change (None: cannot prove the result equal)."""
    delta = edit.new_end_byte - edit.old_end_byte
    lo, hi = edit.start_byte, edit.new_end_byte
    for r in changed:
        lo, hi = min(lo, r.start_byte), max(hi, r.end_byte)
    hi_old = hi - delta  # hi >= new_end_byte, so this is the same place in the old source
    rec = _Recorder(limits)
    splice = _inside_definition(rec, spec, old, new_source, tree, lo, hi_old, delta)
    if splice is None:
        splice = _between_definitions(rec, spec, old, new_source, tree, lo, hi_old, delta)
    if splice is None:
        return None
    return _assemble(path, spec.name, old, old_source, new_source, edit, splice, delta)


def _inside_definition(
    rec: _Recorder,
    spec: LanguageSpec,
    old: Structure,
    new_source: bytes,
    tree: tree_sitter.Tree,
    lo: int,
    hi_old: int,
    delta: int,
) -> _Splice | None:
    """The change lies inside one definition's body: re-emit that definition alone."""
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
    enclosing = [i for i, a in enumerate(old.emissions[:target]) if a.start <= em.start and em.end <= a.end]
    ancestors = [old.emissions[i] for i in enclosing]
    # Definitions touching the span, in their real context: enclosing ones included, so nesting,
    # method-vs-function and same-name de-duplication come out as in a full run.
    forest = _nest(_definitions_in(spec, tree.root_node, em.start, em.end + delta))
    level = forest
    chain: list[_Def] = []
    for a in [*ancestors, em]:
        found = _find(level, a, a.start, a.end + delta)
        if found is None:
            return None
        chain.append(found)
        level = found.children
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
    skip = target + 1
    while skip < len(old.emissions) and old.emissions[skip].start < em.end and old.emissions[skip].end <= em.end:
        skip += 1  # em's nested emissions are re-derived with it
    s_from = next(
        (i for i, sp in enumerate(old.spans) if (sp.start, sp.end, sp.sym.symbol) == (em.start, em.end, em.symbol)),
        -1,
    )
    if s_from < 0:
        return None
    s_to = _span_end(old.spans, s_from + 1, em.start, em.end)
    return _Splice(
        em.first,
        em.last,
        fresh,
        target,
        skip,
        rec.emissions(),
        s_from,
        s_to,
        _flatten([chain[-1]]),
        set(enclosing),
        {(d.node.start_byte, d.node.end_byte): d for d in chain[:-1]},
    )


def _between_definitions(
    rec: _Recorder,
    spec: LanguageSpec,
    old: Structure,
    new_source: bytes,
    tree: tree_sitter.Tree,
    lo: int,
    hi_old: int,
    delta: int,
) -> _Splice | None:
    """The change touches module-level code: re-run the top-level scan between the nearest
    unchanged top-level definitions around it (the chunker's state resets after each one)."""
    tops: list[int] = []  # top-level emissions, in order
    top_end = -1
    for i, em in enumerate(old.emissions):
        if em.start >= top_end:
            tops.append(i)
            top_end = em.end
    left = next((i for i in reversed(tops) if old.emissions[i].end < lo), None)
    right = next((i for i in tops if old.emissions[i].start > hi_old), None)
    if left is None and right is None:
        return None  # that is the whole file: a full chunking, and counted as one
    start = old.emissions[left].start if left is not None else 0
    stop = old.emissions[right].end + delta if right is not None else len(new_source)
    forest = _nest(_definitions_in(spec, tree.root_node, start, stop))
    # Both fences must be the same top-level definitions, unmoved (left) or shifted (right).
    fences: list[_Def | None] = []
    for fence, shift in ((left, 0), (right, delta)):
        found = None
        if fence is not None:
            f = old.emissions[fence]
            found = _find(forest, f, f.start + shift, f.end + shift)
            if found is None:
                return None
        fences.append(found)
    lo_new = old.emissions[left].end if left is not None else 0
    new_roots = [d for d in forest if lo_new <= d.node.start_byte and d.node.end_byte <= stop]
    # The left fence goes in too: a block holding it (an ``if`` at module level) is then walked
    # into exactly as in a full run.
    roots = [fences[0], *new_roots] if fences[0] is not None else new_roots
    items = _items(tree.root_node, roots, lo_new, stop)
    if items is None or (fences[1] is not None and (not items or items[-1] is not fences[1])):
        return None
    fresh: list[_Piece] = []
    # The top-level loop of CstChunker._emit_region, over this stretch only: the same code, so
    # every rule of how a gap joins the definition below it holds here too.
    rec._emit_items(items, "module", "", fresh, new_source, 0)

    p_from = old.emissions[left].last if left is not None else 0
    p_to = old.emissions[right].last if right is not None else len(old.pieces)
    e_from = _subtree_end(old.emissions, left) if left is not None else 0
    e_to = _subtree_end(old.emissions, right) if right is not None else len(old.emissions)
    old_stop = old.emissions[right].end if right is not None else len(new_source) - delta
    lo_old = lo_new
    s_from = next((i for i, sp in enumerate(old.spans) if sp.start >= lo_old), len(old.spans))
    s_to = next((i for i, sp in enumerate(old.spans) if sp.start >= old_stop), len(old.spans))
    return _Splice(p_from, p_to, fresh, e_from, e_to, rec.emissions(), s_from, s_to, _flatten(new_roots), set(), {})


def _find(level: list[_Def], want: _Emission, start: int, end: int) -> _Def | None:
    for d in level:
        if (d.node.start_byte, d.node.end_byte) == (start, end):
            return d if (d.kind, d.symbol) == (want.kind, want.symbol) else None
    return None


def _subtree_end(emissions: list[_Emission], i: int) -> int:
    """Index just past emission ``i`` and the emissions nested in it (pre-order)."""
    em = emissions[i]
    j = i + 1
    while j < len(emissions) and emissions[j].start < em.end and emissions[j].end <= em.end:
        j += 1
    return j


def _span_end(spans: list[_Span], j: int, start: int, end: int) -> int:
    while j < len(spans) and spans[j].end <= end and spans[j].start >= start:
        j += 1
    return j


def _items(root: tree_sitter.Node, roots: list[_Def], start: int, stop: int) -> list[_Def | tree_sitter.Node] | None:
    """The top-level items (as ``_interleave``) lying in [start, stop)."""
    out: list[_Def | tree_sitter.Node] = []
    for item in _interleave(root, roots, 0):
        node = item.node if isinstance(item, _Def) else item
        if node.start_byte >= start and node.end_byte <= stop:
            out.append(item)
        elif node.end_byte > start and node.start_byte < stop:
            return None  # straddles the stretch: cannot be cut here
    return out


def _assemble(
    path: str,
    language: str,
    old: Structure,
    old_source: bytes,
    new_source: bytes,
    edit: Edit,
    sp: _Splice,
    delta: int,
) -> Structure | None:
    dp = len(sp.pieces) - (sp.pieces_to - sp.pieces_from)
    line_delta = new_source.count(b"\n", edit.start_byte, edit.new_end_byte) - old_source.count(
        b"\n", edit.start_byte, edit.old_end_byte
    )
    before = old.pieces[: sp.pieces_from]
    after = [_Piece(p.start_byte + delta, p.end_byte + delta, p.kind, p.symbol) for p in old.pieces[sp.pieces_to :]]
    if before and before[-1].end_byte > edit.start_byte:
        return None
    if sp.pieces_to < len(old.pieces) and old.pieces[sp.pieces_to].start_byte < edit.old_end_byte:
        return None

    drafts: list[Chunk | None] = list(old.piece_chunks[: sp.pieces_from])
    # A reused piece sharing a line with the edit has new content (chunks are whole lines).
    k = sp.pieces_from - 1
    while k >= 0 and _line_end(old_source, old.pieces[k]) >= edit.start_byte:
        drafts[k] = _chunk_for(path, language, before[k], new_source, _Lines(new_source))
        k -= 1
    lines = _Lines(new_source)
    drafts.extend(_chunk_for(path, language, p, new_source, lines) for p in sp.pieces)
    for j, p in enumerate(old.pieces[sp.pieces_to :]):
        c = old.piece_chunks[sp.pieces_to + j]
        if _line_start(old_source, p) <= edit.old_end_byte:
            drafts.append(_chunk_for(path, language, after[j], new_source, lines))
        else:
            drafts.append(None if c is None else _with(c, c.id, line_delta))
    old_ordinals = [*old.ordinals[: sp.pieces_from], *([-1] * len(sp.pieces)), *old.ordinals[sp.pieces_to :]]
    piece_chunks, ordinals = _number(drafts, old_ordinals)

    emissions = [
        _Emission(a.start, a.end + delta, a.kind, a.symbol, a.depth, a.first, a.last + dp) if i in sp.ancestors else a
        for i, a in enumerate(old.emissions[: sp.emissions_from])
    ]
    emissions.extend(
        _Emission(e.start, e.end, e.kind, e.symbol, e.depth, e.first + sp.pieces_from, e.last + sp.pieces_from)
        for e in sp.emissions
    )
    emissions.extend(
        _Emission(a.start + delta, a.end + delta, a.kind, a.symbol, a.depth, a.first + dp, a.last + dp)
        for a in old.emissions[sp.emissions_to :]
    )

    spans: list[_Span] = []
    for span in old.spans[: sp.spans_from]:
        if span.end < edit.old_end_byte:
            spans.append(span)
            continue
        d = sp.enclosing.get((span.start, span.end + delta))
        if d is None:  # an enclosing definition we did not verify: be safe, chunk afresh
            return None
        sym = Symbol(span.sym.kind, span.sym.symbol, *_node_lines(d.node))
        spans.append(_Span(span.start, span.end + delta, sym))
    spans.extend(sp.spans)
    for span in old.spans[sp.spans_to :]:
        sym = Symbol(span.sym.kind, span.sym.symbol, span.sym.start_line + line_delta, span.sym.end_line + line_delta)
        spans.append(_Span(span.start + delta, span.end + delta, sym))
    return Structure(before + sp.pieces + after, piece_chunks, ordinals, emissions, spans)


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
                found.append((pattern, Definition(nodes[0], capture[len("definition.") :], name, spec.doc_nodes)))
    return _dedupe(found)
