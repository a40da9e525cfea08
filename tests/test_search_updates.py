"""A new index version reaches search as changes on top of the built corpus (``search/layers.py``).

Real pipeline: files indexed into LanceDB on disk, then edited, deleted and compacted; after
each step the updated corpus must answer like one built from scratch for the same version.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.compute as pc
import pytest
from conftest import settings_for
from test_search import make_workspace

from lapce_ai.embedding.base import Embedder
from lapce_ai.index.indexer import Indexer
from lapce_ai.index.store import CHUNKS, IndexStore
from lapce_ai.parsing.router import ParserRouter
from lapce_ai.search import layers
from lapce_ai.search.corpus import Corpus
from lapce_ai.search.engine import SearchEngine, forget_corpus, load_corpus
from lapce_ai.search.filters import SearchFilters
from lapce_ai.search.spelling import corrected

QUERIES = [
    "HTTPException",
    "register routes on the router",
    "get_user",
    "delete a user",
    "handle http exception",
    "join paths",
    "format_price",
    "status code",
]

EXTRA_FILES = {
    f"pkg/mod{i}.py": f'"""Module {i}."""\n\n\ndef helper_{i}(value):\n    """Times {i}."""\n    return value * {i}\n'
    for i in range(30)
}


class Workspace:
    def __init__(self, tmp: Path, embedder: Embedder):
        self.root = make_workspace(tmp / "ws")
        for rel, text in EXTRA_FILES.items():
            (self.root / rel).parent.mkdir(parents=True, exist_ok=True)
            (self.root / rel).write_text(text)
        settings = settings_for(tmp)
        self.store = IndexStore.open(tmp / "index", embedder.model_id, embedder.dim, create=True)
        router = ParserRouter(settings.features, settings.performance)
        self.indexer = Indexer(settings, self.store, embedder, router)
        self.engine = SearchEngine(self.store, embedder)
        self.embedder = embedder
        self.reindex()

    def append_and_reindex(self, rel: str, text: str) -> Corpus:
        """Load the current corpus, append ``text`` to a file, re-index: the corpus after."""
        load_corpus(self.store)
        path = self.root / rel
        path.write_text(path.read_text() + text)
        self.reindex()
        return load_corpus(self.store)

    def reindex(self) -> None:
        summary = self.indexer.index(self.root)
        assert summary.files_failed == 0

    def answers(self, engine: SearchEngine, filters: SearchFilters | None = None) -> list[list[tuple[str, int, str]]]:
        return [[(r.path, r.start_line, r.content) for r in engine.search(q, 5, filters)] for q in QUERIES]

    def fresh_answers(self, filters: SearchFilters | None = None) -> list[list[tuple[str, int, str]]]:
        """The same queries on a corpus built from scratch for the current version."""
        forget_corpus(self.store)
        try:
            assert load_corpus(self.store).layers is None
            return self.answers(self.engine, filters)
        finally:
            forget_corpus(self.store)


@pytest.fixture
def ws(tmp_path: Path, embedder: Embedder) -> Workspace:
    return Workspace(tmp_path, embedder)


def _top(answers: list[list[tuple[str, int, str]]], n: int) -> list[list[tuple[str, int]]]:
    return [[(path, line) for path, line, _ in hits[:n]] for hits in answers]


def test_an_edit_is_applied_as_a_delta_and_answers_like_a_rebuild(ws: Workspace) -> None:
    corpus = ws.append_and_reindex("app/routes.py", "\n\ndef archive_user(user_id):\n    return {'gone': user_id}\n")
    assert corpus.layers is not None, "a one-file edit must not rebuild the corpus"
    assert 0 < corpus.layers.delta.n < 10
    assert ws.engine.search("archive_user", 3)[0].symbol == "archive_user"
    updated = ws.answers(ws.engine)
    assert _top(updated, 3) == _top(ws.fresh_answers(), 3)
    for filters in (SearchFilters(path="app/"), SearchFilters(language="python", kind="function")):
        load_corpus(ws.store)  # the layered corpus again (fresh_answers dropped it)
        assert _top(ws.answers(ws.engine, filters), 3) == _top(ws.fresh_answers(filters), 3)


def test_a_typo_of_a_name_an_edit_added_is_read_as_that_name(ws: Workspace) -> None:
    corpus = ws.append_and_reindex("app/routes.py", "\n\ndef archive_customer(user_id):\n    return user_id\n")
    assert corpus.layers is not None
    assert corrected("archive_custmer", corpus) == "archive_customer"
    assert ws.engine.search("where is archive_custmer defined", 3)[0].symbol == "archive_customer"


def test_deleted_and_rewritten_chunks_never_come_back(ws: Workspace) -> None:
    load_corpus(ws.store)
    (ws.root / "pkg" / "mod7.py").unlink()
    handlers = ws.root / "app" / "handlers.py"
    handlers.write_text(handlers.read_text().replace("def ", "def renamed_"))
    ws.reindex()
    corpus = load_corpus(ws.store)
    assert corpus.layers is not None
    assert ws.engine.search("helper_7", 10, SearchFilters(path="pkg/mod7.py")) == []
    # A name whose every definition went is no longer defined (the query's reading depends on it).
    assert "handle_http_exception" not in corpus.by_symbol and "renamed_handle_http_exception" in corpus.by_symbol
    assert corpus.by_symbol.get("handle_http_exception") is None and "mod7" not in corpus.by_stem
    hits = ws.engine.search("handle_http_exception", 10)
    assert all("def handle_http_exception" not in h.content for h in hits)
    assert any("renamed_handle_http_exception" in h.content for h in hits)
    assert _top(ws.answers(ws.engine), 3) == _top(ws.fresh_answers(), 3)


def test_compaction_moves_rows_without_a_rebuild(ws: Workspace) -> None:
    layered = ws.append_and_reindex("app/routes.py", "\n\ndef ping():\n    return 'pong'\n")
    assert layered.layers is not None
    after_edit = ws.answers(ws.engine)
    table = ws.store.table(CHUNKS)
    table.optimize()  # rewrites every row at a new address
    compacted = load_corpus(ws.store)
    assert compacted.version > layered.version
    assert compacted.layers is not None, "moved rows are recognised, not rebuilt"
    assert compacted.layers.base is layered.layers.base
    assert compacted.layers.delta.n == layered.layers.delta.n  # only the edit's rows are outside the base
    assert ws.answers(ws.engine) == after_edit


def test_many_changes_rebuild_the_corpus(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    load_corpus(ws.store)
    monkeypatch.setattr(layers, "DELTA_MIN_ROWS", 2)
    monkeypatch.setattr(layers, "DELTA_MAX_SHARE", 0.0)
    for i in range(10):
        path = ws.root / f"pkg/mod{i}.py"
        path.write_text(path.read_text() + f"\n\ndef extra_{i}():\n    return {i}\n")
    ws.reindex()
    corpus = load_corpus(ws.store)
    assert corpus.layers is None
    assert ws.engine.search("extra_3", 1)[0].symbol == "extra_3"


def test_unchanged_version_keeps_the_corpus(ws: Workspace) -> None:
    first = load_corpus(ws.store)
    ws.reindex()  # nothing changed on disk: no new chunks version
    assert load_corpus(ws.store) is first


def test_corpus_without_row_addresses_is_rebuilt(ws: Workspace) -> None:
    table = ws.store.table(CHUNKS)
    plain = Corpus.from_table(table.to_arrow(), int(table.version))
    assert plain.rowids is None
    assert layers.advance(plain, table, int(table.version) + 1) is None


def test_a_table_created_anew_is_rebuilt_not_diffed(ws: Workspace) -> None:
    """A new table reuses row addresses from zero: diffing by address would keep stale rows."""
    load_corpus(ws.store)
    rows = ws.store.table(CHUNKS).to_arrow()
    keep = rows.filter(pc.invert(pc.equal(rows.column("path"), "app/routes.py")))
    ws.store.db.drop_table(CHUNKS)
    ws.store.db.create_table(CHUNKS, keep)
    reopened = IndexStore.open(ws.store.path, ws.embedder.model_id, ws.embedder.dim)
    corpus = load_corpus(reopened)
    assert corpus.layers is None
    assert "app/routes.py" not in corpus.paths and corpus.n == keep.num_rows
