from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import settings_for

from lapce_ai.embedding.base import Embedder
from lapce_ai.index import chunked_with
from lapce_ai.index.indexer import Indexer, IndexSummary
from lapce_ai.index.store import CHUNKS, EmbedderMismatch, IndexStore
from lapce_ai.parsing import router as router_module
from lapce_ai.parsing.router import ParserRouter
from lapce_ai.search.engine import SearchEngine
from lapce_ai.search.filters import SearchFilters

APP = '''"""HTTP app."""


def parse_query_string(raw):
    """Split a query string into a dict."""
    pairs = [p.split("=", 1) for p in raw.split("&") if p]
    return {k: v for k, v in pairs}


class Router:
    def __init__(self):
        self.routes = {}

    def add_route(self, path, handler):
        self.routes[path] = handler
'''

UTIL_JS = """export function debounce(fn, wait) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), wait);
  };
}
"""


def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / "web").mkdir(parents=True)
    (root / "web" / "app.py").write_text(APP)
    (root / "web" / "util.js").write_text(UTIL_JS)
    (root / "README.md").write_text("# Demo\n\nA tiny web framework.\n")
    return root


class Harness:
    def __init__(self, tmp_path: Path, embedder: Embedder, **features: object):
        self.settings = settings_for(tmp_path, **features)
        self.store = IndexStore.open(tmp_path / "index", embedder.model_id, embedder.dim, create=True)
        self.embedder = embedder
        self.router = ParserRouter(self.settings.features, self.settings.performance)

    def run(self, root: Path) -> IndexSummary:
        return Indexer(self.settings, self.store, self.embedder, self.router).index(root)

    def rows(self) -> list[dict[str, object]]:
        data = self.store.table(CHUNKS).to_arrow().select(["path", "symbol", "id", "content_hash", "start_line"])
        return sorted(data.to_pylist(), key=lambda r: (str(r["path"]), int(str(r["start_line"]))))


def test_full_then_noop_then_edit_above(tmp_path: Path, embedder: Embedder) -> None:
    root = workspace(tmp_path)
    h = Harness(tmp_path, embedder)
    first = h.run(root)
    assert first.files_indexed == 3 and first.files_failed == 0
    assert first.embeddings_computed == first.chunks_total > 0
    assert first.parsers == {"cst": 2, "legacy": 1}

    noop = h.run(root)
    assert noop.files_unchanged == 3 and noop.files_indexed == 0
    assert noop.embeddings_computed == 0

    before = {r["symbol"]: r for r in h.rows()}
    app = root / "web" / "app.py"
    app.write_text(APP.replace('"""HTTP app."""\n', '"""HTTP app."""\nimport json\n\nDEBUG = False\n'))
    edit = h.run(root)
    assert edit.files_indexed == 1
    after = {r["symbol"]: r for r in h.rows()}
    # The function moved down two lines: same ID, same vector, no embedding for it.
    assert after["parse_query_string"]["id"] == before["parse_query_string"]["id"]
    assert int(str(after["parse_query_string"]["start_line"])) > int(str(before["parse_query_string"]["start_line"]))
    assert edit.embeddings_computed <= 1  # only the changed module header


def test_touch_without_change_reads_but_does_not_reindex(tmp_path: Path, embedder: Embedder) -> None:
    root = workspace(tmp_path)
    h = Harness(tmp_path, embedder)
    h.run(root)
    (root / "web" / "app.py").write_text(APP)  # new mtime, same bytes
    again = h.run(root)
    assert again.files_indexed == 0 and again.files_unchanged == 3 and again.embeddings_computed == 0


def test_rename_and_copy_reuse_embeddings_and_delete_removes(tmp_path: Path, embedder: Embedder) -> None:
    root = workspace(tmp_path)
    h = Harness(tmp_path, embedder)
    h.run(root)
    shutil.move(root / "web" / "app.py", root / "web" / "server.py")
    shutil.copy(root / "web" / "util.js", root / "web" / "util_copy.js")
    moved = h.run(root)
    assert moved.files_deleted == 1 and moved.files_indexed == 2
    assert moved.embeddings_computed == 0 and moved.embeddings_reused > 0
    paths = {r["path"] for r in h.rows()}
    assert "web/app.py" not in paths and "web/server.py" in paths and "web/util_copy.js" in paths
    (root / "web" / "util_copy.js").unlink()
    gone = h.run(root)
    assert gone.files_deleted == 1
    assert "web/util_copy.js" not in {r["path"] for r in h.rows()}


