"""A sentence asking for a name's definition finds it; one asking for its uses finds the chunks
using it, not the definition."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from conftest import index_files, settings_for

from lapce_ai.embedding.base import Embedder
from lapce_ai.index.indexer import Indexer
from lapce_ai.index.store import IndexStore
from lapce_ai.parsing.router import ParserRouter
from lapce_ai.search.engine import SearchEngine, load_corpus
from lapce_ai.search.filters import SearchFilters
from lapce_ai.search.name_questions import (
    CALLEES,
    DEFINITION,
    IMPLEMENTATIONS,
    IMPORT_OR_COMMENT,
    TESTS,
    USES,
    NameQuestion,
    called_chunks,
    compound_name,
    implementing_chunks,
    name_question,
    using_chunks,
)
from lapce_ai.search.query_analysis import analyze
from lapce_ai.search.ranking import RankConfig


def _def(header: str, last: str, lines: int = 8, indent: str = "    ") -> str:
    """A definition: ``header``, ``lines`` lines of filler, then ``last`` (its one telling line)."""
    word = re.sub(r"\W", "", header.split("(")[0].split()[-1])
    filler = "".join(f"{indent}{word}_{i} = compute_{word}({i}, 'value {i}')\n" for i in range(lines))
    return f"{indent[4:]}{header}\n{filler}{indent}{last}\n\n"


FILES = {
    "paths.py": _def(
        "def clean_path(p):", '"""Clean a path: drop empty and dot segments, so a defined route path is found."""'
    )
    + _def("def join_paths(a, b):", "return a + b"),
    "router.py": "from paths import clean_path\n\n\nclass Router:\n"
    # Long methods: the class is cut into one chunk per method.
    + _def("def add(self, path, handler):", "self.routes[clean_path(path)] = handler", 30, " " * 8)
    + _def("def lookup(self, path):", "return self.routes.get(clean_path(path))", 30, " " * 8)
    + _def("def describe(self):", "return 'router of defined paths'", 8, " " * 8),
    "server.py": "import logging\n\n\n"
    + _def("def serve(router, request):", "return router.lookup(request.path)")
    + _def("def redirect_fixed(router, path):", "return router.lookup(paths.clean_path(path))")
    + _def("def explain(router):", "# clean_path runs in the router before a lookup"),
    "tests/test_paths.py": "from paths import clean_path\n\n\n"
    + _def("def test_clean_path_drops_dots():", "assert clean_path('/a/./b') == '/a/b'"),
    "README.md": "# Paths\n\nEvery route goes through `clean_path` before it is stored.\n",
}
CALLERS = {("router.py", "Router.add"), ("router.py", "Router.lookup"), ("server.py", "redirect_fixed")}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> IndexStore:
    return index_files(tmp_path_factory.mktemp("questions"), FILES, embedder)


@pytest.mark.parametrize(
    ("query", "name", "wants"),
    [
        ("where is clean_path defined", "clean_path", DEFINITION),
        ("Where is the Router class declared?", "Router", DEFINITION),
        ("definition of `Router.add`", "Router.add", DEFINITION),
        ("go to definition of parseConfig", "parseConfig", DEFINITION),
        ("which file defines HTTPServer", "HTTPServer", DEFINITION),
        ("where do we define load_settings", "load_settings", DEFINITION),
        ("where is clean_path?", "clean_path", DEFINITION),
        ("where is clean_path implemented", "clean_path", DEFINITION),  # a function: its definition
        ("where is the Router class implemented", "Router", DEFINITION),  # a concrete class likewise
        ("Router class", "Router", DEFINITION),
        ("the clean_path function", "clean_path", DEFINITION),
        ("func clean_path", "clean_path", DEFINITION),
        ("def clean_path(", "clean_path", DEFINITION),
        ("type Router struct", "Router", DEFINITION),
        ("who calls clean_path", "clean_path", USES),
        ("callers of clean_path()", "clean_path", USES),
        ("find all references to ParseError", "ParseError", USES),
        ("where is Router used in the middleware", "Router", USES),
        ("usages of axum::Router", "axum::Router", USES),
        ("where do we call fetchUser", "fetchUser", USES),
        ("what uses the Router class", "Router", USES),
        ("clean_path call sites", "clean_path", USES),
        ("how is clean_path used?", "clean_path", USES),
        ("how do I use the Router class", "Router", USES),
        ("show me examples of clean_path", "clean_path", USES),
        ("usage examples for `Router.add`", "Router.add", USES),
    ],
)
def test_the_name_and_what_is_asked_are_read(query: str, name: str, wants: str, store: IndexStore) -> None:
    asked = name_question(query, load_corpus(store))
    assert asked is not None and (asked.name, asked.wants) == (name, wants)


@pytest.mark.parametrize(
    "query",
    [
        "where is authentication implemented",  # a topic: no chunk defines `authentication`
        "where is Authentication implemented",  # ... nor holds it
        "who calls the police",
        "Router uses a trie for its lookups",  # "uses" as a verb
        "Router class for HTTP paths",  # a name and its kind, then more: a description
        "function definitions",
        "Implementation of the Router class",  # a docstring's first words: singulars are no question
        "Reference to a Router of the app",
        "how are routes cleaned",
        "how is authentication used in the app",  # a topic
        "examples of routing",
        "clean_path",  # a bare name is a symbol query of its own
        "where is " + "x" * 300 + " defined",
    ],
)
def test_topics_and_other_forms_are_no_name_question(query: str, store: IndexStore) -> None:
    assert name_question(query, load_corpus(store)) is None


def test_a_plain_word_is_a_name_where_the_code_defines_it(store: IndexStore) -> None:
    corpus = load_corpus(store)
    assert name_question("where is serve defined", corpus) == name_question("where is serve defined", corpus)
    assert name_question("where is serve defined", corpus) is not None
    assert name_question("where is serve defined", None) is None  # no corpus: not code-shaped


def test_uses_are_the_chunks_holding_the_name_but_its_definition(store: IndexStore) -> None:
    corpus = load_corpus(store)
    found = {(corpus.paths[i], corpus.symbols[i]): share for i, share in using_chunks("clean_path", corpus).items()}
    for caller in CALLERS:
        assert found[caller] == 1.0
    assert found[("server.py", "explain")] == IMPORT_OR_COMMENT  # a comment names it
    assert found[("tests/test_paths.py", "test_clean_path_drops_dots")] == 1.0
    assert not any(symbol == "clean_path" for _path, symbol in found)
    assert using_chunks("CLEAN_PATH", corpus)  # no case matches as written: any case does
    assert using_chunks("no_such_name", corpus) == {}


@pytest.mark.parametrize("mode", ["hybrid", "lexical"])
@pytest.mark.parametrize("query", ["who calls clean_path", "where is clean_path used", "callers of clean_path"])
def test_a_uses_question_finds_the_callers_before_the_definition_and_tests(
    query: str, mode: str, store: IndexStore, embedder: Embedder
) -> None:
    hits = SearchEngine(store, embedder, mode).search(query, 10)
    found = [(h.path, h.symbol) for h in hits]
    assert set(found[:3]) == CALLERS  # two of them in one file: no per-file decay between uses
    assert found[3] == ("router.py", "")  # its import: half a use
    assert ("tests/test_paths.py", "test_clean_path_drops_dots") in found  # a test's use: after the code's
    assert ("README.md", "") not in found[:6]  # a changelog's or readme's mention is no use


def test_without_the_signal_the_definition_leads(store: IndexStore, embedder: Embedder) -> None:
    hits = SearchEngine(store, embedder, "lexical", config=RankConfig(usage=0.0)).search("who calls clean_path", 10)
    assert {(h.path, h.symbol) for h in hits[:3]} != CALLERS


def test_a_filter_keeps_uses_outside_it_out(store: IndexStore, embedder: Embedder) -> None:
    hits = SearchEngine(store, embedder, "hybrid").search("who calls clean_path", 10, SearchFilters(path="server.py"))
    assert hits and {h.path for h in hits} == {"server.py"}
    assert hits[0].symbol == "redirect_fixed"


@pytest.mark.parametrize("mode", ["hybrid", "lexical", "dense"])
@pytest.mark.parametrize(
    ("query", "symbol"),
    [
        ("where is clean_path defined", "clean_path"),
        ("where is the Router class declared", "Router"),
        ("definition of Router.lookup", "Router.lookup"),
        ("which file defines redirect_fixed", "redirect_fixed"),
        ("def redirect_fixed", "redirect_fixed"),
        ("the explain function", "explain"),
    ],
)
def test_a_definition_question_finds_the_definition(
    query: str, symbol: str, mode: str, store: IndexStore, embedder: Embedder
) -> None:
    hits = SearchEngine(store, embedder, mode).search(query, 5)
    assert hits[0].symbol == symbol or hits[0].symbol.startswith(symbol + ".")


def test_hostile_questions_take_linear_time(store: IndexStore, embedder: Embedder) -> None:
    engine = SearchEngine(store, embedder, "hybrid")
    for query in ("who calls " + "a." * 900 + "b", "where is " + "`" * 500 + " used", "callers of " + "x" * 1900):
        started = time.perf_counter()
        engine.search(query, 10)
        assert time.perf_counter() - started < 0.5


# -- implementations ------------------------------------------------------------------------

SHAPES = {
    "shapes/base.py": _def("class Shape:", "def area(self): raise NotImplementedError"),
    "shapes/round.py": "from shapes.base import Shape\n\n\n"
    + _def("class Circle(Shape):", "def area(self): return 3.14 * self.r * self.r")
    + _def("class Painter:", "def paint(self, shape: Shape): return shape.area()"),
    "shapes/Square.kt": (
        "class Square(val side: Int) : Shape() {\n"
        + "".join(f"    val side{i} = side * {i}\n" for i in range(8))
        + "    override fun area() = side * side\n}\n\n"
        "class Canvas(val shapes: List<Shape>) {\n"
        + "".join(f"    val count{i} = shapes.size * {i}\n" for i in range(8))
        + "    fun total() = shapes.sumOf { it.area() }\n}\n"
    ),
    "shapes/Triangle.java": (
        "public final class Triangle\n        extends Polygon implements Shape, Comparable<Triangle> {\n"
        + "".join(f"    int side{i} = {i};\n" for i in range(8))
        + "}\n"
    ),
    "shapes/hexagon.rs": (
        "pub struct Hexagon<T> {\n    side: T,\n}\n\n"
        "impl<T: Copy> Shape for Hexagon<T>\nwhere\n    T: Into<f64>,\n{\n"
        "    fn area(&self) -> f64 {\n"
        + "".join(f"        let side{i}: f64 = self.side.into() * {i}.0;\n" for i in range(8))
        + "        side1 * side1\n    }\n}\n"
    ),
    "tests/test_shapes.py": "from shapes.base import Shape\n\n\n"
    + _def("class FakeShape(Shape):", "def area(self): return 1"),
}
IMPLEMENTERS = {
    ("shapes/round.py", "Circle"),
    ("shapes/Square.kt", "Square"),
    ("shapes/Triangle.java", "Triangle"),
    ("shapes/hexagon.rs", "Hexagon"),
}


@pytest.fixture(scope="module")
def shapes(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> IndexStore:
    return index_files(tmp_path_factory.mktemp("shapes"), SHAPES, embedder)


@pytest.mark.parametrize(
    "query",
    [
        "implementations of Shape",
        "which classes implement Shape",
        "classes that extend Shape",
        "subclasses of Shape",
        "who implements the Shape interface",
        "types implementing Shape",
        "Shape implementations",
        "overrides of Shape",
        "which classes override Shape",
        "types overriding Shape",
        "Shape overrides",
        "where is Shape subclassed",
        "where is the Shape class extended?",
    ],
)
def test_the_implementations_question_is_read(query: str, shapes: IndexStore) -> None:
    assert name_question(query, load_corpus(shapes)) == NameQuestion("Shape", IMPLEMENTATIONS)


def test_implementations_are_the_types_declaring_the_type_a_supertype(shapes: IndexStore) -> None:
    corpus = load_corpus(shapes)
    found = {(corpus.paths[i], corpus.symbols[i]) for i in implementing_chunks("Shape", corpus)}
    # a parameter's type (Painter.paint, Kotlin's `Canvas(val shapes: List<Shape>)`) is no supertype
    assert found == IMPLEMENTERS | {("tests/test_shapes.py", "FakeShape")}
    assert implementing_chunks("Polygon", corpus).keys() == {
        i for i in range(corpus.n) if corpus.symbols[i] == "Triangle"
    }


def test_a_qualified_type_is_the_type_and_a_member_the_implementers_definitions_of_it(shapes: IndexStore) -> None:
    corpus = load_corpus(shapes)
    assert implementing_chunks("shapes.Shape", corpus).keys() == implementing_chunks("Shape", corpus).keys()
    found = {(corpus.paths[i], corpus.symbols[i].split(".")[0]) for i in implementing_chunks("Shape.area", corpus)}
    # Triangle declares no area(); Square's and Hexagon's are inside their chunks
    assert found == IMPLEMENTERS - {("shapes/Triangle.java", "Triangle")} | {("tests/test_shapes.py", "FakeShape")}
    assert not implementing_chunks("Shape.no_such_method", corpus)


@pytest.mark.parametrize("mode", ["hybrid", "lexical", "dense"])
def test_an_implementations_question_finds_the_implementers_first(
    mode: str, shapes: IndexStore, embedder: Embedder
) -> None:
    hits = SearchEngine(shapes, embedder, mode).search("which classes implement Shape", 10)
    found = [(h.path, h.symbol) for h in hits]
    assert set(found[:4]) == IMPLEMENTERS
    assert found.index(("tests/test_shapes.py", "FakeShape")) > 3  # a test's: after the code's
    assert found.index(("shapes/base.py", "Shape")) > 3  # the type itself is not its implementation


# -- callees --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "what does redirect_fixed call",
        "What functions does redirect_fixed call?",
        "callees of redirect_fixed",
        "functions called by the redirect_fixed function",
        "what is called by redirect_fixed",
        "redirect_fixed callees",
    ],
)
def test_the_callees_question_is_read(query: str, store: IndexStore) -> None:
    assert name_question(query, load_corpus(store)) == NameQuestion("redirect_fixed", CALLEES)


def test_callees_are_the_definitions_of_what_the_function_calls(store: IndexStore) -> None:
    corpus = load_corpus(store)
    found = {
        (corpus.paths[i], corpus.symbols[i]): share for i, share in called_chunks("redirect_fixed", corpus).items()
    }
    # `compute_fixed(` is defined nowhere; `lookup` once, `clean_path` once
    assert found == {("router.py", "Router.lookup"): 1.0, ("paths.py", "clean_path"): 1.0}
    # a comment's call is none: `explain` only says "clean_path runs ..."
    assert called_chunks("explain", corpus) == {}
    assert called_chunks("no_such_function", corpus) == {}


@pytest.mark.parametrize("mode", ["hybrid", "lexical", "dense"])
def test_a_callees_question_finds_the_callees_first(mode: str, store: IndexStore, embedder: Embedder) -> None:
    hits = SearchEngine(store, embedder, mode).search("what does redirect_fixed call", 5)
    assert {(h.path, h.symbol) for h in hits[:2]} == {("router.py", "Router.lookup"), ("paths.py", "clean_path")}


# -- tests ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "tests for clean_path",
        "where is clean_path tested",
        "How is clean_path tested?",
        "which tests cover clean_path",
        "unit tests for the clean_path function",
        "clean_path tests",
    ],
)
def test_the_tests_question_is_read(query: str, store: IndexStore) -> None:
    assert name_question(query, load_corpus(store)) == NameQuestion("clean_path", TESTS)


@pytest.mark.parametrize("mode", ["hybrid", "lexical", "dense"])
def test_a_tests_question_finds_the_tests_using_the_name(mode: str, store: IndexStore, embedder: Embedder) -> None:
    hits = SearchEngine(store, embedder, mode).search("where is clean_path tested", 5)
    assert (hits[0].path, hits[0].symbol) == ("tests/test_paths.py", "test_clean_path_drops_dots")
    assert hits[1].path == "tests/test_paths.py"  # its import: half a use, but a test's
    assert not {(h.path, h.symbol) for h in hits[:2]} & CALLERS  # the code's callers are no tests


def test_the_callees_of_a_definition_cut_in_pieces_are_read_from_every_piece(
    tmp_path: Path, embedder: Embedder
) -> None:
    steps = "".join(f"    step_{i} = helper_{i % 3}(step_{max(i - 1, 0)}, 'a long enough value')\n" for i in range(300))
    helpers = "".join(_def(f"def helper_{n}(x, y):", "return x") for n in range(3))
    flow = "def long_flow(seed):\n" + steps + "    return finish(step_299)\n\n\n"
    source = helpers + flow + _def("def finish(x):", "return x")
    corpus = load_corpus(index_files(tmp_path, {"flow.py": source}, embedder))
    assert len(corpus.by_symbol["long_flow"]) > 4  # more pieces than definitions are read
    found = {corpus.symbols[i] for i in called_chunks("long_flow", corpus)}
    assert found == {"helper_0", "helper_1", "helper_2", "finish"}  # `finish(` is in its last piece


GO_PAINTERS = {
    "paint/painter.go": "package paint\n\n"
    "// Painter paints.\ntype Painter interface {\n\t// Paint returns it.\n\tPaint() string\n\tSize() int\n}\n\n"
    "type painter struct {\n\twidth int\n}\n\n"
    '// Paint with a painter.\nfunc (b *painter) Paint() string {\n\treturn "broad"\n}\n\n'
    "func (b painter) Size() int {\n\treturn b.width\n}\n\n"
    "type pencil struct {\n\tlead int\n}\n\n"
    'func (p *pencil) Paint() string {\n\treturn "thin"\n}\n',
    "paint/roller.go": "package paint\n\ntype roller[T any] struct {\n\tpaint T\n}\n\n"
    'func (r *roller[T]) Paint() string {\n\treturn "wide"\n}\n\n'
    "func (r *roller[T]) Size() int {\n\treturn 3\n}\n",
}


def test_a_go_interface_is_implemented_by_the_types_having_its_methods(tmp_path: Path, embedder: Embedder) -> None:
    store = index_files(tmp_path, GO_PAINTERS, embedder)
    corpus = load_corpus(store)
    found = {(corpus.paths[i], corpus.symbols[i]) for i in implementing_chunks("Painter", corpus)}
    # pencil cannot Size(); `painter` is not `Painter`, though definitions are keyed in lower case
    assert found == {("paint/painter.go", "painter"), ("paint/roller.go", "roller")}
    hits = SearchEngine(store, embedder, "hybrid").search("which types implement Painter", 5)
    assert {(h.path, h.symbol) for h in hits[:2]} == found


GO_READERS = {
    "rw/io.go": "package rw\n\ntype Reader interface {\n\tRead() int\n}\n\n"
    "type Writer interface {\n\tWrite() int\n}\n\n"
    "// ReadWriter embeds both.\ntype ReadWriter interface {\n\tReader\n\tWriter // and writes\n\tfmt.Stringer\n}\n\n"
    "// Looper embeds itself through another.\ntype Looper interface {\n\tLooped\n}\n\n"
    "type Looped interface {\n\tLooper\n\tLoop() int\n}\n",
    "rw/file.go": "package rw\n\ntype file struct{}\n\nfunc (f *file) Read() int {\n\treturn 1\n}\n\n"
    "func (f *file) Write() int {\n\treturn 2\n}\n\n"
    "type pipe struct{}\n\nfunc (p pipe) Read() int {\n\treturn 3\n}\n\n"
    "type ring struct{}\n\nfunc (r ring) Loop() int {\n\treturn 4\n}\n",
}


def test_an_embedded_go_interface_s_methods_are_required_too(tmp_path: Path, embedder: Embedder) -> None:
    corpus = load_corpus(index_files(tmp_path, GO_READERS, embedder))
    found = {corpus.symbols[i] for i in implementing_chunks("ReadWriter", corpus)}
    assert found == {"file"}  # pipe cannot Write(); fmt.Stringer is not in this code: not followed
    assert {corpus.symbols[i] for i in implementing_chunks("Reader", corpus)} == {"file", "pipe"}
    # interfaces embedding each other end; ring has Loop(), which both require (and Looped, an
    # interface declaring it, has Looper's method set: Go says it implements Looper too)
    assert {corpus.symbols[i] for i in implementing_chunks("Looper", corpus)} == {"ring", "Looped"}


def test_the_answers_rank_above_a_chunk_every_other_signal_favours(tmp_path: Path, embedder: Embedder) -> None:
    decoy = (
        "def what_does_redirect_fixed_call(call, redirect, fixed):\n"
        '    """What does redirect_fixed call? What does redirect fixed call: call, call, call."""\n'
        + "".join(f"    call_{i} = redirect(fixed(call({i})))  # what does redirect_fixed call\n" for i in range(6))
    )
    files = dict(FILES) | {"what/does/redirect_fixed/call.py": decoy, "what/does/redirect_fixed/calls.py": decoy}
    hits = SearchEngine(index_files(tmp_path, files, embedder), embedder, "hybrid").search(
        "what does redirect_fixed call", 5
    )
    assert {(h.path, h.symbol) for h in hits[:2]} == {("router.py", "Router.lookup"), ("paths.py", "clean_path")}


def test_a_caller_added_since_the_corpus_was_loaded_is_found(tmp_path: Path, embedder: Embedder) -> None:
    store = index_files(tmp_path, FILES, embedder)
    engine = SearchEngine(store, embedder, "hybrid")
    assert ("extra.py", "normalise") not in {(h.path, h.symbol) for h in engine.search("who calls clean_path", 10)}
    (tmp_path / "ws" / "extra.py").write_text(
        "from paths import clean_path\n\n\ndef normalise(p):\n    value = clean_path(p)\n    return value.lower()\n"
    )
    settings = settings_for(tmp_path)
    Indexer(settings, store, embedder, ParserRouter(settings.features, settings.performance)).index(tmp_path / "ws")
    assert load_corpus(store).layers is not None  # the changes on top of the loaded corpus
    hits = engine.search("who calls clean_path", 10)
    assert ("extra.py", "normalise") in {(h.path, h.symbol) for h in hits[:4]}
    assert engine.search("what does normalise call", 1)[0].symbol == "clean_path"


PY_PROTOCOL = {
    "embed/base.py": "from typing import Protocol\n\n\nclass Embedder(Protocol):\n"
    "    def embed(self, texts: list[str]) -> list[float]: ...\n\n    def dim(self) -> int: ...\n\n"
    "    def _private_helper(self) -> None: ...\n",
    "embed/small.py": "class StaticEmbedder:\n    def embed(self, texts):\n        return [1.0 for _ in texts]\n\n"
    "    def dim(self):\n        return 1\n\n\nclass HalfEmbedder:\n    def embed(self, texts):\n        return []\n",
    "embed/big.py": "class BigEmbedder:\n"
    + _def("def embed(self, texts):", "return [float(len(t)) for t in texts]", 40, " " * 8)
    + _def("def dim(self):", "return 384", 40, " " * 8),
}


def test_a_python_protocol_is_implemented_by_the_classes_having_its_methods(tmp_path: Path, embedder: Embedder) -> None:
    corpus = load_corpus(index_files(tmp_path, PY_PROTOCOL, embedder))
    found = {(corpus.paths[i], corpus.symbols[i].split(".")[0]) for i in implementing_chunks("Embedder", corpus)}
    # HalfEmbedder has no dim(); BigEmbedder's methods are chunks of their own; a private helper is not required
    assert found == {("embed/small.py", "StaticEmbedder"), ("embed/big.py", "BigEmbedder")}


# -- "where is X implemented" -------------------------------------------------------------


ABSTRACT_TYPES = GO_PAINTERS | {
    "paint/brush.go": "package paint\n\n// Brush strokes.\ntype Brush interface {\n\tStroke() int\n}\n",
    "store/base.py": "from abc import ABC, abstractmethod\n\n\nclass Store(ABC):\n    @abstractmethod\n"
    "    def load(self, key): ...\n\n\nclass MemoryStore(Store):\n    def load(self, key):\n        return {}\n",
    "store/Cache.java": "package store;\n\npublic abstract class Cache<K> {\n    abstract Object fetch(K key);\n}\n\n"
    "final class LruCache<K> extends Cache<K> {\n    Object fetch(K key) { return null; }\n}\n",
    # Abstract by a member, not by its declaration (Python's ABCMeta comes from a base); long
    # enough to be cut into its members.
    "io/source.py": "class Source(Base):\n"
    + _def("@abstractmethod\n    def read(self, size):", "raise NotImplementedError", 30, " " * 8)
    + _def("def close(self):", "self.closed = True", 30, " " * 8)
    + "\nclass FileSource(Source):\n    def read(self, size):\n        return self.f.read(size)\n",
    # Declared abstract in a header that heads its first member's chunk.
    "io/reader.py": "class Reader(ABC):\n"
    + _def("def read_all(self):", "return self.read_some()", 30, " " * 8)
    + _def("def read_some(self):", "return b''", 30, " " * 8)
    + "\nclass TextReader(Reader):\n    def read_some(self):\n        return 'text'\n",
    "codec/codec.hpp": "class Codec {\n public:\n  virtual ~Codec() = default;\n"
    "  virtual std::string encode(const Value& v) const = 0;\n};\n\n"
    "class JsonCodec : public Codec {\n public:\n  std::string encode(const Value& v) const override;\n};\n\n"
    "class Value {\n public:\n  virtual int size() const;\n};\n\nclass Number : public Value {};\n",
}


@pytest.fixture(scope="module")
def abstract_store(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> IndexStore:
    return index_files(tmp_path_factory.mktemp("abstract"), ABSTRACT_TYPES, embedder)


PAINTERS = {("paint/painter.go", "painter"), ("paint/roller.go", "roller")}


@pytest.mark.parametrize(
    ("query", "implementers"),
    [
        ("where is Painter implemented", PAINTERS),
        ("which file implements the Painter interface", PAINTERS),
        ("where do we implement Store", {("store/base.py", "MemoryStore")}),
        ("where is Cache implemented?", {("store/Cache.java", "LruCache")}),
        ("where is Source implemented", {("io/source.py", "FileSource")}),
        ("where is Reader implemented", {("io/reader.py", "TextReader")}),
        ("where is Codec implemented", {("codec/codec.hpp", "JsonCodec")}),
    ],
)
def test_where_an_abstract_type_is_implemented_is_its_implementations(
    query: str, implementers: set[tuple[str, str]], abstract_store: IndexStore, embedder: Embedder
) -> None:
    asked = name_question(query, load_corpus(abstract_store))
    assert asked is not None and asked.wants == IMPLEMENTATIONS and asked.or_definition
    hits = SearchEngine(abstract_store, embedder, "hybrid").search(query, 5)
    assert {(h.path, h.symbol) for h in hits[: len(implementers)]} == implementers


@pytest.mark.parametrize(
    ("query", "asked"),
    [
        ("An implementation of Painter for wide strokes.", NameQuestion("Painter", IMPLEMENTATIONS)),
        ("implementation of the Cache class", NameQuestion("Cache", IMPLEMENTATIONS)),
        ("a subclass of Store that keeps values in memory", NameQuestion("Store", IMPLEMENTATIONS)),
        ("Implementation of MemoryStore with a dict", None),  # a concrete class: a description
        ("An implementation of the painter", None),  # no type named so
    ],
)
def test_a_singular_implementation_of_an_abstract_type_asks_for_its_implementations(
    query: str, asked: NameQuestion | None, abstract_store: IndexStore
) -> None:
    assert name_question(query, load_corpus(abstract_store)) == asked


def test_where_an_interface_nothing_implements_is_implemented_is_its_definition(
    abstract_store: IndexStore, embedder: Embedder
) -> None:
    hits = SearchEngine(abstract_store, embedder, "hybrid").search("where is Brush implemented", 3)
    assert (hits[0].path, hits[0].symbol) == ("paint/brush.go", "Brush")
    info = analyze("where is Brush implemented", load_corpus(abstract_store))
    assert info.is_symbol and info.symbols == ("Brush",) and not info.answers  # the name's symbol query
    # a concrete type with a subtype stays a definition question too (Value's members are virtual,
    # none pure)
    for concrete in ("MemoryStore", "Value"):
        question = f"where is {concrete} implemented"
        assert name_question(question, load_corpus(abstract_store)) == NameQuestion(concrete, DEFINITION)


@pytest.mark.parametrize(
    "query",
    [
        "implementations of Painter.Paint",
        "who overrides Painter.Paint",
        "where is Painter.Paint implemented",
        "where is Painter.Paint overridden",
    ],
)
def test_a_members_implementations_are_its_definitions_in_the_implementing_types(
    query: str, abstract_store: IndexStore, embedder: Embedder
) -> None:
    hits = SearchEngine(abstract_store, embedder, "hybrid").search(query, 5)
    # painter's and roller's Paint, on their receivers; pencil cannot Size(): no Painter
    assert [(h.path, h.symbol, h.kind) for h in hits[:2]] == [
        ("paint/painter.go", "Paint", "method"),
        ("paint/roller.go", "Paint", "method"),
    ]
    assert "(b *painter) Paint()" in hits[0].content and "(r *roller[T]) Paint()" in hits[1].content


def test_types_of_one_name_in_two_files_each_stand_for_their_own_method(tmp_path: Path, embedder: Embedder) -> None:
    impl = "from store.base import Store\n\n\nclass Impl(Store):\n    def load(self, key):\n        return {key}\n"
    files = {"store/base.py": ABSTRACT_TYPES["store/base.py"], "a/impl.py": impl, "b/impl.py": impl}
    corpus = load_corpus(index_files(tmp_path, files, embedder))
    found = {(corpus.paths[i], corpus.symbols[i]) for i in implementing_chunks("Store.load", corpus)}
    assert found == {("a/impl.py", "Impl"), ("b/impl.py", "Impl"), ("store/base.py", "MemoryStore")}


def test_a_type_not_cut_into_members_stands_for_its_own_method(
    abstract_store: IndexStore, tmp_path: Path, embedder: Embedder
) -> None:
    engine = SearchEngine(abstract_store, embedder, "hybrid")
    assert (engine.search("overrides of Store.load", 1)[0].symbol) == "MemoryStore"
    assert (engine.search("where is Cache.fetch implemented", 1)[0].symbol) == "LruCache"
    corpus = load_corpus(index_files(tmp_path, PY_PROTOCOL, embedder))
    found = {(corpus.paths[i], corpus.symbols[i]) for i in implementing_chunks("Embedder.dim", corpus)}
    # BigEmbedder is cut into its methods; HalfEmbedder has no dim(): no Embedder
    assert found == {("embed/big.py", "BigEmbedder.dim"), ("embed/small.py", "StaticEmbedder")}


@pytest.mark.parametrize(
    ("name", "as_code"),
    [
        ("SHIV_ROOT", True),
        ("HTTPException", True),
        ("EAGAIN", True),
        ("getUser", True),
        ("_private", True),
        ("os.environ_key", True),  # its last part
        ("Router", False),  # a capitalised word
        ("close", False),
        ("routing.Router", False),
    ],
)
def test_a_name_spelled_as_code(name: str, as_code: bool) -> None:
    assert compound_name(name) is as_code
