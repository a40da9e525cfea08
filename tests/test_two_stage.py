"""Two-stage indexes: searchable with static vectors at once, refined with a second model later."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xxhash
from conftest import settings_for

from lapce_ai.config.settings import EmbedderSettings, Settings, WorkspaceSettings
from lapce_ai.embedding.base import Embedder, Vectors, normalize_rows
from lapce_ai.embedding.two_stage import LazyEmbedder, TwoStageEmbedder, refiner_of
from lapce_ai.index.indexer import Indexer, IndexSummary
from lapce_ai.index.refine import Refiner
from lapce_ai.index.store import CHUNKS, REFINED, REFINED_EMBEDDINGS, EmbedderMismatch, IndexStore, read_meta
from lapce_ai.index.validate import validate_index
from lapce_ai.parsing.router import ParserRouter
from lapce_ai.search import two_stage
from lapce_ai.search.corpus import FIRST, Corpus
from lapce_ai.search.corpus import REFINED as REFINED_SPACE
from lapce_ai.search.engine import SearchEngine, forget_corpus, load_corpus

HANDLERS = '''"""Request handlers."""


def parse_query_string(raw):
    """Split a query string into a dict."""
    pairs = [p.split("=", 1) for p in raw.split("&") if p]
    return {k: v for k, v in pairs}


def render_template(name, context):
    """Fill a template with values."""
    return name.format(**context)


class Router:
    def add_route(self, path, handler):
        self.routes[path] = handler
'''

STORAGE = '''"""Storage helpers."""


def read_config(path):
    """Load configuration from a JSON file."""
    with open(path) as fh:
        return json.load(fh)


def compress_logs(folder):
    for name in os.listdir(folder):
        gzip_file(os.path.join(folder, name))
'''


class FakeRefiner:
    """A deterministic stand-in for the transformer: hash-seeded unit vectors, counted calls."""

    model_id = "fake-refiner-8"
    dim = 8

    def __init__(self, delay: float = 0.0):
        self.embedded: list[str] = []
        self.delay = delay

    def _vector(self, text: str) -> Vectors:
        rng = np.random.default_rng(xxhash.xxh64_intdigest(text.encode("utf-8", "surrogatepass")))
        vec: Vectors = rng.standard_normal(self.dim).astype(np.float32)
        return vec

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        self.embedded.extend(texts)
        if self.delay:
            time.sleep(self.delay * len(texts))
        return normalize_rows(np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dim)))

    def embed_query(self, text: str) -> Vectors:
        vec: Vectors = normalize_rows(self._vector(text)[None, :])[0]
        return vec


def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / "app").mkdir(parents=True)
    (root / "app" / "handlers.py").write_text(HANDLERS)
    (root / "app" / "storage.py").write_text(STORAGE)
    (root / "app" / "storage_copy.py").write_text(STORAGE)  # same chunks twice: refined once
    return root


class Harness:
    def __init__(self, tmp_path: Path, embedder: Embedder, refiner: Embedder | None = None):
        self.settings = settings_for(tmp_path)
        self.refiner = refiner or FakeRefiner()
        self.embedder = TwoStageEmbedder(embedder, self.refiner)
        self.store = IndexStore.open_for(tmp_path / "index", self.embedder, create=True)
        self.router = ParserRouter(self.settings.features, self.settings.performance)

    def index(self, root: Path) -> IndexSummary:
        return Indexer(self.settings, self.store, self.embedder, self.router).index(root)

    def refine(self, **kw: Any) -> Any:
        return Refiner(self.store, self.refiner, **kw).run()

    def rows(self) -> dict[tuple[str, str], dict[str, Any]]:
        data = self.store.table(CHUNKS).to_arrow().select(["path", "symbol", "content", "content_hash", REFINED])
        return {(r["path"], r["symbol"]): r for r in data.to_pylist()}

    def search(self, query: str, k: int = 5) -> list[str]:
        return [r.symbol for r in SearchEngine(self.store, self.embedder).search(query, k)]


def test_searchable_before_refinement_then_refine_fills_every_row(tmp_path: Path, embedder: Embedder) -> None:
    root = workspace(tmp_path)
    h = Harness(tmp_path, embedder)
    summary = h.index(root)
    assert summary.files_indexed == 3 and summary.chunks_total > 0
    assert h.refiner.embedded == []  # indexing never waits for the second model
    assert h.store.refine_counts() == (0, summary.chunks_total)
    assert all(r[REFINED] is None for r in h.rows().values())
    assert "parse_query_string" in h.search("parse_query_string")  # searchable at once
    assert load_corpus(h.store).vector_space == FIRST

    result = h.refine()
    assert (result.done, result.total) == (summary.chunks_total, summary.chunks_total)
    assert not result.interrupted
    # storage.py and its copy share every chunk: each distinct content embedded once.
    distinct = {r["content_hash"] for r in h.rows().values()}
    # The refiner also embeds each file's summary (one short text per file, refined first).
    summary_texts = {s.text for s in h.store.summaries().values()}
    assert result.summaries_refined == len(summary_texts) == 3
    chunk_texts = [t for t in h.refiner.embedded if t not in summary_texts]
    assert len(chunk_texts) == result.computed == len(distinct) < summary.chunks_total
    assert result.reused == summary.chunks_total - len(distinct)
    for row in h.rows().values():
        assert np.allclose(row[REFINED], h.refiner.embed_documents([row["content"]])[0], atol=1e-6)
    assert h.store.table(REFINED_EMBEDDINGS).count_rows() == len(distinct)
    corpus = load_corpus(h.store)
    assert corpus.vector_space == REFINED_SPACE and corpus.vectors is not None and corpus.vectors.shape[1] == 8
    assert "parse_query_string" in h.search("parse_query_string")
    report = validate_index(tmp_path / "index", detailed=True)
    assert report.ok, report.errors
    assert report.facts["refined"] == summary.chunks_total

    again = h.refine()
    assert again.refined == again.computed == 0 and again.done == again.total


def test_edit_gets_static_vector_at_once_and_is_refined_later(tmp_path: Path, embedder: Embedder) -> None:
    root = workspace(tmp_path)
    h = Harness(tmp_path, embedder)
    h.index(root)
    h.refine()
    before = h.rows()
    handlers = root / "app" / "handlers.py"
    edited = HANDLERS.replace("return name.format(**context)", "return name.format_map(context)")
    handlers.write_text(edited)
    h.refiner.embedded.clear()
    summary = h.index(root)
    assert summary.files_indexed == 1 and summary.embeddings_computed == 1
    assert h.refiner.embedded == []
    after = h.rows()
    changed = [k for k, r in after.items() if r[REFINED] is None]
    assert changed == [("app/handlers.py", "render_template")]
    # The file's other chunks were rewritten too, and kept their refined vectors (cache by hash).
    same_file = [k for k in after if k[0] == "app/handlers.py" and k not in changed]
    assert same_file and all(after[k][REFINED] == before[k][REFINED] for k in same_file)
    assert summary.refined_reused == len(same_file)
    assert "render_template" in h.search("render_template")
    forget_corpus(h.store)  # rebuilt from scratch: partly refined, one row pending
    rebuilt = load_corpus(h.store)
    assert rebuilt.first_stage is not None and rebuilt.first_stage.rows.size == 1
    assert "render_template" in h.search("render_template")

    refined = h.refine()
    assert refined.computed == 1 and refined.done == refined.total
    assert h.refiner.embedded == [after[("app/handlers.py", "render_template")]["content"]]

    # Reverting the edit finds its old second-stage vector in the cache: refined on write.
    handlers.write_text(HANDLERS)
    revert = h.index(root)
    assert revert.embeddings_computed == 0
    assert revert.refined_reused == sum(1 for k in after if k[0] == "app/handlers.py")
    assert h.store.refine_counts()[0] == h.store.refine_counts()[1]


def test_incremental_search_corpus_follows_refinement(tmp_path: Path, embedder: Embedder) -> None:
    root = many_functions(tmp_path / "ws", 120)
    h = Harness(tmp_path, embedder)
    h.index(root)
    h.refine()
    queries = ("multiply the value", "fn_7", "return value times 42", "fn_100 value")

    def dense(rebuild: bool) -> list[list[tuple[str, str, float]]]:
        if rebuild:
            forget_corpus(h.store)
        engine = SearchEngine(h.store, h.embedder, mode="dense")
        return [[(r.path, r.symbol, r.score) for r in engine.search(q, 5)] for q in queries]

    dense(True)  # the base corpus: fully refined
    (root / "src" / "m007.py").write_text("def fn_7(value):\n    return value * 7007\n")
    h.index(root)
    layered = load_corpus(h.store)
    assert layered.layers is not None  # the edit came in as a change, not a rebuild
    delta = layered.layers.delta
    assert delta.vector_space == FIRST or (delta.first_stage is not None and delta.first_stage.rows.size == 1)
    assert SearchEngine(h.store, h.embedder).search("fn_7", 1)[0].symbol == "fn_7"
    h.refine()  # the edited chunk's refined vector arrives as another change
    incremental = dense(False)
    assert load_corpus(h.store).layers is not None
    assert incremental == dense(True)  # the same answers as a corpus built afresh


def test_refinement_increments_on_a_projected_partly_refined_corpus_answer_like_a_fresh_one(
    tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The search corpus of a large index being refined: a partly refined base searched with
    a projected first pass per model, then refinement commits arriving as changes on top of it
    (the base's projections kept, the changed rows exact in the delta)."""
    from lapce_ai.search import corpus as corpus_module

    monkeypatch.setattr(corpus_module, "PROJECTED_MIN_CHUNKS", 50)
    monkeypatch.setattr(corpus_module, "PROJECTED_RESCORED", 10)
    root = many_functions(tmp_path / "ws", 160)
    h = Harness(tmp_path, embedder)
    h.index(root)
    Refiner(h.store, h.refiner, commit_chunks=70, commit_seconds=float("inf")).run(max_steps=1)
    queries = ("multiply the value", "fn_7", "return value times 42", "fn_100 value", "value 33")

    def dense(rebuild: bool) -> list[list[tuple[str, str, float]]]:
        if rebuild:
            forget_corpus(h.store)
        engine = SearchEngine(h.store, h.embedder, mode="dense")
        return [[(r.path, r.symbol, r.score) for r in engine.search(q, 5)] for q in queries]

    forget_corpus(h.store)
    base = load_corpus(h.store)
    assert base.projected is not None and base.first_stage is not None and base.first_stage.projected is not None
    assert dense(False)[0]
    Refiner(h.store, h.refiner, commit_chunks=6, commit_seconds=float("inf")).run(max_steps=1)
    layered = load_corpus(h.store)
    assert layered.layers is not None and layered.layers.base is base  # the commit came in as a change
    monkeypatch.setattr(corpus_module, "PROJECTED_RESCORED", 10**6)  # every row rescored: comparable exactly
    incremental = dense(False)
    fresh = dense(True)
    assert load_corpus(h.store).layers is None
    for got, want in zip(incremental, fresh, strict=True):
        assert [(p, s) for p, s, _ in got] == [(p, s) for p, s, _ in want]
        assert np.allclose([x for _, _, x in got], [x for _, _, x in want], atol=1e-4)


