"""Which files a query names: by path or by module, on a hand-made corpus."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from lapce_ai.search.corpus import Corpus
from lapce_ai.search.named_files import mentioned_files, module_path, named_files, snake_case

FILES = [
    "starlette/middleware/__init__.py",
    "starlette/middleware/cors.py",
    "starlette/routing.py",
    "lib/phoenix/router.ex",
    "lib/rack/response.rb",
    "src/Data/Map/Strict.hs",
    "src/Data/IntMap/Strict.hs",
    "axum/src/routing/mod.rs",
    "Sources/BitSet/BitSet+SetAlgebra isSuperset.swift",
    ".github/ci.yml",
    "gin/context.go",
    "web/node.js",
    "src/ImmutableList_1.Builder.cs",
    "src/ImmutableList_1.cs",
]


def _corpus() -> Corpus:
    rows = [
        {
            "root": "/work/repo",
            "path": path,
            "start_line": 1,
            "end_line": 2,
            "symbol": "",
            "kind": "module",
            "language": "text",
            "content": "x",
            "search_text": "x",
            "vector": [1.0, 0.0],
        }
        for path in FILES
    ]
    table = pa.Table.from_pylist(rows)
    vectors = pa.array(table.column("vector").to_pylist(), pa.list_(pa.float32(), 2))
    table = table.set_column(table.schema.get_field_index("vector"), "vector", vectors)
    return Corpus.from_table(table, version=1)


def _named(query: str) -> tuple[list[str], bool] | None:
    corpus = _corpus()
    found = named_files(query, corpus)
    if found is None:
        return None
    return sorted(corpus.files[f][1] for f in found.files), found.by_path


@pytest.mark.parametrize(
    ("query", "paths", "by_path"),
    [
        ("cors.py", ["starlette/middleware/cors.py"], True),
        ("middleware/CORS.py", ["starlette/middleware/cors.py"], True),
        ("./starlette/routing.py", ["starlette/routing.py"], True),
        ("starlette\\routing.py", ["starlette/routing.py"], True),
        ("Strict.hs", ["src/Data/IntMap/Strict.hs", "src/Data/Map/Strict.hs"], True),
        ("BitSet+SetAlgebra isSuperset.swift", ["Sources/BitSet/BitSet+SetAlgebra isSuperset.swift"], True),
        ("ci.yml", [".github/ci.yml"], True),
        # Modules: as written, in snake case, a package by its folder, under the indexed folder.
        ("starlette.middleware.cors", ["starlette/middleware/cors.py"], False),
        ("starlette.middleware", ["starlette/middleware/__init__.py"], False),
        ("Data.Map.Strict", ["src/Data/Map/Strict.hs"], False),
        ("Phoenix.Router", ["lib/phoenix/router.ex"], False),
        ("Rack::Response", ["lib/rack/response.rb"], False),
        ("axum::routing", ["axum/src/routing/mod.rs"], False),
        ("repo.rack.response", ["lib/rack/response.rb"], False),
    ],
)
def test_a_query_names_files_by_path_or_module(query: str, paths: list[str], by_path: bool) -> None:
    assert _named(query) == (paths, by_path)


@pytest.mark.parametrize(
    "query",
    [
        "routing",
        "outing.py",
        "ware/cors.py",
        "list.append",
        "errors.HTTPException",
        "Map.Lazy",
        "how is cors.py used",
        "",
    ],
)
def test_other_queries_name_no_file(query: str) -> None:
    assert _named(query) is None


def test_module_paths_and_snake_case() -> None:
    assert module_path("/src/starlette", "middleware/cors.py") == "starlette/middleware/cors"
    assert module_path("/r/axum", "src/routing/mod.rs") == "axum/routing"
    assert module_path("/r/axum", "src/lib.rs") == "axum"
    assert module_path("/r/rack", "lib/rack/response.rb") == "rack/rack/response"
    assert module_path("/", "a.tar.gz") == "a"
    assert module_path("/r/x", ".gitignore") == "x/.gitignore"
    assert [snake_case(n) for n in ("Router", "HTTPServer", "JSONResponse", "parse_args", "V2Api")] == [
        "router",
        "http_server",
        "json_response",
        "parse_args",
        "v2_api",
    ]


def test_tables_are_built_once_per_corpus() -> None:
    corpus = _corpus()
    named_files("cors.py", corpus)
    tables = corpus.derived("named_files", lambda c: None)
    assert tables is not None and np.asarray(tables.modules).size == len(FILES)


@pytest.mark.parametrize(
    ("query", "paths"),
    [
        ("how does Abort work in context.go", ["gin/context.go"]),
        ("what is exported in routing/mod.rs?", ["axum/src/routing/mod.rs"]),
        (
            "headers set inside `cors.py` or in the file routing.py",
            ["starlette/middleware/cors.py", "starlette/routing.py"],
        ),
        ("Within gin\\context.go, where is Abort", ["gin/context.go"]),
        ("where is the builder in ImmutableList_1.Builder.cs.", ["src/ImmutableList_1.Builder.cs"]),
        ("Generate data for context.go", []),  # a mention that is not the place to look
        ("is it in BitSet+SetAlgebra isSuperset.swift", []),  # a name with a space is not read inside a sentence
        ("run in a Node.js HTTP server", []),  # prose spells it `Node.js`; the file is `node.js`
        ("how does Abort work in Context.go", []),
        ("how does Abort work in context.rb", []),
        ("how does Abort work", []),
    ],
)
def test_a_sentence_mentions_files_by_name_in_their_own_case(query: str, paths: list[str]) -> None:
    corpus = _corpus()
    assert sorted(corpus.files[f][1] for f in mentioned_files(query, corpus)) == paths
