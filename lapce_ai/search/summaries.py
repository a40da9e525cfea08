"""File summaries at search time: the query's cosine to a candidate file's summary vector.

The ``file_summaries`` table (one row per file: ``lapce_ai.index.file_summaries``) is small next
to the chunks, so it is read whole into one matrix per table version and cached per index, like
the chunks' corpus. Ranking asks only for its candidate files' scores.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from lapce_ai.index.store import FILE_SUMMARIES, REFINED, IndexStore
from lapce_ai.search.corpus import BoolArray, FloatArray

FileKey = tuple[str, str]  # (root, path)


@dataclass(frozen=True)
class FileSummaryVectors:
    rows: dict[FileKey, int]
    first: FloatArray  # the embedder's vectors (a two-stage index: the static model's)
    refined: FloatArray | None  # a two-stage index's second-stage vectors (zeros where none yet)
    has_refined: BoolArray | None

    @classmethod
    def from_table(cls, data: pa.Table) -> FileSummaryVectors:
        keys = list(zip(data.column("root").to_pylist(), data.column("path").to_pylist(), strict=True))
        dim = data.schema.field("vector").type.list_size
        first = np.asarray(data.column("vector").combine_chunks().values, dtype=np.float32).reshape(-1, dim)
        refined = has = None
        if REFINED in data.column_names:
            column = data.column(REFINED).combine_chunks()
            rdim = column.type.list_size
            start = column.offset * rdim
            values = np.asarray(column.values, dtype=np.float32)[start : start + len(column) * rdim]
            has = np.asarray(column.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
            refined = np.where(has[:, None], values.reshape(-1, rdim), 0.0).astype(np.float32)
        return cls({k: i for i, k in enumerate(keys)}, first, refined, has)

    def scores(
        self, files: Sequence[FileKey], query: FloatArray, refined_query: FloatArray | None = None
    ) -> npt.NDArray[np.float64] | None:
        """Cosine of each file's summary to the query (NaN for a file without one; None if none
        has one). The refined vectors are used when every such file has one, so the scores
        being compared all come from one model."""
        idx = np.asarray([self.rows.get(f, -1) for f in files], dtype=np.int64)
        have = idx >= 0
        if not have.any():
            return None
        rows = idx[have]
        out = np.full(idx.size, np.nan, dtype=np.float64)
        if (
            refined_query is not None
            and self.refined is not None
            and self.has_refined is not None
            and self.refined.shape[1] == refined_query.shape[0]
            and bool(self.has_refined[rows].all())
        ):
            out[have] = _cosines(self.refined[rows], refined_query)
        elif self.first.shape[1] == query.shape[0]:
            out[have] = _cosines(self.first[rows], query)
        else:
            return None
        return out


def _cosines(vectors: FloatArray, query: FloatArray) -> npt.NDArray[np.float64]:
    # In float64 and rounded: float32 products of identical rows can differ in the last bits
    # (BLAS blocks rows unevenly), and two copies of a file must tie exactly.
    sims: npt.NDArray[np.float64] = np.round(vectors.astype(np.float64) @ query.astype(np.float64), 6)
    return sims


_CACHE: dict[str, tuple[object, FileSummaryVectors | None]] = {}  # index path -> (stamp, summaries)
_LOCK = threading.Lock()


def load_summaries(store: IndexStore) -> FileSummaryVectors | None:
    """The index's file summaries (cached per index and table version); None when it has none."""
    key = str(Path(store.path).resolve())
    stamp: object = store.table_stamp(FILE_SUMMARIES) or ("version", int(store.table(FILE_SUMMARIES).version))
    cached = _CACHE.get(key)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    with _LOCK:
        cached = _CACHE.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1]  # another thread loaded it meanwhile
        table = store.table(FILE_SUMMARIES)
        columns = ["root", "path", "vector", *([REFINED] if REFINED in table.schema.names else [])]
        data = table.search().select(columns).limit(None).to_arrow() if table.count_rows() else None
        summaries = FileSummaryVectors.from_table(data) if data is not None and data.num_rows else None
        _CACHE[key] = (stamp, summaries)
        return summaries
