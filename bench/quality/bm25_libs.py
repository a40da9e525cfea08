"""Our numpy BM25 against the well-kept library ``bm25s``, on the same token streams.

    .venv/bin/pip install bm25s==0.3.16        # bench-only: the project does not depend on it
    .venv/bin/python bench/quality/bm25_libs.py

Both index the pre-tokenized ``search_text`` column (split on spaces) with k1 = 1.2, b = 0.75;
bm25s runs its ``lucene`` variant, the same formula as ours up to a constant factor (k1 + 1),
which no ranking sees. Quality: the engine's lexical mode on the cached bench indexes (see
``run.py``), raw BM25 (no ranking signals) and with the ranking, bm25s swapped in for the
scoring (the ranking's coverage / document-frequency look-ups stay on our postings: they are
token presence counts, the same for both). Speed: build time and per-query scoring of every
document on the ~113k-chunk latency index (``latency.py``'s corpus).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

try:
    import bm25s
except ImportError:
    raise SystemExit("bm25s is not installed: .venv/bin/pip install bm25s==0.3.16") from None

from common import WORK, make_embedder, open_engine
from run import cosqa_eval, cosqa_prepare, cosqa_queries, docs_prepare, docs_run, semble_eval, semble_prepare

from lapce_ai.index.store import IndexStore
from lapce_ai.search.corpus import Bm25
from lapce_ai.search.engine import load_corpus
from lapce_ai.search.ranking import NO_SIGNALS, RankConfig
from lapce_ai.search.tokenize import query_tokens

SEMBLE_REPOS = ["gin", "axum", "trpc", "rack", "commons-lang", "nlohmann-json", "phoenix", "exposed"]


def build_bm25s(texts: Sequence[str]) -> Any:
    retriever = bm25s.BM25(k1=1.2, b=0.75, method="lucene")
    retriever.index([t.split(" ") if t else [] for t in texts], show_progress=False)
    return retriever


class Bm25sLexical:
    """The engine's lexical index with bm25s doing the scoring."""

    def __init__(self, retriever: Any, ours: Any):
        self.retriever, self.ours, self.n_docs = retriever, ours, ours.n_docs
        self.vocab: dict[str, int] = retriever.vocab_dict

    def scores(self, tokens: Sequence[str], weights: Sequence[float] | None = None) -> np.ndarray:
        out = np.zeros(self.n_docs, dtype=np.float32)
        groups: dict[float, list[str]] = {}
        for i, tok in enumerate(tokens):
            if tok in self.vocab:
                groups.setdefault(1.0 if weights is None else float(weights[i]), []).append(tok)
        for weight, toks in groups.items():  # bm25s has no per-token weight: one call per weight
            out += weight * np.asarray(self.retriever.get_scores(toks), dtype=np.float32)
        return out

    def coverage(self, tokens: Sequence[str], doc: int) -> float:
        return float(self.ours.coverage(tokens, doc))

    def doc_freq(self, token: str) -> int:
        return int(self.ours.doc_freq(token))


def texts_of(engine: Any) -> list[str]:
    return [t or "" for t in engine.store.table("chunks").to_arrow().column("search_text").to_pylist()]


def swap_in_bm25s(engine: Any) -> None:
    corpus = load_corpus(engine.store)
    corpus.bm25 = Bm25sLexical(build_bm25s(texts_of(engine)), corpus.bm25)
    assert isinstance(load_corpus(engine.store).bm25, Bm25sLexical)  # the engine scores with it


def quality(use_bm25s: bool, config: RankConfig) -> dict[str, float]:
    embedder = make_embedder("transformer")
    out: dict[str, float] = {}
    cos = open_engine(cosqa_prepare("transformer", embedder), embedder, "lexical", config)
    repos = semble_prepare("transformer", embedder, SEMBLE_REPOS)
    semble = {r: open_engine(ix, embedder, "lexical", config) for r, (ix, _t) in repos.items()}
    docs = docs_prepare("transformer", embedder)
    doc_engines = {lang: open_engine(ix, embedder, "lexical", config) for lang, (ix, _q) in docs.items()}
    if use_bm25s:
        for engine in [cos, *semble.values(), *doc_engines.values()]:
            swap_in_bm25s(engine)
    out["cosqa"] = cosqa_eval(lambda q, k: cos.search(q, k), cosqa_queries())["mrr"]
    out["semble"] = semble_eval(lambda r: lambda q, k: semble[r].search(q, k), repos)["mean"]
    out["docs"] = docs_run(lambda lang: lambda q, k: doc_engines[lang].search(q, k), docs)["mean"]
    return out


def speed() -> dict[str, dict[str, float]]:
    index = WORK / "latency" / "index-static"
    if not (index / "meta.json").exists():
        raise SystemExit(f"no latency index at {index}: run bench/quality/latency.py first")
    texts = [t or "" for t in IndexStore.open(index).table("chunks").to_arrow().column("search_text").to_pylist()]
    import pyarrow as pa

    started = time.perf_counter()
    ours = Bm25.build(pa.array(texts))
    ours_build = time.perf_counter() - started
    started = time.perf_counter()
    theirs = build_bm25s(texts)
    theirs_build = time.perf_counter() - started
    adapter = Bm25sLexical(theirs, ours)
    queries = [ln.split("\t", 1)[1] for ln in _sample_queries()]
    out: dict[str, dict[str, float]] = {}
    for name, scorer, build in (("ours (numpy)", ours, ours_build), ("bm25s 0.3.16", adapter, theirs_build)):
        times = []
        for q in queries:
            toks = list(dict.fromkeys(query_tokens(q)))
            weights = [0.5 if t.startswith("~") else 1.0 for t in toks]
            t0 = time.perf_counter()
            scorer.scores(toks, weights)
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        out[name] = {
            "build_s": build,
            "p50_ms": statistics.median(times),
            "p95_ms": times[int(0.95 * (len(times) - 1))],
            "docs": float(len(texts)),
        }
    return out


def _sample_queries() -> list[str]:
    """300 queries: CoSQA questions and identifiers, as latency.py mixes them."""
    qs = [q for _qid, q, _cid in cosqa_queries()][:150]
    idents = ["HTTPConnection", "urlsplit", "ThreadPoolExecutor", "parse_args", "SequenceMatcher", "getLogger"]
    return [f"q\t{q}" for q in qs + idents * 25]


def main() -> None:
    rows = []
    for label, config in (("raw BM25 (no signals)", NO_SIGNALS), ("with the ranking", RankConfig())):
        ours, theirs = quality(False, config), quality(True, config)
        for metric in ("cosqa", "semble", "docs"):
            rows.append((f"{label}: {metric}", f"{ours[metric]:.3f}", f"{theirs[metric]:.3f}"))
    fast = speed()
    ours_s, theirs_s = fast["ours (numpy)"], fast["bm25s 0.3.16"]
    n = int(ours_s["docs"])
    rows.append((f"build, {n:,} chunks (s)", f"{ours_s['build_s']:.1f}", f"{theirs_s['build_s']:.1f}"))
    rows.append(
        (
            "score every chunk, p50 / p95 ms",
            f"{ours_s['p50_ms']:.2f} / {ours_s['p95_ms']:.2f}",
            f"{theirs_s['p50_ms']:.2f} / {theirs_s['p95_ms']:.2f}",
        )
    )
    print("| measure | ours (numpy) | bm25s 0.3.16 (lucene) |")
    print("|---|---:|---:|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
