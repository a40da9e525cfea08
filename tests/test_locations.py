"""A file and a line in a query (a stack frame, a compiler message, words) find the chunk there."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import index_files

from lapce_ai.embedding.base import Embedder
from lapce_ai.index.store import IndexStore
from lapce_ai.search.engine import SearchEngine, load_corpus
from lapce_ai.search.filters import SearchFilters
from lapce_ai.search.locations import OVERLOAD_SHARES, _frame_function, _places, located_chunks, named_test
from lapce_ai.search.ranking import RankConfig


def _functions(names: list[str]) -> str:
    """Python functions of 10 lines each: ``names[i]`` spans lines 10 i + 1 .. 10 i + 9."""
    return "\n".join(
        f"def {name}(data):\n" + "".join(f"    data = data + {n}  # step {n}\n" for n in range(7)) + "    return data\n"
        for name in names
    )


def _java(package: str) -> str:
    return (
        f"package {package};\n\npublic class HashMap {{\n"
        + "".join(
            f"    int method{n}(int x) {{\n        int y = x + {n};\n        return y;\n    }}\n\n" for n in range(6)
        )
        + "}\n"
    )


SWIFT_FILE = "Sources/BitSet/BitSet+SetAlgebra isDisjoint.swift"  # a space in a file name
FILES = {
    "lib/json/decoder.py": _functions(["scan_once", "raw_decode", "decode"]),
    "tools/json/decoder.py": _functions(["helper_one", "helper_two", "decode"]),
    "src/java/util/HashMap.java": _java("java.util"),
    "src/org/other/HashMap.java": _java("org.other"),
    "gin/context.go": "package gin\n\n"
    + "".join(f"func (c *Context) Step{n}() int {{\n\tx := {n}\n\treturn x\n}}\n\n" for n in range(5)),
    "axum/src/routing/mod.rs": "".join(f"pub fn route{n}() -> u32 {{\n    {n}\n}}\n\n" for n in range(5)),
    # `run` twice (two classes, long enough to be cut into methods): a moved frame naming it is
    # read as the nearer one first.
    "lib/codec.py": "".join(
        f"class Codec{n}:\n"
        + "".join(
            f"    def {name}(self, data):\n"
            + "".join(f"        data = data * {m} + 1  # {name} step {m}\n" for m in range(7))
            + "        return data\n\n"
            for name in (*(f"step{n}{m}" for m in range(9)), "run")
        )
        for n in range(2)
    ),
    # Code whose words and path are the frame's: it competes with Codec0.run below.
    "lib/codec/run.py": "def run(codec, line):\n    # run the codec on a line of the file\n    return codec(line)\n",
    # Blank lines before the first function: a line there is in no chunk.
    "lib/padded.py": "\n" * 6 + _functions(["first_step", "second_step"]),
    SWIFT_FILE: "extension BitSet {\n"
    + "".join(f"  func check{n}() -> Bool {{\n    return {n} > 0\n  }}\n" for n in range(5))
    + "}\n",
}


@pytest.fixture(scope="module")
def located_index(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> IndexStore:
    return index_files(tmp_path_factory.mktemp("locations"), FILES, embedder)


def _at(store: IndexStore, query: str) -> list[tuple[str, int, int]]:
    corpus = load_corpus(store)
    chunks = located_chunks(query, corpus)
    return [(corpus.paths[i], int(corpus.start_lines[i]), int(corpus.end_lines[i])) for i, _share in chunks]


def _holds(place: tuple[str, int, int], path: str, line: int) -> bool:
    return place[0] == path and place[1] <= line <= place[2]


@pytest.mark.parametrize(
    ("query", "path", "line"),
    [
        ('File "/usr/lib/python3.11/json/decoder.py", line 15, in raw_decode', "lib/json/decoder.py", 15),
        ("lib/json/decoder.py:25", "lib/json/decoder.py", 25),
        ("C:\\build\\tools\\json\\decoder.py:line 14", "tools/json/decoder.py", 14),
        ("what does line 5 of tools/json/decoder.py do?", "tools/json/decoder.py", 5),
        ("at java.util.HashMap.method2(HashMap.java:14)", "src/java/util/HashMap.java", 14),
        ("at org.other.HashMap.method4(HashMap.java:26)", "src/org/other/HashMap.java", 26),
        ("#2 /var/www/src/java/util/HashMap.java(9): HashMap->method1()", "src/java/util/HashMap.java", 9),
        ("Sources/BitSet/BitSet+SetAlgebra isDisjoint.swift:8: Fatal error", SWIFT_FILE, 8),
        ("\t/home/ci/go/pkg/mod/github.com/gin-gonic/gin/context.go:14 +0x1d", "gin/context.go", 14),
        ("  --> axum/src/routing/mod.rs:10:5", "axum/src/routing/mod.rs", 10),
        ("src/org/other/HashMap.java(26,9): error TS2322", "src/org/other/HashMap.java", 26),
        ("[ERROR] /ci/src/org/other/HashMap.java:[26,9] cannot find symbol", "src/org/other/HashMap.java", 26),
        ("PHP Fatal error:  Uncaught in /srv/tools/json/decoder.py on line 14", "tools/json/decoder.py", 14),
    ],
)
def test_a_frame_places_its_line(located_index: IndexStore, query: str, path: str, line: int) -> None:
    places = _at(located_index, query)
    assert places and _holds(places[0], path, line), places


def test_what_places_nothing(located_index: IndexStore) -> None:
    assert _at(located_index, "decoder.py") == []  # a file name without a line is a file query
    assert _at(located_index, "python 3.11: json decode error at position 15") == []
    assert _at(located_index, "missing.py:12") == []
    # Only the folders it names tell the two decoder.py apart; a bare name is both.
    assert {p[0] for p in _at(located_index, "decoder.py:5")} == {"lib/json/decoder.py", "tools/json/decoder.py"}


def test_a_pasted_frame_finds_its_chunk_first(located_index: IndexStore, embedder: Embedder) -> None:
    frame = 'File "/srv/app/lib/json/decoder.py", line 5, in wrapper'  # the line, not the name
    for mode in ("hybrid", "lexical", "dense"):
        top = SearchEngine(located_index, embedder, mode=mode).search(frame, 3)
        assert (top[0].path, top[0].symbol) == ("lib/json/decoder.py", "scan_once"), (mode, top[0])
    frames = [("lib/json/decoder.py", 5), ("tools/json/decoder.py", 15)]
    trace = "Traceback (most recent call last):\n" + "\n".join(f'  File "/x/{p}", line {n}, in f' for p, n in frames)
    top = SearchEngine(located_index, embedder).search(trace, 2)
    expected = {("lib/json/decoder.py", "scan_once"), ("tools/json/decoder.py", "helper_two")}
    assert {(r.path, r.symbol) for r in top} == expected
    off = SearchEngine(located_index, embedder, config=RankConfig().without("location")).search(frame, 1)
    assert off[0].symbol != "scan_once"  # the words alone do not find it: the test can tell
    filtered = SearchEngine(located_index, embedder).search(frame, 3, SearchFilters(path="tools"))
    assert filtered and all(r.path.startswith("tools/") for r in filtered)
    assert RankConfig().location > 0 and RankConfig().without("location").location == 0


@pytest.mark.parametrize(
    ("frame", "path", "symbol"),
    [
        # The line now lies in another function (`decode`, 21-29) or past the end of the file.
        ('File "/srv/app/lib/json/decoder.py", line 25, in raw_decode', "lib/json/decoder.py", "raw_decode"),
        ('File "/srv/app/lib/json/decoder.py", line 999, in raw_decode', "lib/json/decoder.py", "raw_decode"),
        (
            "goroutine 1 [running]:\ngithub.com/gin-gonic/gin.(*Context).Step1(...)\n"
            "\t/home/ci/go/pkg/mod/github.com/gin-gonic/gin/context.go:20 +0x1d",
            "gin/context.go",
            "Step1",
        ),
    ],
)
def test_a_frame_from_moved_code_finds_its_function_by_name(
    located_index: IndexStore, embedder: Embedder, frame: str, path: str, symbol: str
) -> None:
    # Read by its line alone, the frame would put the chunk now at that line first.
    top = SearchEngine(located_index, embedder).search(frame, 3)
    assert (top[0].path, top[0].symbol) == (path, symbol), top[0]


def test_a_line_before_every_chunk_is_read_as_the_file_head(located_index: IndexStore, embedder: Embedder) -> None:
    # Lines 1-6 are blank: the file's first chunk is the nearest code, and the name the frame
    # gives, where the file has it, is the function meant.
    assert [p[1] for p in _at(located_index, "lib/padded.py:2")] == [7]
    top = SearchEngine(located_index, embedder).search('File "/x/lib/padded.py", line 2, in second_step', 3)
    assert (top[0].path, top[0].symbol) == ("lib/padded.py", "second_step"), top[0]


@pytest.mark.parametrize("mode", ["hybrid", "lexical", "dense"])
def test_every_overload_a_moved_frame_names_comes_before_other_code(
    located_index: IndexStore, embedder: Embedder, mode: str
) -> None:
    # The second is credited less than the nearest, but not decayed as a second chunk of one
    # file would be: which of the two the moved line meant is not known.
    corpus = load_corpus(located_index)
    second_run = next(int(corpus.start_lines[i]) for i, s in enumerate(corpus.symbols) if s == "Codec1.run")
    frame = f'File "/x/lib/codec.py", line {second_run - 2}, in run'
    top = SearchEngine(located_index, embedder, mode=mode).search(frame, 2)
    assert [r.symbol for r in top] == ["Codec1.run", "Codec0.run"], (mode, [r.symbol for r in top])


def test_a_moved_frame_reads_overloads_nearest_first(located_index: IndexStore) -> None:
    corpus = load_corpus(located_index)
    runs = sorted(
        i
        for i, (p, s) in enumerate(zip(corpus.paths, corpus.symbols, strict=True))
        if p == "lib/codec.py" and s.endswith(".run")
    )
    assert len(runs) == 2
    near_second = int(corpus.start_lines[runs[1]]) - 2  # inside Codec1's step18, nearer its run
    found = located_chunks(f'File "/x/lib/codec.py", line {near_second}, in run', corpus)
    assert [(corpus.symbols[i], share) for i, share in found] == [
        ("Codec1.run", OVERLOAD_SHARES[0]),
        ("Codec0.run", OVERLOAD_SHARES[1]),
    ]
    # A line inside a chunk of the frame's name is that chunk first; the other overload follows
    # (the line may have moved into this one from it).
    found = located_chunks(f'File "/x/lib/codec.py", line {int(corpus.end_lines[runs[0]])}, in run', corpus)
    assert [(corpus.symbols[i], share) for i, share in found] == [
        ("Codec0.run", OVERLOAD_SHARES[0]),
        ("Codec1.run", OVERLOAD_SHARES[1]),
    ]
    # A name the file defines once: its chunk alone.
    found = located_chunks('File "/x/lib/codec.py", line 3, in step00', corpus)
    assert [corpus.symbols[i] for i, _ in found] == ["Codec0.step00"]


@pytest.mark.parametrize(
    ("frame", "function"),
    [
        ('File "/srv/app/json/decoder.py", line 355, in raw_decode', "raw_decode"),
        ("at java.util.HashMap.resize(HashMap.java:704)", "resize"),
        ("at debounce (/app/node_modules/lodash/debounce.js:12:9)", "debounce"),
        ("at System.Text.Json.Utf8JsonReader.Read() in /_/src/Utf8JsonReader.cs:line 123", "Read"),
        ("#0 /var/www/src/Yaml/Parser.php(223): Parser->parse()", "parse"),
        ("/usr/share/lua/5.4/list.lua:302: in function 'insert'", "insert"),
        ("/usr/share/lua/5.4/list.lua:302: in function <list.lua:290>", ""),
        ('/ci/lib/std/crypto/sha3.zig:667:25: 0x10a3f in "keccak-512 single" (test)', '"keccak-512 single"'),
        ("#1  0x00007ffff7a4e8b4 in sysmalloc () at ../glibc/malloc/malloc.c:2688", "sysmalloc"),
        ("#1      Parser.parse (package:yaml/src/parser.dart:42:7)", "parse"),
        ("error, called at src/Data/Map.hs:42:15 in main:Data.Map", ""),
        ("src/routing/mod.rs:42:5: warning: unused variable", ""),
        ("what does line 5 of tools/json/decoder.py do?", ""),
        ("app.(*Server).Serve(0xc000012345)\n\t/srv/app/server.go:88 +0x1d", "Serve"),  # Go
        # The line above a Python frame is the code of the one before: not this frame's function.
        ('    obj = self.raw_decode(s)\n  File "/srv/app/main.py", line 9, in <module>', ""),
    ],
)
def test_the_function_a_frame_names(frame: str, function: str) -> None:
    start, end, _line = _places(frame)[-1]  # the last: `.Serve(0` reads as a place too
    assert _frame_function(frame, start, end) == function


def test_hostile_queries_are_read_in_linear_time() -> None:
    for query in ("a." * 1000 + ":1", "a/" * 1000 + "(1", "x.py:1" * 330, "line 1 of " * 200, "." * 1999 + "1"):
        started = time.perf_counter()
        _places(query)
        assert time.perf_counter() - started < 0.5, query[:20]


def test_an_unknown_path_on_disk_is_not_read(located_index: IndexStore, tmp_path: Path) -> None:
    secret = tmp_path / "secret.py"
    secret.write_text("password = 'x'\n")
    assert _at(located_index, f"{secret}:1") == []  # only indexed files are places


def test_a_test_id_names_a_file_and_its_definition(located_index: IndexStore, embedder: Embedder) -> None:
    corpus = load_corpus(located_index)

    def node(query: str) -> tuple[list[str], tuple[str, ...]] | None:
        found = named_test(query, corpus)
        return None if found is None else ([corpus.files[f][1] for f in found[0]], found[1])

    assert node("FAILED tools/json/decoder.py::decode - AssertionError") == (["tools/json/decoder.py"], ("decode",))
    assert node("root/lib/json/decoder.py::Json::decode[x]") == (["lib/json/decoder.py"], ("Json", "decode"))
    assert node("missing.py::decode") is None and node("decoder.py") is None and node("a::b::c") is None
    # Two files define `decode`: the test id's file says which one failed.
    engine = SearchEngine(located_index, embedder)
    for path in ("lib/json/decoder.py", "tools/json/decoder.py"):
        top = engine.search(f"FAILED ci/{path}::decode - AssertionError: assert 1 == 2", 3)
        assert (top[0].path, top[0].symbol) == (path, "decode"), top[0]
