"""In-process search latency on a ~100k-chunk index (the Python standard library plus copies),
and how much of the exact dense top 100 the projected dense scan keeps.

    .venv/bin/python bench/quality/latency.py [--embedder static] [--chunks 100000] [--queries 300]
    .venv/bin/python bench/quality/latency.py --embedder two-stage --refined 0.5   # half refined

Builds ``$LAPCE_BENCH_DIR/latency/src`` from copies of the standard library until the index
holds at least ``--chunks`` chunks (copies reuse the first copy's embeddings by content hash),
indexes it once with the real pipeline, then times ``SearchEngine.search`` per mode for a mix
of identifier queries (definitions sampled from the corpus) and natural-language queries
(CoSQA dev questions), with and without filters; then, apart, names nothing in the corpus
defines (the quality bench's ``undefined`` draw), with and without the signal that reads their
uses. Reports the one-off corpus load separately, and the query-embedding share of hybrid/dense
latency.

``--embedder two-stage`` refines the index completely (copies reuse the first copy's vectors,
so ~5 min), then, with ``--refined F``, searches a copy in which only a share F of the rows
keeps its refined vector: the state of a large tree while the indexer is still refining it.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import sysconfig
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lapce_ai.service.maththreads import one_math_thread_per_search

one_math_thread_per_search()  # as lapce-ai-service runs searches (before numpy is imported)

import questions_eval  # noqa: E402
from common import (  # noqa: E402
    COSQA_DATA,
    WORK,
    build_index,
    ensure_summaries,
    make_embedder,
    open_engine,
    recall_against_exact,
)

from lapce_ai.search.engine import load_corpus  # noqa: E402
from lapce_ai.search.filters import SearchFilters  # noqa: E402
from lapce_ai.search.query_vectors import QueryVectors  # noqa: E402
from lapce_ai.search.ranking import RankConfig  # noqa: E402

STDLIB = Path(sysconfig.get_paths()["stdlib"])
# The one case whose queries were asked before: their vectors are remembered (search.query_vectors).
ASKED_AGAIN = "hybrid, asked again (vector remembered)"


def copy_stdlib(dest: Path) -> int:
    n = 0
    for path in sorted(STDLIB.rglob("*.py")):
        rel = path.relative_to(STDLIB)
        if rel.parts[0] in ("site-packages", "test", "idlelib") or "__pycache__" in rel.parts:
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        n += 1
    return n


def prepare(provider: str, embedder: Any, want: int) -> Path:
    base = WORK / "latency"
    src, index = base / "src", base / f"index-{provider}"
    done = index / "_complete"
    if done.exists() and json.loads(done.read_text())["chunks_total"] >= want:
        ensure_summaries(index, embedder)  # an index cached before file summaries existed
        return index
    copies = 0
    while True:
        copy_stdlib(src / f"copy{copies}")
        copies += 1
        summary = build_index(src, index, provider, embedder)
        print(
            f"  {copies} copies: {summary['chunks_total']} chunks, {summary['embeddings_computed']} embedded, "
            f"{summary['wall']:.0f}s",
            file=sys.stderr,
        )
        if summary["chunks_total"] >= want:
            done.write_text(json.dumps(summary))
            return index


def queries(engine: Any, n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    corpus = load_corpus(engine.store)
    names = sorted({s.rsplit(".", 1)[-1] for s in corpus.symbols if s})
    with open(COSQA_DATA / "queries_dev.jsonl", encoding="utf-8") as fh:
        nl = [json.loads(line)["query"] for line in fh]
    out = rng.sample(names, min(n // 2, len(names))) + rng.sample(nl, min(n - n // 2, len(nl)))
    rng.shuffle(out)
    return out


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q / 100 * (len(s) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--embedder", default="static", help="embeds the queries")
    ap.add_argument(
        "--index-embedder",
        help="embeds the 100k chunks (default: --embedder; 'random' gives same-shape vectors in seconds)",
    )
    ap.add_argument("--chunks", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--refined", type=float, help="two-stage: the share of rows left refined (default: all)")
    args = ap.parse_args()

    embedder = make_embedder(args.embedder)
    index_provider = args.index_embedder or args.embedder
    index_embedder = embedder if index_provider == args.embedder else make_embedder(index_provider)
    index = prepare(index_provider, index_embedder, args.chunks)
    if index_provider == "two-stage":
        index = refined_copy(index, embedder, args.refined)
    engine = open_engine(index, embedder, "hybrid", check_model=False)
    started = time.perf_counter()
    corpus = load_corpus(engine.store)
    load_s = time.perf_counter() - started
    dim = 0 if corpus.vectors is None else corpus.vectors.shape[1]
    print(
        f"\nindex: {corpus.n} chunks, {len(corpus.files)} files, dim {dim}; "
        f"corpus load {load_s:.2f}s (once per version)"
    )
    qs = queries(engine, args.queries)

    embed_ms = []
    for q in qs[:100]:
        t = time.perf_counter()
        engine.embed_query(q)  # a two-stage index: both models' vectors
        embed_ms.append((time.perf_counter() - t) * 1000)

    no_summary = RankConfig(file_summary=0.0, summary_pull=0)
    cases: list[tuple[str, str, SearchFilters | None, RankConfig | None]] = [
        ("lexical", "lexical", None, None),
        ("dense", "dense", None, None),
        ("hybrid", "hybrid", None, None),
        ("hybrid without file summaries (signal and pull)", "hybrid", None, no_summary),
        ("hybrid + path glob", "hybrid", SearchFilters(path="copy0/**/*.py"), None),
        ("hybrid + language + prefix", "hybrid", SearchFilters(path="copy1/email", language="python"), None),
        (ASKED_AGAIN, "hybrid", None, None),
    ]
    print(f"\n{len(qs)} queries (half identifiers, half CoSQA questions), k={args.k}, in-process, 1 thread of work")
    print("| case | p50 ms | p95 ms | p99 ms | mean ms |")
    print("|---|---:|---:|---:|---:|")
    print(
        f"| query embedding alone ({args.embedder}) | {pct(embed_ms, 50):.1f} | {pct(embed_ms, 95):.1f} | "
        f"{pct(embed_ms, 99):.1f} | {statistics.mean(embed_ms):.1f} |"
    )
    # Every case answers each query in turn, in a shuffled order: a shared host's speed drifts
    # over a run, and interleaving puts that drift into every case alike.
    engines = [open_engine(index, embedder, mode, config, check_model=False) for _l, mode, _f, config in cases]
    for eng, (label, _mode, filters, _config) in zip(engines, cases, strict=True):
        for q in qs[:5]:
            eng.search(q, args.k, filters)  # warm the filter mask cache and code paths
        if label != ASKED_AGAIN:  # every other case embeds each query, as a new query is
            eng.query_vectors = QueryVectors(size=0)
    times: list[list[float]] = [[] for _ in cases]
    rng = random.Random(11)
    order = list(range(len(cases)))
    for q in qs:
        rng.shuffle(order)
        for c in order:
            if cases[c][0] == ASKED_AGAIN:
                engines[c].embed_query(q)  # asked before (untimed): its vector is remembered
            t = time.perf_counter()
            engines[c].search(q, args.k, cases[c][2])
            times[c].append((time.perf_counter() - t) * 1000)
    for (label, _mode, _filters, _config), ms in zip(cases, times, strict=True):
        print_row(label, ms)
    print_undefined_names(index, embedder, args)
    if index_provider == args.embedder and corpus.vectors is not None:
        vectors = [engines[0].embed_query(q) for q in qs]
        if index_provider == "two-stage":
            print_two_stage_recall(corpus, vectors, engines[0].store.meta.dim)
        else:
            print_dense_recall(corpus, vectors)


def print_row(label: str, ms: list[float]) -> None:
    cells = " | ".join(f"{v:.1f}" for v in (pct(ms, 50), pct(ms, 95), pct(ms, 99), statistics.mean(ms)))
    print(f"| {label} | {cells} |", flush=True)


def print_undefined_names(index: Path, embedder: Any, args: argparse.Namespace) -> None:
    """Hybrid latency for names nothing in the corpus defines (the ``undefined`` suite's draw),
    whose uses are read from their chunks' text, against the same queries without that signal."""
    names = [q.query for q in questions_eval.undefined_queries(index)][: args.queries]
    cases = [
        ("hybrid, a name nothing defines", RankConfig()),
        ("... its uses not read", RankConfig().without("undefined_uses")),
    ]
    engines = [open_engine(index, embedder, "hybrid", config, check_model=False) for _label, config in cases]
    for eng in engines:
        eng.query_vectors = QueryVectors(size=0)
        for name in names[:5]:
            eng.search(name, args.k)
    times: list[list[float]] = [[] for _ in cases]
    for name in names:
        for c in random.Random(name).sample(range(len(cases)), len(cases)):
            t = time.perf_counter()
            engines[c].search(name, args.k)
            times[c].append((time.perf_counter() - t) * 1000)
    for (label, _config), ms in zip(cases, times, strict=True):
        print_row(f"{label} ({len(names)} names)", ms)


def refined_copy(index: Path, embedder: Any, share: float | None) -> Path:
    """Refine the two-stage index completely; with ``share``, a copy of it in which the rows
    whose content hash sorts above that share have their refined vector back to null."""
    from lapce_ai.embedding.two_stage import refiner_of
    from lapce_ai.index.refine import Refiner
    from lapce_ai.index.store import CHUNKS, FILE_SUMMARIES, REFINED, IndexStore

    store = IndexStore.open_for(index, embedder)
    refiner = refiner_of(embedder)
    assert refiner is not None
    started = time.perf_counter()
    Refiner(store, refiner).run()
    print(f"  refined in {time.perf_counter() - started:.0f}s", file=sys.stderr)
    if share is None or share >= 1.0:
        return index
    copy = index.parent / f"{index.name}-refined-{share:.2f}"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(index, copy)
    threshold = format(max(0, min(0xFFFF, round(share * 0x10000))), "04x")
    partial = IndexStore.open_for(copy, embedder)
    partial.table(CHUNKS).update(where=f"content_hash >= '{threshold}'", values={REFINED: None})
    # Refinement does the file summaries last: until the chunks are through, they have none.
    partial.table(FILE_SUMMARIES).update(where="true", values={REFINED: None})
    return copy


def print_dense_recall(corpus: Any, vectors: list[Any]) -> None:
    """How much of the exact top 100 / top 10 the dense search's exactly scored chunks keep
    (only meaningful with real vectors: random ones have no structure to project)."""
    if corpus.projected is None:
        print("\ndense search is exact at this size (no projected scan)")
        return
    at100, at10, p50 = recall_against_exact(corpus.vectors, vectors, lambda v: corpus.similarities(v, None))
    print(
        f"\ndense first pass ({corpus.projected.projection.shape[1]} of {corpus.vectors.shape[1]} dims) vs exact "
        f"search: recall@100 {at100:.3f}, recall@10 {at10:.3f}, p50 {p50:.2f} ms"
    )


def print_two_stage_recall(corpus: Any, vectors: list[Any], first_dim: int) -> None:
    """The same for a two-stage corpus, against every row scored by its own model (static
    cosines calibrated as search calibrates them)."""
    from lapce_ai.search import two_stage

    stage = corpus.first_stage
    if corpus.layers is not None or stage is None or not stage.rows.size:
        print(f"\n{two_stage.refined_share(corpus):.0%} refined: dense search is the refined or static model's alone")
        return

    def search(v: Any) -> Any:
        return two_stage.similarities(corpus, *two_stage.split_query(v, first_dim), None)

    def exact(v: Any) -> Any:
        first, second = two_stage.split_query(v, first_dim)
        scores = corpus.vectors @ second
        calibrate = two_stage._calibration([(corpus, 0)], first, second)
        scores[stage.rows] = two_stage._calibrated(stage.vectors @ first, calibrate)
        return scores

    at100, at10, p50 = recall_against_exact(None, vectors, search, exact)
    print(
        f"\n{two_stage.refined_share(corpus):.0%} refined, each model's rows scanned "
        f"{'projected' if corpus.projected is not None else 'exactly'}: recall@100 {at100:.3f}, "
        f"recall@10 {at10:.3f} of the exact mix, p50 {p50:.2f} ms"
    )


if __name__ == "__main__":
    main()
