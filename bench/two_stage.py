#!/usr/bin/env python3
"""static / transformer / two-stage side by side, in one run (issue 3: a fast *and* precise default).

    .venv/bin/python bench/two_stage.py                     # full stdlib (~75 min on 2 cores)
    .venv/bin/python bench/two_stage.py --files 300 --json bench/results/two-stage.json

Per embedder, through the real CLI in fresh processes (``os.wait4`` gives each one's peak RSS):

* time to searchable: ``lapce-index index --no-refine`` of the Python standard library -> files/min
  (for two-stage this is the static pass plus its bookkeeping; one ``lapce-index search`` right after
  shows the index answers at once);
* two-stage only: ``lapce-index refine`` of that index -> refine chunks/s and time to fully
  refined (index + refine);
* in-process: query-embedding latency (CoSQA dev questions; two-stage embeds with both models),
  start-up (fresh interpreter: import, load, first query; two-stage also on a refined index,
  where the transformer loads on first use);
* CoSQA dev hybrid MRR through ``SearchEngine`` (``bench/quality`` machinery): static and
  transformer on their indexes, two-stage on a fresh index at 0 / 25 / 50 / 75 / 100 % refined,
  and at 50 % without the score calibration (raw cosines of both models mixed).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench" / "quality"))

from common import WORK, build_index, make_embedder, open_engine  # noqa: E402
from run import cosqa_eval, cosqa_prepare, cosqa_queries  # noqa: E402

BIN = Path(sys.executable).parent
GNU_TIME = Path("/usr/bin/time")
EMBEDDERS = ("static", "transformer", "two-stage")
FRACTIONS = (0.25, 0.5, 0.75, 1.0)


def copy_stdlib(dest: Path, limit: int | None) -> int:
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_index", REPO / "bench" / "index.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    count: int = mod.copy_stdlib(dest, limit)
    return count


def run_peak(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run ``lapce-index`` once: wall seconds, its peak RSS and its JSON output.

    The peak comes from GNU time (``%M``): the rusage a child sees through ``os.wait4`` or
    ``RUSAGE_SELF`` starts from the forking parent's RSS, which here holds two embedders."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        rss_file = Path(tmp) / "rss"
        cmd = [str(BIN / "lapce-index"), *args]
        if GNU_TIME.exists():
            cmd = [str(GNU_TIME), "-f", "%M", "-o", str(rss_file), *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        seconds = time.perf_counter() - started
        if proc.returncode != 0:
            raise SystemExit(f"lapce-index {' '.join(args)} exited {proc.returncode}:\n{proc.stderr[-3000:]}")
        rss = float(rss_file.read_text().split()[-1]) / 1024 if rss_file.exists() else float("nan")
    data = json.loads(proc.stdout) if proc.stdout.strip().startswith(("{", "[")) else {}
    return {"seconds": seconds, "rss_mb": rss, "out": data}


def search_latency(index: Path, name: str, queries: list[str], unrefine: str | None = None) -> dict[str, Any]:
    """In-process hybrid search p50 / p95 ms (k=10) on a built index; ``unrefine``: first set the
    refined vector of the rows matching this filter back to null (a partly refined index)."""
    from lapce_ai.index.store import CHUNKS, REFINED
    from lapce_ai.search.engine import forget_corpus

    emb = make_embedder(name)
    eng = open_engine(index, emb, "hybrid")
    if unrefine is not None:
        eng.store.table(CHUNKS).update(where=unrefine, values={REFINED: None})
    refined, total = eng.store.refine_counts()
    forget_corpus(eng.store)
    started = time.perf_counter()
    eng.search(queries[0], 10)  # loads the corpus (and, for a refined one, the transformer)
    load_s = time.perf_counter() - started
    ms = []
    for q in queries:
        started = time.perf_counter()
        eng.search(q, 10)
        ms.append((time.perf_counter() - started) * 1000)
    p50, p95 = np.percentile(ms, [50, 95])
    return {"p50": float(p50), "p95": float(p95), "first_s": load_s, "refined": refined, "total": total}


def stdlib_runs(tmp: Path, files_limit: int | None, embedders: list[str]) -> dict[str, dict[str, Any]]:
    root = tmp / "stdlib"
    files = copy_stdlib(root, files_limit)
    print(f"stdlib copy: {files} files", file=sys.stderr, flush=True)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "LAPCE_AI_CONFIG": str(tmp / "none.toml")}
    (tmp / "none.toml").write_text("")
    out: dict[str, dict[str, Any]] = {}
    questions = [q for _qid, q, _cid in cosqa_queries()][:100]
    identifiers = ["ArgumentParser", "parse_args", "HTTPConnection", "urlsplit", "TemporaryDirectory"] * 4
    queries = questions + identifiers
    for name in embedders:
        index = tmp / f"index-{name}"
        base = ["--index", str(index), "--embedder", name]
        print(f"[{name}] full index ...", file=sys.stderr, flush=True)
        # --no-refine: time to searchable (`index` refines a two-stage index by default; that is timed below)
        full = run_peak(["index", str(root), *base, "--json", "--no-progress", "--no-refine"], env)
        summary = full["out"]
        r: dict[str, Any] = {
            "files_indexed": summary["files_indexed"],
            "chunks": summary["chunks_total"],
            "index_seconds": full["seconds"],
            "files_per_min": summary["files_indexed"] / full["seconds"] * 60,
            "index_rss_mb": full["rss_mb"],
            "embeddings_computed": summary["embeddings_computed"],
        }
        search = run_peak(["search", "parse command line options", *base, "-k", "3", "--json"], env)
        r["first_search_seconds"] = search["seconds"]
        r["first_search_hits"] = len(search["out"])
        r["search_ms"] = search_latency(index, name, queries)
        if name == "two-stage":
            print(f"[{name}] refine ...", file=sys.stderr, flush=True)
            refine = run_peak(["refine", *base, "--json", "--no-progress"], env)
            rs = refine["out"]
            r.update(
                refine_seconds=refine["seconds"],
                refine_rss_mb=refine["rss_mb"],
                refine_computed=rs["computed"],
                refine_reused=rs["reused"],
                refine_chunks_per_second=rs["computed"] / refine["seconds"] if refine["seconds"] else 0.0,
                refine_embed_chunks_per_second=rs["chunks_per_second"],
                refine_commits=rs["commits"],
                fully_refined_seconds=full["seconds"] + refine["seconds"],
                refined_after=f"{rs['done']}/{rs['total']}",
            )
            search = run_peak(["search", "parse command line options", *base, "-k", "3", "--json"], env)
            r["refined_search_seconds"] = search["seconds"]
            r["search_ms_refined"] = search_latency(index, name, queries)
            half = tmp / "index-two-stage-half"
            shutil.copytree(index, half)
            r["search_ms_half"] = search_latency(half, name, queries, unrefine="content_hash < '8'")
        out[name] = r
        print(f"[{name}] {json.dumps({k: v for k, v in r.items() if not isinstance(v, dict)})}", file=sys.stderr)
    return out


COLD = """
import json, sys, time
t0 = time.perf_counter()
from lapce_ai.config.settings import EmbedderSettings, Settings
from lapce_ai.embedding.registry import create_embedder
from lapce_ai.embedding.two_stage import refiner_of
t1 = time.perf_counter()
e = create_embedder(Settings(embedder=EmbedderSettings(provider=sys.argv[1])))
t2 = time.perf_counter()
e.embed_query("read a file")
t3 = time.perf_counter()
r = refiner_of(e)
if r is not None:
    r.embed_query("read a file")  # a search of a (partly) refined index: the transformer loads now
