"""Titan embedder figures through the local Bedrock look-alike (tests/bedrock_server.py).

No AWS: boto3 signs every request with fake credentials and sends it to a server on 127.0.0.1
(``AWS_ENDPOINT_URL_BEDROCK_RUNTIME``) that checks the SigV4 signature and answers like Titan v2
after ``--latency`` seconds. Prints two tables:

1. embedding throughput (texts/min) for ~300 code chunks at the standard (5 req/s) and express
   (20 req/s) tiers with 100 ms answers, plus the same express run with 10 % of requests
   throttled (retries included);
2. the real indexer (lapce_ai.index.indexer) on a copy of stdlib files with the Titan embedder:
   files/min for a full index, and Titan calls for the full index, a no-op re-index and a
   one-line-edit re-index.

    .venv/bin/python bench/titan.py [--chunks 300] [--latency 0.1] [--files 25] [--skip-index]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]  # the package, and the fake server the tests use

from bedrock_server import TEST_ACCESS_KEY, TEST_SECRET_KEY, FakeBedrock  # noqa: E402

from lapce_ai.config.settings import AwsSettings, EmbedderSettings, PathSettings, Settings  # noqa: E402
from lapce_ai.embedding.titan import TitanEmbedder  # noqa: E402

STDLIB = Path(sysconfig.get_paths()["stdlib"])


def fake_aws_environment(endpoint: str) -> None:
    """Credentials from the environment (as the standard chain reads them); nothing from ~/.aws."""
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        os.environ.pop(var, None)
    os.environ.update(
        AWS_ACCESS_KEY_ID=TEST_ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=TEST_SECRET_KEY,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
        AWS_ENDPOINT_URL_BEDROCK_RUNTIME=endpoint,
    )


def stdlib_files(limit: int) -> list[Path]:
    """Mid-sized stdlib modules (2-40 KB), a deterministic sample."""
    files = sorted(p for p in STDLIB.glob("*.py") if 2_000 <= p.stat().st_size <= 40_000 and not p.name.startswith("_"))
    random.Random(7).shuffle(files)
    return files[:limit]


def code_chunks(count: int, lines_per_chunk: int = 30) -> list[str]:
    """``count`` distinct ~30-line windows of stdlib source."""
    chunks: list[str] = []
    for path in stdlib_files(200):
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        for i in range(0, len(lines), lines_per_chunk):
            window = "\n".join(lines[i : i + lines_per_chunk]).strip()
            if len(window) > 80:
                chunks.append(window)
            if len(chunks) >= count:
                return list(dict.fromkeys(chunks))
    return list(dict.fromkeys(chunks))


@dataclass
class ThroughputRow:
    label: str
    rate: float
    batch: int
    texts: int
    seconds: float
    measured_rate: float
    max_in_flight: int
    requests: int
    throttled: int


def throughput(
    server: FakeBedrock, texts: list[str], label: str, tier: str, rate: float, throttle_share: float = 0.0
) -> ThroughputRow:
    server.clear_faults()
    server.reset()
    if throttle_share:
        rng = random.Random(11)
        server.fault_policy = lambda n, text: "throttle" if rng.random() < throttle_share else None
    aws = AwsSettings.model_validate({"titan_tier": tier, "requests_per_second": rate, "dimensions": 1024})
    with TitanEmbedder(aws, backoff_base=0.2, backoff_cap=2.0) as emb:
        started = time.perf_counter()
        vectors = emb.embed_documents(texts)
        seconds = time.perf_counter() - started
        batch = emb.batch_size
    assert vectors.shape == (len(texts), 1024)
    counts = server.counts()
    server.clear_faults()
    return ThroughputRow(
        label,
        rate,
        batch,
        len(texts),
        seconds,
        server.measured_rate(),
        server.max_in_flight,
        sum(counts.values()),
        counts["throttle"],
    )


def one_line_edit(root: Path) -> Path:
    """Append a comment to one indented code line in the middle of the largest file."""
    target = max(root.rglob("*.py"), key=lambda p: p.stat().st_size)
    lines = target.read_text(encoding="utf-8").split("\n")
    for i in range(len(lines) // 2, len(lines)):
        stripped = lines[i].strip()
        if lines[i].startswith("        ") and stripped and not stripped.startswith(("#", '"', "'")):
            lines[i] += "  # edited"
            break
    target.write_text("\n".join(lines), encoding="utf-8")
    return target


def run_index_bench(server: FakeBedrock, files: int, rate: float, tmp: Path) -> list[tuple[str, str, str]]:
    """Full index, no-op and one-line-edit re-index with the real indexer and the Titan embedder."""
    from lapce_ai.index.indexer import Indexer
    from lapce_ai.index.store import IndexStore
    from lapce_ai.parsing.router import ParserRouter

    root = tmp / "workspace"
    root.mkdir()
    for path in stdlib_files(files):
        shutil.copyfile(path, root / path.name)
    aws = AwsSettings.model_validate({"titan_tier": "express", "requests_per_second": rate, "dimensions": 1024})
    settings = Settings(
        paths=PathSettings(index_dir=tmp / "index", cache_dir=tmp / "cache"),
        embedder=EmbedderSettings.model_validate({"provider": "titan"}),
        aws=aws,
    )
    server.clear_faults()
    server.reset()
    with TitanEmbedder(aws) as emb:
        store = IndexStore.open(tmp / "index", emb.model_id, emb.dim, create=True)
        indexer = Indexer(settings, store, emb, ParserRouter(settings.features, settings.performance))

        def timed(run: Callable[[], Any]) -> tuple[Any, float, int]:
            calls = server.call_count
            started = time.perf_counter()
            summary = run()
            return summary, time.perf_counter() - started, server.call_count - calls

        full, full_s, full_calls = timed(lambda: indexer.index(root))
        _noop, noop_s, noop_calls = timed(lambda: indexer.index(root))
        edited = one_line_edit(root)
        edit, edit_s, edit_calls = timed(lambda: indexer.index(root))
    return [
        ("workspace", f"{full.files_indexed} files", f"{full.chunks_total} chunks, stdlib sample"),
        (
            "full index",
            f"{full_s:.1f} s",
            f"{full.files_indexed / full_s * 60:,.0f} files/min, {full.chunks_total / full_s * 60:,.0f} chunks/min",
        ),
        ("  Titan calls (full index)", f"{full_calls}", f"embed {full.embed_seconds:.1f} s of {full_s:.1f} s"),
        ("no-op re-index", f"{noop_s:.2f} s", f"{noop_calls} Titan calls"),
        (
            "one-line edit re-index",
            f"{edit_s:.2f} s",
            f"{edit_calls} Titan calls ({edit.embeddings_reused} reused; edited {edited.name})",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=300)
    parser.add_argument("--latency", type=float, default=0.1, help="server answer time, seconds")
    parser.add_argument("--files", type=int, default=25, help="stdlib files in the index benchmark")
    parser.add_argument("--index-rate", type=float, default=20.0, help="req/s for the index benchmark")
    parser.add_argument("--skip-index", action="store_true")
    args = parser.parse_args()

    texts = code_chunks(args.chunks)
    with FakeBedrock(latency=args.latency) as server:
        fake_aws_environment(server.url)
        rows = [
            throughput(server, texts, "standard tier", "standard", 5.0),
            throughput(server, texts, "express tier", "express", 20.0),
            throughput(server, texts, "express, 10% throttled", "express", 20.0, throttle_share=0.10),
        ]
        header = (
            f"{'run':<24} {'limit':>8} {'batch':>5} {'texts':>5} {'seconds':>8} {'texts/min':>9} "
            f"{'req/s':>6} {'in flight':>9} {'requests':>8} {'throttled':>9}"
        )
        print(f"\nTitan v2 (1024-d) via boto3 -> local Bedrock look-alike, {args.latency * 1000:.0f} ms answers\n")
        print(header)
        print("-" * len(header))
        for r in rows:
            print(
                f"{r.label:<24} {r.rate:>6.0f}/s {r.batch:>5} {r.texts:>5} {r.seconds:>8.1f} "
                f"{r.texts / r.seconds * 60:>9,.0f} {r.measured_rate:>6.2f} {r.max_in_flight:>9} "
                f"{r.requests:>8} {r.throttled:>9}"
            )
        if not args.skip_index:
            tmp = Path(tempfile.mkdtemp(prefix="lapce-titan-bench-"))
            try:
                index_rows = run_index_bench(server, args.files, args.index_rate, tmp)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            ms = args.latency * 1000
            print(f"\nIndexer with the Titan embedder at {args.index_rate:.0f} req/s, {ms:.0f} ms answers\n")
            width = max(len(r[0]) for r in index_rows)
            for name, value, note in index_rows:
                print(f"{name:<{width}}  {value:>10}  {note}")


if __name__ == "__main__":
    main()
