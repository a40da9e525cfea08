"""Ranking signals on a hand-made corpus: each signal's effect, isolated from retrieval."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from conftest import index_files

from lapce_ai.embedding.base import Embedder
from lapce_ai.search.blocks import is_hollow
from lapce_ai.search.corpus import Corpus
from lapce_ai.search.definitions import defining_chunks
from lapce_ai.search.engine import load_corpus
from lapce_ai.search.path_priors import path_penalized, stem_forms
from lapce_ai.search.query_analysis import analyze
from lapce_ai.search.ranking import NO_SIGNALS, RankConfig, rank
from lapce_ai.search.type_homes import type_homes


def _corpus(
    files: dict[str, list[float]], defines: dict[str, tuple[str, str]] | None = None
) -> tuple[Corpus, np.ndarray]:
    """One chunk per similarity: the chunk's vector has exactly that cosine with the query.
    ``defines``: path -> (symbol, content) of its first chunk (else ``f<n>``, ``def f<n>()``)."""
    rows: list[dict[str, object]] = []
    sims: list[float] = []
    for path, chunk_sims in files.items():
        for n, sim in enumerate(chunk_sims):
            vec = np.asarray([sim, np.sqrt(1.0 - sim * sim)], dtype=np.float32)
            symbol, content = (defines or {}).get(path, (f"f{n}", f"def f{n}(): pass")) if n == 0 else ("", "")
            symbol, content = symbol or f"f{n}", content or f"def f{n}(): pass"
            rows.append(
                {
                    "root": "/ws",
                    "path": path,
                    "start_line": 1 + 10 * n,
                    "end_line": 9 + 10 * n,
                    "symbol": symbol,
                    "kind": "function",
                    "language": "python",
                    "content": content,
                    "search_text": content.replace("(", " ").replace(")", " ").replace(":", " "),
                    "vector": vec.tolist(),
                }
            )
            sims.append(sim)
    table = pa.Table.from_pylist(rows)
    vectors = pa.array(table.column("vector").to_pylist(), pa.list_(pa.float32(), 2))
    table = table.set_column(table.schema.get_field_index("vector"), "vector", vectors)
    return Corpus.from_table(table, version=1), np.asarray(sims, dtype=np.float32)


def _top_path(corpus: Corpus, sims: np.ndarray, config: RankConfig) -> str:
    info = analyze("where are the retries scheduled", corpus)
    ranked = rank(corpus, info, None, (sims, None), 3, None, config)
    return corpus.paths[ranked[0].index]


def test_file_similarity_prefers_the_file_about_the_query() -> None:
    # stray.py has one close chunk among unrelated ones; topic.py is about the query throughout.
    corpus, sims = _corpus({"stray.py": [0.90, 0.05, 0.05, 0.05], "topic.py": [0.85, 0.80, 0.80]})
    query = np.asarray([1.0, 0.0], dtype=np.float32)
    assert corpus.vectors is not None
    np.testing.assert_allclose(corpus.vectors @ query, sims, atol=1e-6)
    assert _top_path(corpus, sims, NO_SIGNALS) == "stray.py"
    with_signal = RankConfig(**{**NO_SIGNALS.__dict__, "file_similarity": 0.8})
    assert _top_path(corpus, sims, with_signal) == "topic.py"


def test_file_similarity_ignores_chunks_a_filter_excludes() -> None:
    corpus, sims = _corpus({"a.py": [0.90, 0.10], "b.py": [0.85, 0.05]})
    config = RankConfig(**{**NO_SIGNALS.__dict__, "file_similarity": 0.8})
    info = analyze("where are the retries scheduled", corpus)
    # Unfiltered, a.py's mean (0.50) beats b.py's (0.45) ...
    assert corpus.paths[rank(corpus, info, None, (sims, None), 3, None, config)[0].index] == "a.py"
    # ... but with b.py's weak chunk filtered out, b.py's mean is its one allowed chunk's, 0.85.
    allowed = np.asarray([True, True, True, False])
    ranked = rank(corpus, info, None, (sims, None), 3, allowed, config)
    assert all(allowed[r.index] for r in ranked)
    assert corpus.paths[ranked[0].index] == "b.py"


def test_file_similarity_is_switchable() -> None:
    assert RankConfig().file_similarity > 0
    assert RankConfig().without("file_similarity").file_similarity == 0


def test_query_forms() -> None:
    assert analyze("how are routes registered").is_question
    assert analyze("Where is the retry delay computed?").is_question
    assert not analyze("multipart form data parsing").is_question
    assert not analyze("HTTPException").is_question and analyze("HTTPException").is_symbol
    # A name written as where it is used: a variable, annotation, member, macro or generic.
    for query, name in [
        ("$Router", "Router"),
        ("@Override", "Override"),
        ("->sendMail", "sendMail"),
        ("vec_deque!", "vec_deque"),
        ("Vec<T>", "Vec"),
        ("HashMap<K, V>", "HashMap"),
    ]:
        info = analyze(query)
        assert info.is_symbol and info.symbols == (name,), query
    assert not analyze("a <b> tag").is_symbol and not analyze("$").is_symbol


def test_coherence_lifts_a_consistent_file_for_questions_only() -> None:
    # big.py: four good chunks; one.py: a single slightly better one; other.py: a poor one.
    corpus, sims = _corpus({"big.py": [0.70, 0.70, 0.70, 0.70], "one.py": [0.75], "other.py": [0.10]})
    config = RankConfig(**{**NO_SIGNALS.__dict__, "coherence": 0.5})

    def top(query: str, cfg: RankConfig = config) -> str:
        ranked = rank(corpus, analyze(query, corpus), None, (sims, None), 3, None, cfg)
        return corpus.paths[ranked[0].index]

    assert top("how are the retries scheduled") == "big.py"
    assert top("retry scheduling with exponential backoff") == "one.py"
    everywhere = RankConfig(**{**config.__dict__, "coherence_everywhere": True})
    assert top("retry scheduling with exponential backoff", everywhere) == "big.py"
    # With query types switched off (the ablation), a question is ranked as a description.
    untyped = RankConfig(**{**config.__dict__, "query_type": False})
    assert top("how are the retries scheduled", untyped) == "one.py"


def test_static_vectors_weigh_less_than_a_precise_models_in_fusion() -> None:
    # The lexical side prefers lexical.py, the dense side dense.py (by slightly more).
    corpus, sims = _corpus({"lexical.py": [0.10], "dense.py": [0.90], "other.py": [0.50]})
    lexical = np.asarray([2.0, 0.0, 1.0], dtype=np.float32)
    config = RankConfig(**{**NO_SIGNALS.__dict__, "adaptive": False, "alpha": 0.55})
    info = analyze("where are the retries scheduled", corpus)

    def top(precise: float, cfg: RankConfig = config) -> str:
        ranked = rank(corpus, info, lexical, (sims, None), 3, None, cfg, dense_precise=precise)
        return corpus.paths[ranked[0].index]

    assert top(1.0) == "dense.py"  # a transformer's vectors: dense weight 0.55
    assert top(0.0) == "lexical.py"  # the static model's: 0.55 x 0.33
    assert top(0.0, config.without("static_dense_scale")) == "dense.py"
    # Symbol queries keep their weight whatever the model.
    symbol = analyze("RetryPolicy", corpus)
    assert symbol.is_symbol
    low = rank(corpus, symbol, lexical, (sims, None), 3, None, config, dense_precise=0.0)
    high = rank(corpus, symbol, lexical, (sims, None), 3, None, config, dense_precise=1.0)
    assert [(r.index, r.score) for r in low] == [(r.index, r.score) for r in high]


@pytest.mark.parametrize(
    ("path", "penalized"),
    [
        ("tests/test_app.py", True),
        ("pkg/server_test.go", True),
        ("src/test/java/org/x/FooTest.java", True),
        ("Tests/CollectionsTests/DequeTests.swift", True),  # Swift's capitalised test folder
        ("Tests/Helpers.swift", True),
        ("t/basic.t", True),  # Perl's test folder
        ("src/MyLib.Tests/Parser.cs", True),  # .NET test projects
        ("src/MyLib.UnitTests/Parser.cs", True),
        ("Examples/Demo.swift", True),
        ("examples/basic/main.go", True),
        ("vendor/github.com/x/y.go", True),
        ("types/index.d.ts", True),
        ("bench/quality/run.py", True),  # benchmarks: bench/, benches/, benchmarks/
        ("benches/parse.rs", True),
        ("src/workbench/view.ts", False),
        ("Sources/Collections/Deque.swift", False),
        ("src/MyLib/Tests.cs", False),  # a file called Tests, not a test folder
        ("lib/Test/More.pm", False),  # Perl's Test::More is a library namespace
        ("src/Test/QuickCheck.hs", False),  # so is Haskell's Test.QuickCheck
        ("src/contest/scoring.py", False),
        ("src/format/t.go", False),
        ("src/T/types.go", False),
    ],
)
def test_test_example_and_vendored_paths(path: str, penalized: bool) -> None:
    assert path_penalized(path) is penalized


@pytest.mark.parametrize(
    ("content", "name", "expected"),
    [
        ("func (engine *Engine) Use(middleware ...HandlerFunc) IRoutes {", "Use", True),  # Go method
        ("func New() *Engine {", "New", True),
        ("function Lang:parse_extra(tags)", "parse_extra", True),  # Lua method
        ("class Rack::Builder\n  def call(env)", "Builder", True),
        ("pub struct Router<S = ()> {", "Router", True),
        ("    def handle(self, request):", "handle", True),
        ("engine.Use(Logger())", "Use", False),  # a call
        ("class BuilderFactory:", "Builder", False),  # a longer name
        ("return new Builder(app)", "Builder", False),
        # C names a struct with its tag at every use; only a body (or `;`) declares it.
        ("struct timespec\n  {\n    __time_t tv_sec;", "timespec", True),
        ("struct timespec;", "timespec", True),
        ("int nanosleep (const struct timespec *__req,", "timespec", False),
        ("struct timespec ts;", "timespec", False),
        ("typedef struct _IO_FILE FILE;", "_IO_FILE", False),
        ("enum Color c = RED;", "Color", False),
        ("enum class Color : int {", "Color", True),
        ("pub struct Extension<T> where T: Clone", "Extension", True),
        ("pub struct Json where", "Json", True),
        ("struct Widget final : Base {", "Widget", True),
        ("type Engine struct {", "Engine", True),  # Go: the tag keyword comes after the name
        ("createProcess_Internal fun\n    CreateProcess{ cmdspec = cmd }", "CreateProcess", False),
        # A name bound to an import, or to the same name in another module, is an alias.
        ("const Order = std.math.Order;", "Order", False),
        ("const heap = std.heap;", "heap", False),
        ('pub const Random = @import("Random.zig");', "Random", False),
        ('const Router = require("./router")', "Router", False),
        ("val Foo = pkg.Foo", "Foo", False),
        ("pub const Order = enum { lt, eq, gt };", "Order", True),
        ("const Allocator = @This();", "Allocator", True),
        ("const Handler = std.http.Server;", "Handler", True),  # a new name for another type
        ("let router = createRouter()", "router", True),
    ],
)
def test_declarations_are_recognised_in_the_text(content: str, name: str, expected: bool) -> None:
    from lapce_ai.search.definitions import declares

    assert declares(content, name) is expected


def test_an_alias_is_where_a_name_defined_elsewhere_is_brought_in() -> None:
    from lapce_ai.search.definitions import reexports

    assert reexports("const Order = std.math.Order;", "Order")
    assert reexports('const Thing = @import("thing");', "Thing")
    assert not reexports("pub const Order = enum { lt, eq, gt };", "Order")
    assert not reexports("const OrderBy = std.math.OrderBy;", "Order")


class _Summaries:
    """Summary cosines per file path (the engine's ``SummaryScorer`` computes them from vectors)."""

    def __init__(self, by_path: dict[str, float]):
        self.by_path = by_path

    def all_scores(self, files: list[tuple[str, str]]) -> np.ndarray:
        return np.asarray([self.by_path.get(p, np.nan) for _r, p in files], dtype=np.float64)


def test_file_summary_lifts_the_file_named_for_the_query_and_pulls_in_files_outside_the_pools() -> None:
    fillers = {f"f{i}.py": [0.50 + 0.01 * i] for i in range(9)}  # no summary stored for these
    corpus, sims = _corpus({"a.py": [0.80], "b.py": [0.78], **fillers, "c.py": [0.10, 0.05]})
    info = analyze("where are the retries scheduled", corpus)
    summaries = _Summaries({"a.py": 0.2, "b.py": 0.9, "c.py": 0.95})

    def top(config: RankConfig, allowed: np.ndarray | None = None) -> list[str]:
        ranked = rank(corpus, info, None, (sims, None), 3, allowed, config, file_scores=summaries)
        return [corpus.paths[r.index] for r in ranked]

    base = RankConfig(**{**NO_SIGNALS.__dict__, "pool": 9})  # the 9 best chunks: c.py has none there
    assert top(base) == ["a.py", "b.py", "f8.py"]
    lifted = RankConfig(**{**base.__dict__, "file_summary": 0.5})
    assert top(lifted)[:2] == ["b.py", "a.py"] and "c.py" not in top(lifted)
    pulled = RankConfig(**{**lifted.__dict__, "summary_pull": 1})
    assert top(pulled) == ["b.py", "a.py", "c.py"]
    ranked = rank(corpus, info, None, (sims, None), 3, None, pulled, file_scores=summaries)
    assert sims[ranked[2].index] == np.float32(0.10)  # the pulled file's best chunk
    # A filter that leaves c.py no chunk keeps it out.
    allowed = np.asarray([corpus.paths[i] != "c.py" for i in range(corpus.n)])
    assert "c.py" not in top(pulled, allowed)
    assert RankConfig().summary_pull > 0 and RankConfig().without("summary_pull").summary_pull == 0


def test_path_words_of_files_are_counted_per_keyword_from_the_corpus_index() -> None:
    from lapce_ai.search.path_priors import keyword_forms, path_hits, path_words

    corpus, _sims = _corpus(
        {
            "src/routing/router.py": [0.5],
            "src/routes.py": [0.5],
            "src/http/request_parser.py": [0.5],
            "tests/test_router.py": [0.5],
            "docs/Routing.md": [0.5],
            "src/cache/store.py": [0.5],
        }
    )
    forms = keyword_forms(("routing", "request", "parser", "router", "http"))
    file_ids = np.arange(len(corpus.files), dtype=np.int64)
    expected = [
        sum(1 for kw, stem in forms if kw in path_words(path) or stem in path_words(path)) for _r, path in corpus.files
    ]
    assert path_hits(corpus, forms, file_ids).tolist() == expected
    assert sorted(set(expected)) == [0, 2, 3]  # the case tells files apart
    assert path_hits(corpus, forms, file_ids[::-1]).tolist() == expected[::-1]
    assert corpus.derived("files_by_path_word", lambda c: {}) is corpus.derived("files_by_path_word", lambda c: {})


def test_name_cover_prefers_the_file_whose_whole_name_the_query_holds() -> None:
    corpus, sims = _corpus(
        {
            "core/TransactionManagersContainer.kt": [0.600],
            "core/Transaction.kt": [0.599],
            "routing/mod.rs": [0.550],
            "routing/path_router.rs": [0.551],
        }
    )

    def top(query: str, config: RankConfig) -> str:
        ranked = rank(corpus, analyze(query, corpus), None, (sims, None), 4, None, config)
        return corpus.paths[ranked[0].index]

    path_only = RankConfig(**{**NO_SIGNALS.__dict__, "path_match": 1.0})
    covered = RankConfig(**{**path_only.__dict__, "name_cover": RankConfig().name_cover})
    # Both names hold "transaction"; only one is nothing but.
    assert top("transaction handling", path_only) == "core/TransactionManagersContainer.kt"
    assert top("transaction handling", covered) == "core/Transaction.kt"
    # A module file is named by its folder.
    assert top("routing", path_only) == "routing/path_router.rs"
    assert top("routing", covered) == "routing/mod.rs"
    assert NO_SIGNALS.name_cover == 0.0 and RankConfig().without("name_cover").name_cover == 0.0


def test_name_cover_counts_each_word_of_a_name_once() -> None:
    from lapce_ai.search.path_priors import keyword_forms, name_cover, name_words

    corpus, _sims = _corpus(
        {
            "src/routing/router.py": [0.5],
            "src/routing/mod.rs": [0.5],
            "src/http/request_parser.py": [0.5],
            "src/RequestRouterRequest.java": [0.5],
            "src/a.py": [0.5],
        }
    )
    forms = keyword_forms(("routing", "router", "request", "parsing"))
    file_ids = np.arange(len(corpus.files), dtype=np.int64)
    every = {form for pair in forms for form in pair}
    expected = []
    for _root, path in corpus.files:
        words = name_words(path)
        hits = sum(1 for word, key in words if word in every or key in every)
        expected.append(hits / len(words) if words else 0.0)
    assert name_cover(corpus, forms, file_ids).tolist() == pytest.approx(expected)
    assert expected == pytest.approx([1.0, 1.0, 1.0, 1.0, 0.0])  # "routing" and "router" hit router once
    assert name_cover(corpus, keyword_forms(("parser",)), file_ids)[2] == pytest.approx(0.5)


def test_two_letter_names_match_and_stopwords_do_not_count_against_a_name() -> None:
    from lapce_ai.search.path_priors import name_words

    corpus, sims = _corpus({"core/OpBuilder.kt": [0.600], "core/Op.kt": [0.599], "core/a.kt": [0.5]})
    info = analyze("Op for composing conditions", corpus)
    assert "op" in info.keywords and "for" not in info.keywords
    path_only = RankConfig(**{**NO_SIGNALS.__dict__, "path_match": 1.0})
    covered = RankConfig(**{**path_only.__dict__, "name_cover": RankConfig().name_cover})
    ranked = rank(corpus, info, None, (sims, None), 3, None, covered)
    assert corpus.paths[ranked[0].index] == "core/Op.kt"
    ranked = rank(corpus, info, None, (sims, None), 3, None, path_only)
    assert corpus.paths[ranked[0].index] == "core/OpBuilder.kt"
    assert [w for w, _key in name_words("detail/conversions/to_json.hpp")] == ["json"]
    assert [w for w, _key in name_words("src/v1/io.go")] == ["io"]
    assert name_words("a/b/x.py") == [] and name_words("a/b/12.py") == []


def test_a_definition_spelled_as_queried_outranks_one_in_another_case() -> None:
    # `Values` is a class in optparse.py; `values()` methods are everywhere else.
    corpus, sims = _corpus(
        {"weakref.py": [0.56], "optparse.py": [0.55], "other.py": [0.57], **{f"f{i}.py": [0.2] for i in range(6)}},
        {
            "weakref.py": ("WeakKeyDictionary.values", "    def values(self):\n        return list(self.data)"),
            "optparse.py": ("Values", "class Values:\n    def __init__(self, defaults=None):"),
        },
    )

    def top(query: str, config: RankConfig | None = None) -> list[str]:
        ranked = rank(corpus, analyze(query, corpus), None, (sims, None), 3, None, config or RankConfig())
        return [corpus.paths[r.index] for r in ranked]

    # The class is the definition; the method is ranked as if it defined nothing.
    assert top("Values") == ["optparse.py", "other.py", "weakref.py"]
    # Asked in the method's own case, the method is the definition.
    assert top("values") == ["weakref.py", "other.py", "optparse.py"]
    # Spelled like neither, both are: the user's case is no guide.
    assert top("VALUES") == ["weakref.py", "optparse.py", "other.py"]
    # Both are definitions: either outranks a file that defines neither.
    assert top("Values", RankConfig().without("definition")) == ["other.py", "weakref.py", "optparse.py"]


def test_a_module_path_is_defined_in_the_file_it_names() -> None:
    # `Io.fiber` names Io/fiber.py; Uring.py's `fiber()` is another thing of the same name. (In
    # Zig the file would itself define `fiber`: test_search covers files that are types.)
    corpus, sims = _corpus(
        {"Io/fiber.py": [0.30], "Uring.py": [0.90], **{f"f{i}.py": [0.2] for i in range(4)}},
        {"Uring.py": ("Uring.fiber", "def fiber(self):\n    pass")},
    )
    info = analyze("Io.fiber", corpus)
    assert info.is_symbol and info.symbols == ("fiber",) and len(info.files) == 1
    config = RankConfig(named_file=2.0)  # no more than the definition boost: `within` decides
    ranked = rank(corpus, info, None, (sims, None), 2, None, config)
    assert [corpus.paths[r.index] for r in ranked] == ["Io/fiber.py", "Uring.py"]
    # The same name without the module is Uring's function.
    ranked = rank(corpus, analyze("fiber", corpus), None, (sims, None), 1, None, config)
    assert corpus.paths[ranked[0].index] == "Uring.py"


def test_a_name_qualified_by_a_module_is_the_one_that_module_defines() -> None:
    corpus, sims = _corpus(
        {
            "pkg/routing.py": [0.30],
            "pkg/other.py": [0.90],
            "pkg/exports.py": [0.50],
            **{f"f{i}.py": [0.2] for i in range(4)},
        },
        {
            "pkg/routing.py": ("Router", "class Router:\n    pass"),
            "pkg/other.py": ("Router", "class Router:\n    pass"),
            "pkg/exports.py": ("exports", "from pkg.routing import Router"),
        },
    )

    def top(query: str, config: RankConfig | None = None) -> str:
        ranked = rank(corpus, analyze(query, corpus), None, (sims, None), 1, None, config or RankConfig())
        return corpus.paths[ranked[0].index]

    assert top("Router") == "pkg/other.py"  # both define it: the closer one
    assert top("pkg.routing.Router") == "pkg/routing.py"
    assert top("pkg.routing.Router", RankConfig().without("module_scope")) == "pkg/other.py"
    assert top("routing::Router") == "pkg/routing.py"
    assert top("pkg.routing.Router()") == "pkg/routing.py"
    # A module that only re-exports the name, or no module at all: every definition counts.
    assert top("pkg.exports.Router") == "pkg/other.py"
    assert top("nowhere.Router") == "pkg/other.py"


def test_a_types_own_file_ranks_with_the_files_that_extend_it() -> None:
    corpus, sims = _corpus(
        {
            "Sources/Deque+Codable.swift": [0.90],
            "Sources/Other.swift": [0.85],
            "Sources/Deque+Equatable.swift": [0.40],
            "Sources/Deque.swift": [0.05, 0.06],
            **{f"Sources/F{i}.swift": [0.2] for i in range(8)},
        },
        {"Sources/Deque.swift": ("Deque", "struct Deque {\n}")},
    )
    off = RankConfig(**{**NO_SIGNALS.__dict__, "pool": 9})  # the 9 best chunks: none of Deque.swift
    on = RankConfig(**{**off.__dict__, "type_home": 1.0})

    def top(query: str, config: RankConfig, allowed: np.ndarray | None = None) -> list[str]:
        ranked = rank(corpus, analyze(query, corpus), None, (sims, None), 3, allowed, config)
        return [corpus.paths[r.index] for r in ranked]

    question = "where is the deque encoded"
    assert top(question, off) == ["Sources/Deque+Codable.swift", "Sources/Other.swift", "Sources/Deque+Equatable.swift"]
    assert top(question, on) == ["Sources/Deque+Codable.swift", "Sources/Deque.swift", "Sources/Other.swift"]
    # Outside the pool, the type's own file joins with the chunk declaring the type.
    ranked = rank(corpus, analyze(question, corpus), None, (sims, None), 3, None, on)
    assert corpus.symbols[ranked[1].index] == "Deque"
    # Filters still decide; a file name or a symbol has its own answer.
    allowed = np.asarray([p != "Sources/Deque.swift" for p in corpus.paths])
    assert "Sources/Deque.swift" not in top(question, on, allowed)
    assert top("Deque+Codable.swift", on)[:2] == ["Sources/Deque+Codable.swift", "Sources/Other.swift"]
    assert "Sources/Deque.swift" not in top("where is it encoded in Deque+Codable.swift", on)
    assert RankConfig().type_home == 1.0 and RankConfig().without("type_home").type_home == 0.0


def test_type_homes_follow_the_languages_extension_file_convention() -> None:
    corpus, _sims = _corpus(
        {
            "A/Deque.swift": [0.1],
            "A/Deque+Codable.swift": [0.1],
            "A/Ext/Heap+Extra.swift": [0.1],  # Heap.swift is elsewhere, the only one of that name
            "B/Heap.swift": [0.1],
            "A/Ext/Tree+X.swift": [0.1],  # two Tree.swift, neither beside it: no home
            "A/Tree.swift": [0.1],
            "B/Tree.swift": [0.1],
            "A/+Plus.swift": [0.1],
            "py/a.py": [0.1],
            "py/a+b.py": [0.1],  # Python has no such convention
            "objc/NSString.m": [0.1],
            "objc/NSString+Path.m": [0.1],
        }
    )
    homes = type_homes(corpus)
    home = {
        path: corpus.files[int(homes[f])][1] if homes[f] >= 0 else None for f, (_root, path) in enumerate(corpus.files)
    }
    assert home["A/Deque+Codable.swift"] == "A/Deque.swift"
    assert home["A/Ext/Heap+Extra.swift"] == "B/Heap.swift"
    assert home["objc/NSString+Path.m"] == "objc/NSString.m"
    for path in ("A/Deque.swift", "A/Ext/Tree+X.swift", "A/+Plus.swift", "py/a+b.py", "B/Heap.swift"):
        assert home[path] is None, path


def test_a_file_mentioned_in_a_sentence_is_lifted() -> None:
    corpus, sims = _corpus({"a.py": [0.9], "b.py": [0.5], "c.py": [0.7], **{f"f{i}.py": [0.1] for i in range(9)}})
    config = RankConfig(**{**NO_SIGNALS.__dict__, "pool": 9})

    def top(query: str, cfg: RankConfig = config) -> list[str]:
        ranked = rank(corpus, analyze(query, corpus), None, (sims, None), 3, None, cfg)
        return [corpus.paths[r.index] for r in ranked]

    lifted = RankConfig(**{**config.__dict__, "mentioned_file": 1.0})
    assert top("where is the retry scheduled in b.py") == ["a.py", "c.py", "b.py"]
    assert top("where is the retry scheduled in b.py", lifted) == ["b.py", "a.py", "c.py"]
    assert top("where is the retry scheduled", lifted) == ["a.py", "c.py", "b.py"]
    assert RankConfig().mentioned_file > 0 and RankConfig().without("mentioned_file").mentioned_file == 0


def test_a_member_named_with_its_owner_is_that_owners() -> None:
    corpus, sims = _corpus(
        {
            "Deque/Deque+Extras.swift": [0.30],
            "UniqueDeque/UniqueDeque+Prepend.swift": [0.90],
            "BitSet/BitSet.Counted.swift": [0.95],
            "BitSet/BitSet+Basics.swift": [0.20],
            "gin/response_writer.go": [0.85],
            "gin/handlers.go": [0.25],
            **{f"f{i}.py": [0.1] for i in range(4)},
        },
        {
            "Deque/Deque+Extras.swift": ("Deque.prepend", "mutating func prepend(_ x: Element) {}"),
            "UniqueDeque/UniqueDeque+Prepend.swift": ("UniqueDeque.prepend", "mutating func prepend(_ x: Element) {}"),
            # A type that declares the name inside is the owner of that member, not its parent.
            "BitSet/BitSet.Counted.swift": ("BitSet.Counted", "struct Counted {\n  func insert(_ x: Int) {}\n}"),
            "BitSet/BitSet+Basics.swift": ("BitSet.insert", "func insert(_ x: Int) {}"),
            # Go names a method without its receiver; the receiver is in the text.
            "gin/response_writer.go": ("Header", "func (w *responseWriter) Header() http.Header {"),
            "gin/handlers.go": ("Header", "func (c *Context) Header(key, value string) {"),
        },
    )

    def top(query: str, config: RankConfig | None = None) -> str:
        ranked = rank(corpus, analyze(query, corpus), None, (sims, None), 1, None, config or RankConfig())
        return corpus.paths[ranked[0].index]

    off = RankConfig().without("member_scope")
    assert top("Deque.prepend") == "Deque/Deque+Extras.swift"
    assert top("Deque.prepend", off) == "UniqueDeque/UniqueDeque+Prepend.swift"
    assert top("BitSet.insert") == "BitSet/BitSet+Basics.swift"
    assert top("BitSet.insert", off) == "BitSet/BitSet.Counted.swift"
    assert top("Context.Header") == "gin/handlers.go"
    assert top("Context.Header", off) == "gin/response_writer.go"
    assert top("context.Header") == "gin/handlers.go"  # any case
    # An owner with no such member: every definition counts.
    assert top("Nowhere.prepend") == "UniqueDeque/UniqueDeque+Prepend.swift"


def _grown(n: int) -> str:
    return "".join(f"        int x{i} = compute({i});\n" for i in range(n))


def test_a_class_named_only_at_its_closing_brace_is_defined_where_it_begins(tmp_path: Path, embedder: Embedder) -> None:
    # Too large for one chunk, the class opens into its methods; its header joins the first one,
    # and the chunk named after it is a closing brace with a word of comment, which answers nothing.
    source = "public class Widget {\n    public void grow() {\n" + _grown(45) + "    }\n\n"
    source += "    public void shrink() {\n" + _grown(45) + "    }\n    // Widget\n}\n"
    corpus = load_corpus(index_files(tmp_path, {"Widget.java": source}, embedder))
    closing = next(i for i in range(corpus.n) if corpus.contents[i].strip() == "// Widget\n}")
    header = next(i for i in range(corpus.n) if corpus.contents[i].startswith("public class Widget {"))
    assert corpus.symbols[closing] == "Widget" and corpus.symbols[header] == "Widget.grow"
    # Found by its name alone (a name too common for the declaration scan): where it begins.
    assert defining_chunks(corpus, [closing], frozenset({"widget"}), ("Widget",)) == {header: True}
    assert is_hollow(corpus.contents[closing])
    assert not is_hollow(corpus.contents[header])


def test_a_name_as_a_file_stem_is_written() -> None:
    assert stem_forms("JSON_POINTER") == ("json_pointer", "jsonpointer")  # JsonPointer.java
    assert stem_forms("canonicalized_map") == ("canonicalized_map", "canonicalizedmap")
    assert stem_forms("_value") == ("_value", "_value")  # Dart's private name, not value.dart
