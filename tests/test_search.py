"""Search engine: real LanceDB index on disk, real indexing pipeline, real embedder when available."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from conftest import index_files, settings_for

from lapce_ai.chunking.ids import chunk_id, content_hash
from lapce_ai.chunking.model import PARSER_CST, Chunk
from lapce_ai.embedding.base import Embedder, normalize_rows
from lapce_ai.index.indexer import Indexer
from lapce_ai.index.store import FileState, IndexStore
from lapce_ai.parsing.router import ParserRouter
from lapce_ai.search.engine import SearchEngine, SearchResult
from lapce_ai.search.filters import FilterError, SearchFilters
from lapce_ai.search.query_analysis import analyze
from lapce_ai.search.ranking import RankConfig
from lapce_ai.search.tokenize import code_tokens, query_tokens


class HashEmbedder:
    """Deterministic bag-of-tokens vectors: stands in when the local model is not built."""

    model_id = "test-hash-embedder"
    dim = 256

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for tok in code_tokens(text):
                out[row, zlib.crc32(tok.encode()) % self.dim] += 1.0
        return normalize_rows(out)

    def embed_query(self, text: str) -> np.ndarray:
        vector: np.ndarray = self.embed_documents([text])[0]
        return vector


@pytest.fixture(scope="module")
def search_embedder() -> Embedder:
    try:
        from lapce_ai.config.settings import EmbedderSettings, Settings
        from lapce_ai.embedding.registry import create_embedder

        real: Embedder = create_embedder(Settings(embedder=EmbedderSettings(provider="static")))
        return real
    except Exception:  # registry or model not there: the deterministic stand-in
        return HashEmbedder()


ERRORS_PY = '''"""Errors."""


class HTTPException(Exception):
    """An HTTP error with a status code."""

    def __init__(self, status_code, detail=None):
        self.status_code = status_code
        self.detail = detail
'''

ROUTES_PY = '''from app.errors import HTTPException


def get_user(user_id):
    if user_id is None:
        raise HTTPException(404, "HTTPException: no user")
    return {"id": user_id}


def delete_user(user_id):
    raise HTTPException(403, "HTTPException forbidden")


def register_routes(router):
    """Register every route of the users API on the router."""
    router.add_route("/users", get_user)
    router.add_route("/users/delete", delete_user)
'''

HANDLERS_PY = """from app.errors import HTTPException


def handle_http_exception(exc: HTTPException):
    # HTTPException HTTPException HTTPException: turn it into a response
    return {"status": exc.status_code, "detail": exc.detail}
"""

UTIL_JS = """export function debounce(fn, wait) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), wait);
  };
}
"""

TEST_PY = """from app.errors import HTTPException


def test_http_exception():
    assert HTTPException(404).status_code == 404
