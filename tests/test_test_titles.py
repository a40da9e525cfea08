"""Test blocks are chunks named by their titles, and a failing test, as its runner names it,
finds its block."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import index_files

from lapce_ai.chunking.model import TEST_KIND
from lapce_ai.embedding.base import Embedder
from lapce_ai.index.store import IndexStore
from lapce_ai.parsing.languages import definitions, language_for_path, new_parser
from lapce_ai.search.engine import SearchEngine, load_corpus
from lapce_ai.search.filters import SearchFilters
from lapce_ai.search.path_priors import path_penalized
from lapce_ai.search.ranking import RankConfig
from lapce_ai.search.test_titles import named_tests

JEST = "\u203a"  # Jest's separator between titles


def _steps(indent: str, n: int) -> str:
    return "".join(f"{indent}const step{i} = compute({i}, 'value');\n" for i in range(n))


def _jest() -> str:
    def it(title: str) -> str:
        return f"  it('{title}', () => {{\n{_steps('    ', 6)}    expect(step1).toBe(1);\n  }});\n\n"

    return (
        "import { Router } from '../src/router';\n\n"
        "describe('Router', () => {\n"
        "  const router = new Router();\n\n"
        + it("adds a route")
        + it("removes a route")
        + "  describe('when empty', () => {\n"
        + "".join(
            f"    it('{t}', () => {{\n{_steps('      ', 6)}    }});\n\n" for t in ("adds a route", "lists no routes")
        )
        + "  });\n});\n"
    )


def _blocks(opening: str, line: str, closing: str, titles: tuple[str, ...]) -> str:
    """A test block per title: ``opening`` (formatted with the title), 8 lines of body
    (``line`` formatted with 0..7), ``closing``."""
    return "".join(opening.format(t) + "".join(line.format(i) for i in range(8)) + closing for t in titles)


RSPEC = (
    "RSpec.describe Rack::Builder do\n"
    + _blocks(
        '  it "{}" do\n',
        "    app{0} = build({0})\n",
        "  end\n\n",
        ("supports mapping", "supports run with block", "raises if run provided both app and block"),
    )
    + "end\n"
)

EXUNIT = (
    'defmodule Plug.RouterTest do\n  use ExUnit.Case\n\n  describe "forward" do\n'
    + _blocks(
        '    test "{}" do\n',
        "      conn{0} = call({0})\n",
        "    end\n\n",
        ("strips segments of the path", "keeps the query string"),
    )
    + "  end\nend\n"
)

GO = (
    "package router\n\nfunc TestRouter(t *testing.T) {\n\tr := New()\n"
    + _blocks(
        '\tt.Run("{}", func(t *testing.T) {{\n',
        '\t\tr.Add("/{0}", nil)\n',
        "\t})\n",
        ("adds a route", "removes a route"),
    )
    + "}\n"
)

DART = (
    "void main() {\n  group('RouteTable', () {\n"
    + _blocks(
        "    test('{}', () {{\n", "      expect(route({0}), {0});\n", "    });\n", ("grows on add", "shrinks on remove")
    )
    + "  });\n}\n"
)

# The code the tests test: it shares their words, and is what a description asks for.
ROUTER = "".join(
    f"export function {name}(router, path) {{\n  // {words} a route to the router\n"
    + _steps("  ", 6)
    + "  return router;\n}\n\n"
    for name, words in (("addRoute", "adds"), ("removeRoute", "removes"), ("listRoutes", "lists"))
)

FILES = {
    "tests/router.test.ts": _jest(),
    "src/router.ts": ROUTER,
    "spec/builder_spec.rb": RSPEC,
    "lib/builder.rb": "module Rack\n  class Builder\n    def map(path)\n      @map[path] = run\n    end\n  end\nend\n",
    "test/router_test.exs": EXUNIT,
    "router_test.go": GO,
    "test/router_test.dart": DART,
}


@pytest.fixture(scope="module")
def titled_index(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> IndexStore:
    return index_files(tmp_path_factory.mktemp("titles"), FILES, embedder)


def _defs(path: str, source: str) -> list[tuple[str, str]]:
    spec = language_for_path(path)
    assert spec is not None
    tree = new_parser(spec).parse(source.encode())
    return [(d.kind, d.name) for d in definitions(spec, tree.root_node)]


@pytest.mark.parametrize(
    ("path", "source", "expected"),
    [
        (
            "a.test.js",
            "describe('Router', () => {\n  it('adds a route', function () {});\n"
            '  test.only("removes it", async () => {});\n});\n',
            [("test", "Router"), ("test", "adds a route"), ("test", "removes it")],
        ),
        ("a.test.tsx", "it('renders <App />', () => { render(<App />); });\n", [("test", "renders <App />")]),
        (
            "a_spec.rb",
            'describe Rack::Builder do\n  context "when empty" do\n    it("maps") { expect(1) }\n  end\nend\n',
            [("test", "Rack::Builder"), ("test", "when empty"), ("test", "maps")],
        ),
        (
            "a_test.go",
            'package a\nfunc TestA(t *testing.T) {\n\tt.Run("adds", func(t *testing.T) {})\n'
            "\tt.Run(`raw title`, func(t *testing.T) {})\n\tt.Run(tc.name, func(t *testing.T) {})\n}\n",
            [("function", "TestA"), ("test", "adds"), ("test", "raw title")],
        ),
        (
            "a_test.dart",
            "void main() {\n  group('Router', () {\n    test(\"adds\", () {});\n  });\n}\n",
            [("function", "main"), ("test", "'Router'"), ("test", '"adds"')],
        ),
        (
            "a_test.scala",
            'class ASuite extends munit.FunSuite {\n  test("adds a route") {\n    assert(true)\n  }\n'
            '  describe("Router") {\n    it("adds") {\n      x\n    }\n  }\n  val y = foo("no test") { 1 }\n}\n',
            [("class", "ASuite"), ("test", '"adds a route"'), ("test", '"Router"'), ("test", '"adds"')],
        ),
        (
            "a_test.php",
            "<?php\nit('adds a route', function () {\n    expect(1)->toBe(1);\n});\n"
            "describe('Router', function () {\n  test('adds', fn () => 1);\n});\nlog('message', function () {});\n",
            [("test", "adds a route"), ("test", "Router"), ("test", "adds")],
        ),
        (
            "RouterTest.kt",
            'class RouterTest : FunSpec({\n    context("Router") {\n        test("adds a route") {\n'
            '            x shouldBe 1\n        }\n    }\n    println("no test")\n})\n',
            [("class", "RouterTest"), ("test", "Router"), ("test", "adds a route")],
        ),
        (
            "a_test.exs",
            'defmodule ATest do\n  describe "call/2" do\n    test "invokes plugs", %{conn: conn} do\n'
            "      conn\n    end\n  end\nend\n",
            [("module", "ATest"), ("test", "call/2"), ("test", "invokes plugs")],
        ),
    ],
)
def test_test_blocks_are_definitions_named_by_their_title(
    path: str, source: str, expected: list[tuple[str, str]]
) -> None:
    assert _defs(path, source) == expected


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("a.test.js", "it.todo('adds a route');\nhelper('adds a route', () => {});\ndescribe(title, () => {});\n"),
        ("a.test.js", "const t = () => it('inside an expression', () => {});\n"),
        ("a_spec.rb", 'it "has no block"\ncontext\nlog "message" do\nend\n'),
        ("a_test.exs", 'test "no body"\nlog "message" do\n  :ok\nend\n'),
    ],
)
def test_calls_that_are_no_test_blocks(path: str, source: str) -> None:
    assert [d for d in _defs(path, source) if d[0] == TEST_KIND] == []


def _chunks(store: IndexStore, path: str) -> list[tuple[str, str]]:
    corpus = load_corpus(store)
    return [(corpus.kinds[i], corpus.symbols[i]) for i in range(corpus.n) if corpus.paths[i] == path]


def test_a_test_file_is_cut_along_its_tests(titled_index: IndexStore) -> None:
    # The whole file would fit in one chunk; a `describe` is opened like a namespace.
    assert len(FILES["tests/router.test.ts"]) < 2400
    chunks = _chunks(titled_index, "tests/router.test.ts")
    tests = [symbol for kind, symbol in chunks if kind == TEST_KIND]
    assert "Router.adds a route" in tests and "Router.removes a route" in tests
    assert "Router.when empty.adds a route" in tests and "Router.when empty.lists no routes" in tests
    assert ("test", "Router") in chunks  # its own code between the tests (`const router = ...`)
    assert "Rack::Builder.supports mapping" in [s for k, s in _chunks(titled_index, "spec/builder_spec.rb")]
    exunit = [s for k, s in _chunks(titled_index, "test/router_test.exs") if k == TEST_KIND]
    assert "Plug.RouterTest.forward.keeps the query string" in exunit


def test_a_test_title_is_no_definition_of_a_name(titled_index: IndexStore) -> None:
    corpus = load_corpus(titled_index)
    assert all(corpus.kinds[i] != TEST_KIND for chunks in corpus.by_symbol.values() for i in chunks)
    assert "builder" not in corpus.by_symbol  # `describe Rack::Builder` uses the class
    assert any(corpus.symbols[i] == "Rack::Builder.supports mapping" for i in range(corpus.n))


@pytest.mark.parametrize(
    ("failure", "path", "symbol"),
    [
        (f"● Router {JEST} when empty {JEST} adds a route", "tests/router.test.ts", "Router.when empty.adds a route"),
        ("FAIL  tests/router.test.ts > Router > adds a route", "tests/router.test.ts", "Router.adds a route"),
        ("  1) Router\n       removes a route:", "tests/router.test.ts", "Router.removes a route"),
        ("  1) Rack::Builder supports mapping", "spec/builder_spec.rb", "Rack::Builder.supports mapping"),
        (
            "  1) test forward keeps the query string (Plug.RouterTest)",
            "test/router_test.exs",
            "Plug.RouterTest.forward.keeps the query string",
        ),
        ("--- FAIL: TestRouter/removes_a_route (0.00s)", "router_test.go", "TestRouter.removes a route"),
        ("00:01 +0 -1: RouteTable grows on add [E]", "test/router_test.dart", "main.'RouteTable'.'grows on add'"),
        (
            "BuilderTest#test_raises_if_run_provided_both_app_and_block",
            "spec/builder_spec.rb",
            "Rack::Builder.raises if run provided both app and block",
        ),
    ],
)
def test_a_failing_test_as_its_runner_names_it_finds_the_test(
    titled_index: IndexStore, embedder: Embedder, failure: str, path: str, symbol: str
) -> None:
    for mode in ("hybrid", "lexical", "dense"):
        top = SearchEngine(titled_index, embedder, mode=mode).search(failure, 3)
        assert (top[0].path, top[0].symbol) == (path, symbol), (mode, top[0])


def test_the_signal_is_what_finds_them(titled_index: IndexStore, embedder: Embedder) -> None:
    engine = SearchEngine(titled_index, embedder, config=RankConfig().without("test_title"))
    missed = 0
    for failure in (
        f"● Router {JEST} when empty {JEST} adds a route",
        "FAIL  tests/router.test.ts > Router > adds a route",
    ):
        top = engine.search(failure, 1)
        missed += top[0].symbol not in ("Router.when empty.adds a route", "Router.adds a route")
    assert missed  # two tests share the title: the words alone do not tell them apart
    assert RankConfig().test_title > 0 and RankConfig().without("test_title").test_title == 0


def test_what_names_no_test(titled_index: IndexStore, embedder: Embedder) -> None:
    corpus = load_corpus(titled_index)
    assert named_tests("how does the router add a route to its table", corpus) == {}
    assert named_tests("Rack::Builder", corpus, sentences_only=True) == {}
    assert named_tests("adds a route", corpus) != {}  # the title alone: tests only hold it
    # A description of the code finds the code, not its tests.
    top = SearchEngine(titled_index, embedder).search("function that adds a route to the router", 1)
    assert top[0].path == "src/router.ts"
    filtered = SearchEngine(titled_index, embedder).search(
        f"● Router {JEST} adds a route", 3, SearchFilters(path="src")
    )
    assert all(r.path.startswith("src/") for r in filtered)


def test_a_long_hostile_query_is_read_quickly(titled_index: IndexStore) -> None:
    corpus = load_corpus(titled_index)
    for query in ("adds a route " * 700, "a" * 2000, f"{JEST} " * 1000):
        started = time.perf_counter()
        named_tests(query, corpus)
        assert time.perf_counter() - started < 0.5


def test_tests_are_a_kind_to_filter_by(titled_index: IndexStore, embedder: Embedder) -> None:
    results = SearchEngine(titled_index, embedder).search("adds a route", 10, SearchFilters(kind="test"))
    assert results and all(r.kind == TEST_KIND for r in results)
    code = SearchEngine(titled_index, embedder).search("adds a route", 10, SearchFilters(kind="function"))
    assert code[0].path == "src/router.ts" and all(r.kind == "function" for r in code)


def test_what_the_query_points_at_in_a_test_file_is_no_stray_test(titled_index: IndexStore, embedder: Embedder) -> None:
    # Test files rank below code for descriptions; a line placed in one, or a test function the
    # query names (`go test`'s failure line), is what is asked for.
    assert path_penalized("router_test.go") and path_penalized("tests/router.test.ts")
    engine = SearchEngine(titled_index, embedder)
    top = engine.search("--- FAIL: TestRouter (0.00s)", 1)[0]
    # Where it is declared: holding subtests, it opens in the first one's chunk (the chunk named
    # after it is only its closing brace).
    assert top.path == "router_test.go" and top.content.startswith("func TestRouter(t *testing.T) {")
    corpus = load_corpus(titled_index)
    line = 20
    holding = [
        i
        for i in range(corpus.n)
        if corpus.paths[i] == "tests/router.test.ts" and corpus.start_lines[i] <= line <= corpus.end_lines[i]
    ]
    top = engine.search(f"    at Object.<anonymous> (tests/router.test.ts:{line}:12)", 1)[0]
    assert (top.path, top.start_line) == ("tests/router.test.ts", int(corpus.start_lines[holding[0]]))


BLOCK_WITH_SETUP = """describe('route table', () => {
  it('grows on add', () => {
    table.add('/a')
    table.add('/b')
    expect(table.size).toBe(2)
  })

  it('shrinks on remove', () => {
    table.add('/a')
    table.remove('/a')
    expect(table.size).toBe(0)
  })
})
"""


def test_a_failing_block_is_found_where_it_begins(tmp_path: Path, embedder: Embedder) -> None:
    # The block holds its tests, each a chunk: its opening line joins the first of them, and no
    # chunk is named after the block alone (its closing `})` is no chunk). Its failure (a
    # `beforeAll`, say) is asked where it begins.
    store = index_files(tmp_path, {"tests/table.test.ts": BLOCK_WITH_SETUP}, embedder)
    corpus = load_corpus(store)
    assert "route table" not in corpus.symbols
    # The test-title signal reads it by the title path of the tests inside it.
    credited = named_tests("FAIL  tests/table.test.ts > route table", corpus)
    assert [int(corpus.start_lines[i]) for i in credited] == [1]
    top = SearchEngine(store, embedder).search("FAIL  tests/table.test.ts > route table", 1)[0]
    assert top.start_line == 1 and top.content.startswith("describe('route table'")


SHORT_TITLES = """describe('counter state spec', () => {
  it('immer', () => {
    expect(counter(immer)).toBe(1)
  })

  it('redux', () => {
    expect(counter(redux)).toBe(1)
  })
})
"""


def test_of_a_block_and_a_test_inside_it_the_test_failed(tmp_path: Path, embedder: Embedder) -> None:
    # The runner names the test by its path: the block's title is in it, and enough of the
    # line for the block too (three words of five). The block was credited where it begins.
    corpus = load_corpus(index_files(tmp_path, {"tests/spec.test.ts": SHORT_TITLES}, embedder))
    credited = named_tests("FAIL  tests/spec.test.ts > counter state spec > redux", corpus)
    assert [int(corpus.start_lines[i]) for i in credited] == [6]
    assert [
        int(corpus.start_lines[i]) for i in named_tests("FAIL  tests/spec.test.ts > counter state spec", corpus)
    ] == [1]
