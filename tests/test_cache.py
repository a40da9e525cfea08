"""The 4-tier CST cache: real tree-sitter, real files on disk, no mocks."""

from __future__ import annotations

import os
import random
import sysconfig
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import xxhash
from test_chunking import header_with_macro_lines

from lapce_ai.cache import TieredCstCache, build_cache
from lapce_ai.cache.incremental import compute_edit, full_structure, rechunk, reparse
from lapce_ai.cache.outline import OutlineError, outline_file
from lapce_ai.chunking import cst
from lapce_ai.chunking.cst import ChunkLimits, CstChunker
from lapce_ai.config.settings import FeatureSettings, PathSettings, PerformanceSettings, Settings
from lapce_ai.observability import metrics
from lapce_ai.parsing.languages import LanguageSpec, language_for_path, new_parser
from lapce_ai.parsing.router import ParserRouter

STDLIB = Path(sysconfig.get_paths()["stdlib"])
SMALL = ChunkLimits(max_chars=500, max_lines=15, min_chars=60)  # forces splitting and merging


def py_source(n: int = 6) -> bytes:
    parts = ['"""Module."""\nimport os\n\nLIMIT = 3\n']
    for i in range(n):
        methods = "".join(
            f"    # helper {j}\n    def m{j}(self, x):\n"
            + "".join(f"        x = x * {k} + {j}  # step\n" for k in range(j + 2))
            + "        return x\n\n"
            for j in range(4)
        )
        parts.append(f"\nclass C{i}:\n    '''Doc {i}.'''\n    attr = {i}\n\n{methods}")
        parts.append(f"\n@decorator\ndef f{i}(a, b):\n    if a:\n        return b\n    return a + {i}\n")
    return "".join(parts).encode()


def js_source(n: int = 5) -> bytes:
    out = ["import x from 'y';\nconst LIMIT = 3;\n"]
    for i in range(n):
        body = "".join(f"    this.v{j} = a * {j};\n" for j in range(6))
        out.append(
            f"\n// Class {i}\nclass K{i} {{\n  constructor(a) {{\n{body}  }}\n"
            f"  run(b) {{\n    return b + {i};\n  }}\n}}\n"
            f"\nexport function g{i}(a) {{\n  return a * {i};\n}}\n"
            f"const h{i} = (z) => {{ return z + {i}; }};\n"
        )
    return "".join(out).encode()


def rust_source(n: int = 5) -> bytes:
    out = ["use std::fmt;\n"]
    for i in range(n):
        lets = "".join(f"        let v{j} = x * {j};\n" for j in range(5))
        out.append(
            f"\n/// S{i}\npub struct S{i} {{\n    a: u32,\n}}\n\nimpl S{i} {{\n"
            f"    pub fn new(x: u32) -> Self {{\n{lets}        S{i} {{ a: x }}\n    }}\n"
            f"    fn get(&self) -> u32 {{\n        self.a + {i}\n    }}\n}}\n"
            f"\nfn free{i}(x: u32) -> u32 {{\n    x * {i}\n}}\n"
        )
    return "".join(out).encode()


def go_source(n: int = 5) -> bytes:
    out = ['package main\n\nimport "fmt"\n']
    for i in range(n):
        out.append(
            f"\ntype T{i} struct {{\n\tA int\n}}\n\n// M{i} does things.\nfunc (t *T{i}) M{i}(x int) int {{\n"
            + "".join(f"\tx = x*{j} + t.A\n" for j in range(5))
            + f"\treturn x\n}}\n\nfunc F{i}() {{\n\tfmt.Println({i})\n}}\n"
        )
    return "".join(out).encode()


def elixir_source(n: int = 5) -> bytes:
    # @doc / @spec attributes are documentation the chunker attaches to the def below them.
    out = []
    for i in range(n):
        steps = "".join(f"    x = x * {j} + {i}\n" for j in range(5))
        out.append(
            f"defmodule App{i} do\n  @moduledoc false\n  import Enum\n"
            f'\n  @doc """\n  Runs step {i} over x.\n  """\n  @spec run(integer()) :: integer()\n'
            f"  def run(x) do\n{steps}    x\n  end\n\n  defp help(y), do: y + {i}\nend\n\n"
        )
    return "".join(out).encode()


