"""An in-memory, read-only view of one index's chunks at one table version.

Search needs, per query, a score for every chunk (BM25 and cosine), filters evaluated on
metadata, and look-ups LanceDB cannot answer in one call (every chunk that *defines* a symbol,
every chunk of a file). So the engine loads the chunks table once per table version into
column arrays: an inverted index of the pre-tokenized ``search_text`` column (BM25 weights
precomputed per posting, numpy only), the vectors as one float32 matrix, and small dictionaries.
A newer table version (the indexer wrote) is picked up on the next search.

A two-stage index adds a ``refined`` vector column (the transformer's, filled in after the
static ``vector``). Once any row has one, ``vectors`` holds the refined vectors (zeros where a
row has none yet) and ``first_stage`` the static vectors search still needs: those of the rows
not refined yet, and a sample of refined rows to calibrate the two models' scores against each
other (``search.two_stage``). A fully refined corpus searches exactly like a transformer one.
"""

from __future__ import annotations

import math
import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

from lapce_ai.chunking.model import TEST_KIND
from lapce_ai.search.filters import SearchFilters, compile_path_filter
from lapce_ai.search.int8_scan import Int8Codes
from lapce_ai.search.tokenize import file_stem, stem_key, symbol_name

if TYPE_CHECKING:
    from lapce_ai.search.layers import Layers

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
UIntArray = npt.NDArray[np.uint64]
T = TypeVar("T")

META_COLUMNS = ["root", "path", "start_line", "end_line", "symbol", "kind", "language", "content"]
REFINED_COLUMN = "refined"  # second-stage vectors of a two-stage index (null until refined)
FIRST, REFINED = "first", "refined"  # which model ``Corpus.vectors`` belong to
CALIBRATION_SAMPLE = 2048  # refined rows whose static vector a corpus keeps (evenly spread)
BM25_K1 = 1.2
BM25_B = 0.75


@dataclass
class Bm25:
    """Okapi BM25 over pre-tokenized documents; postings sorted by term, weights precomputed."""

    vocab: dict[str, int]
    offsets: IntArray  # term t's postings are [offsets[t], offsets[t+1])
    docs: IntArray
    weights: FloatArray  # tf·(k1+1) / (tf + k1·(1 - b + b·dl/avgdl))
    idf: FloatArray
    n_docs: int
    avgdl: float = 1.0  # mean document length the weights were normalised with

    @classmethod
    def build(
        cls, texts: pa.ChunkedArray | pa.Array, k1: float = BM25_K1, b: float = BM25_B, avgdl: float | None = None
    ) -> Bm25:
        """``avgdl``: normalise lengths by this mean instead of the texts' own (a small set of
        documents added to a larger scored corpus must be weighted like that corpus's)."""
        n = len(texts)
        if n == 0:
            return cls(
                {},
                np.zeros(1, np.int64),
                np.zeros(0, np.int64),
                np.zeros(0, np.float32),
                np.zeros(0, np.float32),
                0,
                avgdl or 1.0,
            )
        texts = pc.fill_null(texts, "")
        lists = pc.split_pattern(texts, " ")
        if isinstance(lists, pa.ChunkedArray):
            lists = lists.combine_chunks()
        lengths = pc.list_value_length(lists).to_numpy(zero_copy_only=False).astype(np.int64)
        flat = pc.list_flatten(lists)
        encoded = pc.dictionary_encode(flat)
        term_ids = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
        words: list[str] = encoded.dictionary.to_pylist()
        doc_ids = np.repeat(np.arange(n, dtype=np.int64), lengths)
        empty = {i for i, w in enumerate(words) if w == ""}
        if empty:
            keep = ~np.isin(term_ids, list(empty))
            dropped = np.bincount(doc_ids[~keep], minlength=n)
            lengths = lengths - dropped
            term_ids, doc_ids = term_ids[keep], doc_ids[keep]
        n_terms = len(words)
        keys, tf = np.unique(term_ids * n + doc_ids, return_counts=True)
        p_terms = keys // n
        p_docs = keys % n
        dl = lengths.astype(np.float32)
        avgdl = avgdl or float(dl.mean()) or 1.0
        tf32 = tf.astype(np.float32)
        norm = k1 * (1.0 - b + b * dl[p_docs] / avgdl)
        weights = (tf32 * (k1 + 1.0) / (tf32 + norm)).astype(np.float32)
        df = np.bincount(p_terms, minlength=n_terms).astype(np.float64)
        idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)
        offsets = np.zeros(n_terms + 1, dtype=np.int64)
        np.cumsum(np.bincount(p_terms, minlength=n_terms), out=offsets[1:])
        vocab = {w: i for i, w in enumerate(words) if w != ""}
        return cls(vocab, offsets, p_docs.astype(np.int64), weights, idf, n, avgdl)

    def scores(self, tokens: Sequence[str], weights: Sequence[float] | None = None) -> FloatArray:
        out = np.zeros(self.n_docs, dtype=np.float32)
        for i, tok in enumerate(tokens):
            t = self.vocab.get(tok)
            if t is None:
                continue
            s, e = int(self.offsets[t]), int(self.offsets[t + 1])
            w = self.idf[t] * (1.0 if weights is None else weights[i])
            out[self.docs[s:e]] += w * self.weights[s:e]
        return out

    def coverage(self, tokens: Sequence[str], doc: int) -> float:
        """Share of the query's IDF mass that ``doc`` contains (1.0: every query word is there)."""
        return postings_coverage(self.vocab, self.offsets, self.docs, self.idf, self.n_docs, tokens, doc)

    def doc_freq(self, token: str) -> int:
        t = self.vocab.get(token)
        return 0 if t is None else int(self.offsets[t + 1] - self.offsets[t])

    def terms(self) -> Iterable[str]:
        return self.vocab.keys()


