"""A heap report on SIGUSR1 (``scripts/capture_heap_dump.sh``): what a Python process holds.

Written as JSON into ``<cache_dir>/heapdumps/`` (not /tmp: systemd's PrivateTmp hides that):
live objects counted by type, garbage-collector statistics, the top allocation sites when the
process runs with ``PYTHONTRACEMALLOC=N``, RSS, and every thread's stack (useful for a hang too).
"""

from __future__ import annotations

import gc
import json
import logging
import os
import sys
import threading
import time
import traceback
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

import psutil

log = logging.getLogger("lapce_ai.service")
HEAPDUMP_DIR = "heapdumps"
_lock = threading.Lock()


def heap_report(top: int = 60) -> dict[str, Any]:
    counts: Counter[str] = Counter(type(o).__name__ for o in gc.get_objects())
    report: dict[str, Any] = {
        "pid": os.getpid(),
        "at": round(time.time(), 3),
        "argv": sys.argv,
        "rss_bytes": psutil.Process(os.getpid()).memory_info().rss,
        "gc": {"counts": gc.get_count(), "stats": gc.get_stats(), "tracked_objects": sum(counts.values())},
        "objects_by_type": dict(counts.most_common(top)),
        "threads": {
            str(ident): "".join(traceback.format_stack(frame)) for ident, frame in sys._current_frames().items()
        },
    }
    if tracemalloc.is_tracing():
        snapshot = tracemalloc.take_snapshot()
        report["tracemalloc_top"] = [
            {"where": str(stat.traceback), "size_bytes": stat.size, "count": stat.count}
            for stat in snapshot.statistics("lineno")[:top]
        ]
    else:
        report["tracemalloc_top"] = None
        report["note"] = "start the process with PYTHONTRACEMALLOC=25 to record allocation sites"
    return report


def write_heap_report(cache_dir: Path) -> Path | None:
    """Write one report; returns its path (None if one is already being written)."""
    if not _lock.acquire(blocking=False):
        return None
    try:
        out_dir = Path(cache_dir) / HEAPDUMP_DIR
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / f"heap-{os.getpid()}-{time.strftime('%Y%m%d-%H%M%S')}.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(heap_report(), indent=1, default=str), encoding="utf-8")
        os.replace(tmp, path)
        log.info("heap report written: %s", path, extra={"path": str(path)})
        return path
    except OSError as exc:
        log.error("cannot write heap report: %s", exc, extra={"error_type": "heapdump_failed"})
        return None
    finally:
        _lock.release()