def csharp_source(n: int = 4) -> bytes:
    # Namespaces holding one class, two classes, and more than fit in a chunk.
    def klass(name: str, i: int) -> str:
        steps = "".join(f"            x = x * {j} + {i};\n" for j in range(4))
        return (
            f"    /// <summary>{name} does step {i}.</summary>\n    public class {name}\n    {{\n"
            f"        public int Run(int x)\n        {{\n{steps}            return x;\n        }}\n    }}\n"
        )

    out = ["using System;\n\nnamespace One\n{\n" + klass("Only", 0) + "}\n\nnamespace Two\n{\n"]
    out.append(klass("First", 1) + "\n" + klass("Second", 2) + "}\n\nnamespace Big\n{\n")
    out.append("\n".join(klass(f"K{i}", i) for i in range(n * 3)) + "}\n")
    return "".join(out).encode()


SOURCES = {
    "App.cs": csharp_source,
    "mod.py": py_source,
    "app.js": js_source,
    "lib.rs": rust_source,
    "main.go": go_source,
    "app.ex": elixir_source,
}
TOKENS = [b"x", b"foo", b" ", b"(", b")", b":", b"{", b"}", b"#", b'"', b"\xc3\xa9", b"\xff", b"def g():", b"\n"]


def mutate(rng: random.Random, src: bytes, gentle: bool) -> bytes:
    """A random edit. Gentle edits keep the syntax (a renamed token, a copied line in place)."""
    lines = src.split(b"\n")
    i = rng.randrange(len(lines))
    line = lines[i]
    op = rng.random()
    if gentle:
        if op < 0.5 and line.strip():
            j = rng.randrange(len(line) - len(line.lstrip()), len(line) + 1)
            lines[i] = line[:j] + rng.choice([b"x", b"1", b"_a"]) + line[j:]
        else:
            lines.insert(i, line)  # same indentation: usually still valid
        return b"\n".join(lines)
    if op < 0.3:
        j = rng.randrange(len(line) + 1)
        lines[i] = line[:j] + rng.choice(TOKENS) + line[j:]
    elif op < 0.5:
        lines.insert(i, lines[rng.randrange(len(lines))])
    elif op < 0.65:
        del lines[i]
    elif op < 0.8:
        k = rng.randrange(len(lines))
        lines[i:i] = lines[k : k + rng.randrange(1, 6)]
    elif line:
        j = rng.randrange(len(line))
        lines[i] = line[:j] + line[rng.randrange(j, len(line) + 1) :]
    return b"\n".join(lines)


def replay(name: str, src: bytes, edits: int, limits: ChunkLimits, seed: int, gentle: bool) -> tuple[int, int]:
    """Edit ``src`` repeatedly; the incremental result must equal chunking from scratch."""
    rng = random.Random(seed)
    spec = language_for_path(name)
    assert spec is not None
    parser = new_parser(spec)
    chunker = CstChunker(limits)
    tree = parser.parse(src)
    state = full_structure(limits, name, spec, src, tree)
    assert state.chunks == chunker.chunk(name, spec, src, tree)
    fast = slow = 0
    for _ in range(edits):
        new = mutate(rng, src, gentle)
        done = reparse(parser, tree, src, new)
        if done is None:
            continue
        new_tree, edit, changed = done
        expected = chunker.chunk(name, spec, new, new_tree)
        scratch = full_structure(limits, name, spec, new, new_tree)
        assert scratch.chunks == expected
        result = rechunk(limits, name, spec, state, src, new, new_tree, edit, changed)
        if result is None:
            slow += 1
            result = scratch
        else:
            fast += 1
            assert result.chunks == expected, (name, edit)
            assert result.symbols == scratch.symbols, (name, edit)
            assert result.emissions == scratch.emissions
        src, tree, state = new, new_tree, result
    return fast, slow


# -- incremental re-parse ----------------------------------------------------------------------