def postings_coverage(
    vocab: Mapping[str, int],
    offsets: npt.NDArray[Any],
    docs: npt.NDArray[Any],
    idf: npt.NDArray[Any],
    n_docs: int,
    tokens: Sequence[str],
    doc: int,
) -> float:
    """Share of the tokens' IDF mass that ``doc`` contains, over postings in CSR form (term t's
    documents ``docs[offsets[t]:offsets[t + 1]]``, sorted)."""
    total = hit = 0.0
    for tok in tokens:
        t = vocab.get(tok)
        if t is None:
            total += math.log(1.0 + (n_docs + 0.5) / 0.5)  # unseen word: the rarest of all
            continue
        s, e = int(offsets[t]), int(offsets[t + 1])
        weight = float(idf[t])
        total += weight
        j = s + int(np.searchsorted(docs[s:e], doc))
        if j < e and int(docs[j]) == doc:
            hit += weight
    return hit / total if total > 0 else 0.0


PROJECTED_MIN_CHUNKS = 30_000  # below this, exact cosine over all vectors is already fast
PROJECTED_DIMS = 96  # dimensions of the first pass (a quarter of a wider model's); its best are rescored
PROJECTED_RESCORED = 1000  # chunks rescored exactly per query (the ranking's pools take 100-300)
EXACT_BELOW = 0.15  # a filter keeping less than this share of chunks: exact search on them


