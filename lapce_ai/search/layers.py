"""A newer index version as changes on top of a corpus already built, not a rebuild.

Building the search corpus of a 100k-chunk index takes seconds (postings, projections, look-up
tables); a saved file changes a handful of chunks. So a new table version is diffed against the
corpus by LanceDB row address (a write never reuses one): rows whose address disappeared are
masked out of the built *base*, and rows with new addresses form a small *delta* corpus scored
beside it. A rewritten row with the same key (``row_keys``: a compaction, or an unchanged chunk of
a re-written file) just takes its new address. Once the delta or the masked share grows past a
bound, the caller rebuilds from scratch.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from lapce_ai.search.corpus import (
    Bm25,
    BoolArray,
    Corpus,
    FloatArray,
    IntArray,
    UIntArray,
    row_key_columns,
    row_keys,
    tie_break_positions,
)

# Past this many changed chunks (a share of the base, within these bounds) a rebuild is due.
DELTA_MAX_ROWS = 5_000
DELTA_MIN_ROWS = 200
DELTA_MAX_SHARE = 0.05
DEAD_MAX_SHARE = 0.10  # past this share of masked-out base rows, rebuild


def read_rowids(table: Any) -> UIntArray:
    """The row addresses of a LanceDB table's current version (no other column is read)."""
    arrow = table.search().select(["_rowid"]).with_row_id(True).limit(None).to_arrow()
    return np.asarray(arrow.column("_rowid").to_numpy(zero_copy_only=False), dtype=np.uint64)


def read_table(table: Any) -> pa.Table:
    """Every row with its address: what ``Corpus.from_table`` needs to follow later versions."""
    arrow: pa.Table = table.search().with_row_id(True).limit(None).to_arrow()
    return arrow


def advance(corpus: Corpus, table: Any, version: int) -> Corpus | None:
    """``corpus`` brought to ``table``'s current version as base + delta, or None when a rebuild
    is due (no row addresses, too many changes)."""
    if corpus.rowids is None or corpus.keys is None or version < corpus.version:
        return None  # no addresses to diff by, or a table created anew
    schema = pa.schema([*table.schema, pa.field("_rowid", pa.uint64())])
    base, delta_table = (corpus, schema.empty_table()) if corpus.layers is None else corpus.layers.parts()
    current = read_rowids(table)
    rowids, keys = corpus.rowids, corpus.keys
    live = np.ones(corpus.n, dtype=bool) if corpus.alive is None else corpus.alive
    present = _members(rowids, np.sort(current)) & live
    fresh = current[~_members(current, np.sort(rowids[live]))]
    gone = live & ~present
    if fresh.size == 0 and not gone.any():
        return dataclasses.replace(corpus, version=version, _masks={})
    rowids = rowids.copy()
    added = fresh
    if fresh.size and gone.any():
        key_columns = row_key_columns(table.schema.names)
        fresh_keys_table = table.take_row_ids(fresh.tolist()).select(key_columns).with_row_id().to_arrow()
        fresh_ids = np.asarray(fresh_keys_table.column("_rowid").to_numpy(zero_copy_only=False), dtype=np.uint64)
        fresh_keys = row_keys(fresh_keys_table)
        gone_idx = np.flatnonzero(gone)
        by_key = dict(zip(keys[gone_idx].tolist(), gone_idx.tolist(), strict=True))
        moved_to_base = np.zeros(fresh_ids.size, dtype=bool)
        for j, key in enumerate(fresh_keys.tolist()):
            i = by_key.pop(key, None)
            if i is not None and i < base.n:  # a delta row that moved is simply fetched again
                rowids[i] = fresh_ids[j]
                present[i] = True
                moved_to_base[j] = True
        added = fresh_ids[~moved_to_base]
    nb = base.n
    base_alive = present[:nb]
    kept_delta = present[nb:]
    if int(kept_delta.sum()) + added.size > min(DELTA_MAX_ROWS, max(DELTA_MIN_ROWS, DELTA_MAX_SHARE * nb)):
        return None
    if nb and 1.0 - float(base_alive.mean()) > DEAD_MAX_SHARE:
        return None
    parts = [delta_table.filter(pa.array(kept_delta))]
    if added.size:
        parts.append(table.take_row_ids(added.tolist()).with_row_id().to_arrow())
    new_delta = pa.concat_tables([p.select(schema.names) for p in parts], promote_options="default")
    return layered(base, base_alive, rowids[:nb], new_delta, version)