def test_compute_edit_finds_the_replaced_span() -> None:
    old = b"ab\ncdef\ngh"
    new = b"ab\ncXYf\ngh"
    e = compute_edit(old, new)
    assert e is not None
    assert (e.start_byte, e.old_end_byte, e.new_end_byte) == (4, 6, 6)
    assert (e.start_point, e.old_end_point, e.new_end_point) == ((1, 1), (1, 3), (1, 3))
    big = bytes(range(256)) * 100
    e = compute_edit(big, big[:9000] + b"\n\n" + big[9000:])
    assert e is not None and (e.start_byte, e.old_end_byte, e.new_end_byte) == (9000, 9000, 9002)
    assert compute_edit(big, big) is None


@pytest.mark.parametrize("name", sorted(SOURCES))
@pytest.mark.parametrize("limits", [ChunkLimits(), SMALL], ids=["default", "small"])
def test_incremental_equals_scratch_on_random_edits(name: str, limits: ChunkLimits) -> None:
    src = SOURCES[name]()
    fast, slow = replay(name, src, 40, limits, seed=len(name), gentle=False)
    gentle_fast, gentle_slow = replay(name, src, 40, limits, seed=7, gentle=True)
    # The shortcut must actually be exercised, not just fall back every time.
    assert gentle_fast >= 35, (gentle_fast, gentle_slow)
    assert fast >= 25 and fast + slow > 30, (fast, slow)


def test_incremental_equals_scratch_on_stdlib_files() -> None:
    for rel in ("json/decoder.py", "dataclasses.py"):
        src = (STDLIB / rel).read_bytes()
        fast, _ = replay(Path(rel).name, src, 20, ChunkLimits(), seed=3, gentle=True)
        assert fast >= 16
        replay(Path(rel).name, src, 15, SMALL, seed=4, gentle=False)


# -- the router with the cache -----------------------------------------------------------------


def h(data: bytes) -> str:
    return xxhash.xxh3_128_hexdigest(data)


def make_router(cache: TieredCstCache | None) -> ParserRouter:
    return ParserRouter(FeatureSettings(), PerformanceSettings(), cache=cache)


def test_router_reparses_hot_files_incrementally(tmp_path: Path) -> None:
    cache = TieredCstCache(frozen_dir=tmp_path / "cst")
    router, plain = make_router(cache), make_router(None)
    v1 = py_source()
    v2 = v1.replace(b"x = x * 1 + 2  # step", b"x = x * 1 + 22  # step", 1)
    assert v1 != v2
    assert router.process("pkg/mod.py", v1, h(v1)).chunks == plain.process("pkg/mod.py", v1, h(v1)).chunks
    out = router.process("pkg/mod.py", v2, h(v2))
    assert out.chunks == plain.process("pkg/mod.py", v2, h(v2)).chunks
    stats = cache.stats()
    assert stats["parses"] == {"incremental": 1, "full": 1}
    assert stats["chunkings"] == {"incremental": 1, "full": 1}
    v3 = v2.replace(b"LIMIT = 3", b"LIMIT = 4\nOTHER = 5")  # module-level code this time
    assert router.process("pkg/mod.py", v3, h(v3)).chunks == plain.process("pkg/mod.py", v3, h(v3)).chunks
    assert cache.stats()["chunkings"] == {"incremental": 2, "full": 1}
    # Back to v2 (an undo): v3 superseded it in memory, the disk tier still has it, and the
    # old version does not push the live v3 tree out of the hot tier.
    out = router.process("pkg/mod.py", v2, h(v2))
    assert cache.stats()["tiers"]["frozen"]["hits"] == 1
    # Unchanged content: no parse at all.
    assert router.process("pkg/mod.py", v2, h(v2)).chunks == out.chunks
    assert router.process("pkg/mod.py", v3, h(v3)).chunks
    assert cache.stats()["tiers"]["hot"]["hits"] == 1
    assert cache.stats()["parses"]["full"] == 1