def test_branch_switch_back_costs_nothing(tmp_path: Path, embedder: Embedder) -> None:
    root = workspace(tmp_path)
    h = Harness(tmp_path, embedder)
    h.run(root)
    original = (root / "web" / "app.py").read_text()
    (root / "web" / "app.py").write_text(original.replace("handler\n", "handler\n        return self\n"))
    h.run(root)
    (root / "web" / "app.py").write_text(original)
    back = h.run(root)
    assert back.embeddings_computed == 0


def test_rollout_change_reroutes_only_changed_routes(tmp_path: Path, embedder: Embedder) -> None:
    root = tmp_path / "many"
    root.mkdir()
    for i in range(30):
        (root / f"mod_{i}.py").write_text(f"def f_{i}(x):\n    return x * {i}\n")
    h = Harness(tmp_path, embedder, rollout_percentage=100)
    h.run(root)
    h.router.reconfigure(h.settings.features.model_copy(update={"rollout_percentage": 50}), h.settings.performance)
    half = h.run(root)
    expected = sum(1 for i in range(30) if not h.router.uses_cst(f"mod_{i}.py"))
    assert half.files_indexed == expected and 0 < expected < 30
    assert half.files_unchanged == 30 - expected


def test_bad_inputs_are_indexed_or_reported(tmp_path: Path, embedder: Embedder) -> None:
    root = tmp_path / "bad"
    root.mkdir()
    (root / "invalid.py").write_bytes(b"def f():\n    return '\xff\xfe'\n")
    (root / "nul.c").write_bytes(b"int main() {\x00 return 0; }\n")
    (root / "empty.py").write_bytes(b"")
    (root / "broken.rs").write_text("fn main( {{{{ let = ;\n" * 40)
    (root / "huge_fn.py").write_text("def big():\n" + "".join(f"    a{i} = {i}\n" for i in range(10_000)))
    (root / "deep.py").write_text("x = " + "(" * 500 + "1" + ")" * 500 + "\n")
    h = Harness(tmp_path, embedder)
    summary = h.run(root)
    assert summary.skipped.get("binary") == 1  # the NUL-byte file is reported, not indexed
    assert summary.files_failed == 0
    paths = {r["path"] for r in h.rows()}
    assert {"invalid.py", "broken.rs", "huge_fn.py", "deep.py"} <= paths


def test_other_embedder_is_refused(tmp_path: Path, embedder: Embedder) -> None:
    IndexStore.open(tmp_path / "index", embedder.model_id, embedder.dim, create=True)
    with pytest.raises(EmbedderMismatch, match="lapce-index rebuild"):
        IndexStore.open(tmp_path / "index", "some-other-model", 768)


def test_search_finds_definitions_with_filters(tmp_path: Path, embedder: Embedder) -> None:
    root = workspace(tmp_path)
    h = Harness(tmp_path, embedder)
    h.run(root)
    engine = SearchEngine(h.store, embedder)
    top = engine.search("parse_query_string", 3)
    assert top[0].symbol == "parse_query_string" and top[0].path == "web/app.py"
    js = engine.search("debounce a function call", 5, SearchFilters(language="javascript"))
    assert js and all(r.language == "javascript" for r in js)
    scoped = engine.search("route handler", 5, SearchFilters(path="web/*.py"))
    assert scoped and all(r.path.endswith(".py") for r in scoped)


def test_index_versions_and_fragments_stay_bounded(tmp_path: Path, embedder: Embedder) -> None:
    root = workspace(tmp_path)
    h = Harness(tmp_path, embedder)
    h.store.keep_versions_for = timedelta(milliseconds=1)  # production keeps 10 s for concurrent readers
    h.store.compact_after_fragments = 4
    for i in range(12):
        (root / "web" / f"gen_{i}.py").write_text(f"def g{i}():\n    return {i}\n")
        h.run(root)
    chunks = h.store.table(CHUNKS)
    assert chunks.stats()["fragment_stats"]["num_fragments"] <= 5
    assert len(chunks.list_versions()) <= 8
    names = {r["symbol"] for r in h.rows()}
    assert {f"g{i}" for i in range(12)} <= names


def test_refine_pending_is_noted_only_against_the_files_version_the_refine_began_at(
    tmp_path: Path, embedder: Embedder
) -> None:
    from lapce_ai.index.snapshot import fully_refined, latest_table_version, read_snapshot, record_refine_pending

    root = workspace(tmp_path)
    h = Harness(tmp_path, embedder)
    h.run(root)
    index = Path(h.store.path)
    version = latest_table_version(index, "files")
    assert version is not None
    record_refine_pending(index, 0, version - 1)  # files were committed while it refined: unknown
    snapshot = read_snapshot(index)
    assert snapshot is not None and snapshot.refine_pending is None and not fully_refined(index)
    record_refine_pending(index, 2, version)
    assert not fully_refined(index)
    record_refine_pending(index, 0, version)
    assert fully_refined(index)


