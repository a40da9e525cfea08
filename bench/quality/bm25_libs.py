"""Our numpy BM25 against the well-kept library ``bm25s``, on the same token streams.

    .venv/bin/pip install bm25s==0.3.16        # bench-only: the project does not depend on it
    SEMBLE_DEV_CORPORA=/work/corpora .venv/bin/python bench/quality/bm25_libs.py

Both index the pre-tokenized ``search_text`` column (split on spaces, empty tokens dropped)
with k1 = 1.2, b = 0.75. bm25s runs its ``lucene`` variant: its IDF, log(1 + (N - df + 0.5) /
(df + 0.5)), is ours; its term part, tf / (tf + k1 (1 - b + b dl/avgdl)), is ours without the
constant factor (k1 + 1), which the adapter below multiplies back in so both give the same
numbers. (``robertson`` has the same term part but IDF log((N - df + 0.5) / (df + 0.5)) clamped
at 0: not our formula.) bm25s runs on its numpy backend (numba is not installed; bm25s makes it
optional too).

Quality: the engine's lexical mode (``run.py``'s evaluations) on the cached transformer bench
indexes, raw BM25 (``NO_SIGNALS``) and with the ranking, once with our index and once with the
corpus's ``bm25`` swapped for ``Bm25sLexical`` (scores, coverage and document frequencies all
from bm25s's postings). Speed, on ``latency.py``'s ~113k-chunk index and its 300 queries (half
identifiers, half CoSQA questions): build time, scoring every chunk for the engine's weighted
query tokens, top-100 retrieval (ours: scores + ``top_indices``; bm25s: its own ``retrieve``,
unweighted tokens for both), index size and peak memory of a build (each in a fresh process).
Agreement: per query, both scores compared and the top-10 / top-100 orders (ties by chunk
number) checked for equality.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lapce_ai.service.maththreads import one_math_thread_per_search

one_math_thread_per_search()  # as the service and latency.py run searches (before numpy is imported)

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402

try:
    import bm25s
except ImportError:
    raise SystemExit("bm25s is not installed (a bench-only dependency): .venv/bin/pip install bm25s==0.3.16") from None

from common import WORK, make_embedder, open_engine  # noqa: E402
from latency import queries as latency_queries  # noqa: E402
from run import (  # noqa: E402
    cosqa_eval,
    cosqa_prepare,
    cosqa_queries,
    docs_prepare,
    docs_run,
    semble_eval,
    semble_prepare,
)

from lapce_ai.index.store import IndexStore  # noqa: E402
from lapce_ai.search.corpus import BM25_B, BM25_K1, Bm25, postings_coverage, top_indices  # noqa: E402
from lapce_ai.search.engine import STEM_QUERY_WEIGHT, load_corpus  # noqa: E402
from lapce_ai.search.layers import read_table  # noqa: E402
from lapce_ai.search.ranking import NO_SIGNALS, RankConfig  # noqa: E402
from lapce_ai.search.tokenize import STEM_PREFIX, query_tokens  # noqa: E402

SEMBLE_REPOS = ["gin", "axum", "trpc", "rack", "commons-lang", "nlohmann-json", "phoenix", "exposed"]
METHOD = "lucene"
LATENCY_INDEX = WORK / "latency" / "index-static"
LIB = f"bm25s {bm25s.__version__} ({METHOD})"


def token_lists(texts: Sequence[str | None]) -> list[list[str]]:
    """The token streams our ``Bm25.build`` indexes (split on spaces, empty tokens dropped)."""
    return [[w for w in t.split(" ") if w] if t else [] for t in texts]


def build_bm25s(tokens: list[list[str]]) -> Any:
    retriever = bm25s.BM25(k1=BM25_K1, b=BM25_B, method=METHOD)
    retriever.index(tokens, show_progress=False)
    return retriever


class Bm25sLexical:
    """The engine's ``LexicalIndex`` protocol, answered from a bm25s index alone."""

    def __init__(self, retriever: Any):
        self.retriever = retriever
        self.vocab: dict[str, int] = retriever.vocab_dict
        self.indices: np.ndarray = retriever.scores["indices"]
        self.indptr: np.ndarray = retriever.scores["indptr"]
        self.n_docs = int(retriever.scores["num_docs"])
        df = np.diff(self.indptr).astype(np.float64)
        self.idf = np.log(1.0 + (self.n_docs - df + 0.5) / (df + 0.5))  # lucene's IDF (ours)
        self.scale = np.float32(BM25_K1 + 1.0)  # lucene's term part lacks our constant (k1 + 1)

    def scores(self, tokens: Sequence[str], weights: Sequence[float] | None = None) -> np.ndarray:
        out = np.zeros(self.n_docs, dtype=np.float32)
        groups: dict[float, list[int]] = {}
        for i, tok in enumerate(tokens):
            t = self.vocab.get(tok)
            if t is not None:
                groups.setdefault(1.0 if weights is None else float(weights[i]), []).append(t)
        for weight, ids in groups.items():  # bm25s has no per-token weight: one call per weight
            out += np.float32(weight) * self.scale * self.retriever.get_scores_from_ids(ids)
        return out

    def coverage(self, tokens: Sequence[str], doc: int) -> float:
        # bm25s keeps each posting list sorted (CSC), so the engine's own formula reads it as is.
        return postings_coverage(self.vocab, self.indptr, self.indices, self.idf, self.n_docs, tokens, doc)

    def doc_freq(self, token: str) -> int:
        t = self.vocab.get(token)
        return 0 if t is None else int(self.indptr[t + 1] - self.indptr[t])

    def terms(self) -> Iterable[str]:  # the spelling look-up reads the vocabulary
        return self.vocab.keys()


