"""CoSQA dev through the real ``lapce-index`` CLI: one ``index`` run, then one ``search`` process
per query, scored like ``run.py`` (MRR, Recall@1, Recall@10), per mode.

    .venv/bin/python bench/quality/cli_cosqa.py [--embedder transformer] [--modes hybrid,lexical,dense]
        [--limit N] [--jobs 2] [--check]

``--check`` also runs every query in-process on the same CLI-built index and reports how many
rankings differ (the CLI and ``run.py`` call the same engine, so it should be none).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BIN, WORK, index_via_cli, make_embedder, open_engine
from run import cosqa_eval, cosqa_queries, cosqa_source


def cli_search(index: Path, embedder: str, mode: str, query: str, k: int) -> list[Any]:
    cmd = [str(BIN / "lapce-index"), "search", query, "--index", str(index), "-k", str(k), "--json"]
    cmd += ["--embedder", embedder, "--mode", mode]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    return [SimpleNamespace(**hit) for hit in json.loads(proc.stdout)]


def cli_answers(index: Path, embedder: str, mode: str, queries: list[str], jobs: int) -> dict[str, list[Any]]:
    with ThreadPoolExecutor(jobs) as pool:
        hits = pool.map(lambda q: cli_search(index, embedder, mode, q, 10), queries)
        return dict(zip(queries, hits, strict=True))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--embedder", default="transformer")
    ap.add_argument("--modes", default="hybrid,lexical,dense")
    ap.add_argument("--limit", type=int, default=0, help="only the first N queries (0: all 500)")
    ap.add_argument("--jobs", type=int, default=2, help="CLI processes at a time")
    ap.add_argument("--check", action="store_true", help="compare with in-process search on the same index")
    args = ap.parse_args()

    index = WORK / "cosqa" / f"cli-index-{args.embedder}"
    started = time.perf_counter()
    summary = index_via_cli(cosqa_source(), index, args.embedder)
    print(f"indexed through the CLI: {summary.get('chunks_total')} chunks in {time.perf_counter() - started:.0f}s")
    queries = cosqa_queries()
    if args.limit:
        queries = queries[: args.limit]
    engine_of = None
    if args.check:
        embedder = make_embedder(args.embedder)
        engine_of = {m: open_engine(index, embedder, m) for m in args.modes.split(",")}

    print("| mode | queries | MRR | R@1 | R@10 | differ in-process | seconds |\n|---|---:|---:|---:|---:|---:|---:|")
    for mode in args.modes.split(","):
        started = time.perf_counter()
        answers = cli_answers(index, args.embedder, mode, [q for _qid, q, _cid in queries], args.jobs)
        scores = cosqa_eval(lambda q, _k, found=answers: found[q], queries)
        differ = "-"
        if engine_of is not None:
            eng = engine_of[mode]
            differ = str(
                sum(
                    [(h.path, h.start_line) for h in eng.search(q, 10)] != [(h.path, h.start_line) for h in answers[q]]
                    for _qid, q, _cid in queries
                )
            )
        print(
            f"| {mode} | {len(queries)} | {scores['mrr']:.3f} | {scores['r1']:.3f} | {scores['r10']:.3f} | {differ} "
            f"| {time.perf_counter() - started:.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
