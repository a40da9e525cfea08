"""CST cache figures: replay an editing workload over the Python standard library.

Three measurements, one table:

1. Hit rate per tier and overall, and get() p50/p99, with the default tier sizes (100 / 500 /
   2000 entries, 256 MB on disk). Files are drawn Zipf-distributed over the stdlib's .py files;
   each draw is either a read of the file's current content (an editor asking for an outline,
   the indexer re-checking a file) or, with probability --edit-rate, a one-line edit (a developer
   renaming an identifier on a line; every 10 edits of a file they move to another line) followed
   by the indexer's parse of the new content. A new content hash is a miss by definition, so the
   edit rate caps the hit rate at 1 - edit rate.
2. Re-parse time (parse + chunk) for a one-line edit in a large file: incrementally from the hot
   tier vs from scratch, with the results checked equal.
3. RSS over a long replay on a corpus large enough to fill every tier (stdlib + site-packages).

    .venv/bin/python bench/cache.py [--ops 30000] [--rss-ops 30000] [--zipf 1.1] [--edit-rate 0.05]
"""

from __future__ import annotations

import argparse
import keyword
import random
import re
import statistics
import sysconfig
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import xxhash

from lapce_ai.cache import TieredCstCache
from lapce_ai.chunking.cst import CstChunker
from lapce_ai.parsing.languages import language_for_path, new_parser

STDLIB = Path(sysconfig.get_paths()["stdlib"])
SITE = Path(sysconfig.get_paths()["purelib"])
IDENT = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")
SPEC = language_for_path("x.py")
assert SPEC is not None


def corpus(with_site_packages: bool) -> list[Path]:
    files = [p for p in STDLIB.rglob("*.py") if "site-packages" not in p.parts and p.is_file()]
    if with_site_packages and SITE.is_dir():
        files += [p for p in SITE.rglob("*.py") if p.is_file()]
    return sorted(files)


