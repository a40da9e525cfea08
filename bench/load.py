"""Load benchmark for ``lapce-ai-service`` (bounded; loopback only).

Two modes:

    python bench/load.py full [--chunks 100000] [--duration 20] [--concurrency 1,2,4,8] [--saves 15]
        Build a ~100k-chunk index from the Python stdlib (plus copies) with the static embedder and
        the real ``lapce-index`` CLI (reused if ``--work`` already holds one), measure in-process
        ``SearchEngine.search`` latency on it, start ``lapce-ai-service`` and ``lapce-ai-indexer``,
        measure search QPS and p50/p95/p99 over HTTP at each concurrency, then save-to-searchable
        latency through the indexer daemon (write a file with a new function; poll the service
        until it is the top hit). Prints a table; writes bench/results/load-<time>.json.
        Targets (2 cores): >= 200 QPS, p95 <= 50 ms, save-to-searchable median <= 1 s.

    python bench/load.py client --url URL [--duration 10] [--concurrency 4] [--token T]
        Only the load: against a running service (scripts/perf_profile.sh uses this). A list
        (``--concurrency 1,2,4,8``) runs each level in turn and prints a table.

    python bench/load.py inprocess --index DIR [--rounds 5]
        Only in-process ``SearchEngine.search`` latency (static embedder) on an existing index.

The client is a small asyncio HTTP/1.1 keep-alive client (no JSON parsing on the hot path), so it
takes little of the two cores away from the server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
RESULTS = Path(__file__).resolve().parent / "results"

QUERIES = [
    "parse a url query string", "HTTPConnection request", "json decoder", "thread pool executor submit",
    "read csv rows", "compile regular expression", "tarfile extract", "socket connect timeout",
    "base64 encode", "datetime strptime", "logging handler emit", "subprocess run capture output",
    "zipfile write", "email message headers", "unittest assertEqual", "pathlib glob", "hashlib sha256",
    "asyncio gather", "shutil copytree", "argparse add_argument", "heapq merge", "bisect insort",
    "decimal context precision", "fractions gcd", "configparser read", "sqlite3 cursor execute",
    "xml element tree parse", "html escape", "smtp send mail", "gzip decompress", "calendar month",
    "random choice weights", "statistics median", "textwrap dedent", "difflib unified diff",
    "pickle dumps protocol", "copy deepcopy memo", "inspect signature", "ast literal_eval",
    "tokenize generate tokens", "locale format", "getpass prompt", "uuid4", "http cookies",
    "ssl wrap socket", "select poll", "struct unpack", "array typecode", "queue get timeout",
]  # fmt: skip


# -- client ----------------------------------------------------------------------------------


async def _worker(
    host: str,
    port: int,
    token: str | None,
    deadline: float,
    latencies: list[float],
    errors: list[str],
    queries: list[str],
    k: int,
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    rnd = random.Random(id(latencies) ^ len(errors) ^ int(time.time()))
    try:
        while time.perf_counter() < deadline:
            q = urllib.parse.quote(rnd.choice(queries))
            request = f"GET /search?q={q}&k={k} HTTP/1.1\r\nHost: {host}:{port}\r\n{auth}\r\n".encode()
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if status != 200:
                errors.append(str(status))
            if b"connection: close" in head.lower():
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
    except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
        errors.append(repr(exc))
    finally:
        writer.close()


async def _load(url: str, duration: float, concurrency: int, token: str | None, k: int) -> dict[str, Any]:
    parsed = urllib.parse.urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 80
    latencies: list[float] = []
    errors: list[str] = []
    started = time.perf_counter()
    deadline = started + duration
    await asyncio.gather(
        *(_worker(host, port, token, deadline, latencies, errors, QUERIES, k) for _ in range(concurrency))
    )
    elapsed = time.perf_counter() - started
    return summarize(latencies, errors, elapsed, concurrency)


def summarize(latencies: list[float], errors: list[str], elapsed: float, concurrency: int) -> dict[str, Any]:
    ms = sorted(x * 1000 for x in latencies)

    def pct(p: float) -> float:
        return round(ms[min(len(ms) - 1, int(p * len(ms)))], 2) if ms else float("nan")

    return {
        "requests": len(ms),
        "errors": len(errors),
        "error_samples": errors[:5],
        "seconds": round(elapsed, 2),
        "concurrency": concurrency,
        "qps": round(len(ms) / elapsed, 1) if elapsed else 0.0,
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "max_ms": round(ms[-1], 2) if ms else float("nan"),
    }


def run_load(url: str, duration: float, concurrency: int, token: str | None = None, k: int = 10) -> dict[str, Any]:
    return asyncio.run(_load(url, duration, concurrency, token, k))


def run_levels(
    url: str, duration: float, levels: list[int], token: str | None = None, k: int = 10
) -> list[dict[str, Any]]:
    """The load at each concurrency in turn, after a short warm-up at the highest."""
    run_load(url, min(duration, 3.0), max(levels), token, k)
    out = []
    for level in levels:
        result = run_load(url, duration, level, token, k)
        result["load_average"] = round(os.getloadavg()[0], 2)
        out.append(result)
    return out


def concurrency_list(text: str) -> list[int]:
    levels = [int(x) for x in text.split(",") if x.strip()]
    if not levels or min(levels) < 1 or max(levels) > 256:
        raise argparse.ArgumentTypeError("concurrency: numbers 1..256, comma-separated")
    return levels


def cmd_client(args: argparse.Namespace) -> int:
    duration = min(max(args.duration, 1.0), 3600.0)
    if len(args.concurrency) > 1:
        results = run_levels(args.url, duration, args.concurrency, args.token, args.k)
        print(json.dumps(results) if args.json else load_table(results))
        return 0 if all(r["requests"] and not r["errors"] for r in results) else 1
    result = run_load(args.url, duration, args.concurrency[0], args.token, args.k)
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"client side: {result['requests']} requests in {result['seconds']}s, qps {result['qps']}, "
            f"p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms, p99 {result['p99_ms']} ms, "
            f"errors {result['errors']}"
        )
    return 0 if result["requests"] and not result["errors"] else 1


def in_process(index: Path, rounds: int, k: int = 10) -> dict[str, Any]:
    """``SearchEngine.search`` latency without HTTP: the floor the service adds its cost to."""
    from lapce_ai.embedding.static import StaticEmbedder
    from lapce_ai.index.store import IndexStore
    from lapce_ai.search.engine import SearchEngine, load_corpus

    embedder = StaticEmbedder()
    store = IndexStore.open(index, embedder.model_id, embedder.dim)
    load_corpus(store)
    engine = SearchEngine(store, embedder)
    for q in QUERIES:
        engine.search(q, k)  # warm-up
    latencies = []
    started = time.perf_counter()
    for _ in range(rounds):
        for q in QUERIES:
            t = time.perf_counter()
            engine.search(q, k)
            latencies.append(time.perf_counter() - t)
    result = summarize(latencies, [], time.perf_counter() - started, 1)
    result["load_average"] = round(os.getloadavg()[0], 2)
    return result


def cmd_inprocess(args: argparse.Namespace) -> int:
    r = in_process(Path(args.index), args.rounds)
    print(f"in-process: {r['requests']} searches, p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms, p99 {r['p99_ms']} ms")
    return 0


# -- full benchmark --------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CST_", "LAPCE_AI", "AWS_"))}
    env.update(XDG_DATA_HOME=str(work / "xdg"), HF_HUB_OFFLINE="1", LAPCE_AI_CONFIG=str(work / "config.toml"))
    return env


def _get(url: str, timeout: float = 10) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as r:  # loopback only
        return json.load(r)


def _copy_source(src: Path, dst: Path) -> None:
    shutil.copytree(
        src,
        dst,
        ignore=shutil.ignore_patterns("__pycache__", "site-packages", "*.pyc", "*.so", "config-3*"),
        symlinks=True,
    )


def _stats(env: dict[str, str], index: Path) -> dict[str, Any]:
    out = subprocess.run(
        [str(BIN / "lapce-index"), "stats", "--index", str(index), "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    stats: dict[str, Any] = json.loads(out.stdout)
    return stats


def build_corpus(work: Path, target_chunks: int, source: Path, env: dict[str, str]) -> dict[str, Any]:
    ws, index = work / "ws", work / "index"
    started = time.perf_counter()
    if not (ws / "copy0").exists():
        _copy_source(source, ws / "copy0")
    subprocess.run(
        [str(BIN / "lapce-index"), "index", str(ws), "--index", str(index), "--no-progress"],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    chunks = _stats(env, index)["chunks"]
    copies = len(list(ws.glob("copy*")))
    per_copy = max(chunks // copies, 1)
    while chunks < target_chunks and copies < 20:
        _copy_source(source, ws / f"copy{copies}")
        copies += 1
        chunks += per_copy
    subprocess.run(
        [str(BIN / "lapce-index"), "index", str(ws), "--index", str(index), "--no-progress"],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    stats = _stats(env, index)
    return {
        "chunks": stats["chunks"],
        "files": stats["files"],
        "copies": copies,
        "build_seconds": round(time.perf_counter() - started, 1),
    }


def _wait(predicate: Any, timeout: float, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except OSError:
            pass
        time.sleep(interval)
    raise TimeoutError("timed out")


def save_to_searchable(url: str, ws: Path, saves: int) -> dict[str, Any]:
    """Write a file with a brand-new function; time until the service returns it as the top hit."""
    folder = ws / "copy0" / "bench_saves"
    folder.mkdir(exist_ok=True)
    latencies: list[float] = []
    for i in range(saves):
        name = f"bench_marker_{random.randrange(1 << 30):x}_{i}"
        path = folder / f"save_{i % 3}.py"
        path.write_text(f'"""Saved by bench/load.py."""\n\n\ndef {name}(value):\n    return value * {i}\n')
        saved = time.perf_counter()
        query = f"{url}/search?k=1&q={name}"
        deadline = saved + 30
        while time.perf_counter() < deadline:
            try:
                results = _get(query, timeout=60)["results"]
            except TimeoutError:
                continue
            if results and results[0]["symbol"] == name:
                latencies.append(time.perf_counter() - saved)
                break
            time.sleep(0.01)
        else:
            latencies.append(float("inf"))
        time.sleep(0.3)  # let compaction of the previous save settle, as between real saves
    finite = [x for x in latencies if x != float("inf")]
    return {
        "saves": saves,
        "timeouts": saves - len(finite),
        "median_s": round(statistics.median(latencies), 3),
        "p95_s": round(sorted(latencies)[min(len(latencies) - 1, int(0.95 * len(latencies)))], 3),
        "max_s": round(max(latencies), 3),
        "all_s": [round(x, 3) for x in latencies],
    }


def cmd_full(args: argparse.Namespace) -> int:
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="lapce-load-"))
    work.mkdir(parents=True, exist_ok=True)
    env = _env(work)
    port = _free_port()
    (work / "config.toml").write_text(
        f'[service]\nport = {port}\nmax_k = 100\n\n[paths]\nindex_dir = "{work / "index"}"\n'
        f'cache_dir = "{work / "cache"}"\n\n[workspaces]\nroots = ["{work / "ws"}"]\n\n'
        '[embedder]\nprovider = "static"\n'
        + ("" if args.search_workers is None else f"\n[performance]\nsearch_workers = {args.search_workers}\n")
    )
    source = Path(args.source or sysconfig.get_paths()["stdlib"])
    print(f"work dir {work}; corpus from {source}", flush=True)
    corpus = build_corpus(work, args.chunks, source, env)
    print(f"index: {corpus}", flush=True)
    inproc = in_process(work / "index", args.rounds)
    print(f"in-process: {inproc}", flush=True)
    logs = work / "logs"
    logs.mkdir(exist_ok=True)
    procs: list[subprocess.Popen[bytes]] = []
    url = f"http://127.0.0.1:{port}"
    files = contextlib.ExitStack()
    try:
        procs.append(
            subprocess.Popen(
                [str(BIN / "lapce-ai-service")],
                env=env,
                stdout=files.enter_context(open(logs / "service.out", "wb")),  # noqa: SIM115
                stderr=files.enter_context(open(logs / "service.err", "wb")),  # noqa: SIM115
            )
        )
        started = time.perf_counter()
        _wait(lambda: urllib.request.urlopen(f"{url}/ready", timeout=5).status == 200, 300)
        ready_s = round(time.perf_counter() - started, 2)
        procs.append(
            subprocess.Popen(
                [str(BIN / "lapce-ai-indexer")],
                env=env,
                stdout=files.enter_context(open(logs / "indexer.out", "wb")),  # noqa: SIM115
                stderr=files.enter_context(open(logs / "indexer.err", "wb")),  # noqa: SIM115
            )
        )
        _wait(lambda: (s := _get(f"{url}/indexer/stats"))["running"] and s["state"] == "watching", 600)
        load = run_levels(url, args.duration, args.concurrency)
        print(load_table(load), flush=True)
        saves = save_to_searchable(url, work / "ws", args.saves)
        print(f"save-to-searchable: {saves}", flush=True)
        process = _get(f"{url}/health/detailed")["process"]
        rss = process["rss_bytes"] + ((process.get("search_workers") or {}).get("rss_bytes") or 0)
    finally:
        for p in reversed(procs):
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(60)
            except subprocess.TimeoutExpired:
                p.kill()
        files.close()
    result = {
        "at": time.strftime("%Y-%m-%d %H:%M:%S"),
        "cpus": os.cpu_count(),
        "corpus": corpus,
        "service_ready_seconds": ready_s,
        "service_rss_bytes": rss,
        "in_process": inproc,
        "load": load,
        "save_to_searchable": saves,
        "exit_codes": [p.returncode for p in procs],
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"load-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(result, indent=2))
    print(table(result))
    print(f"\nresults: {out}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def load_table(levels: list[dict[str, Any]]) -> str:
    lines = [
        "| concurrency | QPS | p50 ms | p95 ms | p99 ms | errors | load avg |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in levels:
        lines.append(
            f"| {r['concurrency']} | {r['qps']} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} "
            f"| {r['errors']} of {r['requests']} | {r.get('load_average', '')} |"
        )
    return "\n".join(lines)


def table(r: dict[str, Any]) -> str:
    inproc, saves = r["in_process"], r["save_to_searchable"]
    rows = [
        ("index", f"{r['corpus']['chunks']:,} chunks / {r['corpus']['files']:,} files", ""),
        ("in-process search p50 / p95", f"{inproc['p50_ms']} / {inproc['p95_ms']} ms", ""),
        ("best QPS with p95 <= 50 ms", _best(r["load"]), ">= 200"),
        (
            "save-to-searchable median / p95 / max",
            f"{saves['median_s']} / {saves['p95_s']} / {saves['max_s']} s ({saves['saves']} saves)",
            "median <= 1 s",
        ),
        ("service RSS (HTTP process + search workers)", f"{r['service_rss_bytes'] / 2**20:.0f} MB", ""),
        ("service ready after start", f"{r['service_ready_seconds']} s", ""),
    ]
    lines = ["| metric | measured | target |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return load_table(r["load"]) + "\n\n" + "\n".join(lines)


def _best(levels: list[dict[str, Any]]) -> str:
    ok = [r for r in levels if r["p95_ms"] <= 50 and not r["errors"]]
    if not ok:
        return "none"
    best = max(ok, key=lambda r: r["qps"])
    return f"{best['qps']} (concurrency {best['concurrency']}, p95 {best['p95_ms']} ms)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    c = sub.add_parser("client", help="load a running service")
    c.add_argument("--url", default=os.environ.get("LAPCE_AI_URL", "http://127.0.0.1:8080"))
    c.add_argument("--duration", type=float, default=10.0)
    c.add_argument("--concurrency", type=concurrency_list, default=[4], help="one level or a list: 1,2,4,8")
    c.add_argument("--token", default=os.environ.get("LAPCE_AI_TOKEN") or None)
    c.add_argument("-k", type=int, default=10)
    c.add_argument("--json", action="store_true")
    f = sub.add_parser("full", help="build a 100k-chunk index, serve it, measure")
    f.add_argument("--chunks", type=int, default=100_000)
    f.add_argument("--duration", type=float, default=20.0, help="seconds per concurrency level")
    f.add_argument("--concurrency", type=concurrency_list, default=[1, 2, 4, 8])
    f.add_argument("--rounds", type=int, default=5, help="in-process: passes over the query set")
    f.add_argument("--saves", type=int, default=15)
    f.add_argument("--source", help="code to index (default: this Python's stdlib)")
    f.add_argument("--work", help="work directory (default: a new temporary one)")
    f.add_argument("--search-workers", type=int, help="service search worker processes (default: the service's)")
    f.add_argument("--keep", action="store_true", help="keep the work directory")
    i = sub.add_parser("inprocess", help="in-process search latency on an existing index")
    i.add_argument("--index", required=True)
    i.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    if args.mode == "inprocess":
        return cmd_inprocess(args)
    return cmd_client(args) if args.mode == "client" else cmd_full(args)


if __name__ == "__main__":
    sys.exit(main())
