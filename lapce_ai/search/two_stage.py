"""Dense scores for a two-stage index: the refined (transformer) vector where a row has one.

The query comes as both models' vectors. A corpus with nothing refined scores with the static
one (projected scan and all); a fully refined one exactly like a transformer index. In between, rows without
a refined vector are scored with their static vector — but the two models' cosines live on
different scales (CoSQA questions against code: static mean 0.29 / sd 0.11, transformer
0.18 / sd 0.10), and the dense candidate pool is one top-k over every row, so raw cosines would
let one model crowd out the other. The corpus keeps the static vectors of a sample of refined
rows; for each query, those rows show how static cosines map onto the transformer's, and the
unrefined rows' static scores are moved onto that scale by matching mean and spread.
Measured on CoSQA dev, hybrid MRR at 50 % refined: 0.398 raw, 0.406 calibrated (0.338 static
alone, 0.493 transformer alone; bench/two_stage.py).
"""

from __future__ import annotations

import numpy as np

from lapce_ai.search.corpus import EXACT_BELOW, FIRST, BoolArray, Corpus, FloatArray, IntArray

MIN_CALIBRATION_ROWS = 32  # below this, the fit is noise: raw cosines are mixed
CALIBRATE = True  # off: raw cosines of both models mixed (bench/two_stage.py measures the difference)


def split_query(vector: FloatArray, first_dim: int) -> tuple[FloatArray, FloatArray]:
    """A two-stage query vector is the static model's followed by the transformer's."""
    return vector[:first_dim], vector[first_dim:]


def _parts(corpus: Corpus) -> list[tuple[Corpus, int]]:
    """The corpus's parts with the row offset of each (a layered corpus: base and delta)."""
    return [(corpus.layers.base, 0), (corpus.layers.delta, corpus.layers.base.n)] if corpus.layers else [(corpus, 0)]


def refined_share(corpus: Corpus) -> float:
    """The share of rows that search scores with the refined (transformer) vector."""
    refined = 0
    for part, _offset in _parts(corpus):
        if part.vector_space != FIRST:
            pending = part.first_stage.rows.size if part.first_stage is not None else 0
            refined += part.n - pending
    return refined / corpus.n if corpus.n else 0.0


def similarities(
    corpus: Corpus, first: FloatArray, second: FloatArray, allowed: BoolArray | None
) -> tuple[FloatArray, IntArray | None] | None:
    """Cosine per row (-inf where not computed), and the rows the candidate pool may take (None:
    all): the second model's where the row is refined, else the first model's, calibrated onto
    the second's scale. A large part scans each model's rows with its own projection, so a
    half-refined 100k-chunk index costs about what a refined one does."""
    parts = _parts(corpus)
    if not any(part.vector_space != FIRST for part, _ in parts):
        return corpus.similarities(first, allowed)  # nothing refined yet: the static model alone
    if not any(_pending(part) for part, _ in parts):
        return corpus.similarities(second, allowed)  # fully refined: the transformer alone (projected scan and all)
    calibrate = _calibration(parts, first, second)
    sims: list[FloatArray] = []
    computed: list[IntArray] = []
    for part, offset in parts:
        mask = None if allowed is None else allowed[offset : offset + part.n]
        part_sims, part_computed = _part_similarities(part, first, second, mask, calibrate)
        sims.append(part_sims)
        computed.append(offset + (np.arange(part.n, dtype=np.int64) if part_computed is None else part_computed))
    return np.concatenate(sims), np.concatenate(computed)


Calibration = tuple[float, float, float]  # static cosine c becomes (c - shift) * scale + target


def _pending(part: Corpus) -> bool:
    return part.vector_space == FIRST or bool(part.first_stage is not None and part.first_stage.rows.size)


def _calibration(parts: list[tuple[Corpus, int]], first: FloatArray, second: FloatArray) -> Calibration:
    """Static cosines onto the refined ones' scale: matched mean and spread over the sample of
    refined rows whose static vectors the corpus keeps (raw cosines when too few)."""
    pairs_first: list[FloatArray] = []
    pairs_second: list[FloatArray] = []
    for part, _offset in parts:
        stage = part.first_stage
        if part.vector_space == FIRST or stage is None or not stage.sample_rows.size:
            continue
        if stage.sample.shape[1] == first.shape[0] and stage.sample_refined.shape[1] == second.shape[0]:
            pairs_first.append(stage.sample @ first)
            pairs_second.append(stage.sample_refined @ second)
    a = np.concatenate(pairs_first) if pairs_first else np.zeros(0, dtype=np.float32)
    b = np.concatenate(pairs_second) if pairs_second else np.zeros(0, dtype=np.float32)
    if CALIBRATE and a.size >= MIN_CALIBRATION_ROWS and float(a.std()) > 1e-6 and float(b.std()) > 1e-6:
        return float(a.mean()), float(b.std()) / float(a.std()), float(b.mean())
    return 0.0, 1.0, 0.0


def _calibrated(sims: FloatArray, calibrate: Calibration) -> FloatArray:
    shift, scale, target = calibrate
    return np.asarray((sims - np.float32(shift)) * np.float32(scale) + np.float32(target), dtype=np.float32)


def _part_similarities(
    part: Corpus, first: FloatArray, second: FloatArray, mask: BoolArray | None, calibrate: Calibration
) -> tuple[FloatArray, IntArray | None]:
    """One part's cosines and computed rows (None: all), each row by the model it is refined to."""
    if part.vectors is None:
        return _unscored(part.n)
    if part.vector_space == FIRST:
        result = part.similarities(first, mask)
        return _unscored(part.n) if result is None else (_calibrated(result[0], calibrate), result[1])
    stage = part.first_stage
    if stage is None or not stage.rows.size:
        result = part.similarities(second, mask)
        return _unscored(part.n) if result is None else result
    if first.shape[0] != stage.vectors.shape[1] or second.shape[0] != part.vectors.shape[1]:
        return _unscored(part.n)
    narrow = mask is not None and np.count_nonzero(mask) < EXACT_BELOW * part.n
    if part.projected is not None and not narrow:
        sims, kept = part.projected.search(second, mask)  # it scans the refined rows only
    else:
        kept = np.flatnonzero(stage.refined if mask is None else stage.refined & mask)
        sims = _exact(part.vectors, second, kept)
    static_mask = None if mask is None else mask[stage.rows]
    if stage.projected is not None and not narrow:
        static_sims, static_kept = stage.projected.search(first, static_mask)
    else:
        static_kept = np.arange(stage.rows.size, dtype=np.int64) if static_mask is None else np.flatnonzero(static_mask)
        static_sims = _exact(stage.vectors, first, static_kept)
    sims[stage.rows] = _calibrated(static_sims, calibrate)
    return sims, np.concatenate([kept, stage.rows[static_kept]])


def _exact(matrix: FloatArray, query: FloatArray, rows: IntArray) -> FloatArray:
    """Cosine of ``rows`` of ``matrix`` with the query; -inf for the other rows."""
    sims = np.full(matrix.shape[0], -np.inf, dtype=np.float32)
    sims[rows] = matrix[rows] @ query
    return sims


def _unscored(n: int) -> tuple[FloatArray, IntArray]:
    return np.full(n, -np.inf, dtype=np.float32), np.zeros(0, dtype=np.int64)