def engine_tokens(query: str) -> tuple[list[str], list[float]]:
    """The query tokens and weights the engine's lexical search scores (``SearchEngine._lexical``)."""
    tokens = list(dict.fromkeys(query_tokens(query)))
    return tokens, [STEM_QUERY_WEIGHT if t.startswith(STEM_PREFIX) else 1.0 for t in tokens]


# -- quality -------------------------------------------------------------------------------


@contextlib.contextmanager
def bm25s_in(engines: Sequence[Any]) -> Iterator[None]:
    """Each engine's (cached) corpus scoring with bm25s, our index put back afterwards."""
    saved = []
    for engine in engines:
        corpus = load_corpus(engine.store)
        table = read_table(engine.store.table("chunks"))  # rows in the order the corpus numbers them
        assert table.column("content").to_pylist() == corpus.contents, "corpus and table rows differ"
        saved.append((corpus, corpus.bm25))
        texts = table.column("search_text").to_pylist()
        corpus.bm25 = Bm25sLexical(build_bm25s(token_lists(texts)))
        assert load_corpus(engine.store) is corpus  # the engine searches this corpus object
    try:
        yield
    finally:
        for corpus, ours in saved:
            corpus.bm25 = ours


def quality(config: RankConfig) -> dict[str, dict[str, float]]:
    embedder = make_embedder("transformer")  # opens the transformer indexes; lexical mode never embeds
    cos = open_engine(cosqa_prepare("transformer", embedder), embedder, "lexical", config)
    repos = semble_prepare("transformer", embedder, SEMBLE_REPOS)
    semble = {r: open_engine(ix, embedder, "lexical", config) for r, (ix, _t) in repos.items()}
    docs = docs_prepare("transformer", embedder)
    doc_engines = {lang: open_engine(ix, embedder, "lexical", config) for lang, (ix, _q) in docs.items()}
    cos_q = cosqa_queries()

    def measure() -> dict[str, float]:
        for engine in [cos, *semble.values(), *doc_engines.values()]:
            kind = type(load_corpus(engine.store).bm25).__name__
            assert kind in ("Bm25", "Bm25sLexical"), kind
        return {
            "cosqa": cosqa_eval(lambda q, k: cos.search(q, k), cos_q)["mrr"],
            "semble": semble_eval(lambda r: lambda q, k: semble[r].search(q, k), repos)["mean"],
            "docs": docs_run(lambda lang: lambda q, k: doc_engines[lang].search(q, k), docs)["mean"],
        }

    for engine in [cos, *semble.values(), *doc_engines.values()]:
        assert isinstance(load_corpus(engine.store).bm25, Bm25), "expected our index before the swap"
    ours = measure()
    with bm25s_in([cos, *semble.values(), *doc_engines.values()]):
        theirs = measure()
    return {"ours": ours, "bm25s": theirs}


