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

from lapce_ai.search.corpus import FIRST, BoolArray, Corpus, FloatArray, IntArray

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
    """Cosine per row (-inf where not computed): the second model's where the row is refined,
    else the first model's, calibrated onto the second's scale."""
    parts = _parts(corpus)
    refined = [part.vector_space != FIRST for part, _ in parts]
    if not any(refined):
        return corpus.similarities(first, allowed)  # nothing refined yet: the static model alone
    pending = [part.vector_space == FIRST or bool(part.first_stage and part.first_stage.rows.size) for part, _ in parts]
    if not any(pending):
        return corpus.similarities(second, allowed)  # fully refined: the transformer alone (projected scan and all)
    result = corpus.similarities(second, allowed)  # the refined parts (FIRST parts: -inf)
    sims = np.full(corpus.n, -np.inf, dtype=np.float32) if result is None else result[0].copy()
    static_rows: list[tuple[IntArray, FloatArray]] = []
    pairs_first: list[FloatArray] = []
    pairs_second: list[FloatArray] = []
    for part, offset in parts:
        if part.vectors is None:
            continue
        if part.vector_space == FIRST:
            static_rows.append((offset + np.arange(part.n, dtype=np.int64), part.vectors))
            continue
        stage = part.first_stage
        if stage is None:
            continue
        if stage.rows.size:
            static_rows.append((offset + stage.rows, stage.vectors))
        if stage.sample_rows.size:
            pairs_first.append(stage.sample @ first)
            pairs_second.append(part.vectors[stage.sample_rows] @ second)
    a = np.concatenate(pairs_first) if pairs_first else np.zeros(0, dtype=np.float32)
    b = np.concatenate(pairs_second) if pairs_second else np.zeros(0, dtype=np.float32)
    shift, scale, target = 0.0, 1.0, 0.0
    if CALIBRATE and a.size >= MIN_CALIBRATION_ROWS and float(a.std()) > 1e-6:
        shift, scale, target = float(a.mean()), float(b.std()) / float(a.std()), float(b.mean())
    for rows, matrix in static_rows:
        if first.shape[0] != matrix.shape[1]:
            continue
        sims[rows] = (matrix @ first - shift) * scale + target
    return sims, None