"""

DUP = '''def normalize_path(value):
    """Collapse duplicate slashes in a path."""
    while "//" in value:
        value = value.replace("//", "/")
    return value
'''


def make_workspace(root: Path) -> Path:
    files = {
        "app/errors.py": ERRORS_PY,
        "app/routes.py": ROUTES_PY,
        "app/handlers.py": HANDLERS_PY,
        "web/util.js": UTIL_JS,
        "tests/test_errors.py": TEST_PY,
        "lib/a/paths.py": DUP,
        "lib/b/paths.py": DUP,
        "lib/c/paths.py": DUP,
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory, search_embedder: Embedder) -> IndexStore:
    tmp = tmp_path_factory.mktemp("search")
    root = make_workspace(tmp / "ws")
    settings = settings_for(tmp)
    store = IndexStore.open(tmp / "index", search_embedder.model_id, search_embedder.dim, create=True)
    router = ParserRouter(settings.features, settings.performance)
    summary = Indexer(settings, store, search_embedder, router).index(root)
    assert summary.files_failed == 0 and summary.chunks_total > 0
    return store


@pytest.fixture(params=["hybrid", "lexical", "dense"])
def engine(request: pytest.FixtureRequest, indexed: IndexStore, search_embedder: Embedder) -> SearchEngine:
    return SearchEngine(indexed, search_embedder, mode=request.param)


def test_identifier_query_finds_its_definition_first(indexed: IndexStore, search_embedder: Embedder) -> None:
    for mode in ("hybrid", "lexical"):
        eng = SearchEngine(indexed, search_embedder, mode=mode)
        top = eng.search("HTTPException", 5)
        # References outnumber the definition (routes, handlers, tests), yet the class comes first.
        assert top[0].path == "app/errors.py" and top[0].symbol == "HTTPException", (mode, top[0])
        top = eng.search("register_routes", 3)
        assert (top[0].path, top[0].symbol) == ("app/routes.py", "register_routes")
        top = eng.search("errors.HTTPException", 3)  # qualified names work too
        assert top[0].symbol == "HTTPException"


def test_a_file_name_query_finds_that_file_first(engine: SearchEngine) -> None:
    # `routes.py` reads like the member `py` of `routes`; it names a file.
    for query in ("routes.py", "app/routes.py", "./app/ROUTES.PY", "app\\routes.py", "app.routes", "ws.app.routes"):
        top = engine.search(query, 5)
        assert top[0].path == "app/routes.py", (engine.mode, query, top[0].path)
    # A name several files share brings them all up, before any other file.
    assert {r.path for r in engine.search("paths.py", 3)} == {"lib/a/paths.py", "lib/b/paths.py", "lib/c/paths.py"}
    assert [r.path for r in engine.search("b/paths.py", 1)] == ["lib/b/paths.py"]
    # A filter still decides what may be returned; an unknown name is an ordinary query.
    filtered = engine.search("routes.py", 5, SearchFilters(path="app/errors.py"))
    assert all(r.path == "app/errors.py" for r in filtered)
    assert [r.path for r in engine.search("routes.py", 5, SearchFilters(path="app/routes.py"))][:1] == ["app/routes.py"]
    assert isinstance(engine.search("nowhere.py", 3), list)


def test_question_finds_the_code(indexed: IndexStore, search_embedder: Embedder) -> None:
    eng = SearchEngine(indexed, search_embedder, mode="hybrid")
    top = eng.search("how are routes registered", 3)
    assert top[0].symbol == "register_routes"


def test_results_have_the_contract_fields(engine: SearchEngine) -> None:
    results = engine.search("debounce timer", 3)
    assert results and all(isinstance(r, SearchResult) for r in results)
    r = results[0]
    assert r.path == "web/util.js" and r.language == "javascript"
    assert 1 <= r.start_line <= r.end_line and "debounce" in r.content
    assert [x.score for x in results] == sorted((x.score for x in results), reverse=True)


@pytest.mark.parametrize(
    ("filters", "check"),
    [
        (SearchFilters(path="app"), lambda r: r.path.startswith("app/")),
        (SearchFilters(path="app/"), lambda r: r.path.startswith("app/")),
        (SearchFilters(path="app/errors.py"), lambda r: r.path == "app/errors.py"),
        (SearchFilters(path="**/*.js"), lambda r: r.path.endswith(".js")),
        (SearchFilters(path="lib/*/paths.py"), lambda r: r.path.startswith("lib/")),
        (SearchFilters(language="javascript"), lambda r: r.language == "javascript"),
        (SearchFilters(language="Python"), lambda r: r.language == "python"),
        (SearchFilters(language="JS"), lambda r: r.language == "javascript"),  # an alias
        (SearchFilters(language="py"), lambda r: r.language == "python"),
        (SearchFilters(path="tests", language="python"), lambda r: r.path.startswith("tests/")),
        (SearchFilters(kind="class"), lambda r: r.kind == "class"),
    ],
)
def test_filters_are_honoured(engine: SearchEngine, filters: SearchFilters, check: object) -> None:
    assert callable(check)
    results = engine.search("HTTPException user route debounce path", 10, filters)
    assert results, filters  # applied before the candidate pools: a filter never starves results
    assert all(check(r) for r in results), [(r.path, r.language, r.kind) for r in results]


def test_prefix_filter_is_a_folder_not_a_string_prefix(engine: SearchEngine) -> None:
    assert engine.search("HTTPException", 10, SearchFilters(path="ap")) == []
    assert engine.search("HTTPException", 10, SearchFilters(path="nowhere/**")) == []


@pytest.mark.parametrize(
    "filters",
    [
        SearchFilters(path="../ws/app"),
        SearchFilters(path="app/../../etc"),
        SearchFilters(path="/etc/passwd"),
        SearchFilters(path="C:/Windows"),
        SearchFilters(path="app\x00"),
        SearchFilters(language="python' OR 1=1 --"),
        SearchFilters(language="python; DROP TABLE chunks"),
        SearchFilters(kind="class OR kind != ''"),
    ],
)
def test_filters_cannot_escape_or_inject(engine: SearchEngine, filters: SearchFilters) -> None:
    with pytest.raises(FilterError):
        engine.search("HTTPException", 5, filters)


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        (SearchFilters(language="pyhton"), "unknown language filter 'pyhton': did you mean python?"),
        (SearchFilters(language="brainfuck"), "known: bash, batch"),
        (SearchFilters(kind="functions"), "unknown kind filter 'functions': did you mean function?"),
        (SearchFilters(kind="banana"), "known: class, enum, function"),
    ],
)
def test_a_language_or_kind_no_chunk_can_have_is_an_error_not_an_empty_answer(
    engine: SearchEngine, filters: SearchFilters, message: str
) -> None:
    with pytest.raises(FilterError) as raised:
        engine.search("HTTPException", 5, filters)
    assert message in str(raised.value)


def test_quotes_in_a_path_filter_are_data(engine: SearchEngine) -> None:
    f = SearchFilters(path="app/x' OR '1'='1")
    assert engine.search("HTTPException", 5, f) == []
    sql = f.to_sql()
    assert sql is not None and "x'' OR ''1''=''1" in sql  # quoted for LanceDB callers too


def test_small_k(engine: SearchEngine) -> None:
    assert engine.search("HTTPException", 0) == []
    assert engine.search("HTTPException", -3) == []
    assert engine.search("   ", 5) == []
    one = engine.search("HTTPException", 1)
    assert len(one) == 1
    assert one[0] == engine.search("HTTPException", 10)[0]  # k does not change the head
    everything = engine.search("user", 1000)
    assert 0 < len(everything) <= 1000


def test_ties_are_ordered_stably(engine: SearchEngine, indexed: IndexStore, search_embedder: Embedder) -> None:
    # Three files with identical content score identically: ordered by path, every time.
    results = engine.search("normalize_path duplicate slashes", 10, SearchFilters(path="lib"))
    paths = [r.path for r in results]
    assert paths == ["lib/a/paths.py", "lib/b/paths.py", "lib/c/paths.py"]
    assert len({r.score for r in results}) == 1
    fresh = SearchEngine(indexed, search_embedder, mode=engine.mode)
    for _ in range(3):
        assert fresh.search("normalize_path duplicate slashes", 10, SearchFilters(path="lib")) == results


def test_test_files_rank_below_the_code(indexed: IndexStore, search_embedder: Embedder) -> None:
    results = SearchEngine(indexed, search_embedder, mode="lexical").search("http exception status code", 10)
    paths = [r.path for r in results]
    assert paths.index("app/errors.py") < paths.index("tests/test_errors.py")


def test_overlapping_chunks_are_deduplicated(tmp_path: Path, search_embedder: Embedder) -> None:
    store = IndexStore.open(tmp_path / "index", search_embedder.model_id, search_embedder.dim, create=True)
    body = "\n".join(f"    def parse_header_{i}(self): return 'parse header {i}'" for i in range(30))
    outer = "class HeaderParser:\n" + body
    inner = "\n".join(outer.split("\n")[5:12])
    chunks = [
        _chunk("http/headers.py", "HeaderParser", "class", 1, 31, outer),
        _chunk("http/headers.py", "HeaderParser.parse_header_4", "method", 6, 12, inner),
        _chunk("http/other.py", "parse_header", "function", 1, 1, "def parse_header(): return 'parse header'"),
    ]
    _write_chunks(store, search_embedder, chunks)
    for mode in ("hybrid", "lexical", "dense"):
        results = SearchEngine(store, search_embedder, mode=mode).search("parse header", 10)
        spans = [(r.path, r.start_line, r.end_line) for r in results if r.path == "http/headers.py"]
        assert len(spans) == 1, (mode, spans)  # the nested chunk overlaps the first one returned
        assert {r.path for r in results} == {"http/headers.py", "http/other.py"}


def test_the_parts_of_a_function_cut_in_two_are_both_shown(tmp_path: Path, search_embedder: Embedder) -> None:
    # The first part ends on the line the second begins on (`}),` then the next statement):
    # they share that line, not what they show. (A nested chunk is a repeat: the test above.)
    store = IndexStore.open(tmp_path / "index", search_embedder.model_id, search_embedder.dim, create=True)
    lines = [f"    step_{i} = parse_header(step_{i - 1})  # parse header step {i}" for i in range(1, 21)]
    chunks = [
        _chunk("http/headers.py", "parse_all", "function", 1, 10, "\n".join(lines[:10])),
        _chunk("http/headers.py", "parse_rest", "function", 10, 20, "\n".join(lines[9:])),
    ]
    _write_chunks(store, search_embedder, chunks)
    for mode in ("hybrid", "lexical", "dense"):
        results = SearchEngine(store, search_embedder, mode=mode).search("parse header step", 10)
        assert sorted((r.start_line, r.end_line) for r in results) == [(1, 10), (10, 20)], mode


def _write_chunks(store: IndexStore, embedder: Embedder, chunks: list[Chunk]) -> None:
    """``chunks`` written to ``store`` as one batch, with their files, and the index finished."""
    texts = [c.content for c in chunks]
    vectors = dict(zip([c.content_hash for c in chunks], embedder.embed_documents(texts), strict=True))
    paths = sorted({c.path for c in chunks})
    files = [FileState("/ws", p, 1, 1, "h", "python", "cst", "cst", "indexed", (), ()) for p in paths]
    store.write_batch("/ws", chunks, vectors, vectors, files)
    store.finish(True)


def _indexed_alpha(tmp_path: Path, search_embedder: Embedder) -> tuple[Path, IndexStore, Indexer]:
    """A one-file workspace (``a.py`` defining ``alpha_function``), indexed."""
    root = tmp_path / "ws"
    root.mkdir()
    (root / "a.py").write_text("def alpha_function():\n    return 1\n")
    settings = settings_for(tmp_path)
    store = IndexStore.open(tmp_path / "index", search_embedder.model_id, search_embedder.dim, create=True)
    indexer = Indexer(settings, store, search_embedder, ParserRouter(settings.features, settings.performance))
    indexer.index(root)
    return root, store, indexer


def test_new_index_version_is_picked_up(tmp_path: Path, search_embedder: Embedder) -> None:
    root, store, indexer = _indexed_alpha(tmp_path, search_embedder)
    eng = SearchEngine(store, search_embedder, mode="lexical")
    assert all(r.path == "a.py" for r in eng.search("beta_function", 5))
    (root / "b.py").write_text("def beta_function():\n    return 2\n")
    indexer.index(root)
    assert eng.search("beta_function", 5)[0].path == "b.py"


def test_the_static_models_vectors_are_fused_with_less_weight(indexed: IndexStore, search_embedder: Embedder) -> None:
    from lapce_ai.embedding.registry import provider_of_model
    from lapce_ai.search.engine import load_corpus

    engine = SearchEngine(indexed, search_embedder)
    static = provider_of_model(indexed.meta.model_id) == "static"
    assert engine._dense_precise(load_corpus(indexed)) == (0.0 if static else 1.0)
    assert provider_of_model("minilm-l6-v2-static-256") == "static"
    assert provider_of_model("minilm-l6-v2-onnx-int8") == "transformer"
    assert provider_of_model("amazon.titan-embed-text-v2:0/1024") == "titan"


def test_query_analysis() -> None:
    assert analyze("HTTPException").is_symbol
    assert analyze("Rack::Response").symbols == ("Response",)
    assert analyze("add_route").is_symbol
    assert not analyze("how are routes registered").is_symbol
    assert analyze("how does RouterGroup.Handle work").symbols == ("Handle",)
    assert analyze("where is `parse_url` called").symbols == ("parse_url",)
    assert analyze("Lang:parse_extra").symbols == ("parse_extra",)  # a Lua method
    assert analyze("lists:map").symbols == ("map",)  # an Erlang module:function
    assert analyze("Phoenix.Router.scope/2").symbols == ("scope",)  # a function with its arity
    assert analyze("lists:map/2").symbols == ("map",)
    assert not analyze("error: handling").is_symbol
    assert "how" not in query_tokens("how are routes registered")
    assert {"httpexception", "http", "exception"} <= set(query_tokens("HTTPException"))


def _chunk(path: str, symbol: str, kind: str, start: int, end: int, content: str) -> Chunk:
    return Chunk(
        id=chunk_id(path, symbol, kind, 0),
        path=path,
        language="python",
        kind=kind,
        symbol=symbol,
        start_line=start,
        end_line=end,
        parser=PARSER_CST,
        content=content,
        content_hash=content_hash(content),
    )


def _clustered(n: int, dim: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((60, dim)).astype(np.float32)
    data = centers[rng.integers(0, 60, n)] + 0.4 * rng.standard_normal((n, dim)).astype(np.float32)
    return normalize_rows(data)


def test_projected_scan_keeps_the_exact_neighbours_and_rescores_them_exactly() -> None:
    from lapce_ai.search.corpus import PROJECTED_DIMS, PROJECTED_RESCORED, ProjectedScan, projected_dims

    data = _clustered(30_000, 256, seed=2)
    scan = ProjectedScan.build(data)
    assert scan.projection.shape == (256, PROJECTED_DIMS)
    assert projected_dims(384) == PROJECTED_DIMS and projected_dims(1024) == 256 and projected_dims(32) == 32
    hits = 0
    for q in data[:50]:
        exact = data @ q
        sims, kept = scan.search(q)
        assert np.isfinite(sims).all()  # every chunk has a score (the file signals read them)
        assert kept.size == PROJECTED_RESCORED and np.allclose(sims[kept], exact[kept], atol=1e-5)
        top = np.argsort(-sims)[:100]
        assert np.allclose(sims[top[:10]], exact[top[:10]], atol=1e-5)  # the best are exact
        hits += len(set(np.argsort(-exact)[:100].tolist()) & set(top.tolist()))
        assert np.abs(sims - exact).mean() < 0.1  # the rest: the projection's estimate
    assert hits / 5000 >= 0.95


def test_projected_scan_rescores_only_allowed_chunks() -> None:
    from lapce_ai.search.corpus import ProjectedScan

    data = _clustered(20_000, 128, seed=3)
    scan = ProjectedScan.build(data)
    for share in (3, 40):  # a third of the chunks, and fewer than it rescores
        allowed = np.zeros(data.shape[0], dtype=bool)
        allowed[::share] = True
        hits = 0
        for q in data[1:40:2]:
            exact = np.where(allowed, data @ q, -np.inf)
            estimates, kept = scan.search(q, allowed)
            assert allowed[kept].all() and kept.size == min(1000, int(allowed.sum()))
            sims = np.where(allowed, estimates, -np.inf)
            top = np.argsort(-sims)[:10]
            assert np.allclose(sims[top], exact[top], atol=1e-5)
            hits += len(set(np.argsort(-exact)[:10].tolist()) & set(top.tolist()))
        assert hits / 200 >= 0.95


def test_a_small_model_is_scanned_whole() -> None:
    from lapce_ai.search.corpus import ProjectedScan

    data = _clustered(5_000, 32, seed=4)
    scan = ProjectedScan.build(data)
    assert np.allclose(scan.projection, np.eye(32))
    sims, kept = scan.search(data[7])
    exact = data @ data[7]
    assert np.allclose(sims[kept], exact[kept], atol=1e-5)
    # The rest: the full vectors' dot products as 8-bit codes compute them (~0.005 off here).
    assert np.abs(sims - exact).max() < 0.02


def test_a_projected_corpus_ranks_like_an_exact_one(
    tmp_path: Path, search_embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An index large enough for the projected scan, with every chunk rescored, answers exactly
    as the same index searched exactly; with few rescored, the best answer stays first."""
    import lapce_ai.search.corpus as corpus_module
    from lapce_ai.search.engine import forget_corpus, load_corpus

    root = make_workspace(tmp_path / "ws")
    for i in range(40):
        (root / f"pkg/mod{i}.py").parent.mkdir(parents=True, exist_ok=True)
        (root / f"pkg/mod{i}.py").write_text(f"def helper_{i}(value):\n    return value + {i}\n")
    eng = _hybrid_engine(tmp_path, root, search_embedder)
    queries = ("HTTPException", "register routes on the router", "collapse duplicate slashes", "helper value")
    exact = {q: [(r.path, r.start_line, r.score) for r in eng.search(q, 8)] for q in queries}
    assert load_corpus(eng.store).projected is None

    monkeypatch.setattr(corpus_module, "PROJECTED_MIN_CHUNKS", 0)
    forget_corpus(eng.store)
    assert load_corpus(eng.store).projected is not None
    for q in queries:
        assert [(r.path, r.start_line, r.score) for r in eng.search(q, 8)] == exact[q], q
    monkeypatch.setattr(corpus_module, "PROJECTED_RESCORED", 4)
    for q in queries:
        assert eng.search(q, 8)[0].path == exact[q][0][0], q
    forget_corpus(eng.store)