@dataclass
class ProjectedScan:
    """Two-pass dense search for large corpora: every chunk is scored with its vector projected
    onto the corpus's top principal directions (``projected_dims``: a quarter of MiniLM's), and
    the best ``PROJECTED_RESCORED`` are rescored exactly. The projected coordinates are 8-bit
    codes (``int8_scan``: a sixteenth of the vectors' bytes, the recall of float32 coordinates in
    less time). On 95k MiniLM chunks it keeps 0.989 of the exact top 100 (0.997 of the top
    10; 64 dimensions: 0.956 / 0.982, where an IVF scanning an eighth of its lists kept 0.93 /
    0.95), with no clustering to build, and every chunk gets a score."""

    vectors: FloatArray  # the chunks' full vectors (the corpus's own array)
    projection: FloatArray  # dim x reduced: the principal directions
    reduced: Int8Codes  # ``vectors[rows] @ projection``, as 8-bit codes
    rows: IntArray | None = None  # the chunks it scans, ascending (None: all)

    @classmethod
    def assemble(cls, vectors: FloatArray, projection: FloatArray, rows: IntArray | None = None) -> ProjectedScan:
        if rows is None:
            return cls(vectors, projection, Int8Codes.quantize(vectors @ projection))
        reduced = np.empty((rows.size, projection.shape[1]), dtype=np.float32)
        for start in range(0, rows.size, 8192):  # a block at a time: no copy of the rows' full vectors
            block = rows[start : start + 8192]
            reduced[start : start + block.size] = vectors[block] @ projection
        return cls(vectors, projection, Int8Codes.quantize(reduced), rows)

    @classmethod
    def build(
        cls, vectors: FloatArray, dims: int | None = None, seed: int = 0, rows: IntArray | None = None
    ) -> ProjectedScan:
        """``rows``: scan only these (ascending), with directions fitted to them: a partly refined
        corpus scans the rows that have a refined vector, not the zeros of the rest."""
        rng = np.random.default_rng(seed)
        pool = np.arange(vectors.shape[0], dtype=np.int64) if rows is None else rows
        sample = vectors[np.sort(rng.choice(pool, size=min(pool.size, 20_000), replace=False))]
        return cls.assemble(vectors, principal_directions(sample, dims or projected_dims(vectors.shape[1])), rows)

    def estimates(self, query: FloatArray) -> FloatArray:
        """The first pass: each scanned chunk's projected dot product with ``query``."""
        return self.reduced.scores(query @ self.projection)

    def search(self, query: FloatArray, allowed: BoolArray | None = None) -> tuple[FloatArray, IntArray]:
        """Cosine per chunk, and the chunks it is exact for: the ``PROJECTED_RESCORED`` best of
        the first pass among ``allowed``. The rest keep the first pass's estimate (uncentred
        projection; MiniLM, 98k chunks, those ranked 1,000-20,000: bias -0.008, error 0.027
        where their cosines spread 0.043; the 8-bit codes move it by 0.001), so the file signals
        read every chunk of a file, as on a small index searched exactly, while the candidate
        pool takes exact scores only. Chunks outside ``rows`` are -inf."""
        approx = self.estimates(query)
        if allowed is not None and self.rows is not None:
            allowed = allowed[self.rows]
        # The allowed chunks' scores only: a partition over many masked-out values is slow.
        pool = np.flatnonzero(allowed) if allowed is not None else None
        scores = approx if pool is None else approx[pool]
        if scores.size > PROJECTED_RESCORED:
            best = _largest(scores, PROJECTED_RESCORED)
            kept = np.sort(best if pool is None else pool[best])
        else:
            kept = np.arange(approx.size, dtype=np.int64) if pool is None else pool
        if self.rows is None:
            sims = np.asarray(approx, dtype=np.float32)
        else:
            sims = np.full(self.vectors.shape[0], -np.inf, dtype=np.float32)
            sims[self.rows] = approx
            kept = self.rows[kept]
        sims[kept] = self.vectors[kept] @ query
        return sims, kept


def _file_members(corpus: Corpus) -> tuple[IntArray, IntArray]:
    members = np.argsort(corpus.file_of, kind="stable").astype(np.int64)
    offsets = np.zeros(len(corpus.files) + 1, dtype=np.int64)
    np.cumsum(np.bincount(corpus.file_of, minlength=len(corpus.files)), out=offsets[1:])
    return offsets, members