def many_functions(root: Path, count: int) -> Path:
    (root / "src").mkdir(parents=True)
    rng = random.Random(3)
    for i in range(count):
        body = "".join(f"    v{j} = value * {rng.randint(1, 99)}\n" for j in range(rng.randint(2, 6)))
        (root / "src" / f"m{i:03d}.py").write_text(f"def fn_{i}(value):\n{body}    return value\n")
    return root


def test_embedder_mismatch_is_refused(tmp_path: Path, embedder: Embedder) -> None:
    root = workspace(tmp_path)
    h = Harness(tmp_path, embedder)
    h.index(root)
    meta = read_meta(tmp_path / "index")
    assert meta is not None and meta.refine_model_id == "fake-refiner-8" and meta.refine_dim == 8
    for other in (embedder, TwoStageEmbedder(embedder, LazyEmbedder(FakeRefiner, "another-refiner", 8))):
        with pytest.raises(EmbedderMismatch, match="lapce-index rebuild"):
            IndexStore.open_for(tmp_path / "index", other)
    # A single-stage index is unchanged (no second-stage keys) and refuses a two-stage embedder.
    single = IndexStore.open_for(tmp_path / "single", embedder, create=True)
    assert "refine_model_id" not in json.loads((tmp_path / "single" / "meta.json").read_text())
    assert REFINED not in single.table(CHUNKS).schema.names
    with pytest.raises(EmbedderMismatch, match="lapce-index rebuild"):
        IndexStore.open_for(tmp_path / "single", h.embedder)