def test_edits_after_a_reading_with_macro_lines_as_comments_match_a_fresh_parse(tmp_path: Path) -> None:
    # The hot tree of such a file was parsed from the commented bytes: the next edit must be
    # diffed against those, or tree-sitter would reuse nodes of text that is not the file's.
    cache = TieredCstCache(frozen_dir=tmp_path / "cst")
    router, plain = make_router(cache), make_router(None)
    v1 = header_with_macro_lines(10).encode()
    v2 = v1.replace(b"value = -value;", b"value = -value * 1;", 1)  # inside a function
    v3 = v2.replace(b"JSON_HEDLEY_RETURNS_NON_NULL\n", b"", 1)  # one macro line gone
    v4 = header_with_macro_lines(10, body_line="JSON_ASSERT(last - first >= 2);").encode()
    for version in (v1, v2, v3, v4, v1):
        out = router.process("to_chars.hpp", version, h(version))
        assert out.chunks == plain.process("to_chars.hpp", version, h(version)).chunks
        assert "detail.write_digits_3" in {c.symbol for c in out.chunks}
    # The same bytes again are served from the cache.
    assert router.process("to_chars.hpp", v1, h(v1)).chunks == plain.process("to_chars.hpp", v1, h(v1)).chunks


def test_concurrent_router_calls_match_uncached_results(tmp_path: Path) -> None:
    cache = TieredCstCache(hot_size=4, warm_size=4, cold_size=4, frozen_dir=tmp_path / "cst")
    router, plain = make_router(cache), make_router(None)
    rng = random.Random(5)
    versions = {f"m{i}.py": [py_source(2 + i % 3)] for i in range(12)}
    for vs in versions.values():
        for _ in range(4):
            vs.append(mutate(rng, vs[-1], gentle=True))
    jobs = [(p, v) for p, vs in versions.items() for v in vs] * 3
    rng.shuffle(jobs)
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(lambda job: router.process(job[0], job[1], h(job[1])).chunks, jobs))
    for (path, data), chunks in zip(jobs, got, strict=True):
        assert chunks == plain.process(path, data, h(data)).chunks
    stats = cache.stats()
    assert stats["hits"] > 0 and stats["lookups"] == len(jobs)
    assert not list((tmp_path / "cst").rglob("*.tmp"))


# -- tiers -------------------------------------------------------------------------------------


def fill(cache: TieredCstCache, names: list[str], chunker: CstChunker | None = None) -> dict[str, bytes]:
    """Parse and put one small Python file per name, through the cache's own parse path."""
    spec = language_for_path("x.py")
    assert spec is not None
    parser = new_parser(spec)
    chunker = chunker or CstChunker()
    sources = {}
    for i, name in enumerate(names):
        data = f"def f{i}():\n    return {i}\n\n\nclass K{i}:\n    def m(self):\n        return {i}\n".encode()
        put(cache, spec, parser, chunker, name, data)
        sources[name] = data
    return sources


def put(cache: TieredCstCache, spec: LanguageSpec, parser: object, chunker: CstChunker, name: str, data: bytes) -> None:
    import tree_sitter

    assert isinstance(parser, tree_sitter.Parser)
    tree = cache.parse(name, h(data), data, parser)
    chunks = cache.chunk(name, h(data), spec, data, tree, chunker)
    cache.put_parsed(name, h(data), data, tree, chunks)


def tier_of(cache: TieredCstCache, name: str, data: bytes) -> str | None:
    before = cache.stats()
    if cache.lookup(name, h(data)) is None:
        return None
    after = cache.stats()
    return next(t for t in ("hot", "warm", "cold", "frozen") if after["tiers"][t]["hits"] > before["tiers"][t]["hits"])


