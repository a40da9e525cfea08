"""Dense search at scale: the projected two-pass scan against exact search, on real vectors.

    .venv/bin/python bench/quality/scale.py [--embedder transformer] [--dims 64,96,128]
        [--rescored 1000,300,150] [--suite cosqa,semble,docs]

Every evaluation index of ``run.py`` (CoSQA, semble-dev, docs; built by it first, in
``$LAPCE_BENCH_DIR``) is below the 30k chunks where search switches from exact cosine to the
projected scan (``lapce_ai.search.corpus.ProjectedScan``), so their quality figures never
exercise it. This bench does, with the same indexes:

1. recall: the vectors of all of them together (~95k chunks) form one large corpus; for CoSQA
   and docs queries, the share of the exact top 100 / top 10 the scan keeps, and its time, per
   projection width, with the 8-bit codes search uses and with float32 coordinates;
2. quality: each evaluation corpus searched as a part of that large corpus would be, e.g. by a
   filtered search of a 100k-chunk index: the scan forced on, with the large corpus's principal
   directions, rescoring ``--rescored`` chunks among the corpus's own; NDCG@10 / MRR beside exact.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from statistics import median
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lapce_ai.service.maththreads import one_math_thread_per_search

one_math_thread_per_search()  # as lapce-ai-service runs searches (before numpy is imported)

import numpy as np  # noqa: E402
import run  # noqa: E402
from common import COSQA_DATA, make_embedder, open_engine, recall_against_exact  # noqa: E402

import lapce_ai.search.corpus as corpus_module  # noqa: E402
from lapce_ai.search.engine import forget_corpus, load_corpus  # noqa: E402

REPOS = "gin,axum,trpc,rack,commons-lang,nlohmann-json,phoenix,exposed"


def prepared(suites: list[str], provider: str, embedder: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "cosqa" in suites:
        out["cosqa"] = (run.cosqa_prepare(provider, embedder), run.cosqa_queries())
    if "semble" in suites:
        out["semble"] = run.semble_prepare(provider, embedder, REPOS.split(","), None)
    if "docs" in suites:
        out["docs"] = run.docs_prepare(provider, embedder)
    return out


def index_paths(data: dict[str, Any]) -> list[Path]:
    paths = [data["cosqa"][0]] if "cosqa" in data else []
    paths += [ix for ix, _tasks in data.get("semble", {}).values()]
    paths += [ix for ix, _queries in data.get("docs", {}).values()]
    return paths


class Float32FirstPass(corpus_module.ProjectedScan):
    """The scan with its projected coordinates in float32, as before the 8-bit codes: the
    same directions and rescoring, for the time and recall the codes are compared with."""

    coordinates: np.ndarray

    @classmethod
    def of(cls, scan: corpus_module.ProjectedScan) -> Float32FirstPass:
        out = cls(scan.vectors, scan.projection, scan.reduced, scan.rows)
        out.coordinates = np.ascontiguousarray(scan.vectors @ scan.projection)
        return out

    def estimates(self, query: np.ndarray) -> np.ndarray:
        return np.asarray(self.coordinates @ (query @ self.projection), dtype=np.float32)


def recall_table(vectors: np.ndarray, queries: list[np.ndarray], dims: list[int]) -> None:
    """Per width, the 8-bit codes search uses and the float32 coordinates, timed in turns
    (three rounds each, the median of the rounds' medians: the host's noise hits both)."""
    print(f"\n{vectors.shape[0]:,} chunks ({vectors.shape[1]}-d), {len(queries)} queries")
    print("| first pass | recall@100 | recall@10 | p50 ms | float32: recall@100 | recall@10 | p50 ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for dim in dims:
        scan = corpus_module.ProjectedScan.build(vectors, dims=dim)
        plain = Float32FirstPass.of(scan)
        rounds = [[recall_against_exact(vectors, queries, s.search) for s in (scan, plain)] for _ in range(3)]
        coded, floats = ([r[i] for r in rounds] for i in (0, 1))
        cells = [f"{coded[0][0]:.3f}", f"{coded[0][1]:.3f}", f"{median(r[2] for r in coded):.2f}"]
        cells += [f"{floats[0][0]:.3f}", f"{floats[0][1]:.3f}", f"{median(r[2] for r in floats):.2f}"]
        label = f"{dim} of {vectors.shape[1]} dims, {corpus_module.PROJECTED_RESCORED} rescored"
        print(f"| {label} | " + " | ".join(cells) + " |", flush=True)


def quality_row(label: str, data: dict[str, Any], embedder: Any) -> None:
    cells = [label]
    if "cosqa" in data:
        index, queries = data["cosqa"]
        eng = open_engine(index, embedder, "hybrid")
        cells.append(f"{run.cosqa_eval(lambda q, k: eng.search(q, k), queries)['mrr']:.3f}")
    if "semble" in data:
        engines = {r: open_engine(ix, embedder, "hybrid") for r, (ix, _t) in data["semble"].items()}
        cells.append(f"{run.semble_eval(lambda r: lambda q, k: engines[r].search(q, k), data['semble'])['mean']:.3f}")
    if "docs" in data:
        engines = {lang: open_engine(ix, embedder, "hybrid") for lang, (ix, _q) in data["docs"].items()}
        cells.append(f"{run.docs_run(lambda lang: lambda q, k: engines[lang].search(q, k), data['docs'])['mean']:.3f}")
    print("| " + " | ".join(cells) + " |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--embedder", default="transformer")
    ap.add_argument("--dims", default="64,96,128")
    ap.add_argument("--rescored", default="1000,300,150")
    ap.add_argument("--suite", default="cosqa,semble,docs")
    args = ap.parse_args()
    embedder = make_embedder(args.embedder)
    suites = args.suite.split(",")
    data = prepared(suites, args.embedder, embedder)
    paths = index_paths(data)
    stores = [open_engine(p, embedder, "dense", check_model=False).store for p in paths]
    parts = [load_corpus(s).vectors for s in stores]
    vectors = np.ascontiguousarray(np.concatenate([v for v in parts if v is not None]).astype(np.float32))

    with open(COSQA_DATA / "queries_dev.jsonl", encoding="utf-8") as fh:
        texts = [json.loads(line)["query"] for line in fh][:200]
    for _index, doc_queries in data.get("docs", {}).values():
        texts += [q.query for q in doc_queries[:15]]
    queries = [np.asarray(embedder.embed_query(t), dtype=np.float32) for t in texts]
    recall_table(vectors, queries, [int(d) for d in args.dims.split(",")])

    # The large corpus's directions for every part, as a filtered search of it would use.
    sample = vectors[np.random.default_rng(0).choice(vectors.shape[0], min(20_000, vectors.shape[0]), replace=False)]
    dims = corpus_module.projected_dims(vectors.shape[1])
    projection = corpus_module.principal_directions(sample, dims)
    build = corpus_module.ProjectedScan.build
    corpus_module.ProjectedScan.build = classmethod(  # type: ignore[method-assign, assignment]
        lambda cls, v, dims=None, seed=0: cls.assemble(v, projection)
    )
    header = ["dense search (hybrid)"] + [s for s in ("cosqa", "semble", "docs") if s in data]
    print("\neach evaluation corpus searched as a part of the large one")
    print("| " + " | ".join(header) + " |")
    print("|---|" + "---:|" * (len(header) - 1))
    min_chunks, rescored = corpus_module.PROJECTED_MIN_CHUNKS, corpus_module.PROJECTED_RESCORED
    try:
        quality_row("exact (as each corpus alone)", data, embedder)
        corpus_module.PROJECTED_MIN_CHUNKS = 0
        for m in [int(x) for x in args.rescored.split(",")]:
            corpus_module.PROJECTED_RESCORED = m
            for store in stores:
                forget_corpus(store)
            quality_row(f"projected scan, {dims} dims, {m} rescored", data, embedder)
    finally:
        corpus_module.PROJECTED_MIN_CHUNKS, corpus_module.PROJECTED_RESCORED = min_chunks, rescored
        corpus_module.ProjectedScan.build = build  # type: ignore[method-assign]
        for store in stores:
            forget_corpus(store)


if __name__ == "__main__":
    main()