def layered(base: Corpus, base_alive: BoolArray, base_rowids: UIntArray, delta_table: pa.Table, version: int) -> Corpus:
    """The corpus of ``base`` (rows where ``base_alive``) plus the rows of ``delta_table``."""
    delta = Corpus.from_table(delta_table, version, avgdl=getattr(base.bm25, "avgdl", None))
    nb, nd = base.n, delta.n
    files = list(base.files)
    file_no = {key: f for f, key in enumerate(files)}
    delta_files = np.zeros(len(delta.files), dtype=np.int64)
    for f, key in enumerate(delta.files):
        known = file_no.get(key)
        if known is None:
            known = file_no[key] = len(files)
            files.append(key)
        delta_files[f] = known
    file_of = np.concatenate([base.file_of, delta_files[delta.file_of]])
    starts = np.concatenate([base.start_lines, delta.start_lines])
    alive = np.concatenate([base_alive, np.ones(nd, dtype=bool)])
    delta_rowids = delta.rowids if delta.rowids is not None else np.zeros(nd, dtype=np.uint64)
    delta_keys = delta.keys if delta.keys is not None else np.zeros(nd, dtype=np.uint64)
    base_keys = base.keys if base.keys is not None else np.zeros(nb, dtype=np.uint64)
    layers = Layers(base, delta, delta_table)
    return Corpus(
        version=version,
        n=nb + nd,
        roots=base.roots + delta.roots,
        paths=base.paths + delta.paths,
        start_lines=starts,
        end_lines=np.concatenate([base.end_lines, delta.end_lines]),
        symbols=base.symbols + delta.symbols,
        kinds=base.kinds + delta.kinds,
        languages=base.languages + delta.languages,
        contents=base.contents + delta.contents,
        file_of=file_of,
        files=files,
        position=tie_break_positions(files, file_of, starts),
        bm25=LayeredBm25(_bm25(base), _bm25(delta), base_alive),
        vectors=base.vectors if base.vectors is not None else delta.vectors,
        projected=None,
        by_symbol=LayeredLookup(base.by_symbol, delta.by_symbol, nb, base_alive),
        by_stem=LayeredLookup(base.by_stem, delta.by_stem, nb, base_alive),
        rowids=np.concatenate([base_rowids, delta_rowids]),
        keys=np.concatenate([base_keys, delta_keys]),
        alive=None if alive.all() else alive,
        layers=layers,
    )


@dataclass(frozen=True)
class Layers:
    base: Corpus
    delta: Corpus
    delta_table: pa.Table

    def parts(self) -> tuple[Corpus, pa.Table]:
        return self.base, self.delta_table

    def similarities(self, query: FloatArray, allowed: BoolArray | None) -> tuple[FloatArray, IntArray | None] | None:
        """The base's similarities (projected or exact) followed by exact ones for the delta."""
        nb = self.base.n
        base = self.base.similarities(query, None if allowed is None else allowed[:nb])
        delta = self.delta.similarities(query, None)
        if base is None and delta is None:
            return None
        base_sims = base[0] if base is not None else np.full(nb, -np.inf, dtype=np.float32)
        delta_sims = delta[0] if delta is not None else np.full(self.delta.n, -np.inf, dtype=np.float32)
        sims = np.concatenate([base_sims, delta_sims])
        if base is None or base[1] is None:
            computed = None if base is not None else nb + np.arange(self.delta.n, dtype=np.int64)
        else:
            computed = np.concatenate([base[1], nb + np.arange(self.delta.n, dtype=np.int64)])
        return sims, computed