def test_evictions_demote_and_hits_promote(tmp_path: Path) -> None:
    cache = TieredCstCache(hot_size=2, warm_size=2, cold_size=2, frozen_dir=tmp_path / "cst")
    names = [f"f{i}.py" for i in range(8)]
    src = fill(cache, names)
    s = cache.stats()["tiers"]
    assert [s[t]["entries"] for t in ("hot", "warm", "cold")] == [2, 2, 2]
    assert s["frozen"]["entries"] == 8  # written through
    assert (s["hot"]["evictions"], s["warm"]["evictions"], s["cold"]["evictions"]) == (6, 4, 2)
    # LRU order: the newest are hot, then warm, then cold, the oldest only on disk.
    assert tier_of(cache, "f7.py", src["f7.py"]) == "hot"
    assert tier_of(cache, "f5.py", src["f5.py"]) == "warm"
    assert tier_of(cache, "f3.py", src["f3.py"]) == "cold"
    assert tier_of(cache, "f3.py", src["f3.py"]) == "warm"  # the cold hit promoted it
    assert tier_of(cache, "f0.py", src["f0.py"]) == "frozen"
    assert tier_of(cache, "f0.py", src["f0.py"]) == "warm"
    assert cache.lookup("f0.py", h(b"other content")) is None
    stats = cache.stats()
    assert stats["misses"] == 1
    assert stats["hit_rate"] == pytest.approx(6 / 7)
    assert set(stats["tiers"]) == {"hot", "warm", "cold", "frozen"}
    for tier in stats["tiers"].values():
        assert {"entries", "bytes", "hits", "evictions"} <= set(tier)


def test_a_new_version_supersedes_the_old_one_in_memory(tmp_path: Path) -> None:
    cache = TieredCstCache(hot_size=1, warm_size=5, cold_size=5, frozen_dir=tmp_path / "cst")
    fill(cache, ["a.py", "b.py"])  # a.py demoted to warm
    spec = language_for_path("a.py")
    assert spec is not None
    put(cache, spec, new_parser(spec), CstChunker(), "a.py", b"def changed():\n    pass\n")
    s = cache.stats()["tiers"]
    assert s["hot"]["entries"] + s["warm"]["entries"] + s["cold"]["entries"] == 2  # one version per path
    assert cache.get_chunks("a.py", h(b"def changed():\n    pass\n")) is not None


def test_frozen_tier_survives_a_restart(tmp_path: Path) -> None:
    first = TieredCstCache(frozen_dir=tmp_path / "cst")
    src = fill(first, ["a.py", "b.py"])
    expected = first.get_chunks("a.py", h(src["a.py"]))
    second = TieredCstCache(frozen_dir=tmp_path / "cst")
    assert second.get_chunks("a.py", h(src["a.py"])) == expected
    assert second.get_symbols("b.py", h(src["b.py"])) is not None
    assert second.stats()["tiers"]["frozen"]["hits"] == 2
    # Entries made with other chunk limits are never served.
    other = TieredCstCache(frozen_dir=tmp_path / "cst", limits=SMALL)
    assert other.get_chunks("a.py", h(src["a.py"])) is None


def test_frozen_entries_of_another_chunker_version_are_never_served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = TieredCstCache(frozen_dir=tmp_path / "cst")
    src = fill(first, ["a.py"])
    monkeypatch.setattr(cst, "CHUNKER_VERSION", cst.CHUNKER_VERSION + 1)
    cst.chunker_fingerprint.cache_clear()
    try:
        upgraded = TieredCstCache(frozen_dir=tmp_path / "cst")
        assert upgraded.get_chunks("a.py", h(src["a.py"])) is None
    finally:
        cst.chunker_fingerprint.cache_clear()


def entry_files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.cst"))


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty", "garbage_header"])
def test_corrupt_frozen_entries_are_dropped_and_counted(tmp_path: Path, damage: str) -> None:
    fill(TieredCstCache(frozen_dir=tmp_path / "cst"), ["a.py"])
    (file,) = entry_files(tmp_path / "cst")
    data = file.read_bytes()
    if damage == "truncate":
        file.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        file.write_bytes(data[:-5] + bytes([data[-5] ^ 0x40]) + data[-4:])
    elif damage == "empty":
        file.write_bytes(b"")
    else:
        file.write_bytes(b"XXXX" + data[4:])
    before = metrics.REGISTRY.get_sample_value("cst_cache_corrupt_entries_total") or 0.0
    fresh = TieredCstCache(frozen_dir=tmp_path / "cst")
    src = b"def f0():\n    return 0\n\n\nclass K0:\n    def m(self):\n        return 0\n"
    assert fresh.get_chunks("a.py", h(src)) is None
    stats = fresh.stats()
    assert stats["tiers"]["frozen"]["corrupt"] == 1 and stats["misses"] == 1
    assert metrics.REGISTRY.get_sample_value("cst_cache_corrupt_entries_total") == before + 1
    assert not file.exists()


