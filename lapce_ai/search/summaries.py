"""File summaries at search time: the query's cosine to each file's summary vector.

The ``file_summaries`` table (one row per file: ``lapce_ai.index.file_summaries``) is small next
to the chunks, so it is read whole into one matrix per table version and cached per index, like
the chunks' corpus. Ranking asks, once per query, for the score of every file of its corpus
(one product with that matrix): the candidate files' scores are a signal, and the best files
outside the candidates join them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from lapce_ai.index.store import FILE_SUMMARIES, REFINED, IndexStore
from lapce_ai.search.corpus import BoolArray, FloatArray, IntArray, vector_matrix

FileKey = tuple[str, str]  # (root, path)


@dataclass
class FileSummaryVectors:
    """The summaries' vectors, one row per distinct summary: files with the same text (copies of
    a file under another folder) share a row, so their scores are one computation and tie
    exactly (float32 products of equal rows at different places can differ in the last bits)."""

    rows: dict[FileKey, int]  # file -> its summary's row
    first: FloatArray  # the embedder's vectors (a two-stage index: the static model's)
    refined: FloatArray | None  # a two-stage index's second-stage vectors (zeros where none yet)
    has_refined: BoolArray | None
    _aligned: tuple[list[FileKey], IntArray, bool] | None = field(default=None, repr=False)

    @classmethod
    def from_table(cls, data: pa.Table) -> FileSummaryVectors:
        keys = list(zip(data.column("root").to_pylist(), data.column("path").to_pylist(), strict=True))
        first = vector_matrix(data.column("vector").combine_chunks())
        refined = has = None
        distinct = data.column("text_hash").to_pylist()
        if REFINED in data.column_names:
            column = data.column(REFINED).combine_chunks()
            refined = vector_matrix(column)  # zeros where not refined yet
            has = np.asarray(column.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
            distinct = [f"{h}:{int(r)}" for h, r in zip(distinct, has.tolist(), strict=True)]
        _, first_of, row_of = np.unique(np.asarray(distinct, dtype=object), return_index=True, return_inverse=True)
        return cls(
            {k: int(r) for k, r in zip(keys, row_of.reshape(-1).tolist(), strict=True)},
            first[first_of],
            refined[first_of] if refined is not None else None,
            has[first_of] if has is not None else None,
        )

    def aligned(self, files: list[FileKey]) -> tuple[IntArray, bool]:
        """Each of ``files``' summary row (-1: none), and whether all of those rows are refined;
        computed once per list: a search corpus keeps its file list, so every query after the
        first reuses it."""
        cached = self._aligned
        if cached is not None and cached[0] is files:
            return cached[1], cached[2]
        idx = np.asarray([self.rows.get(f, -1) for f in files], dtype=np.int64)
        refined = self.has_refined is not None and bool(self.has_refined[idx[idx >= 0]].all())
        self._aligned = (files, idx, refined)
        return idx, refined

    def all_scores(
        self, files: list[FileKey], query: FloatArray, refined_query: FloatArray | None = None
    ) -> npt.NDArray[np.float64] | None:
        """Cosine of each of ``files``' summary to the query (NaN for a file without one; None if
        none has one): one product with the whole matrix, each distinct summary one row, so
        copies tie exactly. The refined vectors are used when every such file has one, so the
        scores compared all come from one model."""
        idx, all_refined = self.aligned(files)
        have = idx >= 0
        if not have.any():
            return None
        if (
            all_refined
            and refined_query is not None
            and self.refined is not None
            and self.refined.shape[1] == refined_query.shape[0]
        ):
            sims = self.refined @ refined_query
        elif self.first.shape[1] == query.shape[0]:
            sims = self.first @ query
        else:
            return None
        out = np.full(idx.size, np.nan, dtype=np.float64)
        out[have] = sims[idx[have]]
        return out


@dataclass(frozen=True)
class SummaryScorer:
    """One query's view of the summaries, as ranking asks for it (``ranking.FileSummaryScores``)."""

    summaries: FileSummaryVectors
    query: FloatArray
    refined_query: FloatArray | None = None

    def all_scores(self, files: list[FileKey]) -> npt.NDArray[np.float64] | None:
        """The cosine for every file of a corpus (``files``: its file list, aligned once)."""
        return self.summaries.all_scores(files, self.query, self.refined_query)


_CACHE: dict[str, tuple[object, FileSummaryVectors | None]] = {}  # index path -> (stamp, summaries)
_LOCK = threading.Lock()


def load_summaries(store: IndexStore) -> FileSummaryVectors | None:
    """The index's file summaries (cached per index and table version); None when it has none."""
    key = store.cache_key
    stamp: object = store.table_stamp(FILE_SUMMARIES) or ("version", int(store.table(FILE_SUMMARIES).version))
    cached = _CACHE.get(key)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    with _LOCK:
        cached = _CACHE.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1]  # another thread loaded it meanwhile
        table = store.table(FILE_SUMMARIES)
        columns = ["root", "path", "text_hash", "vector", *([REFINED] if REFINED in table.schema.names else [])]
        data = table.search().select(columns).limit(None).to_arrow() if table.count_rows() else None
        summaries = FileSummaryVectors.from_table(data) if data is not None and data.num_rows else None
        _CACHE[key] = (stamp, summaries)
        return summaries