t4 = time.perf_counter()
# VmHWM, not ru_maxrss: the latter starts from the forking parent's RSS.
hwm = int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0])
print(json.dumps({"import": t1 - t0, "load": t2 - t1, "first": t3 - t2, "refiner_first": t4 - t3,
                  "rss_mb": hwm / 1024}))
"""


def cold_start(name: str, repeats: int) -> dict[str, float]:
    runs = []
    for _ in range(repeats):
        proc = subprocess.run([sys.executable, "-c", COLD, name], capture_output=True, text=True, check=True, cwd=REPO)
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def query_latency(name: str, queries: list[str]) -> tuple[float, float]:
    from lapce_ai.embedding.two_stage import refiner_of

    emb = make_embedder(name)
    refiner = refiner_of(emb)

    def embed(q: str) -> None:
        emb.embed_query(q)
        if refiner is not None:
            refiner.embed_query(q)

    embed(queries[0])
    ms = []
    for q in queries:
        started = time.perf_counter()
        embed(q)
        ms.append((time.perf_counter() - started) * 1000)
    p50, p95 = np.percentile(ms, [50, 95])
    return float(p50), float(p95)


def cosqa_runs(embedders: list[str]) -> dict[str, Any]:
    from lapce_ai.index.refine import Refiner
    from lapce_ai.index.store import IndexStore
    from lapce_ai.search import two_stage
    from lapce_ai.search.ranking import RankConfig

    queries = cosqa_queries()
    out: dict[str, Any] = {}

    unscaled = RankConfig(static_dense_scale=1.0)  # the static side weighted like the transformer's

    def mrr(index: Path, emb: Any, config: RankConfig | None = None) -> float:
        eng = open_engine(index, emb, "hybrid", config)
        return float(cosqa_eval(lambda q, k: eng.search(q, k), queries)["mrr"])

    for name in ("static", "transformer"):
        if name in embedders:
            emb = make_embedder(name)
            out[name] = mrr(cosqa_prepare(name, emb), emb)
            if name == "static":
                out["static unscaled"] = mrr(cosqa_prepare(name, emb), emb, unscaled)
            print(f"cosqa {name}: {out[name]:.3f}", file=sys.stderr, flush=True)
    if "two-stage" not in embedders:
        return out
    emb = make_embedder("two-stage")
    src = WORK / "cosqa" / "src"
    cosqa_prepare("static", make_embedder("static"))  # writes the corpus files if needed
    index = WORK / "cosqa" / "index-two-stage-bench"
    built = build_index(src, index, "two-stage", emb, fresh=True)
    curve: dict[str, float] = {"0.00": mrr(index, emb)}
    curve_unscaled: dict[str, float] = {"0.00": mrr(index, emb, unscaled)}
    print(f"cosqa two-stage: indexed in {built['wall']:.0f}s, 0% {curve['0.00']:.3f}", file=sys.stderr, flush=True)
    store = IndexStore.open_for(index, emb)
    total = store.refine_counts()[1]
    refine_seconds = 0.0
    for frac in FRACTIONS:
        done = store.refine_counts()[0]
        step = max(0, math.ceil(frac * total) - done)
        if step or frac >= 1.0:
            refiner = Refiner(store, emb.refiner, commit_chunks=max(step, 1), commit_seconds=math.inf)
            started = time.perf_counter()
            # At 100 % the run goes on to the file summaries, which refinement does last.
            refiner.run(max_steps=None if frac >= 1.0 else 1)
            refine_seconds += time.perf_counter() - started
        refined, _ = store.refine_counts()
        key = f"{refined / total:.2f}"
        curve[key] = mrr(index, emb)
        curve_unscaled[key] = mrr(index, emb, unscaled)
        if frac == 0.5:
            two_stage.CALIBRATE = False
            try:
                out["two-stage 50% uncalibrated"] = mrr(index, emb)
            finally:
                two_stage.CALIBRATE = True
        line = f"cosqa two-stage {key}: {curve[key]:.3f} (unscaled {curve_unscaled[key]:.3f})"
        print(line, file=sys.stderr, flush=True)
    out["two-stage"] = curve
    out["two-stage unscaled"] = curve_unscaled
    out["two-stage refine seconds"] = refine_seconds
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=None, help="index only the first N .py files of the stdlib")
    ap.add_argument("--embedders", default=",".join(EMBEDDERS))
    ap.add_argument("--skip-index", action="store_true", help="no stdlib runs (latency, start-up, CoSQA only)")
    ap.add_argument("--skip-cosqa", action="store_true")
    ap.add_argument("--cold-repeats", type=int, default=3)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    names = [n for n in args.embedders.split(",") if n]
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    results: dict[str, Any] = {"embedders": names}
    queries = [q for _qid, q, _cid in cosqa_queries()][: args.queries]
    results["query_ms"] = {n: query_latency(n, queries) for n in names}
    results["cold"] = {n: cold_start(n, args.cold_repeats) for n in names}
    print(f"latency / start-up done: {json.dumps(results)}", file=sys.stderr, flush=True)

    def save() -> None:  # after each part: a long run that fails late keeps what it measured
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")

    save()
    if not args.skip_index:
        tmp = Path(tempfile.mkdtemp(prefix="lapce-two-stage-"))
        try:
            results["stdlib"] = stdlib_runs(tmp, args.files, names)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        save()
    if not args.skip_cosqa:
        results["cosqa"] = cosqa_runs(names)
    results["seconds"] = time.perf_counter() - started
    results["load_average"] = [load_before, os.getloadavg()[0]]
    save()
    print(table(results))
    print(
        f"\n{os.cpu_count()} cores; load average {load_before:.1f} -> {os.getloadavg()[0]:.1f}; "
        f"{results['seconds'] / 60:.0f} min"
    )
    return 0


def _ms(r: dict[str, Any]) -> str:
    return f"{r['p50']:.1f} / {r['p95']:.1f}"


def table(results: dict[str, Any]) -> str:
    names: list[str] = results["embedders"]
    rows: list[tuple[str, list[str]]] = []

    def row(label: str, fn: Any) -> None:
        cells = []
        for n in names:
            try:
                cells.append(fn(n))
            except (KeyError, TypeError):
                cells.append("—")
        rows.append((label, cells))

    st = results.get("stdlib", {})
    if st:
        row("stdlib files indexed (chunks)", lambda n: f"{st[n]['files_indexed']:,} ({st[n]['chunks']:,})")
        row("time to searchable (full index, CLI)", lambda n: f"{st[n]['index_seconds']:.1f} s")
        row("  files/min (target >= 1,000; goal 5,000)", lambda n: f"**{st[n]['files_per_min']:,.0f}**")
        row("  peak RSS of the index process", lambda n: f"{st[n]['index_rss_mb']:.0f} MiB")
        row("search p50 / p95 ms (in-process hybrid, k=10)", lambda n: _ms(st[n]["search_ms"]))
        row(
            "first search after it (CLI, hits)",
            lambda n: f"{st[n]['first_search_seconds']:.2f} s ({st[n]['first_search_hits']})",
        )
        row("refine: chunks embedded (reused)", lambda n: f"{st[n]['refine_computed']:,} ({st[n]['refine_reused']:,})")
        row("refine: wall time (CLI)", lambda n: f"{st[n]['refine_seconds'] / 60:.1f} min")
        row(
            "refine: chunks/s (wall; embedder alone)",
            lambda n: f"{st[n]['refine_chunks_per_second']:.1f} ({st[n]['refine_embed_chunks_per_second']:.1f})",
        )
        row("refine: peak RSS", lambda n: f"{st[n]['refine_rss_mb']:.0f} MiB")
        row("search p50 / p95 ms, ~50 % refined", lambda n: _ms(st[n]["search_ms_half"]))
        row("search p50 / p95 ms, fully refined", lambda n: _ms(st[n]["search_ms_refined"]))
        row(
            "time to fully refined (index + refine)",
            lambda n: (
                f"{st[n]['fully_refined_seconds'] / 60:.1f} min"
                if n == "two-stage"
                else f"{st[n]['index_seconds'] / 60:.1f} min"
            ),
        )
    q = results["query_ms"]
    row("query embedding p50 / p95 ms (target <= 5)", lambda n: f"{q[n][0]:.2f} / {q[n][1]:.2f}")
    c = results["cold"]
    row("start-up: import + load + first query s", lambda n: f"{c[n]['import'] + c[n]['load'] + c[n]['first']:.2f}")
    row(
        "  + transformer on first refined query s",
        lambda n: f"{c[n]['refiner_first']:.2f}" if n == "two-stage" else "—",
    )
    row("  peak RSS (embedders loaded)", lambda n: f"{c[n]['rss_mb']:.0f} MiB")
    cq = results.get("cosqa", {})
    if cq:
        row(
            "CoSQA dev MRR, hybrid",
            lambda n: f"{cq[n]:.3f}" if n != "two-stage" else f"{cq[n]['1.00']:.3f} (fully refined)",
        )
        for key in ("0.00", "0.25", "0.50", "0.75"):
            row(
                f"  two-stage at {float(key) * 100:.0f} % refined",
                lambda n, key=key: f"{cq[n][key]:.3f}" if n == "two-stage" else "—",
            )
        row(
            "  two-stage at 50 %, uncalibrated scores",
            lambda n: f"{cq['two-stage 50% uncalibrated']:.3f}" if n == "two-stage" else "—",
        )
    width = [max(len(r[0]) for r in rows)] + [max(len(n), *(len(r[1][i]) for r in rows)) for i, n in enumerate(names)]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(["", *names], width, strict=True)) + " |"]
    lines.append("|" + "|".join("-" * (w + 2) for w in width) + "|")
    for label, cells in rows:
        lines.append(
            "| "
            + " | ".join(
                v.rjust(w) if i else v.ljust(w) for i, (v, w) in enumerate(zip([label, *cells], width, strict=True))
            )
            + " |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