def test_frozen_quota_evicts_least_recently_used(tmp_path: Path) -> None:
    cache = TieredCstCache(hot_size=0, warm_size=0, cold_size=0, frozen_dir=tmp_path / "cst")
    src = fill(cache, ["a.py", "b.py", "c.py"])
    sizes = [f.stat().st_size for f in entry_files(tmp_path / "cst")]
    files = {name: tmp_path / "cst" / cache.frozen._name(name, h(data)) for name, data in src.items()}  # type: ignore[union-attr]
    for age, name in enumerate(["b.py", "a.py", "c.py"]):  # b is the least recently used
        os.utime(files[name], (1_000_000 + age, 1_000_000 + age))
    assert cache.frozen is not None
    cache.frozen._scanned_at = 0.0  # as if the periodic rescan were due
    cache.resize(0, 0, 0, frozen_bytes=sum(sizes) - 1)
    assert not files["b.py"].exists() and files["a.py"].exists() and files["c.py"].exists()
    assert cache.stats()["tiers"]["frozen"]["evictions"] == 1
    fill(cache, ["d.py", "e.py", "f.py"])
    _entries, total = cache.frozen.stats()
    assert total <= sum(sizes) - 1
    assert sum(f.stat().st_size for f in entry_files(tmp_path / "cst")) <= sum(sizes) - 1


def test_shared_directory_tolerates_another_process_deleting(tmp_path: Path) -> None:
    writer = TieredCstCache(hot_size=0, warm_size=0, cold_size=0, frozen_dir=tmp_path / "cst")
    reader = TieredCstCache(hot_size=0, warm_size=0, cold_size=0, frozen_dir=tmp_path / "cst")
    src = fill(writer, [f"s{i}.py" for i in range(20)])
    stop = threading.Event()

    def churn() -> None:
        while not stop.is_set():
            for f in entry_files(tmp_path / "cst")[::2]:
                f.unlink(missing_ok=True)
            fill(writer, list(src))

    t = threading.Thread(target=churn)
    t.start()
    try:
        for _ in range(100):
            for name, data in src.items():
                got = reader.lookup(name, h(data))
                assert got is None or got.chunks[0].path == name
    finally:
        stop.set()
        t.join()
    assert reader.stats()["tiers"]["frozen"]["corrupt"] == 0


WRITER = """
import sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from test_cache import fill
from lapce_ai.cache import TieredCstCache

# Another process on the same directory, with a quota so small it keeps deleting entries.
cache = TieredCstCache(hot_size=0, warm_size=0, cold_size=0, frozen_dir=Path(sys.argv[1]), frozen_bytes=6000)
deadline = time.monotonic() + 1.0
while time.monotonic() < deadline:
    cache.frozen._scanned_at = 0.0
    fill(cache, [f"s{i}.py" for i in range(20)])
"""


def test_shared_directory_with_a_real_second_process(tmp_path: Path) -> None:
    import subprocess
    import sys

    root = tmp_path / "cst"
    reader = TieredCstCache(hot_size=0, warm_size=0, cold_size=0, frozen_dir=root)
    src = fill(TieredCstCache(hot_size=0, warm_size=0, cold_size=0, frozen_dir=root), [f"s{i}.py" for i in range(20)])
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(root), str(Path(__file__).parent)])
    served = 0
    try:
        while proc.poll() is None:
            for name, data in src.items():
                got = reader.lookup(name, h(data))
                if got is not None:
                    served += 1
                    assert got.chunks[0].path == name and got.chunks[0].content.startswith("def f")
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == 0
    stats = reader.stats()
    assert served > 0 and stats["misses"] > 0, stats  # entries came and went under the reader
    assert stats["tiers"]["frozen"]["corrupt"] == 0