def _largest(scores: FloatArray, m: int) -> IntArray:
    """Indices of the ``m`` largest ``scores`` (any order). A strided sample's quantile first
    cuts the array to about 2 m survivors: partitioning 100k floats costs a millisecond,
    comparing them a tenth of that."""
    n = scores.size
    step = max(1, n // (8 * m))
    sample = scores[::step]
    above = 2 * m * sample.size // n  # where 2 m of the n would sit, in the sample
    if 0 < above < sample.size:
        threshold = np.partition(sample, sample.size - above)[sample.size - above]
        survivors = np.flatnonzero(scores >= threshold)
        if survivors.size >= m:
            vals = scores[survivors]
            return np.asarray(survivors[np.argpartition(vals, vals.size - m)[vals.size - m :]], dtype=np.int64)
    return np.asarray(np.argpartition(scores, n - m)[n - m :], dtype=np.int64)


def projected_dims(dim: int) -> int:
    """The first pass's width for a model of ``dim``: ``PROJECTED_DIMS``, or a quarter of a wider
    model's (the share measured for MiniLM; a 1,024-d model's variance spreads wider)."""
    return min(dim, max(PROJECTED_DIMS, dim // 4))


def principal_directions(sample: FloatArray, dims: int) -> FloatArray:
    """The top ``dims`` eigenvectors of the sample's second moments (not centred: they
    approximate dot products, the mean direction included); all dimensions when there are no
    more than that."""
    dim = sample.shape[1]
    if dim <= dims:
        return np.eye(dim, dtype=np.float32)
    moments = (sample.T.astype(np.float64) @ sample.astype(np.float64)) / max(1, sample.shape[0])
    _values, vectors = np.linalg.eigh(moments)  # ascending
    return np.ascontiguousarray(vectors[:, ::-1][:, :dims].astype(np.float32))


class LexicalIndex(Protocol):
    """What ranking asks of the lexical side (``Bm25``, or a base and its changes together)."""

    n_docs: int

    def scores(self, tokens: Sequence[str], weights: Sequence[float] | None = None) -> FloatArray: ...

    def coverage(self, tokens: Sequence[str], doc: int) -> float: ...

    def doc_freq(self, token: str) -> int: ...

    def terms(self) -> Iterable[str]:
        """Every token with postings (some may have none left alive: ``doc_freq`` says)."""
        ...


ROW_KEY_COLUMNS = ("id", "content_hash", "start_line", "end_line")


def row_key_columns(names: Sequence[str]) -> list[str]:
    """The columns ``row_keys`` reads from a table with these columns (a two-stage index's
    ``refined`` too: a row given its refined vector is a changed row, not a moved one)."""
    return [*ROW_KEY_COLUMNS, *([REFINED_COLUMN] if REFINED_COLUMN in names else [])]


def row_keys(table: pa.Table) -> UIntArray:
    """A 64-bit key per row of what a search shows of it (id covers root, path, symbol and kind;
    the content hash the text and vector; whether it is refined yet): a row a compaction moved
    keeps its key."""
    if not all(c in table.column_names for c in ROW_KEY_COLUMNS):
        return np.zeros(table.num_rows, dtype=np.uint64)
    digest = xxhash.xxh3_64_intdigest
    columns = [table.column(c).to_pylist() for c in ROW_KEY_COLUMNS]
    if REFINED_COLUMN in table.column_names:
        columns.append(pc.is_valid(table.column(REFINED_COLUMN)).to_pylist())
        return np.fromiter(
            (digest(f"{i}\0{h}\0{s}\0{e}\0{r:d}".encode()) for i, h, s, e, r in zip(*columns, strict=True)),
            dtype=np.uint64,
            count=table.num_rows,
        )
    return np.fromiter(
        (digest(f"{i}\0{h}\0{s}\0{e}".encode()) for i, h, s, e in zip(*columns, strict=True)),
        dtype=np.uint64,
        count=table.num_rows,
    )


def tie_break_positions(files: list[tuple[str, str]], file_of: IntArray, starts: IntArray) -> IntArray:
    """Each chunk's place in (root, path, start_line) order, whatever the storage order."""
    n = len(file_of)
    file_rank = np.zeros(len(files), dtype=np.int64)
    file_rank[np.asarray(sorted(range(len(files)), key=files.__getitem__), dtype=np.int64)] = np.arange(len(files))
    order = np.lexsort((starts, file_rank[file_of])) if n else np.zeros(0, np.int64)
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(n)
    return position


@dataclass(frozen=True)
class FirstStage:
    """A two-stage corpus's static vectors: of the rows without a refined vector (``rows``), and
    of a sample of refined rows (``sample_rows``), on which the two models' scores are compared
    (``sample`` the static vectors of those, ``sample_refined`` their refined ones). A large
    corpus scans the unrefined rows' static vectors with their own projection (``projected``)."""

    rows: IntArray
    vectors: FloatArray
    sample_rows: IntArray
    sample: FloatArray
    refined: BoolArray  # per row of the corpus: it has a refined vector
    sample_refined: FloatArray
    projected: ProjectedScan | None = None


@dataclass
class Corpus:
    version: int
    n: int
    roots: list[str]
    paths: list[str]
    start_lines: IntArray
    end_lines: IntArray
    symbols: list[str]
    kinds: list[str]
    languages: list[str]
    contents: list[str]
    file_of: IntArray  # chunk → file number (distinct (root, path))
    files: list[tuple[str, str]]
    position: IntArray  # chunk -> its place in (root, path, start_line) order: the tie-break
    bm25: LexicalIndex
    vectors: FloatArray | None
    projected: ProjectedScan | None
    by_symbol: Mapping[str, list[int]]  # last symbol segment (lower-case) → chunks defining it
    by_stem: Mapping[str, list[int]]  # file stem (lower-case, no extension; and "~" + its stem key) → chunks
    rowids: UIntArray | None = None  # LanceDB row address per chunk: how the next version is diffed
    keys: UIntArray | None = None  # ``row_keys``: recognises rows a compaction moved
    alive: BoolArray | None = None  # None: every chunk is live (else rows a later version removed are False)
    layers: Layers | None = None  # set when this corpus is a built base plus the changes since
    vector_space: str = FIRST  # REFINED: ``vectors`` are a two-stage index's refined vectors ...
    first_stage: FirstStage | None = None  # ... and these the static ones search still needs
    _masks: dict[tuple[str | None, str | None, str | None], BoolArray] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _derived: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_table(
        cls,
        table: pa.Table,
        version: int,
        text_column: str = "search_text",
        cache_dir: Path | None = None,
        avgdl: float | None = None,
    ) -> Corpus:
        """Build the view; with ``cache_dir``, reuse (or save) the BM25 postings and projection of
        this exact table content, so opening a large index again skips the expensive part.
        A ``_rowid`` column (LanceDB row addresses) lets later versions be applied as changes."""
        n = table.num_rows
        roots = table.column("root").to_pylist()
        paths = table.column("path").to_pylist()
        starts = np.asarray(table.column("start_line").to_numpy(zero_copy_only=False), dtype=np.int64)
        symbols = [s or "" for s in table.column("symbol").to_pylist()]
        kinds = [k or "" for k in table.column("kind").to_pylist()]
        vectors, space, first_stage = _vector_columns(table)
        files: list[tuple[str, str]] = []
        file_no: dict[tuple[str, str], int] = {}
        file_of = np.zeros(n, dtype=np.int64)
        for i, key in enumerate(zip(roots, paths, strict=True)):
            f = file_no.get(key)
            if f is None:
                f = file_no[key] = len(files)
                files.append(key)
            file_of[i] = f
        position = tie_break_positions(files, file_of, starts)
        order = np.argsort(position)
        by_stem: dict[str, list[int]] = {}
        by_symbol: dict[str, list[int]] = {}
        stems = [file_stem(path) for _root, path in files]
        keys = ["~" + stem_key(stem) for stem in stems]
        for i in order.tolist():
            f = int(file_of[i])
            by_stem.setdefault(stems[f], []).append(i)
            by_stem.setdefault(keys[f], []).append(i)
            name = symbol_name(symbols[i])
            if name and kinds[i] != TEST_KIND:  # `describe Rack::Builder` uses the name, not defines it
                by_symbol.setdefault(name, []).append(i)
        rowids = None
        if "_rowid" in table.column_names:
            rowids = np.asarray(table.column("_rowid").to_numpy(zero_copy_only=False), dtype=np.uint64)
        return cls(
            version=version,
            n=n,
            roots=roots,
            paths=paths,
            start_lines=starts,
            end_lines=np.asarray(table.column("end_line").to_numpy(zero_copy_only=False), dtype=np.int64),
            symbols=symbols,
            kinds=kinds,
            languages=[x or "" for x in table.column("language").to_pylist()],
            contents=table.column("content").to_pylist(),
            file_of=file_of,
            files=files,
            position=position,
            vectors=vectors,
            **_indexes(table, text_column, vectors, cache_dir, avgdl, space, first_stage),
            by_symbol=by_symbol,
            by_stem=by_stem,
            rowids=rowids,
            keys=row_keys(table) if rowids is not None else None,
            vector_space=space,
            first_stage=first_stage,
        )

    def mask(self, filters: SearchFilters | None) -> BoolArray | None:
        """Chunks the filters allow (None: all). Cached per filter, per corpus version."""
        if filters is None or not (filters.path or filters.language or filters.kind):
            return self.alive
        key = (filters.path, filters.language, filters.kind)
        with self._lock:
            cached = self._masks.get(key)
        if cached is not None:
            return cached
        allowed = np.ones(self.n, dtype=bool) if self.alive is None else self.alive.copy()
        if filters.path:
            match = compile_path_filter(filters.path)
            ok_file = np.fromiter((match(path) for _root, path in self.files), dtype=bool, count=len(self.files))
            allowed &= ok_file[self.file_of] if len(self.files) else allowed
        if filters.language:
            lang = filters.normalized_language()
            allowed &= np.fromiter((x == lang for x in self.languages), dtype=bool, count=self.n)
        if filters.kind:
            kind = filters.normalized_kind()
            allowed &= np.fromiter((x == kind for x in self.kinds), dtype=bool, count=self.n)
        with self._lock:
            if len(self._masks) > 64:
                self._masks.clear()
            self._masks[key] = allowed
        return allowed

    def similarities(self, query: FloatArray, allowed: BoolArray | None) -> tuple[FloatArray, IntArray | None] | None:
        """Cosine of the chunks with ``query`` (-inf where not computed: outside a narrow filter),
        and the chunks the candidate pool may take (None: all of them; on a large corpus, those
        the projected scan scored exactly; the rest carry its estimate)."""
        if self.layers is not None:
            return self.layers.similarities(query, allowed)
        if self.vectors is None or query.shape[0] != self.vectors.shape[1]:
            return None
        if self.projected is None:
            sims: FloatArray = self.vectors @ query
            return sims, None
        if allowed is not None:
            idx = np.flatnonzero(allowed)
            if idx.size < EXACT_BELOW * self.n:  # a narrow filter: exact over the few it keeps
                out = np.full(self.n, -np.inf, dtype=np.float32)
                out[idx] = self.vectors[idx] @ query
                return out, idx
        return self.projected.search(query, allowed)

    def file_members(self) -> tuple[IntArray, IntArray]:
        """Each file's chunks, ``members[offsets[f]:offsets[f + 1]]`` (built once per corpus)."""
        return self.derived("file_members", _file_members)

    def derived(self, key: str, build: Callable[[Corpus], T]) -> T:
        """A value computed from this corpus once (``build(self)``) and kept with it: per-file
        tables the ranking reads on every query. A race builds it twice, harmlessly."""
        if key not in self._derived:
            self._derived[key] = build(self)
        value: T = self._derived[key]
        return value

    def row(self, i: int) -> dict[str, Any]:
        return {
            "root": self.roots[i],
            "path": self.paths[i],
            "start_line": int(self.start_lines[i]),
            "end_line": int(self.end_lines[i]),
            "symbol": self.symbols[i],
            "kind": self.kinds[i],
            "language": self.languages[i],
            "content": self.contents[i],
        }


def top_indices(
    scores: FloatArray, n: int, allowed: BoolArray | None = None, position: IntArray | None = None
) -> IntArray:
    """Indices of the ``n`` highest positive scores, best first; ties by index (stable)."""
    if allowed is not None:
        scores = np.where(allowed, scores, np.float32(-np.inf))
    positive = np.flatnonzero(scores > 0) if allowed is None else np.flatnonzero(np.isfinite(scores) & (scores > 0))
    if positive.size == 0:
        return np.zeros(0, dtype=np.int64)
    vals = scores[positive]
    if positive.size > n:
        part = np.argpartition(-vals, n - 1)[:n]
        positive, vals = positive[part], vals[part]
    order = np.lexsort((positive if position is None else position[positive], -vals))
    return np.asarray(positive[order], dtype=np.int64)


def top_similar(
    sims: FloatArray,
    n: int,
    allowed: BoolArray | None = None,
    position: IntArray | None = None,
    computed: IntArray | None = None,
) -> IntArray:
    """Like ``top_indices`` but for cosine similarities (any sign); ``computed``: the only
    chunks that may be taken (the rest are -inf, or a projected scan's estimates)."""
    if computed is not None:
        idx = computed if allowed is None else computed[allowed[computed]]
        vals = sims[idx]
    elif allowed is not None:
        idx = np.flatnonzero(allowed)
        vals = sims[idx]
    else:
        idx = np.arange(sims.shape[0], dtype=np.int64)
        vals = sims
    finite = np.isfinite(vals)
    if not finite.all():
        idx, vals = idx[finite], vals[finite]
    if idx.size == 0:
        return np.zeros(0, dtype=np.int64)
    if idx.size > n:
        part = np.argpartition(-vals, n - 1)[:n]
        idx, vals = idx[part], vals[part]
    order = np.lexsort((idx if position is None else position[idx], -vals))
    return np.asarray(idx[order], dtype=np.int64)


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def idf_of(bm25: Bm25, token: str) -> float:
    df = bm25.doc_freq(token)
    n = max(bm25.n_docs, 1)
    return math.log(1.0 + (n - df + 0.5) / (df + 0.5))


def vector_matrix(col: pa.FixedSizeListArray) -> FloatArray:
    """A fixed-size-list column as a contiguous float32 matrix; null rows become zeros."""
    dim = col.type.list_size
    flat = col.values.slice(col.offset * dim, len(col) * dim)
    matrix = np.array(flat.to_numpy(zero_copy_only=False), dtype=np.float32).reshape(len(col), dim)
    if col.null_count:
        matrix[~np.asarray(col.is_valid().to_numpy(zero_copy_only=False), dtype=bool)] = 0.0
    return np.ascontiguousarray(matrix)


def _vector_columns(table: pa.Table) -> tuple[FloatArray | None, str, FirstStage | None]:
    """The matrix search scores with, which model it belongs to, and (two-stage, once anything
    is refined) the static vectors still needed."""
    n = table.num_rows
    if not n or "vector" not in table.column_names:
        return None, FIRST, None
    static = table.column("vector").combine_chunks()
    refined = table.column(REFINED_COLUMN).combine_chunks() if REFINED_COLUMN in table.column_names else None
    if refined is None or refined.null_count == n:
        return vector_matrix(static), FIRST, None
    valid = np.asarray(refined.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    done = np.flatnonzero(valid)
    rows = np.flatnonzero(~valid).astype(np.int64)
    sample_rows = done[np.linspace(0, done.size - 1, min(done.size, CALIBRATION_SAMPLE)).astype(np.int64)]
    refined_vectors = vector_matrix(refined)
    static_vectors = vector_matrix(static.take(pa.array(rows)))
    return (
        refined_vectors,
        REFINED,
        FirstStage(
            rows=rows,
            vectors=static_vectors,
            sample_rows=sample_rows.astype(np.int64),
            sample=vector_matrix(static.take(pa.array(sample_rows))),
            refined=valid,
            sample_refined=np.ascontiguousarray(refined_vectors[sample_rows]),
            projected=ProjectedScan.build(static_vectors) if _scanned_projected(n, rows.size) else None,
        ),
    )


def _scanned_projected(n: int, rows: int) -> bool:
    """Whether ``rows`` of a corpus of ``n`` chunks are searched with a projected scan: a large
    corpus, and more of them than the scan rescores anyway."""
    return n >= PROJECTED_MIN_CHUNKS and rows > PROJECTED_RESCORED


def _indexes(
    table: pa.Table,
    text_column: str,
    vectors: FloatArray | None,
    cache_dir: Path | None,
    avgdl: float | None,
    space: str = FIRST,
    first_stage: FirstStage | None = None,
) -> dict[str, Any]:
    """BM25 postings and the projected scan: from the on-disk cache when it matches, else built (and saved).
    ``space``: the model ``vectors`` come from (the projection of one is no use for the other).
    A partly refined corpus fits its projection to the rows refined so far, anew on each load
    (~0.15 s at 100k chunks): the cache is keyed by content, which refinement does not change,
    so a cached projection could be one fitted to a handful of rows."""
    n = table.num_rows
    partial = first_stage is not None and first_stage.rows.size > 0
    want_projected = vectors is not None and n >= PROJECTED_MIN_CHUNKS and not partial
    fingerprint = ""
    if cache_dir is not None and n >= CACHE_MIN_CHUNKS and "id" in table.column_names:
        ids = pc.binary_join_element_wise(table.column("id"), table.column("content_hash"), "\x00")
        digest = xxhash.xxh3_128()
        for chunk in ids.chunks:
            for buf in chunk.buffers()[1:]:
                if buf is not None:
                    digest.update(memoryview(buf))
        fingerprint = f"{n}-{digest.hexdigest()}" + ("" if space == FIRST else f"-{space}")
        cached = _load_cache(cache_dir / f"{fingerprint}.npz", want_projected, vectors)
        if cached is not None:
            return _with_partial_projection(cached, vectors, first_stage)
    bm25 = Bm25.build(table.column(text_column), avgdl=avgdl)
    projected = ProjectedScan.build(vectors) if want_projected and vectors is not None else None
    if fingerprint and cache_dir is not None:
        _save_cache(cache_dir, fingerprint, bm25, projected)
    return _with_partial_projection({"bm25": bm25, "projected": projected}, vectors, first_stage)


def _with_partial_projection(
    built: dict[str, Any], vectors: FloatArray | None, first_stage: FirstStage | None
) -> dict[str, Any]:
    """A partly refined corpus's projected scan of the rows that have a refined vector."""
    if vectors is None or first_stage is None or not first_stage.rows.size:
        return built
    refined_rows = np.flatnonzero(first_stage.refined)
    if not _scanned_projected(vectors.shape[0], refined_rows.size):
        return built
    return {**built, "projected": ProjectedScan.build(vectors, rows=refined_rows)}


CACHE_MIN_CHUNKS = 20_000  # smaller indexes build in well under a second: no cache files
CACHE_KEEP = 2


def _load_cache(path: Path, want_projected: bool, vectors: FloatArray | None) -> dict[str, Any] | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            words = bytes(data["vocab"]).decode("utf-8").split("\n") if data["vocab"].size else []
            bm25 = Bm25(
                {w: i for i, w in enumerate(words) if w},
                data["offsets"],
                data["docs"],
                data["weights"],
                data["idf"],
                int(data["n_docs"]),
                float(data["avgdl"]),
            )
            projected = None
            if want_projected and vectors is not None and _projection_fits(data, vectors.shape[1]):
                projected = ProjectedScan.assemble(vectors, data["projection"])
            elif want_projected:  # saved before the scan existed, or for other dimensions
                return None
    except (OSError, KeyError, ValueError):
        return None
    return {"bm25": bm25, "projected": projected}


def _projection_fits(data: Any, dim: int) -> bool:
    return "projection" in data.files and data["projection"].shape == (dim, projected_dims(dim))


def _save_cache(cache_dir: Path, fingerprint: str, bm25: Bm25, projected: ProjectedScan | None) -> None:
    words = [""] * (len(bm25.offsets) - 1)
    for w, i in bm25.vocab.items():
        words[i] = w
    arrays: dict[str, Any] = {
        "vocab": np.frombuffer("\n".join(words).encode("utf-8"), dtype=np.uint8),
        "offsets": bm25.offsets,
        "docs": bm25.docs,
        "weights": bm25.weights,
        "idf": bm25.idf,
        "n_docs": np.int64(bm25.n_docs),
        "avgdl": np.float64(bm25.avgdl),
    }
    if projected is not None:
        arrays.update(projection=projected.projection)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = cache_dir / f".{fingerprint}.{os.getpid()}.tmp.npz"
        np.savez(tmp, **arrays)
        os.replace(tmp, cache_dir / f"{fingerprint}.npz")
        old = sorted(cache_dir.glob("*.npz"), key=lambda p: p.stat().st_mtime, reverse=True)[CACHE_KEEP:]
        for stale in old:
            stale.unlink(missing_ok=True)
    except OSError:
        pass  # a read-only index still searches; it just rebuilds in memory next time