def test_refine_is_interruptible_and_never_writes_a_stale_vector(
    tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lapce_ai.index import refine

    monkeypatch.setattr(refine, "EMBED_GROUP", 2)  # stop checks between every two texts
    root = workspace(tmp_path)
    h = Harness(tmp_path, embedder)
    total = h.index(root).chunks_total
    calls = iter(range(1000))
    first = Refiner(h.store, h.refiner).run(should_stop=lambda: next(calls) >= 2)
    assert first.interrupted and 0 < first.done < total  # committed what it had embedded
    rest = h.refine()
    summary_texts = {s.text for s in h.store.summaries().values()}
    chunk_texts = set(h.refiner.embedded) - summary_texts
    assert rest.done == total and rest.computed + first.computed == len(chunk_texts)
    assert rest.summaries_refined == len(summary_texts) and not h.store.unrefined_summaries(10)

    # A row whose content changes between reading and writing keeps its new content, unrefined.
    handlers = root / "app" / "handlers.py"
    handlers.write_text(HANDLERS.replace("Split a query string", "Split a raw query string"))
    h.index(root)
    pending = h.store.unrefined(10)
    assert pending.num_rows == 1
    old_hash = pending.column("content_hash")[0].as_py()
    vector = h.refiner.embed_documents(pending.column("content").to_pylist())[0]
    handlers.write_text(HANDLERS.replace("Split a query string", "Split an encoded query string"))
    h.index(root)
    assert h.store.write_refined(pending, {old_hash: vector}, {old_hash: vector}) == 0
    row = h.rows()[("app/handlers.py", "parse_query_string")]
    assert row[REFINED] is None and "encoded" in row["content"]
    assert h.refine().done == total


def test_mixed_scores_are_calibrated_onto_the_second_model() -> None:
    rng = np.random.default_rng(0)
    n, rows = 400, np.arange(0, 400, 2)
    static = normalize_rows(rng.standard_normal((n, 16)))
    second = normalize_rows(rng.standard_normal((n, 8)))
    corpus = Corpus.from_table(_table(static, second, rows), 1)
    assert corpus.vector_space == REFINED_SPACE and corpus.first_stage is not None
    assert np.array_equal(corpus.first_stage.rows, np.arange(1, n, 2))
    q1, q2 = normalize_rows(rng.standard_normal(16)[None])[0], normalize_rows(rng.standard_normal(8)[None])[0]
    result = two_stage.similarities(corpus, q1, q2, None)
    assert result is not None
    out = result[0]
    assert np.allclose(out[rows], second[rows] @ q2, atol=1e-6)  # refined rows: the second model's cosine
    raw = static @ q1
    mapped = out[1::2]
    # Unrefined rows: same order as their static cosines, moved onto the refined rows' scale.
    assert np.array_equal(np.argsort(mapped), np.argsort(raw[1::2]))
    a, b = raw[rows], second[rows] @ q2
    assert np.allclose(mapped, (raw[1::2] - a.mean()) / a.std() * b.std() + b.mean(), atol=1e-5)
    # Nothing refined: the static model alone; everything refined: the second model alone.
    plain = Corpus.from_table(_table(static, second, np.zeros(0, np.int64)), 1)
    assert plain.vector_space == FIRST and np.allclose(two_stage.similarities(plain, q1, q2, None)[0], raw)  # type: ignore[index]
    full = Corpus.from_table(_table(static, second, np.arange(n)), 1)
    assert np.allclose(two_stage.similarities(full, q1, q2, None)[0], second @ q2, atol=1e-6)  # type: ignore[index]
    # Too few refined rows to fit a mapping: raw cosines.
    few = Corpus.from_table(_table(static, second, rows[:3]), 1)
    few_out = two_stage.similarities(few, q1, q2, None)[0]  # type: ignore[index]
    assert np.allclose(few_out[rows[:3]], second[rows[:3]] @ q2, atol=1e-6)
    assert np.allclose(np.delete(few_out, rows[:3]), np.delete(raw, rows[:3]), atol=1e-6)


def test_large_partly_refined_corpus_scans_each_model_with_its_own_projection(monkeypatch: pytest.MonkeyPatch) -> None:
    """A large half-refined corpus is not searched exhaustively: each model's rows get a
    projected first pass. Rescoring every row, it answers exactly like the exhaustive mix;
    with the usual rescoring it keeps the exact top 10; filters keep their rows only."""
    from lapce_ai.search import corpus as corpus_module
    from lapce_ai.search.corpus import top_similar

    rng = np.random.default_rng(3)
    n = 4000
    monkeypatch.setattr(corpus_module, "PROJECTED_MIN_CHUNKS", 1000)
    monkeypatch.setattr(corpus_module, "PROJECTED_RESCORED", 300)
    # Clustered vectors, as real embeddings are: a projection has structure to keep.
    static = normalize_rows(rng.standard_normal((40, 96))[rng.integers(0, 40, n)] + 0.3 * rng.standard_normal((n, 96)))
    second = normalize_rows(
        rng.standard_normal((40, 128))[rng.integers(0, 40, n)] + 0.3 * rng.standard_normal((n, 128))
    )
    refined_rows = np.sort(rng.choice(n, n // 2, replace=False))
    corpus = Corpus.from_table(_table(static, second, refined_rows), 1)
    stage = corpus.first_stage
    assert stage is not None and corpus.projected is not None and stage.projected is not None
    assert corpus.projected.rows is not None and np.array_equal(corpus.projected.rows, refined_rows)
    q1, q2 = static[7] + 0.1, second[7] + 0.1
    q1, q2 = q1 / np.linalg.norm(q1), q2 / np.linalg.norm(q2)
    shift, scale, target = two_stage._calibration([(corpus, 0)], q1, q2)
    exact = second @ q2
    exact[stage.rows] = (static[stage.rows] @ q1 - shift) * scale + target
    result = two_stage.similarities(corpus, q1, q2, None)
    assert result is not None and result[1] is not None
    assert result[1].size < n  # only the first passes' best were rescored
    got = top_similar(result[0], 10, None, corpus.position, result[1])
    assert set(got.tolist()) == set(np.argsort(-exact)[:10].tolist())
    assert np.allclose(result[0][got], exact[got], atol=1e-5)
    monkeypatch.setattr(corpus_module, "PROJECTED_RESCORED", n)  # every row rescored: the exhaustive answer
    sims, computed = two_stage.similarities(corpus, q1, q2, None)  # type: ignore[misc]
    assert computed is not None and np.array_equal(np.sort(computed), np.arange(n))
    assert np.allclose(sims, exact, atol=1e-5)
    for share in (0.5, 0.05):  # a broad filter (projected passes) and a narrow one (exact on its rows)
        allowed = rng.random(n) < share
        sims, computed = two_stage.similarities(corpus, q1, q2, allowed)  # type: ignore[misc]
        assert computed is not None and np.array_equal(np.sort(computed), np.flatnonzero(allowed))
        assert np.allclose(sims[allowed], exact[allowed], atol=1e-5)


def test_refined_share_counts_rows_scored_with_the_second_model() -> None:
    rng = np.random.default_rng(1)
    static = normalize_rows(rng.standard_normal((40, 16)))
    second = normalize_rows(rng.standard_normal((40, 8)))
    for refined_rows, share in ((np.zeros(0, np.int64), 0.0), (np.arange(0, 40, 4), 0.25), (np.arange(40), 1.0)):
        corpus = Corpus.from_table(_table(static, second, refined_rows), 1)
        assert two_stage.refined_share(corpus) == share


def _table(static: Vectors, second: Vectors, refined_rows: Any) -> Any:
    import pyarrow as pa

    n = static.shape[0]
    mask = np.ones(n, dtype=bool)
    mask[refined_rows] = False

    def column(m: Vectors, null: Any = None) -> pa.FixedSizeListArray:
        flat = pa.array(m.reshape(-1), type=pa.float32())
        return pa.FixedSizeListArray.from_arrays(flat, m.shape[1], mask=None if null is None else pa.array(null))

    return pa.table(
        {
            "root": ["/r"] * n,
            "path": [f"f{i}.py" for i in range(n)],
            "start_line": list(range(n)),
            "end_line": list(range(n)),
            "symbol": [f"s{i}" for i in range(n)],
            "kind": ["function"] * n,
            "language": ["python"] * n,
            "content": ["x"] * n,
            "search_text": ["x"] * n,
            "vector": column(static),
            REFINED: column(second, mask),
        }
    )


def test_fully_refined_index_searches_like_the_transformer(tmp_path: Path, embedder: Embedder) -> None:
    from lapce_ai.embedding.transformer import TransformerEmbedder

    transformer = TransformerEmbedder()
    root = workspace(tmp_path)
    h = Harness(tmp_path / "two", embedder, refiner=transformer)
    h.index(root)
    h.refine()
    settings = settings_for(tmp_path / "one")
    alone = IndexStore.open_for(tmp_path / "one" / "index", transformer, create=True)
    Indexer(settings, alone, transformer, ParserRouter(settings.features, settings.performance)).index(root)
    for mode in ("dense", "hybrid"):
        for query in ("load settings from a json file", "compress_logs", "split a url query"):
            two = SearchEngine(h.store, h.embedder, mode=mode).search(query, 5)
            one = SearchEngine(alone, transformer, mode=mode).search(query, 5)
            assert [(r.path, r.symbol, r.score) for r in two] == [(r.path, r.symbol, r.score) for r in one]


def test_registry_two_stage_loads_the_transformer_on_first_use() -> None:
    from lapce_ai.embedding.registry import create_embedder

    emb = create_embedder(Settings(embedder=EmbedderSettings(provider="two-stage")))
    refiner = refiner_of(emb)
    assert isinstance(refiner, LazyEmbedder) and not refiner.loaded
    assert (emb.model_id, emb.dim) == ("minilm-l6-v2-static-256", 256)
    assert (refiner.model_id, refiner.dim) == ("minilm-l6-v2-onnx-int8", 384)
    assert emb.embed_documents(["x"]).shape == (1, 256) and not refiner.loaded
    assert refiner.embed_query("read a file").shape == (384,) and refiner.loaded


# -- crash safety: SIGKILL mid-refine -----------------------------------------------------------

REFINE_SCRIPT = """
import sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from test_two_stage import FakeRefiner
from lapce_ai.embedding.static import StaticEmbedder
from lapce_ai.embedding.two_stage import TwoStageEmbedder
from lapce_ai.index.refine import Refiner
from lapce_ai.index.store import IndexStore

refiner = FakeRefiner(delay=0.04)  # ~5 s for the whole index, in commits of 10 rows (~0.4 s)
store = IndexStore.open_for(Path(sys.argv[1]), TwoStageEmbedder(StaticEmbedder(), refiner))
print("refining", flush=True)
print(Refiner(store, refiner, commit_chunks=10).run().done, flush=True)
"""


def test_sigkill_during_refine_leaves_a_valid_index_that_resumes(tmp_path: Path, embedder: Embedder) -> None:
    root = many_functions(tmp_path / "big", 120)
    rng = random.Random(3)
    h = Harness(tmp_path, embedder)
    total = h.index(root).chunks_total
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    args = [sys.executable, "-c", REFINE_SCRIPT, str(tmp_path / "index"), str(Path(__file__).parent)]
    for _attempt in range(3):
        proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "refining"
        time.sleep(rng.uniform(0.6, 1.5))  # mid-embedding or mid-commit
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        report = validate_index(tmp_path / "index")
        assert report.ok, report.errors
        store = IndexStore.open_for(tmp_path / "index", h.embedder)
        assert SearchEngine(store, h.embedder).search("fn_1 value", 3)
    done, _total = IndexStore.open_for(tmp_path / "index", h.embedder).refine_counts()
    assert 0 < done < total, "the kills should land mid-refine"
    proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120, check=True)
    assert int(proc.stdout.split()[-1]) == total
    for row in h.rows().values():
        assert np.allclose(row[REFINED], h.refiner.embed_documents([row["content"]])[0], atol=1e-6)
    # Vectors committed to the cache before a kill are reused, not embedded again.
    cached = h.store.table(REFINED_EMBEDDINGS).to_arrow().column("content_hash").to_pylist()
    assert len(cached) == len(set(cached))


# -- the CLI and the daemon --------------------------------------------------------------------


def test_cli_index_refine_stats_and_mismatch(tmp_path: Path) -> None:
    root = workspace(tmp_path)
    config = tmp_path / "config.toml"
    config.write_text(f'[embedder]\nprovider = "two-stage"\n\n[paths]\ncache_dir = "{tmp_path / "cache"}"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CST_", "LAPCE_AI"))}
    env.update(LAPCE_AI_CONFIG=str(config), XDG_DATA_HOME=str(tmp_path / "xdg"), HF_HUB_OFFLINE="1")
    bin_dir = Path(sys.executable).parent

    def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [str(bin_dir / "lapce-index"), *args], capture_output=True, text=True, env=env, timeout=300
        )
        assert not check or proc.returncode == 0, proc.stdout + proc.stderr
        return proc

    index = str(tmp_path / "idx")
    summary = json.loads(cli("index", str(root), "--index", index, "--json", "--no-refine").stdout)
    assert summary["refine_pending"] == summary["chunks_total"] > 0 and "refine" not in summary
    stats = json.loads(cli("stats", "--index", index, "--json").stdout)
    assert stats["refined"] == 0 and stats["refine_embedder"] == "minilm-l6-v2-onnx-int8"
    hits = json.loads(cli("search", "read_config", "--index", index, "--json").stdout)
    assert hits and hits[0]["symbol"] == "read_config"

    refined = json.loads(cli("refine", "--index", index, "--json").stdout)
    assert refined["two_stage"] and refined["done"] == refined["total"] == summary["chunks_total"]
    assert refined["computed"] < refined["total"]  # the copied file's chunks were reused
    (root / "app" / "other.py").write_text("def unrelated():\n    return 1\n")
    hinted = cli("index", str(root), "--index", index, "--no-refine").stdout
    assert "refine: 1 chunks still search with the fast first-stage vectors" in hinted
    (root / "app" / "new.py").write_text("def haversine_distance(a, b):\n    return 0.0\n")
    again = cli("index", str(root), "--index", index, "--refine").stdout
    assert "refined: 2 rows (2 embedded, 0 reused)" in again and "still search with the fast" not in again
    assert f"{refined['total'] + 2}/{refined['total'] + 2} chunks (100.0 %)" in cli("stats", "--index", index).stdout
    hits = json.loads(cli("search", "great circle distance between two points", "--index", index, "--json").stdout)
    assert hits[0]["symbol"] == "haversine_distance"
    refused = cli("search", "x", "--index", index, "--embedder", "static", check=False)
    assert refused.returncode == 1 and "lapce-index rebuild" in refused.stderr


def test_cli_index_refines_by_default_and_a_refined_noop_stays_off_lancedb(tmp_path: Path) -> None:
    from lapce_ai.index.snapshot import read_snapshot

    root = workspace(tmp_path)
    config = tmp_path / "config.toml"
    config.write_text(f'[paths]\ncache_dir = "{tmp_path / "cache"}"\n')  # provider "default": two-stage
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CST_", "LAPCE_AI"))}
    env.update(LAPCE_AI_CONFIG=str(config), XDG_DATA_HOME=str(tmp_path / "xdg"), HF_HUB_OFFLINE="1")
    index = tmp_path / "idx"

    lapce_index = str(Path(sys.executable).parent / "lapce-index")

    def index_run(*extra: str) -> dict[str, Any]:
        proc = subprocess.run(
            [lapce_index, "index", str(root), "--index", str(index), "--json", *extra],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        out: dict[str, Any] = json.loads(proc.stdout)
        return out

    first = index_run()
    assert first["refine"]["two_stage"] and first["refine"]["done"] == first["refine"]["total"] == first["chunks_total"]
    assert first["refine_pending"] == 0
    snapshot = read_snapshot(index)
    assert snapshot is not None and snapshot.refine_pending == 0
    # Unchanged and fully refined: the snapshot answers, nothing is opened or refined.
    noop = index_run()
    assert noop["files_unchanged"] == noop["files_seen"] > 0 and "refine" not in noop
    # A change is indexed, then refined in the same run.
    (root / "app" / "added.py").write_text("def haversine_distance(a, b):\n    return 0.0\n")
    changed = index_run()
    assert changed["files_indexed"] == 1 and changed["refine"]["refined"] >= 1 and changed["refine_pending"] == 0
    # --no-refine leaves the new rows to `refine`, and the snapshot no longer vouches for the index.
    (root / "app" / "later.py").write_text("def later_function():\n    return 2\n")
    fast = index_run("--no-refine")
    assert "refine" not in fast and fast["refine_pending"] >= 1
    snapshot = read_snapshot(index)
    assert snapshot is not None and snapshot.refine_pending is None
    resumed = index_run()  # unchanged tree, rows still pending: it opens the index and refines them
    assert resumed["files_unchanged"] == resumed["files_seen"] and resumed["refine"]["refined"] >= 1
    assert resumed["refine"]["done"] == resumed["refine"]["total"]
    # A rebuild refines the new index before swapping it in; --no-refine leaves that to `refine`.
    for extra, pending in ((), 0), (("--no-refine",), resumed["chunks_total"]):
        proc = subprocess.run(
            [lapce_index, "rebuild", "--index", str(index), "--from-source", str(root), "--json", *extra],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        rebuilt = json.loads(proc.stdout)
        assert rebuilt["chunks_total"] == resumed["chunks_total"] and rebuilt["refine_pending"] == pending
        assert ("refine" in rebuilt) == (not extra)


def test_daemon_refines_when_idle_and_file_changes_go_first(
    tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lapce_ai.index import refine
    from lapce_ai.service import components
    from lapce_ai.service.indexer_daemon import IndexerDaemon

    monkeypatch.setattr(refine, "EMBED_GROUP", 2)  # ~0.3 s between the refiner's looks at the queue

    root = tmp_path / "ws"
    (root / "src").mkdir(parents=True)
    for i in range(40):
        (root / "src" / f"m{i:02d}.py").write_text(f"def fn_{i}(value):\n    return value * {i}\n")
    refiner = FakeRefiner(delay=0.15)  # 40 chunks: ~6 s of refining
    monkeypatch.setattr(components, "create_embedder", lambda _s, _dir=None: TwoStageEmbedder(embedder, refiner))
    base = settings_for(tmp_path)
    settings = base.model_copy(update={"workspaces": WorkspaceSettings(roots=[root])})
    daemon = IndexerDaemon(settings)
    daemon.open()
    with daemon._cond:
        daemon._work.full.add(root.resolve())
    worker = threading.Thread(target=daemon._worker, daemon=True)
    worker.start()
    try:
        assert _wait(lambda: daemon.status()["refine"].get("state") == "refining", 30)
        status = daemon.status()["refine"]
        assert status["enabled"] and status["model_id"] == "fake-refiner-8" and status["total"] >= 40

        (root / "src" / "late.py").write_text("def late_arrival(x):\n    return x\n")
        changed_at = time.monotonic()
        daemon.enqueue({(__import__("watchfiles").Change.added, str(root / "src" / "late.py"))})
        store = daemon.store

        def has_late() -> bool:
            rows = store.table(CHUNKS).search().where("path = 'src/late.py'").limit(1).to_list()
            return bool(rows)

        assert _wait(has_late, 10)
        assert time.monotonic() - changed_at < 3  # not after the remaining refinement
        assert daemon.status()["refine"]["pending"] > 0  # the change went first

        assert _wait(lambda: daemon.status()["refine"].get("state") == "done", 60)
        refine = daemon.status()["refine"]
        assert refine["refined"] == refine["total"] == store.refine_counts()[1] and refine["pending"] == 0
        assert any("late_arrival" in t for t in refiner.embedded)
        assert refine["summaries_pending"] == store.unrefined_summary_count() == 0

        # A move: its chunks find their refined vectors in the cache (nothing pending), but its
        # file summary names the new path and waits for the second model; the daemon refines it.
        (root / "src" / "late.py").rename(root / "src" / "later.py")
        daemon.enqueue(
            {
                (__import__("watchfiles").Change.deleted, str(root / "src" / "late.py")),
                (__import__("watchfiles").Change.added, str(root / "src" / "later.py")),
            }
        )

        def later_refined() -> bool:
            later = [v for (_r, p), v in store.summaries().items() if p == "src/later.py"]
            return bool(later) and later[0].refined is not None

        assert _wait(later_refined, 30)
        assert _wait(lambda: daemon.status()["refine"].get("summaries_pending") == 0, 10)
        assert store.refine_counts()[0] == store.refine_counts()[1]
    finally:
        daemon._stop.set()
        with daemon._cond:
            daemon._cond.notify_all()
        worker.join(30)


def test_daemon_once_indexes_then_refines_everything(
    tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lapce_ai.service import components
    from lapce_ai.service.indexer_daemon import IndexerDaemon

    root = workspace(tmp_path)
    refiner = FakeRefiner()
    monkeypatch.setattr(components, "create_embedder", lambda _s, _dir=None: TwoStageEmbedder(embedder, refiner))
    settings = settings_for(tmp_path).model_copy(update={"workspaces": WorkspaceSettings(roots=[root])})
    daemon = IndexerDaemon(settings)
    assert daemon.run(once=True) == 0
    refined, total = daemon.store.refine_counts()
    assert refined == total > 0
    assert daemon.status()["refine"]["state"] == "done"
    assert daemon.store.unrefined_summary_count() == 0 and len(daemon.store.summaries()) == 3
    assert refiner.embedded  # the copied file's chunks were reused, the others embedded


def _wait(predicate: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_service_search_workers_answer_a_two_stage_index_like_the_http_process(tmp_path: Path) -> None:
    from test_service_support import base_env, build_index, free_port, make_workspace, start_service, write_config

    from lapce_ai.embedding.registry import create_embedder

    workspace = make_workspace(tmp_path / "ws")
    index = tmp_path / "index"
    ctx: dict[str, Any] = {"tmp": tmp_path, "env": base_env(tmp_path), "started": []}

    def config(name: str, workers: int) -> tuple[Path, int]:
        port = free_port()
        path = write_config(tmp_path / name, port=port, index=index, roots=[workspace])
        path.write_text(
            path.read_text().replace('provider = "static"', 'provider = "two-stage"')
            + f"[performance]\nsearch_workers = {workers}\n"
        )
        return path, port

    pooled_config, pooled_port = config("workers.toml", 2)
    inline_config, inline_port = config("inline.toml", 0)
    build_index(pooled_config, workspace, index, ctx["env"])
    emb = create_embedder(Settings(embedder=EmbedderSettings(provider="two-stage")))
    store = IndexStore.open_for(index, emb)
    total = store.refine_counts()[1]
    Refiner(store, refiner_of(emb), commit_chunks=total // 2).run(max_steps=1)  # type: ignore[arg-type]
    assert 0 < store.refine_counts()[0] < total  # partly refined: both models score
    try:
        pooled = start_service(ctx, config=pooled_config, port=pooled_port)
        inline = start_service(ctx, config=inline_config, port=inline_port)
        pooled.wait_ready()
        inline.wait_ready()
        for query in ("router dispatch", "parse_query_string", "evict oldest cache entry", "handle_request_3"):
            a = pooled.get("/search", params={"q": query, "k": 5})
            b = inline.get("/search", params={"q": query, "k": 5})
            assert a.status_code == b.status_code == 200, a.text + b.text
            assert a.json()["results"] == b.json()["results"] and a.json()["results"]
        facts = inline.get("/indexer/stats").json()["index"]
        assert facts["refine_embedder"] == "minilm-l6-v2-onnx-int8" and 0 < facts["refined"] < total
    finally:
        for proc in ctx["started"]:
            proc.stop()
