"""The real ``lapce-index`` command, as a user types it."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

BIN = Path(sys.executable).parent


def cli(*args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(BIN / "lapce-index"), *args], capture_output=True, text=True, env=env, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError(f"lapce-index {' '.join(args)} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "config.toml"
    config.write_text(f'[embedder]\nprovider = "static"\n\n[paths]\ncache_dir = "{tmp_path / "cache"}"\n')
    e = {k: v for k, v in os.environ.items() if not k.startswith(("CST_", "LAPCE_AI"))}
    e.update(LAPCE_AI_CONFIG=str(config), XDG_DATA_HOME=str(tmp_path / "xdg"), HF_HUB_OFFLINE="1")
    return e


def make_project(root: Path, files: int = 12) -> None:
    (root / "pkg").mkdir(parents=True)
    for i in range(files):
        (root / "pkg" / f"mod{i}.py").write_text(
            f'"""Module {i}."""\n\n\ndef compute_{i}(values):\n    return sum(v * {i} for v in values)\n\n\n'
            f"class Handler{i}:\n    def handle(self, request):\n        return compute_{i}(request.values)\n"
        )
    (root / "pkg" / "tokenizer.go").write_text(
        "package pkg\n\n// Tokenize splits text into words.\nfunc Tokenize(text string) []string {\n"
        "\treturn strings.Fields(text)\n}\n"
    )


def test_index_search_stats_validate(tmp_path: Path, env: dict[str, str]) -> None:
    root = tmp_path / "proj"
    make_project(root)
    index = tmp_path / "idx"
    summary = json.loads(cli("index", str(root), "--index", str(index), "--json", env=env).stdout)
    assert summary["files_indexed"] == 13 and summary["files_failed"] == 0
    assert summary["embeddings_computed"] == summary["chunks_total"]

    results = json.loads(cli("search", "Tokenize", "--index", str(index), "--json", "-k", "3", env=env).stdout)
    assert results[0]["path"] == "pkg/tokenizer.go" and results[0]["symbol"] == "Tokenize"
    assert set(results[0]) >= {"path", "start_line", "end_line", "symbol", "kind", "language", "score", "content"}
    assert results[0]["start_line"] == 3  # 1-based; the doc comment belongs to the function

    py_only = json.loads(
        cli("search", "compute", "--index", str(index), "--json", "--language", "python", env=env).stdout
    )
    assert py_only and all(r["language"] == "python" for r in py_only)
    scoped = json.loads(
        cli("search", "handle", "--index", str(index), "--json", "--path", "pkg/mod1.py", env=env).stdout
    )
    assert scoped and {r["path"] for r in scoped} == {"pkg/mod1.py"}

    typo = cli("search", "Tokenzie", "--index", str(index), "-k", "1", env=env).stdout
    assert typo.startswith("showing results for: Tokenize\n") and "Tokenize" in typo.splitlines()[1]
    assert "showing results for" not in cli("search", "Tokenize", "--index", str(index), "-k", "1", env=env).stdout

    escape = cli("search", "x", "--index", str(index), "--path", "../etc", env=env, check=False)
    assert escape.returncode == 2 and "workspace" in escape.stderr

    stats = json.loads(cli("stats", "--index", str(index), "--json", env=env).stdout)
    assert stats["files"] == 13 and stats["chunks"] == summary["chunks_total"]
    assert stats["files_by_parser"] == {"cst": 13} and stats["size_bytes"] > 0

    assert "valid" in cli("validate", "--index", str(index), "--detailed", env=env).stdout
    assert "nothing to migrate" in cli("migrate", "--index", str(index), "--to", "latest", env=env).stdout

    noop = json.loads(cli("index", str(root), "--index", str(index), "--json", env=env).stdout)
    assert noop["files_unchanged"] == 13 and noop["embeddings_computed"] == 0


def test_human_summary_and_errors(tmp_path: Path, env: dict[str, str]) -> None:
    root = tmp_path / "proj"
    make_project(root, files=2)
    (root / "blob.bin").write_bytes(b"\x00\x01" * 100)
    out = cli("index", str(root), "--index", str(tmp_path / "idx"), env=env).stdout
    assert "3 indexed" in out and "binary 1" in out and "embeddings:" in out
    missing = cli("search", "x", "--index", str(tmp_path / "nowhere"), env=env, check=False)
    assert missing.returncode == 1 and "no index" in missing.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text("[features]\nrollout_percentage = 101\n")
    res = cli("--config", str(bad), "stats", env=env, check=False)
    assert res.returncode == 1 and "features.rollout_percentage" in res.stderr and ":2:" in res.stderr
    notdir = cli("index", str(tmp_path / "nope"), "--index", str(tmp_path / "i2"), env=env, check=False)
    assert notdir.returncode == 2


def test_migrate_names_a_bad_target_in_one_line(tmp_path: Path, env: dict[str, str]) -> None:
    root = tmp_path / "proj"
    make_project(root, files=1)
    index = tmp_path / "idx"
    cli("index", str(root), "--index", str(index), env=env)
    for target in ("foo", "0", "-1", "1.5", ""):
        res = cli("migrate", "--index", str(index), "--to", target, env=env, check=False)
        assert res.returncode == 2, (target, res.stderr)
        assert "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) == 1, res.stderr
        assert f"invalid --to {target!r}" in res.stderr and "latest" in res.stderr
    nowhere = cli("migrate", "--index", str(tmp_path / "none"), "--to", "foo", env=env, check=False)
    assert nowhere.returncode == 2 and "invalid --to" in nowhere.stderr  # the argument is checked first
    for target in ("1", "v1", "latest", "LATEST"):
        assert "nothing to migrate" in cli("migrate", "--index", str(index), "--to", target, env=env).stdout
    ahead = cli("migrate", "--index", str(index), "--to", "99", env=env, check=False)
    assert ahead.returncode == 2 and "unknown schema version 99" in ahead.stderr
    assert "would migrate" not in cli("migrate", "--index", str(index), "--dry-run", env=env).stdout


def test_backup_restore_rebuild(tmp_path: Path, env: dict[str, str]) -> None:
    root = tmp_path / "proj"
    make_project(root, files=3)
    index = tmp_path / "idx"
    cli("index", str(root), "--index", str(index), env=env)
    archive = tmp_path / "backup.tar.gz"
    cli("backup", "--index", str(index), "--out", str(archive), env=env)
    (root / "pkg" / "mod0.py").unlink()
    cli("index", str(root), "--index", str(index), env=env)
    cli("restore", "--index", str(index), "--backup", str(archive), env=env)
    stats = json.loads(cli("stats", "--index", str(index), "--json", env=env).stdout)
    assert stats["files"] == 4
    cli("rebuild", "--index", str(index), "--from-source", str(root), env=env)
    assert json.loads(cli("stats", "--index", str(index), "--json", env=env).stdout)["files"] == 3
    garbage = tmp_path / "garbage.tar.gz"
    garbage.write_bytes(b"not a tarball")
    assert cli("restore", "--index", str(index), "--backup", str(garbage), env=env, check=False).returncode != 0
    assert json.loads(cli("stats", "--index", str(index), "--json", env=env).stdout)["files"] == 3


def index_content(index: Path, env: dict[str, str]) -> set[tuple[Any, ...]]:
    code = (
        "import sys, json; from lapce_ai.index.store import IndexStore, CHUNKS;"
        "t = IndexStore.open(__import__('pathlib').Path(sys.argv[1])).table(CHUNKS).to_arrow();"
        "print(json.dumps(t.select(['path','symbol','kind','start_line','end_line','content_hash']).to_pylist()))"
    )
    out = subprocess.run([sys.executable, "-c", code, str(index)], capture_output=True, text=True, env=env, check=True)
    return {tuple(r.values()) for r in json.loads(out.stdout)}


def test_sigkill_at_random_points_leaves_a_working_index(tmp_path: Path, env: dict[str, str]) -> None:
    root = tmp_path / "big"
    (root / "src").mkdir(parents=True)
    rng = random.Random(7)
    for i in range(900):
        body = "".join(f"    v{j} = value * {rng.randint(1, 99)}\n" for j in range(rng.randint(2, 12)))
        (root / "src" / f"m{i:04d}.py").write_text(f"def fn_{i}(value):\n{body}    return value\n")
    reference = tmp_path / "reference"
    cli("index", str(root), "--index", str(reference), "--no-progress", env=env)
    expected = index_content(reference, env)

    index = tmp_path / "killed"
    for attempt in range(4):
        proc = subprocess.Popen(
            [str(BIN / "lapce-index"), "index", str(root), "--index", str(index), "--no-progress"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(1.0, 4.0))
        children = psutil.Process(proc.pid).children(recursive=True)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        _gone, alive = psutil.wait_procs(children, timeout=10)
        assert not alive, f"attempt {attempt}: worker processes outlived the killed CLI: {alive}"
        if not (index / "meta.json").exists():
            continue
        check = cli("validate", "--index", str(index), env=env, check=False)
        assert check.returncode == 0, f"attempt {attempt}: {check.stdout}{check.stderr}"
        cli("search", "fn_1 value", "--index", str(index), "--json", env=env)
    final = json.loads(cli("index", str(root), "--index", str(index), "--json", "--no-progress", env=env).stdout)
    assert final["files_failed"] == 0
    assert index_content(index, env) == expected
    assert cli("validate", "--index", str(index), "--detailed", env=env).returncode == 0


def test_index_from_before_file_summaries_is_filled_in_by_the_next_run(tmp_path: Path, env: dict[str, str]) -> None:
    """An unchanged tree is normally confirmed without opening LanceDB; an index written before
    file summaries (older snapshot format, no summaries) gets them on its next ``index`` run."""
    import lancedb

    root = tmp_path / "proj"
    make_project(root, files=3)
    index = tmp_path / "idx"
    cli("index", str(root), "--index", str(index), "--json", env=env)
    lancedb.connect(str(index)).open_table("file_summaries").delete("true")
    snapshot = index / "manifest_snapshot.json"
    old = json.loads(snapshot.read_text())
    snapshot.write_text(json.dumps({**old, "format": 1}))
    report = json.loads(cli("validate", "--index", str(index), "--json", env=env).stdout)
    assert any("4 files lack one" in w for w in report["warnings"]), report

    again = json.loads(cli("index", str(root), "--index", str(index), "--json", env=env).stdout)
    assert again["files_indexed"] == 0 and again["summaries_embedded"] == 4
    report = json.loads(cli("validate", "--index", str(index), "--json", env=env).stdout)
    assert report["valid"] and not report["warnings"] and report["file_summaries"] == 4
    # Now the snapshot is current again: the next run is the quick one, and embeds nothing.
    quick = json.loads(cli("index", str(root), "--index", str(index), "--json", env=env).stdout)
    assert quick["summaries_embedded"] == 0 and quick["files_unchanged"] == 4
