"""The indexer's status file: how ``lapce-ai-indexer`` tells ``lapce-ai-service`` what it is doing.

The two run as separate processes (separate systemd units), so the indexer writes a small JSON
document into the index directory — atomically (write a temporary file, then rename) — after
every batch and as a heartbeat; the service reads it for ``/indexer/stats``, ``/cache/stats``,
``/health`` and ``/metrics``. A status whose heartbeat is stale, or whose process is gone, is
reported as "not running" rather than trusted.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import psutil

STATUS_FILE = "indexer_status.json"
HEARTBEAT_SECONDS = 1.0
STALE_AFTER_SECONDS = 10.0


def status_path(index_dir: Path) -> Path:
    return Path(index_dir) / STATUS_FILE


def write_status(index_dir: Path, status: dict[str, Any]) -> None:
    """Atomically replace the status file (readers see the old or the new document, never half)."""
    target = status_path(index_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{STATUS_FILE}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(status, fh, default=str, separators=(",", ":"))
    os.replace(tmp, target)


def read_status(index_dir: Path) -> dict[str, Any] | None:
    try:
        raw = status_path(index_dir).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def is_alive(status: dict[str, Any], now: float | None = None) -> bool:
    """True when the status comes from a running indexer (fresh heartbeat, same live process)."""
    if status.get("state") == "stopped":
        return False
    now = time.time() if now is None else now
    heartbeat = status.get("heartbeat_at")
    if not isinstance(heartbeat, int | float) or now - heartbeat > STALE_AFTER_SECONDS:
        return False
    pid = status.get("pid")
    if not isinstance(pid, int):
        return False
    try:
        proc = psutil.Process(pid)
        created = status.get("process_create_time")
        return not isinstance(created, int | float) or abs(proc.create_time() - created) < 1.0
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False


class StatusReader:
    """Reads the status file, re-parsing only when it changed (cheap enough for every request)."""

    def __init__(self, index_dir: Path):
        self.index_dir = Path(index_dir)
        self._stamp: tuple[int, int, int] | None = None
        self._data: dict[str, Any] | None = None
        self.generation = 0  # bumped whenever a new document was read

    def read(self) -> dict[str, Any] | None:
        try:
            st = status_path(self.index_dir).stat()
        except OSError:
            self._stamp, self._data = None, None
            return None
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        if stamp != self._stamp:
            self._data = read_status(self.index_dir)
            self._stamp = stamp if self._data is not None else None
            self.generation += 1
        return self._data