class Workload:
    """Zipf-distributed file picks and reproducible one-line edits; O(1) state per file."""

    def __init__(self, files: list[Path], zipf: float, edit_rate: float, seed: int):
        self.rng = random.Random(seed)
        self.files = files[:]
        self.rng.shuffle(self.files)  # popularity is unrelated to the file name
        weights = [1.0 / (rank + 1) ** zipf for rank in range(len(self.files))]
        total = sum(weights)
        acc = 0.0
        self.cdf = []
        for w in weights:
            acc += w / total
            self.cdf.append(acc)
        self.edit_rate = edit_rate
        self.versions: dict[int, int] = {}

    def pick(self) -> tuple[int, bool]:
        import bisect

        i = min(bisect.bisect_left(self.cdf, self.rng.random()), len(self.files) - 1)
        edit = self.rng.random() < self.edit_rate
        if edit:
            self.versions[i] = self.versions.get(i, 0) + 1
        return i, edit

    def content(self, i: int) -> bytes:
        data = self.files[i].read_bytes()
        v = self.versions.get(i, 0)
        return edited(data, seed=i * 7919 + v // 10, suffix=v) if v else data


def edited(data: bytes, seed: int, suffix: int) -> bytes:
    """Rename one identifier (not a keyword) on one line: a typical one-line edit."""
    lines = data.split(b"\n")
    rng = random.Random(seed)
    for _ in range(50):
        n = rng.randrange(len(lines))
        line = lines[n]
        if line.lstrip().startswith((b"#", b'"', b"'")):
            continue
        names = [m for m in IDENT.finditer(line) if not keyword.iskeyword(m.group().decode())]
        if names:
            m = rng.choice(names)
            lines[n] = line[: m.end()] + f"_e{suffix}".encode() + line[m.end() :]
            return b"\n".join(lines)
    return data + f"\n# edit {suffix}\n".encode()


def serve(cache: TieredCstCache, rel: str, data: bytes, parser: object, chunker: CstChunker) -> bool:
    """What the router does for one file: a lookup, then parse + chunk + put on a miss."""
    import tree_sitter

    assert isinstance(parser, tree_sitter.Parser) and SPEC is not None
    digest = xxhash.xxh3_128_hexdigest(data)
    if cache.lookup(rel, digest) is not None:
        return True
    tree = cache.parse(rel, digest, data, parser)
    chunks = cache.chunk(rel, digest, SPEC, data, tree, chunker)
    cache.put_parsed(rel, digest, data, tree, chunks)
    return False


def replay(
    cache: TieredCstCache,
    work: Workload,
    ops: int,
    on_step: Callable[[int], None] | None = None,
) -> list[float]:
    assert SPEC is not None
    parser = new_parser(SPEC)
    chunker = CstChunker()
    latencies: list[float] = []
    for step in range(ops):
        i, _ = work.pick()
        data = work.content(i)
        rel = str(work.files[i])
        digest = xxhash.xxh3_128_hexdigest(data)
        started = time.perf_counter()
        hit = cache.lookup(rel, digest)
        latencies.append(time.perf_counter() - started)
        if hit is None:
            tree = cache.parse(rel, digest, data, parser)
            chunks = cache.chunk(rel, digest, SPEC, data, tree, chunker)
            cache.put_parsed(rel, digest, data, tree, chunks)
        if on_step is not None:
            on_step(step)
    return latencies


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def hit_rates(before: dict[str, object], after: dict[str, object]) -> dict[str, float]:
    def get(s: dict[str, object], *keys: str) -> float:
        cur: object = s
        for k in keys:
            assert isinstance(cur, dict)
            cur = cur[k]
        assert isinstance(cur, (int, float))
        return float(cur)

    lookups = get(after, "lookups") - get(before, "lookups")
    out = {t: (get(after, "tiers", t, "hits") - get(before, "tiers", t, "hits")) / lookups for t in TIER_NAMES}
    out["overall"] = sum(out.values())
    return out


TIER_NAMES = ("hot", "warm", "cold", "frozen")


def _zero_tiers() -> dict[str, dict[str, int]]:
    return {t: {"hits": 0} for t in TIER_NAMES}


def incremental_vs_scratch(path: Path, reps: int) -> tuple[float, float, bool]:
    """Median ms of parse + chunk after a one-line edit mid-file: from the hot tree vs from scratch."""
    assert SPEC is not None
    parser = new_parser(SPEC)
    chunker = CstChunker()
    v1 = path.read_bytes()
    lines = v1.split(b"\n")
    mid = len(lines) // 2
    while True:
        names = [m for m in IDENT.finditer(lines[mid]) if not keyword.iskeyword(m.group().decode())]
        if names and not lines[mid].lstrip().startswith((b"#", b'"', b"'")):
            break
        mid += 1
    m = names[0]
    lines[mid] = lines[mid][: m.end()] + b"_edited" + lines[mid][m.end() :]
    v2 = b"\n".join(lines)
    h2 = xxhash.xxh3_128_hexdigest(v2)
    with tempfile.TemporaryDirectory() as tmp:
        cache = TieredCstCache(frozen_dir=Path(tmp))
        serve(cache, "big.py", v1, parser, chunker)  # v1 is now hot
        inc, scratch = [], []
        same = True
        for _ in range(reps):
            started = time.perf_counter()
            tree = cache.parse("big.py", h2, v2, parser)
            got = cache.chunk("big.py", h2, SPEC, v2, tree, chunker)
            inc.append(time.perf_counter() - started)
            started = time.perf_counter()
            full_tree = parser.parse(v2)
            want = chunker.chunk("big.py", SPEC, v2, full_tree)
            scratch.append(time.perf_counter() - started)
            same = same and got == want
        assert cache.stats()["chunkings"]["incremental"] == reps, "the edit fell back to a full chunking"
    return statistics.median(inc) * 1000, statistics.median(scratch) * 1000, same


def rss_mb() -> float:
    return float(psutil.Process().memory_info().rss) / 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ops", type=int, default=30_000)
    ap.add_argument("--rss-ops", type=int, default=30_000)
    ap.add_argument("--zipf", type=float, default=1.1)
    ap.add_argument("--edit-rate", type=float, default=0.05)
    ap.add_argument("--warmup", type=float, default=0.1, help="share of ops before steady-state figures")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--reps", type=int, default=15)
    args = ap.parse_args()
    rows: list[tuple[str, str, str]] = []

    # 1. Hit rates and latency, default sizes, stdlib.
    files = corpus(with_site_packages=False)
    work = Workload(files, args.zipf, args.edit_rate, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        cache = TieredCstCache(frozen_dir=Path(tmp) / "cst")
        start = cache.stats()
        warm_at = int(args.ops * args.warmup)
        snap: dict[str, object] = {}

        def mark(step: int) -> None:
            if step == warm_at - 1:
                snap.update(cache.stats())

        t0 = time.perf_counter()
        lat = replay(cache, work, args.ops, mark)
        seconds = time.perf_counter() - t0
        end = cache.stats()
        # A restart: a new process with empty memory tiers over the same disk tier.
        restarted = TieredCstCache(frozen_dir=Path(tmp) / "cst")
        restart_ops = max(args.ops // 10, 100)
        restart_lat = replay(restarted, work, restart_ops)
        after_restart = hit_rates(restarted.stats() | {"lookups": 0, "tiers": _zero_tiers()}, restarted.stats())
    whole = hit_rates(start, end)
    steady = hit_rates(snap, end)
    steady_lat = lat[warm_at:]
    rows.append(("workload", f"{args.ops} ops over {len(files)} stdlib .py files", f"{seconds:.0f} s"))
    rows.append(("", f"Zipf s={args.zipf}, edit rate {args.edit_rate}", "(edits are misses by definition)"))
    for t in (*TIER_NAMES, "overall"):
        rows.append((f"hit rate {t}", f"{whole[t]:.3f} (whole run)", f"{steady[t]:.3f} (after warm-up)"))
    rows.append(
        (
            "parses on miss",
            f"{end['parses']['incremental']} incremental / {end['parses']['full']} full",  # type: ignore[index]
            f"chunkings {end['chunkings']['incremental']} incremental",  # type: ignore[index]
        )
    )
    p50, p99 = pct(steady_lat, 0.5) * 1000, pct(steady_lat, 0.99) * 1000
    rows.append(("get p50 / p99", f"{p50:.3f} ms / {p99:.3f} ms", "ALERT: p99 > 10 ms" if p99 > 10 else "ok (< 10 ms)"))
    rows.append(
        (
            f"after a restart ({restart_ops} ops)",
            f"hit rate {after_restart['overall']:.3f}, frozen {after_restart['frozen']:.3f}",
            f"get p99 {pct(restart_lat, 0.99) * 1000:.3f} ms",
        )
    )

    # 2. Incremental vs scratch on large files.
    for name in ("_pydecimal.py", "typing.py"):
        inc, scratch, same = incremental_vs_scratch(STDLIB / name, args.reps)
        size = (STDLIB / name).stat().st_size // 1024
        rows.append(
            (
                f"one-line edit, {name} ({size} KB)",
                f"incremental {inc:.2f} ms vs scratch {scratch:.2f} ms",
                f"{scratch / inc:.1f}x faster, equal: {same}",
            )
        )

    # 3. RSS over a long replay on a corpus that fills every tier.
    big = corpus(with_site_packages=True)
    work = Workload(big, 1.0, args.edit_rate, args.seed + 1)
    samples: list[tuple[int, float, bool]] = []
    with tempfile.TemporaryDirectory() as tmp:
        cache = TieredCstCache(frozen_dir=Path(tmp) / "cst")

        def sample(step: int) -> None:
            if step % 2000 == 1999:
                full = cache.stats()["tiers"]["cold"]["entries"] >= 2000
                samples.append((step + 1, rss_mb(), full))

        replay(cache, work, args.rss_ops, sample)
        final = cache.stats()
    full_samples = [s for s in samples if s[2]]
    if full_samples:
        first, last = full_samples[0], full_samples[-1]
        peak = max(s[1] for s in full_samples)
        growth = (last[1] - first[1]) / first[1] * 100
        rows.append(
            (
                f"RSS, {args.rss_ops} ops over {len(big)} files",
                f"{first[1]:.0f} MB when tiers full (op {first[0]}) -> {last[1]:.0f} MB at op {last[0]}",
                f"peak {peak:.0f} MB, growth {growth:+.1f}%",
            )
        )
    else:
        rows.append(("RSS", "tiers never filled: raise --rss-ops", ""))
    tiers = final["tiers"]
    rows.append(
        (
            "tiers at the end",
            " / ".join(f"{t} {tiers[t]['entries']}" for t in TIER_NAMES),
            f"frozen {tiers['frozen']['bytes'] / 1e6:.0f} MB on disk",
        )
    )
    rows.append(("RSS samples (MB)", " ".join(f"{s[1]:.0f}" for s in samples), ""))

    width = [max(len(r[i]) for r in rows) for i in range(3)]
    line = "+".join("-" * (w + 2) for w in width)
    print(line)
    for r in rows:
        print(" | ".join(c.ljust(w) for c, w in zip(r, width, strict=True)))
    print(line)


if __name__ == "__main__":
    main()
