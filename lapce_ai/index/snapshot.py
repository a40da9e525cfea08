"""A snapshot of the file manifest, for a no-op ``lapce-index index`` that never opens LanceDB.

Most runs of the CLI on an unchanged tree find nothing to do, yet opening LanceDB costs more
than the whole walk (its import alone is ~0.9 s here). After each run the indexer writes what
it just committed — each file's size, mtime and route, tagged with the ``files`` table version
it belongs to — and the next run trusts it only while that table's newest version on disk is
still that one and the settings and language registry that shape routing are unchanged. Any
difference, and the run takes the normal path. This module must not import LanceDB.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import xxhash

from lapce_ai.config.settings import Settings
from lapce_ai.discovery.walker import DiscoveryReport, WorkspaceWalker
from lapce_ai.index.summary import IndexSummary
from lapce_ai.parsing.router import chunking_fingerprint

SNAPSHOT_FILE = "manifest_snapshot.json"
# 2: written by code that keeps file summaries in step with the chunks. An older snapshot is not
# trusted, so the first run after an upgrade opens the index and fills in its summaries.
FORMAT = 2
_U64_MAX = 2**64 - 1


def latest_table_version(index_dir: Path, table: str) -> int | None:
    """The newest committed version of a Lance table, read from its ``_versions`` folder."""
    try:
        names = os.listdir(Path(index_dir) / f"{table}.lance" / "_versions")
    except OSError:
        return None
    versions = []
    for name in names:
        stem, _, ext = name.partition(".")
        if ext != "manifest" or not stem.isdigit():
            continue
        number = int(stem)
        # Lance's V2 naming stores u64::MAX - version so the newest sorts first.
        versions.append(_U64_MAX - number if number > 2**63 else number)
    return max(versions) if versions else None


def settings_fingerprint(settings: Settings) -> str:
    relevant = {
        "features": settings.features.model_dump(),
        "discovery": settings.discovery.model_dump(),
        "embedder": settings.embedder.provider,
        # a language gaining a grammar, a new chunker or fallback rule: the files are re-chunked
        "chunking": chunking_fingerprint(settings.features, settings.performance),
    }
    return xxhash.xxh3_64_hexdigest(json.dumps(relevant, sort_keys=True).encode())


@dataclass(frozen=True)
class Snapshot:
    root: str
    files_version: int
    fingerprint: str
    files: dict[str, tuple[int, int]]  # relpath -> (size, mtime_ns), indexed files only
    chunks: int
    skipped: dict[str, int]
    # Two-stage rows still waiting for their second-stage vector, as of the last refine that ran
    # on this snapshot's tree (None: not known). Refining never changes the ``files`` table, and
    # any new row comes with a ``files`` commit that outdates the snapshot, so a 0 stays true.
    refine_pending: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "root": self.root,
            "files_version": self.files_version,
            "fingerprint": self.fingerprint,
            "files": {k: list(v) for k, v in self.files.items()},
            "chunks": self.chunks,
            "skipped": self.skipped,
            "refine_pending": self.refine_pending,
        }


def write_snapshot(index_dir: Path, snapshot: Snapshot) -> None:
    path = Path(index_dir) / SNAPSHOT_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(snapshot.to_json()), encoding="utf-8")
    os.replace(tmp, path)


def read_snapshot(index_dir: Path) -> Snapshot | None:
    try:
        raw = json.loads((Path(index_dir) / SNAPSHOT_FILE).read_text(encoding="utf-8"))
        if raw.get("format") != FORMAT:
            return None
        return Snapshot(
            root=str(raw["root"]),
            files_version=int(raw["files_version"]),
            fingerprint=str(raw["fingerprint"]),
            files={k: (int(v[0]), int(v[1])) for k, v in raw["files"].items()},
            chunks=int(raw["chunks"]),
            skipped={str(k): int(v) for k, v in raw["skipped"].items()},
            refine_pending=None if raw.get("refine_pending") is None else int(raw["refine_pending"]),
        )
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None


def record_refine_pending(index_dir: Path, pending: int, files_version: int | None) -> None:
    """Note in the snapshot how many rows a refine left waiting. ``files_version``: the ``files``
    table's version when the refine began; if another writer committed files since, its rows
    may be pending too, and nothing is noted."""
    snapshot = read_snapshot(index_dir)
    if (
        snapshot is not None
        and files_version is not None
        and snapshot.files_version == files_version == latest_table_version(index_dir, "files")
    ):
        write_snapshot(index_dir, replace(snapshot, refine_pending=pending))


def fully_refined(index_dir: Path) -> bool:
    """True when the snapshot says a refine left no row waiting (only trusted with ``is_current``)."""
    snapshot = read_snapshot(index_dir)
    return snapshot is not None and snapshot.refine_pending == 0


def is_current(snapshot: Snapshot, index_dir: Path, root: str, settings: Settings) -> bool:
    return (
        snapshot.root == root
        and snapshot.fingerprint == settings_fingerprint(settings)
        and latest_table_version(index_dir, "files") == snapshot.files_version
    )


def confirm_unchanged(
    root: Path, index_dir: Path, settings: Settings
) -> tuple[IndexSummary | None, DiscoveryReport | None]:
    """The no-op summary if the tree matches the current snapshot exactly, else None — and the
    walk it made, which the indexer can reuse instead of walking again."""
    started = time.perf_counter()
    if not settings.features.incremental_indexing:
        return None, None
    root = root.resolve()
    snapshot = read_snapshot(index_dir)
    if snapshot is None or not is_current(snapshot, index_dir, str(root), settings):
        return None, None
    walker = WorkspaceWalker(root, settings.discovery.max_file_bytes, settings.discovery.include_vendored)
    report = walker.discover(lambda rel, size, mtime: snapshot.files.get(rel) == (size, mtime))
    if len(report.files) != len(snapshot.files) or dict(report.skipped) != snapshot.skipped:
        return None, report
    if any(snapshot.files.get(f.relpath) != (f.size, f.mtime_ns) for f in report.files):
        return None, report
    n = len(report.files)
    return IndexSummary(
        root=str(root),
        files_seen=n,
        files_unchanged=n,
        skipped=dict(report.skipped),
        chunks_total=snapshot.chunks,
        chunks_unchanged=snapshot.chunks,
        seconds=round(time.perf_counter() - started, 3),
    ), report