def test_snapshot_confirms_only_an_unchanged_tree(
    tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lapce_ai.index.snapshot import confirm_unchanged

    root = workspace(tmp_path)
    h = Harness(tmp_path, embedder)
    first = h.run(root)
    quick, _ = confirm_unchanged(root, h.store.path, h.settings)
    assert quick is not None
    assert quick.files_unchanged == 3 and quick.chunks_total == first.chunks_total and quick.files_indexed == 0

    (root / "web" / "app.py").write_text(APP + "\n# changed\n")
    assert confirm_unchanged(root, h.store.path, h.settings)[0] is None
    h.run(root)
    assert confirm_unchanged(root, h.store.path, h.settings)[0] is not None

    (root / "web" / "new.py").write_text("def new():\n    return 1\n")
    assert confirm_unchanged(root, h.store.path, h.settings)[0] is None
    h.run(root)
    (root / "web" / "new.py").unlink()
    assert confirm_unchanged(root, h.store.path, h.settings)[0] is None
    h.run(root)

    other = h.settings.model_copy(
        update={"features": h.settings.features.model_copy(update={"rollout_percentage": 10})}
    )
    assert confirm_unchanged(root, h.store.path, other)[0] is None
    assert confirm_unchanged(root, h.store.path, h.settings)[0] is not None
    # An upgrade whose languages.toml, queries or chunker differ (a language gaining a grammar
    # re-routes its files): the snapshot no longer vouches for the chunks it recorded.
    monkeypatch.setattr(router_module, "chunker_fingerprint", lambda: "another registry")
    assert confirm_unchanged(root, h.store.path, h.settings)[0] is None
    monkeypatch.undo()
    assert confirm_unchanged(root, h.store.path, h.settings)[0] is not None
    # Another writer moves the files table to a newer version than the snapshot's: no trust.
    states = h.store.file_states(str(root.resolve()))
    h.store.update_file_states(list(states.values())[:1])
    assert confirm_unchanged(root, h.store.path, h.settings)[0] is None


JOBS_WITH_A_TYPO = """def retry(task, attempts=3):
    for _ in range(attempts):
        if task():
            return True
    return False


def schedule(task, every):
    return {"task": task, "every": every


def cancel(job):
    job["cancelled"] = True
"""


def with_max_error_ratio(h: Harness, ratio: float) -> None:
    performance = h.settings.performance.model_copy(update={"max_error_ratio": ratio})
    h.settings = h.settings.model_copy(update={"performance": performance})
    h.router.reconfigure(h.settings.features, performance)


def test_chunking_changed_since_the_last_run_rechunks_unchanged_files(tmp_path: Path, embedder: Embedder) -> None:
    root = workspace(tmp_path)
    (root / "web" / "jobs.py").write_text(JOBS_WITH_A_TYPO)
    h = Harness(tmp_path, embedder)
    with_max_error_ratio(h, 0.0)  # any syntax error sends a file to line windows
    first = h.run(root)
    assert first.parsers == {"cst": 2, "legacy": 2}
    assert {r["symbol"] for r in h.rows() if r["path"] == "web/jobs.py"} == {""}

    # Same bytes, other fallback rule (as after an upgrade): only jobs.py gets other chunks.
    with_max_error_ratio(h, 0.3)
    version = h.store.table(CHUNKS).version
    again = h.run(root)
    assert again.files_indexed == 1 and again.files_unchanged == 3 and again.parsers == {"cst": 1}
    assert {"retry", "schedule"} <= {r["symbol"] for r in h.rows() if r["path"] == "web/jobs.py"}
    assert h.store.table(CHUNKS).version > version

    steady = h.run(root)
    assert steady.files_indexed == 0 and steady.files_unchanged == 4


def test_index_without_a_chunking_record_is_reparsed_but_not_rewritten(tmp_path: Path, embedder: Embedder) -> None:
    root = workspace(tmp_path)
    h = Harness(tmp_path, embedder)
    h.run(root)
    (Path(h.store.path) / chunked_with.MARKS_FILE).unlink()  # as an index from before the record
    version = h.store.table(CHUNKS).version
    again = h.run(root)
    assert again.files_indexed == 0 and again.files_unchanged == 3 and again.embeddings_computed == 0
    assert h.store.table(CHUNKS).version == version
    assert chunked_with.chunked_with(Path(h.store.path), str(root.resolve())) is not None