def test_live_resize_demotes_and_grows(tmp_path: Path) -> None:
    cache = TieredCstCache(hot_size=4, warm_size=4, cold_size=4, frozen_dir=tmp_path / "cst")
    src = fill(cache, [f"r{i}.py" for i in range(10)])
    cache.resize(1, 2, 3)
    s = cache.stats()["tiers"]
    assert [s[t]["entries"] for t in ("hot", "warm", "cold")] == [1, 2, 3]
    assert [s[t]["capacity"] for t in ("hot", "warm", "cold")] == [1, 2, 3]
    rendered = metrics.render().decode()
    assert 'cst_cache_tier_size{tier="hot"} 1.0' in rendered
    for name, data in src.items():  # nothing was lost: what left memory is on disk
        assert cache.lookup(name, h(data)) is not None
    cache.reconfigure(PerformanceSettings(cache_hot_size=10, cache_warm_size=10, cache_cold_size=10))
    assert cache.stats()["tiers"]["warm"]["capacity"] == 10


def test_metrics_have_the_runbook_names(tmp_path: Path) -> None:
    cache = TieredCstCache(frozen_dir=tmp_path / "cst")
    src = fill(cache, ["m.py"])
    cache.lookup("m.py", h(src["m.py"]))
    cache.lookup("m.py", h(b"nope"))
    text = metrics.render().decode()
    for name in (
        "cst_cache_hits_total ",
        'cst_cache_tier_hits_total{tier="hot"}',
        "cst_cache_misses_total ",
        "cst_cache_get_duration_seconds_bucket",
        'cst_cache_tier_size{tier="warm"}',
        "cst_cache_corrupt_entries_total",
    ):
        assert name in text, name
    cache.resize(0, 0, 0)
    assert 'cst_cache_evictions_total{tier="hot"}' in metrics.render().decode()


def test_hits_and_misses_carry_the_same_labels_and_tiers_are_counted_apart(tmp_path: Path) -> None:
    """The runbook divides rate(cst_cache_hits_total) by itself plus rate(cst_cache_misses_total):
    one-to-one matching needs both series to have the same labels; the tier is a counter of its own."""
    from prometheus_client.parser import text_string_to_metric_families

    def samples() -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
        out: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
        for family in text_string_to_metric_families(metrics.render().decode()):
            for s in family.samples:
                out.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
        return out

    before = samples()
    cache = TieredCstCache(hot_size=1, warm_size=1, cold_size=1, frozen_dir=tmp_path / "cst")
    src = fill(cache, ["a.py", "b.py", "c.py", "d.py"])
    served = [tier_of(cache, name, data) for name, data in src.items()]
    assert cache.lookup("a.py", h(b"other")) is None
    after = samples()
    hits, misses = after["cst_cache_hits_total"], after["cst_cache_misses_total"]
    assert set(hits) == set(misses) == {()}
    gained = {
        tier: after["cst_cache_tier_hits_total"].get((("tier", tier),), 0.0)
        - before.get("cst_cache_tier_hits_total", {}).get((("tier", tier),), 0.0)
        for tier in ("hot", "warm", "cold", "frozen")
    }
    assert gained == {t: float(served.count(t)) for t in gained} and sum(gained.values()) == 4
    assert hits[()] - before.get("cst_cache_hits_total", {}).get((), 0.0) == 4
    assert misses[()] - before.get("cst_cache_misses_total", {}).get((), 0.0) == 1