# -- speed, memory, agreement ---------------------------------------------------------------


def latency_texts() -> Any:
    if not (LATENCY_INDEX / "meta.json").exists():
        raise SystemExit(f"no latency index at {LATENCY_INDEX}: run bench/quality/latency.py first")
    return IndexStore.open(LATENCY_INDEX).table("chunks").to_arrow().column("search_text")


def memory_kb(field: str) -> int:
    """VmRSS (resident now) or VmHWM (its high-water mark) of this process, from /proc: unlike
    ``ru_maxrss``, which an exec'd child inherits from its parent, VmHWM starts with the process."""
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith(field + ":"))


def peak_child(lib: str, path: str) -> None:
    """(Run in a fresh process.) Peak memory growth while one library builds the latency index
    from its ``search_text`` column (read from an Arrow file: no LanceDB read peak to count)."""
    with pa.OSFile(path) as fh:
        column = pa.ipc.open_file(fh).read_all().column("search_text")
    texts = column.to_pylist() if lib == "bm25s" else None
    before = memory_kb("VmRSS")
    if memory_kb("VmHWM") > before + 10_240:
        raise SystemExit("the high-water mark is already above the current size: cannot measure")
    if lib == "bm25s":
        build_bm25s(token_lists(texts or []))
    else:
        Bm25.build(column)
    peak = memory_kb("VmHWM")
    print(json.dumps({"peak_mb": (peak - before) / 1024}))


def peak_mb(lib: str, column: Any) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "search_text.arrow")
        table = pa.table({"search_text": column})
        with pa.OSFile(path, "wb") as fh, pa.ipc.new_file(fh, table.schema) as writer:
            writer.write_table(table)
        cmd = [sys.executable, __file__, "--peak-child", lib, path]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"peak-memory child failed:\n{proc.stderr[-2000:]}")
    return float(json.loads(proc.stdout.strip().splitlines()[-1])["peak_mb"])


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q / 100 * (len(s) - 1)))]


def speed(n_queries: int) -> dict[str, Any]:
    column = latency_texts()
    texts = column.to_pylist()
    started = time.perf_counter()
    ours = Bm25.build(column)
    ours_build = time.perf_counter() - started
    started = time.perf_counter()
    tokens = token_lists(texts)
    split_s = time.perf_counter() - started
    retriever = build_bm25s(tokens)
    theirs_build = time.perf_counter() - started
    del tokens
    theirs = Bm25sLexical(retriever)
    qs = latency_queries(SimpleNamespace(store=IndexStore.open(LATENCY_INDEX)), n_queries)
    out: dict[str, Any] = {
        "docs": len(texts),
        "column": column,
        "queries": len(qs),
        "build": (ours_build, theirs_build, split_s),
        "size_mb": (
            sum(a.nbytes for a in (ours.offsets, ours.docs, ours.weights, ours.idf)) / 1e6,
            sum(retriever.scores[k].nbytes for k in ("data", "indices", "indptr")) / 1e6,
        ),
    }
    for q in qs[:5]:  # warm both
        toks, weights = engine_tokens(q)
        ours.scores(toks, weights)
        theirs.scores(toks, weights)
        retriever.retrieve([toks], k=100, show_progress=False)
    score_ms: tuple[list[float], list[float]] = ([], [])
    top_ms: tuple[list[float], list[float]] = ([], [])
    same10 = same100 = 0
    rel_diff = 0.0
    for q in qs:
        toks, weights = engine_tokens(q)
        for j, scorer in enumerate((ours, theirs)):
            t0 = time.perf_counter()
            scorer.scores(toks, weights)
            score_ms[j].append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        top_indices(ours.scores(toks), 100)
        top_ms[0].append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        retriever.retrieve([toks], k=100, show_progress=False)
        top_ms[1].append((time.perf_counter() - t0) * 1000)
        a, b = ours.scores(toks, weights), theirs.scores(toks, weights)
        if a.max(initial=0) > 0:
            rel_diff = max(rel_diff, float(np.abs(a - b).max() / a.max()))
        same10 += np.array_equal(top_indices(a, 10), top_indices(b, 10))
        same100 += np.array_equal(top_indices(a, 100), top_indices(b, 100))
    out["score_ms"] = [(pct(t, 50), pct(t, 95)) for t in score_ms]
    out["top_ms"] = [(pct(t, 50), pct(t, 95)) for t in top_ms]
    out["agree"] = (same10, same100, rel_diff)
    return out