def test_a_projected_base_and_its_exact_delta_answer_together(
    tmp_path: Path, search_embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After an edit, the projected base corpus and the delta of changed rows are scored side by
    side: the new definition is found, the removed one is gone."""
    import lapce_ai.search.corpus as corpus_module
    from lapce_ai.search.engine import forget_corpus, load_corpus

    monkeypatch.setattr(corpus_module, "PROJECTED_MIN_CHUNKS", 0)
    monkeypatch.setattr(corpus_module, "PROJECTED_RESCORED", 3)
    root, store, indexer = _indexed_alpha(tmp_path, search_embedder)
    for i in range(30):
        (root / f"m{i}.py").write_text(f"def filler_{i}(x):\n    return x * {i}\n")
    indexer.index(root)
    forget_corpus(store)
    eng = SearchEngine(store, search_embedder, mode="dense")
    assert load_corpus(store).projected is not None
    assert eng.search("alpha_function", 3)[0].path == "a.py"
    (root / "a.py").write_text("def gamma_parser(text):\n    return text.split()\n")
    indexer.index(root)
    corpus = load_corpus(store)
    assert corpus.layers is not None and corpus.layers.base.projected is not None  # advanced, not rebuilt
    for mode in ("dense", "hybrid"):
        hits = SearchEngine(store, search_embedder, mode=mode).search("gamma_parser split text", 3)
        assert hits[0].path == "a.py" and hits[0].symbol == "gamma_parser", mode
        assert all(h.symbol != "alpha_function" for h in hits)
    forget_corpus(store)


def test_empty_index_and_odd_queries(tmp_path: Path, search_embedder: Embedder, engine: SearchEngine) -> None:
    store = IndexStore.open(tmp_path / "empty", search_embedder.model_id, search_embedder.dim, create=True)
    for mode in ("hybrid", "lexical", "dense"):
        assert SearchEngine(store, search_embedder, mode=mode).search("anything", 5) == []
    for query in ("!!! ??? ...", "how to", "日本語のクエリ", "x" * 5000, "a' OR 1=1 --"):
        results = engine.search(query, 5)
        assert len(results) <= 5 and all(isinstance(r, SearchResult) for r in results)


def test_unknown_mode_is_refused(indexed: IndexStore, search_embedder: Embedder) -> None:
    with pytest.raises(ValueError, match="mode"):
        SearchEngine(indexed, search_embedder, mode="fuzzy")


def test_background_reload_serves_the_old_corpus_then_the_new(tmp_path: Path, search_embedder: Embedder) -> None:
    import time

    root, store, indexer = _indexed_alpha(tmp_path, search_embedder)
    eng = SearchEngine(store, search_embedder, mode="lexical", background_reload=True)
    assert eng.search("alpha_function", 5)[0].path == "a.py"  # first load: waits
    (root / "b.py").write_text("def beta_function():\n    return 2\n")
    indexer.index(root)
    deadline = time.monotonic() + 30
    while not any(r.path == "b.py" for r in eng.search("beta_function", 5)):  # never blocks, catches up
        assert time.monotonic() < deadline
        time.sleep(0.05)


def _hybrid_engine(
    tmp_path: Path, root: Path, search_embedder: Embedder, config: RankConfig | None = None, **features: object
) -> SearchEngine:
    """Index ``root`` with the real pipeline and search it in hybrid mode."""
    settings = settings_for(tmp_path, **features)
    store = IndexStore.open(tmp_path / "index", search_embedder.model_id, search_embedder.dim, create=True)
    Indexer(settings, store, search_embedder, ParserRouter(settings.features, settings.performance)).index(root)
    return SearchEngine(store, search_embedder, mode="hybrid", config=config)


def _ruby_builder() -> str:
    methods = "\n".join(f"    def use_{i}(middleware)\n      @use << middleware\n    end\n" for i in range(40))
    # Code between the methods that names the class often: a piece of the split class, not its definition.
    tail = "\n".join(f'    BUILDER_ALIAS_{i} = "Rack::Builder Builder builder {i}"' for i in range(8))
    return (
        "module Rack\n  # Builds a Rack application from middleware.\n  class Builder\n"
        f"    def initialize(app)\n      @app = app\n    end\n\n{methods}\n{tail}\n  end\nend\n"
    )


def test_a_split_class_is_found_by_its_opening_piece(tmp_path: Path, search_embedder: Embedder) -> None:
    root = tmp_path / "ws"
    (root / "lib").mkdir(parents=True)
    (root / "lib" / "builder.rb").write_text(_ruby_builder())
    (root / "lib" / "server.rb").write_text(
        "module Rack\n  class Server\n    def app\n      Builder.new\n    end\n  end\nend\n"
    )
    eng = _hybrid_engine(tmp_path, root, search_embedder)
    # The class is too large for one chunk: a piece of it carries its symbol but not its declaration.
    pieces = [r for r in eng.search("BUILDER_ALIAS_3", 50) if r.symbol == "Rack.Builder"]
    assert pieces and "class Builder" not in pieces[0].content
    for query in ("Rack::Builder", "Builder"):
        top = eng.search(query, 5)[0]
        assert top.path == "lib/builder.rb" and "class Builder" in top.content, (query, top)


def test_a_declaration_outside_the_candidate_pools_is_found_by_its_text(
    tmp_path: Path, search_embedder: Embedder
) -> None:
    # Line windows carry no symbol: only the text says which one declares the class. Usages
    # outnumber it and fill the (deliberately tiny) candidate pools.
    root = tmp_path / "ws"
    (root / "lib").mkdir(parents=True)
    (root / "lib" / "factories.py").write_text("class WidgetFactory:\n    def make(self):\n        return Widget()\n")
    for i in range(8):
        uses = "\n".join(f"    w{j} = WidgetFactory().make()  # WidgetFactory {j}" for j in range(6))
        (root / "lib" / f"use_{i}.py").write_text(f"def use_{i}():\n{uses}\n")
    eng = _hybrid_engine(tmp_path, root, search_embedder, RankConfig(pool=1), cst_pipeline_enabled=False)
    top = eng.search("WidgetFactory", 1)
    assert [(r.path, r.kind) for r in top] == [("lib/factories.py", "window")]


def test_a_name_defined_in_a_dependency_is_found_where_it_is_reexported(
    tmp_path: Path, search_embedder: Embedder
) -> None:
    root = tmp_path / "ws"
    (root / "src" / "extract").mkdir(parents=True)
    (root / "src" / "extract" / "mod.rs").write_text(
        "//! Types and traits for extracting data from requests.\n\n"
        "pub use axum_core::extract::{DefaultBodyLimit, FromRef, FromRequest, FromRequestParts};\n\n"
        "mod query;\nmod json;\n"
    )
    for name in ("json", "query", "form", "path"):
        kind = name.capitalize()
        (root / "src" / "extract" / f"{name}.rs").write_text(
            f"use axum_core::extract::FromRequest;\n\npub struct {kind}<T>(pub T);\n\n"
            f"impl<T, S> FromRequest<S> for {kind}<T> {{\n    // FromRequest for {kind}: FromRequest\n"
            "    type Rejection = ();\n}\n"
        )
    (root / "web").mkdir()
    (root / "web" / "index.ts").write_text('export { createRouter, type AnyRouter } from "@trpc/core";\n')
    (root / "web" / "app.ts").write_text(
        'import { createRouter } from "@trpc/core";\n\nexport const appRouter = createRouter(); // createRouter\n'
    )
    eng = _hybrid_engine(tmp_path, root, search_embedder)
    assert eng.search("FromRequest", 3)[0].path == "src/extract/mod.rs"
    assert eng.search("createRouter", 3)[0].path == "web/index.ts"
    # A name that is defined here is answered by its definition, not by a re-export of it.
    assert eng.search("Json", 3)[0].path == "src/extract/json.rs"


def test_a_zig_file_is_the_type_it_is_named_after_and_an_alias_is_not_a_definition(
    tmp_path: Path, search_embedder: Embedder
) -> None:
    root = tmp_path / "ws"
    (root / "std" / "mem").mkdir(parents=True)
    (root / "std" / "heap").mkdir()
    # A Zig file is a struct: `Allocator.zig` is the type `Allocator`, with no declaration of it.
    (root / "std" / "mem" / "Allocator.zig").write_text(
        "//! The interface every allocator implements.\n\nptr: *anyopaque,\nvtable: *const VTable,\n\n"
        "pub const VTable = struct {\n    alloc: *const fn (*anyopaque, usize) ?[*]u8,\n};\n"
    )
    (root / "std" / "heap" / "BufferFirstAllocator.zig").write_text(
        'const std = @import("std");\nconst Allocator = std.mem.Allocator;\nconst Order = std.math.Order;\n\n'
        "buffer: []u8,\nfallback: Allocator,\n\n"
        "pub fn allocator(self: *BufferFirstAllocator) Allocator {\n    return .{ .ptr = self };\n}\n\n"
        "fn compare(a: usize, b: usize) Order {\n    return std.math.order(a, b);\n}\n"
    )
    (root / "std" / "math.zig").write_text(
        "pub const Order = enum {\n    lt,\n    eq,\n    gt,\n};\n\n"
        "pub fn order(a: anytype, b: anytype) Order {\n    return if (a < b) .lt else if (a > b) .gt else .eq;\n}\n"
    )
    eng = _hybrid_engine(tmp_path, root, search_embedder)
    assert eng.search("Allocator", 3)[0].path == "std/mem/Allocator.zig"
    assert eng.search("Order", 3)[0].path == "std/math.zig"


def test_lua_methods_are_found_by_name(tmp_path: Path, search_embedder: Embedder) -> None:
    # Lua names a method ``Lang:parse_extra``: its last segment is the method's name.
    root = tmp_path / "ws"
    (root / "ldoc").mkdir(parents=True)
    (root / "ldoc" / "lang.lua").write_text(
        "local Lang = {}\n\nfunction Lang:parse_extra(tags, kind, comment)\n  return tags\nend\n\n"
        "function Lang:finalize()\n  return self\nend\n\nreturn Lang\n"
    )
    for i in range(4):
        (root / "ldoc" / f"use{i}.lua").write_text(
            f"local function run{i}(lang)\n  -- parse_extra parse_extra\n"
            f"  return lang:parse_extra({{}}, 'x', 'parse extra')\nend\nreturn run{i}\n"
        )
    eng = _hybrid_engine(tmp_path, root, search_embedder)
    for query in ("parse_extra", "Lang:parse_extra"):
        top = eng.search(query, 3)[0]
        assert (top.path, top.symbol) == ("ldoc/lang.lua", "Lang:parse_extra"), (query, top)


class _CountingEmbedder:
    """The real embedder, counting the queries it is asked to embed."""

    def __init__(self, inner: Embedder):
        self.inner, self.model_id, self.dim = inner, inner.model_id, inner.dim
        self.asked: list[str] = []

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> np.ndarray:
        self.asked.append(text)
        return self.inner.embed_query(text)


def test_a_query_asked_again_is_not_embedded_again(indexed: IndexStore, search_embedder: Embedder) -> None:
    counting = _CountingEmbedder(search_embedder)
    engine = SearchEngine(indexed, counting)
    first = engine.search("register the routes of a router", k=5)
    again = engine.search("  register the routes of a router ", k=3, filters=SearchFilters(language="python"))
    assert len(counting.asked) == 1  # the same text once stripped, other k and filters
    assert [r.path for r in again] == [r.path for r in first if r.language == "python"][:3]
    engine.search("delete a user", k=5)
    assert len(counting.asked) == 2
    assert engine.search("register the routes of a router", k=5) == first
    assert len(counting.asked) == 2


UNDEFINED_NAME_FILES = {
    "app/settings.py": '''import os


def data_folder():
    """Where the data lives."""
    base = os.environ.get("CACHE_ROOT_DIR", "/var/cache")
    return os.path.join(base, "data")
''',
    "app/cleanup.py": '''import os
import shutil

from app import data_store


def purge_everything(keep_logs=False):
    """Remove what the service wrote."""
    for name in ("tmp", "spool", "sessions"):
        shutil.rmtree(os.path.join("/var/lib/app", name), ignore_errors=True)
    if not keep_logs:
        shutil.rmtree("/var/log/app", ignore_errors=True)
    shutil.rmtree(os.environ["CACHE_ROOT_DIR"], ignore_errors=True)
    data_store.load().clear()
''',
    "app/data_store.py": """def load():
    return {}
""",
    "app/cache.py": '''class CacheDir:
    """A cache root directory: the root of every cache dir."""

    def __init__(self, root_dir):
        self.root_dir = root_dir


def cache_root(root_dir):
    """The cache root dir under a root dir."""
    return CacheDir(root_dir).root_dir


def root_dir_of_cache(cache):
    """The root dir of a cache."""
    return cache.root_dir
''',
}


def test_a_name_nothing_defines_finds_where_it_is_used(tmp_path: Path, search_embedder: Embedder) -> None:
    # `CACHE_ROOT_DIR` is an environment variable: no chunk defines it, two use it, and the
    # chunks about a cache's root dir hold its words. Its uses are the answer.
    store = index_files(tmp_path, UNDEFINED_NAME_FILES, search_embedder)
    users = {("app/settings.py", "data_folder"), ("app/cleanup.py", "purge_everything")}
    engine = SearchEngine(store, search_embedder, mode="hybrid")
    assert {(r.path, r.symbol) for r in engine.search("CACHE_ROOT_DIR", 2)} == users
    # A module path names its file, which is the answer, not the uses of its last part.
    assert engine.search("app.data_store", 1)[0].path == "app/data_store.py"
    off = SearchEngine(store, search_embedder, mode="hybrid", config=RankConfig().without("undefined_uses"))
    # A file's name is no name nothing defines: its uses are not made the answer.
    assert [(r.path, r.symbol) for r in engine.search("data_store", 5)] == [
        (r.path, r.symbol) for r in off.search("data_store", 5)
    ]
    assert {(r.path, r.symbol) for r in off.search("CACHE_ROOT_DIR", 2)} != users


def test_the_service_remembers_as_many_query_vectors_as_configured(tmp_path: Path, search_embedder: Embedder) -> None:
    from lapce_ai.service.state import ServiceState

    index_files(tmp_path, {"a.py": "def alpha_function():\n    return 1\n"}, search_embedder)
    base = settings_for(tmp_path)
    for size, asked in ((0, 2), (8, 1)):
        performance = base.performance.model_copy(update={"query_vector_cache": size})
        state = ServiceState(base.model_copy(update={"performance": performance}), None, None)
        state.refresh()  # loads the embedder and opens the index, as the running service does
        assert state.index is not None
        engine = state.index.engine
        engine.embedder = counting = _CountingEmbedder(engine.embedder)
        engine.search("the alpha function", 3)
        engine.search("the alpha function", 3)
        assert len(counting.asked) == asked, size
