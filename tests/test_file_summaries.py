"""File summaries: one vector per file (path words + defined names), kept in step with the chunks
by indexing, incremental updates, backfill and refinement, and used by search as a file signal."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from conftest import settings_for
from test_two_stage import FakeRefiner

from lapce_ai.embedding.base import Embedder, Vectors
from lapce_ai.embedding.two_stage import TwoStageEmbedder
from lapce_ai.index.file_summaries import summary_text
from lapce_ai.index.indexer import Indexer
from lapce_ai.index.refine import Refiner
from lapce_ai.index.store import FILE_SUMMARIES, IndexStore, StoredSummary
from lapce_ai.index.summary import IndexSummary
from lapce_ai.index.validate import validate_index
from lapce_ai.parsing.router import ParserRouter
from lapce_ai.search.engine import SearchEngine, load_corpus
from lapce_ai.search.ranking import NO_SIGNALS, RankConfig
from lapce_ai.search.summaries import load_summaries

RETRY = '''"""Retry policy."""


class RetryPolicy:
    def next_delay(self, attempt):
        return min(30.0, 0.5 * 2**attempt)


def should_retry(status):
    return status in (429, 502, 503)
'''

CACHE = """export class LruCache {
  constructor(limit) {
    this.limit = limit;
    this.items = new Map();
  }

  evictOldest() {
    const first = this.items.keys().next().value;
    this.items.delete(first);
  }
}
"""


class Counting:
    """The real embedder, recording what it was asked to embed."""

    def __init__(self, inner: Embedder):
        self.inner = inner
        self.model_id = inner.model_id
        self.dim = inner.dim
        self.texts: list[str] = []

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        self.texts.extend(texts)
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> Vectors:
        return self.inner.embed_query(text)


def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / "net" / "http").mkdir(parents=True)
    (root / "net" / "http" / "retry_policy.py").write_text(RETRY)
    (root / "ui").mkdir()
    (root / "ui" / "lruCache.js").write_text(CACHE)
    (root / "empty.py").write_text("")
    return root


class Harness:
    def __init__(self, tmp_path: Path, embedder: Embedder):
        self.settings = settings_for(tmp_path)
        self.embedder = Counting(embedder)
        self.store = IndexStore.open_for(tmp_path / "index", self.embedder, create=True)
        self.router = ParserRouter(self.settings.features, self.settings.performance)

    def index(self, root: Path) -> IndexSummary:
        return Indexer(self.settings, self.store, self.embedder, self.router).index(root)

    def summaries(self) -> dict[str, tuple[str, Vectors]]:
        return {path: (s.text, s.vector) for (_root, path), s in self.store.summaries().items()}


def test_summary_text_is_the_path_words_then_the_defined_names_in_file_order() -> None:
    text = summary_text("pkg/net/http/router.go", ["Router", "Router.AddRoute", "", "handle", "Router.AddRoute"])
    assert text == "net http router: router, add route, handle"
    assert summary_text("lib/rack/mock_request.rb", ["Rack::MockRequest.env_for"]) == "lib rack mock request: env for"
    assert summary_text("README.md", []) == "readme"


def test_each_indexed_file_gets_a_summary_embedded_once(tmp_path: Path, embedder: Embedder) -> None:
    root = workspace(tmp_path)
    h = Harness(tmp_path, embedder)
    first = h.index(root)
    stored = h.summaries()
    # The empty file has no chunks, so nothing to summarise.
    assert set(stored) == {"net/http/retry_policy.py", "ui/lruCache.js"}
    assert first.summaries_embedded == 2
    text, vector = stored["net/http/retry_policy.py"]
    # The class is one chunk (small enough): its name stands for it.
    assert text == "net http retry policy: retry policy, should retry"
    np.testing.assert_allclose(vector, embedder.embed_documents([text])[0], atol=1e-5)
    assert stored["ui/lruCache.js"][0] == "ui lru cache: lru cache"

    h.embedder.texts.clear()
    assert h.index(root).summaries_embedded == 0  # nothing changed: nothing embedded
    assert h.embedder.texts == []


def test_summaries_follow_edits_and_deletions(tmp_path: Path, embedder: Embedder) -> None:
    root = workspace(tmp_path)
    h = Harness(tmp_path, embedder)
    h.index(root)
    before = h.summaries()
    retry = root / "net" / "http" / "retry_policy.py"

    # A body edit defines nothing new: the summary keeps its text and vector, no embedding.
    retry.write_text(RETRY.replace("30.0", "60.0"))
    h.embedder.texts.clear()
    edit = h.index(root)
    assert edit.files_indexed == 1 and edit.summaries_embedded == 0
    assert h.summaries()["net/http/retry_policy.py"][0] == before["net/http/retry_policy.py"][0]

    # A new definition changes the summary: embedded again, for that file only.
    retry.write_text(RETRY + "\n\ndef jitter(delay):\n    return delay * 0.9\n")
    h.embedder.texts.clear()
    added = h.index(root)
    assert added.summaries_embedded == 1
    after = h.summaries()
    assert after["net/http/retry_policy.py"][0].endswith(", jitter")
    assert [t for t in h.embedder.texts if t == after["net/http/retry_policy.py"][0]]
    np.testing.assert_array_equal(after["ui/lruCache.js"][1], before["ui/lruCache.js"][1])

    # A file emptied, then one deleted: their summaries go with their chunks.
    retry.write_text("")
    (root / "ui" / "lruCache.js").unlink()
    h.index(root)
    assert h.summaries() == {}


def test_an_index_without_summaries_is_backfilled_by_the_next_run(tmp_path: Path, embedder: Embedder) -> None:
    root = workspace(tmp_path)
    h = Harness(tmp_path, embedder)
    h.index(root)
    expected = {path: text for path, (text, _v) in h.summaries().items()}
    # An index written before summaries existed (or a run killed between two writes).
    h.store.table(FILE_SUMMARIES).delete("true")
    assert h.summaries() == {}
    report = validate_index(tmp_path / "index")
    assert report.ok and any("2 files lack one" in w for w in report.warnings), report.warnings
    again = h.index(root)
    assert again.files_indexed == 0 and again.summaries_embedded == 2
    assert {path: text for path, (text, _v) in h.summaries().items()} == expected
    report = validate_index(tmp_path / "index")
    assert report.ok and not report.warnings and report.facts["file_summaries"] == 2
    # A summary left behind for a file that has no chunks (a quote in its path, too) is dropped.
    ghost = StoredSummary(str(root.resolve()), "gone/it's.py", "gone", "0", np.zeros(embedder.dim, np.float32))
    h.store.write_summaries([ghost])
    assert "gone/it's.py" in h.summaries()
    h.index(root)
    assert set(h.summaries()) == set(expected)


def test_refinement_gives_summaries_their_second_stage_vectors(tmp_path: Path, embedder: Embedder) -> None:
    root = workspace(tmp_path)
    settings = settings_for(tmp_path)
    refiner = FakeRefiner()
    two_stage = TwoStageEmbedder(embedder, refiner)
    store = IndexStore.open_for(tmp_path / "index", two_stage, create=True)
    Indexer(settings, store, two_stage, ParserRouter(settings.features, settings.performance)).index(root)
    assert all(s.refined is None for s in store.summaries().values())
    assert len(store.unrefined_summaries(100)) == 2

    result = Refiner(store, refiner).run()
    assert result.summaries_refined == 2 and result.done == result.total
    for s in store.summaries().values():
        assert s.refined is not None
        np.testing.assert_allclose(s.refined, refiner.embed_documents([s.text])[0], atol=1e-6)
    # Search then scores summaries in the second model's space.
    loaded = load_summaries(store)
    assert loaded is not None and loaded.refined is not None and loaded.has_refined is not None
    assert loaded.has_refined.all()


def test_search_scores_candidate_files_by_their_summary(tmp_path: Path, embedder: Embedder) -> None:
    root = workspace(tmp_path)
    h = Harness(tmp_path, embedder)
    h.index(root)
    engine = SearchEngine(h.store, embedder)
    query = "retry policy delay"
    vector = engine.embed_query(query)
    scores = engine._file_summary_scores(vector)
    assert scores is not None
    root_key = str(root.resolve())
    files = [(root_key, "net/http/retry_policy.py"), (root_key, "ui/lruCache.js"), (root_key, "missing.py")]
    got = scores.all_scores(files)
    assert got is not None and np.isnan(got[2])
    stored = h.summaries()
    for i, (_r, path) in enumerate(files[:2]):
        assert got[i] == pytest.approx(float(stored[path][1] @ vector), abs=1e-5)
    assert got[0] > got[1]
    # What ranking reads: every file of the search corpus at once, the same cosines.
    corpus_files = load_corpus(h.store).files
    every = scores.all_scores(corpus_files)
    assert every is not None
    for i, (_r, path) in enumerate(corpus_files):
        if path in stored:
            assert every[i] == pytest.approx(float(stored[path][1] @ vector), abs=1e-5)
        else:
            assert np.isnan(every[i])
    # Switched off, the engine does not even load them.
    off = RankConfig(file_summary=0.0, summary_pull=0)
    assert SearchEngine(h.store, embedder, config=off)._file_summary_scores(vector) is None
    assert NO_SIGNALS.file_summary == 0 and RankConfig().without("file_summary").file_summary == 0


def test_a_watched_save_or_delete_updates_that_file_summary(tmp_path: Path, embedder: Embedder) -> None:
    # The watching indexer re-indexes just the paths it saw change (``only``).
    root = workspace(tmp_path)
    h = Harness(tmp_path, embedder)
    h.index(root)
    cache = root / "ui" / "lruCache.js"
    cache.write_text(CACHE + "\nexport function clearAll(cache) {\n  cache.items.clear();\n}\n")
    saved = Indexer(h.settings, h.store, h.embedder, h.router).index(root, only=["ui/lruCache.js"])
    assert saved.files_indexed == 1 and saved.summaries_embedded == 1
    assert h.summaries()["ui/lruCache.js"][0] == "ui lru cache: lru cache, clear all"
    cache.unlink()
    Indexer(h.settings, h.store, h.embedder, h.router).index(root, only=["ui/lruCache.js"])
    assert set(h.summaries()) == {"net/http/retry_policy.py"}