def test_misses_are_logged_as_one_cache_miss_line_per_window(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from lapce_ai.observability import events

    cache = TieredCstCache(frozen_dir=tmp_path / "cst")
    cache.miss_log.window = 0.3
    src = fill(cache, ["kept.py"])
    with caplog.at_level("INFO", logger="lapce_ai.cache"):
        for i in range(7):
            assert cache.lookup(f"gone{i}.py", h(b"x%d" % i)) is None
        assert cache.lookup("kept.py", h(src["kept.py"])) is not None
        assert wait_until(lambda: any(r.__dict__.get("event") == "cache_miss" for r in caplog.records))
        time.sleep(0.5)  # no second line for the same window
    lines = [r for r in caplog.records if r.__dict__.get("event") == "cache_miss"]
    assert len(lines) == 1
    line = lines[0]
    assert line.levelname == "INFO" and line.getMessage().startswith("cache_miss: 7 of 8 CST cache lookups")
    assert line.__dict__["misses"] == 7 and line.__dict__["lookups"] == 8
    assert line.__dict__["paths"] == [f"gone{i}.py" for i in range(5)] and "(+2 more)" in line.getMessage()
    assert events.recent()[-1]["misses"] == 7  # kept for the service to relay
    assert cache.miss_log.flush() is None  # nothing left open


def wait_until(predicate: object, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(predicate) and predicate():
            return True
        time.sleep(0.02)
    return False


def test_frozen_tier_on_disk_is_counted_read_only(tmp_path: Path) -> None:
    from lapce_ai.cache.frozen import on_disk

    cache = TieredCstCache(frozen_dir=tmp_path / "cst")
    fill(cache, [f"n{i}.py" for i in range(5)])
    shard = next(p for p in (tmp_path / "cst").iterdir() if p.is_dir())
    stale = shard / ".left-by-a-dead-writer.tmp"
    stale.write_bytes(b"x")
    os.utime(stale, (0, 0))
    entries, size = on_disk(tmp_path / "cst", max_age=0)
    assert cache.frozen is not None and (entries, size) == cache.frozen.stats()
    assert entries == 5 and stale.exists()  # a reader never deletes
    assert on_disk(tmp_path / "nowhere", max_age=0) == (0, 0)


# -- configuration and the outline command -----------------------------------------------------


def settings_in(tmp_path: Path, **features: bool) -> Settings:
    return Settings(
        paths=PathSettings(index_dir=tmp_path / "index", cache_dir=tmp_path / "cache"),
        features=FeatureSettings(**features),  # type: ignore[arg-type]
    )


def test_build_cache_follows_settings(tmp_path: Path) -> None:
    assert build_cache(settings_in(tmp_path, tiered_cache=False)) is None
    cache = build_cache(settings_in(tmp_path))
    assert cache is not None and cache.frozen is not None
    assert cache.frozen.root == tmp_path / "cache" / "cst"
    assert cache.stats()["tiers"]["warm"]["capacity"] == 500


def test_outline_is_served_from_disk_on_the_second_run(tmp_path: Path) -> None:
    file = tmp_path / "mod.py"
    file.write_bytes(py_source(2))
    settings = settings_in(tmp_path)
    first_cache = build_cache(settings)
    first = outline_file(file, settings, cache=first_cache)
    assert {"start_line", "end_line", "kind", "symbol"} == set(first[0])
    kinds = {(s["kind"], s["symbol"]) for s in first}
    assert ("class", "C0") in kinds and ("method", "C0.m1") in kinds and ("function", "f1") in kinds
    c0 = next(s for s in first if s["symbol"] == "C0")
    assert file.read_text().split("\n")[c0["start_line"] - 1] == "class C0:"
    second_cache = build_cache(settings)  # a new process: nothing in memory
    assert second_cache is not None
    assert outline_file(file, settings, cache=second_cache) == first
    stats = second_cache.stats()
    assert stats["tiers"]["frozen"]["hits"] == 1 and stats["parses"]["full"] == 0
    assert outline_file(file, settings_in(tmp_path, tiered_cache=False)) == first
    with pytest.raises(OutlineError):
        outline_file(tmp_path / "notes.unknownext", settings)


def test_outline_cli(tmp_path: Path, isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from lapce_ai.cli.index_cmd import main

    file = tmp_path / "app.rs"
    file.write_bytes(rust_source(1))
    for _ in range(2):
        with pytest.raises(SystemExit) as done:
            main(["outline", str(file), "--json"])
        assert done.value.code == 0
    out = capsys.readouterr().out
    assert '"symbol": "S0"' in out and '"kind": "impl"' in out
    assert entry_files(isolated_env / "xdg" / "lapce-ai" / "cache" / "cst")