def incremental_api() -> list[str]:
    """Public methods of ``bm25s.BM25`` that could add, remove or update documents."""
    words = ("add", "remove", "delete", "update", "insert", "append", "extend", "merge")
    return [m for m in dir(bm25s.BM25) if not m.startswith("_") and any(w in m for w in words)]


# -- driver --------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--queries", type=int, default=300, help="latency queries (as latency.py samples them)")
    ap.add_argument("--skip-quality", action="store_true")
    ap.add_argument("--peak-child", nargs=2, metavar=("LIB", "ARROW_FILE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.peak_child:
        peak_child(*args.peak_child)
        return

    rows: list[tuple[str, str, str]] = []
    if not args.skip_quality:
        for label, config in (("raw BM25 (no signals)", NO_SIGNALS), ("lexical mode with the ranking", RankConfig())):
            started = time.perf_counter()
            q = quality(config)
            print(f"  quality, {label}: {time.perf_counter() - started:.0f}s", file=sys.stderr, flush=True)
            ours, theirs = ("{cosqa:.3f} / {semble:.3f} / {docs:.3f}".format(**q[lib]) for lib in ("ours", "bm25s"))
            rows.append((f"CoSQA MRR / semble / docs, {label}", ours, theirs))
    fast = speed(args.queries)
    n, nq = fast["docs"], fast["queries"]
    (ob, tb, split_s), (osz, tsz) = fast["build"], fast["size_mb"]
    peaks = (peak_mb("ours", fast["column"]), peak_mb("bm25s", fast["column"]))
    (o50, o95), (t50, t95) = fast["score_ms"]
    (k50, k95), (r50, r95) = fast["top_ms"]
    same10, same100, rel = fast["agree"]
    rows += [
        (f"build, {n:,} chunks", f"{ob:.1f} s", f"{tb:.1f} s (of which {split_s:.1f} s splitting into lists)"),
        ("index arrays (postings, weights, offsets)", f"{osz:.0f} MB", f"{tsz:.0f} MB"),
        ("peak memory growth during the build", f"{peaks[0]:.0f} MB", f"{peaks[1]:.0f} MB"),
        (f"score every chunk, p50 / p95 ({nq} queries)", f"{o50:.2f} / {o95:.2f} ms", f"{t50:.2f} / {t95:.2f} ms"),
        ("top-100 retrieval, p50 / p95", f"{k50:.2f} / {k95:.2f} ms", f"{r50:.2f} / {r95:.2f} ms"),
    ]
    print(f"\n| measure | ours (numpy) | {LIB} |")
    print("|---|---:|---:|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(
        f"\nagreement on the {nq} latency queries: top-10 identical in {same10}/{nq}, top-100 in {same100}/{nq}; "
        f"largest score difference {rel:.1e} of the query's top score"
    )
    api = incremental_api()
    print(
        f"bm25s.BM25 methods to add/remove/update documents: {', '.join(api) if api else 'none'} "
        "(an index is built whole by index(); ours layers a delta over a base: search/layers.py)"
    )


if __name__ == "__main__":
    main()