class LayeredBm25:
    """BM25 over base + delta: each side's precomputed weights, IDF from the live documents of
    both sides (the base's length normalisation stays that of its build until the next one)."""

    def __init__(self, base: Bm25, delta: Bm25, base_alive: BoolArray):
        self.base, self.delta = base, delta
        self._base_alive = None if base_alive.all() else base_alive
        self.n_docs = base.n_docs + delta.n_docs
        self._live_docs = self.n_docs - (0 if self._base_alive is None else int((~self._base_alive).sum()))

    def _idf(self, token: str) -> float:
        df = self.doc_freq(token)
        return math.log(1.0 + (self._live_docs - df + 0.5) / (df + 0.5))

    def doc_freq(self, token: str) -> int:
        df = self.delta.doc_freq(token)
        t = self.base.vocab.get(token)
        if t is not None:
            s, e = int(self.base.offsets[t]), int(self.base.offsets[t + 1])
            alive = self._base_alive
            df += e - s if alive is None else int(np.count_nonzero(alive[self.base.docs[s:e]]))
        return df

    def terms(self) -> Iterable[str]:
        yield from self.base.vocab
        yield from (t for t in self.delta.vocab if t not in self.base.vocab)

    def scores(self, tokens: Sequence[str], weights: Sequence[float] | None = None) -> FloatArray:
        base_w: list[float] = []
        delta_w: list[float] = []
        for i, tok in enumerate(tokens):
            idf = self._idf(tok) * (1.0 if weights is None else weights[i])
            base_w.append(idf / _local_idf(self.base, tok))  # each side scales by its own IDF: undo it
            delta_w.append(idf / _local_idf(self.delta, tok))
        return np.concatenate([self.base.scores(tokens, base_w), self.delta.scores(tokens, delta_w)])

    def coverage(self, tokens: Sequence[str], doc: int) -> float:
        side, local = (self.base, doc) if doc < self.base.n_docs else (self.delta, doc - self.base.n_docs)
        total = hit = 0.0
        for tok in tokens:
            idf = self._idf(tok)
            total += idf
            t = side.vocab.get(tok)
            if t is None:
                continue
            s, e = int(side.offsets[t]), int(side.offsets[t + 1])
            j = s + int(np.searchsorted(side.docs[s:e], local))
            if j < e and int(side.docs[j]) == local:
                hit += idf
        return hit / total if total > 0 else 0.0


class LayeredLookup(Mapping[str, list[int]]):
    """A base look-up table (its masked-out rows dropped) and a delta's (rows offset past the base)."""

    def __init__(self, base: Mapping[str, list[int]], delta: Mapping[str, list[int]], nb: int, alive: BoolArray):
        self.base, self.delta, self.nb, self.alive = base, delta, nb, alive

    def __getitem__(self, key: str) -> list[int]:
        found = [i for i in self.base.get(key, ()) if self.alive[i]]
        found.extend(self.nb + i for i in self.delta.get(key, ()))
        if not found:  # a key whose rows were all removed is gone, as from a rebuilt table
            raise KeyError(key)
        return found

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        return key in self.delta or any(self.alive[i] for i in self.base.get(key, ()))

    def __iter__(self) -> Iterator[str]:
        yield from (k for k in self.base if k in self)
        yield from (k for k in self.delta if k not in self.base)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _members(values: UIntArray, sorted_set: UIntArray) -> BoolArray:
    """``np.isin`` for a sorted reference set (binary search: several times faster here)."""
    if sorted_set.size == 0:
        return np.zeros(values.size, dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_set, values), sorted_set.size - 1)
    found: BoolArray = sorted_set[pos] == values
    return found


def _local_idf(bm25: Bm25, token: str) -> float:
    t = bm25.vocab.get(token)
    return float(bm25.idf[t]) if t is not None else 1.0


def _bm25(corpus: Corpus) -> Bm25:
    if not isinstance(corpus.bm25, Bm25):
        raise TypeError("a layered corpus is built on plain corpora")
    return corpus.bm25
