"""Cache misses in the log: one ``cache_miss`` INFO line per window of misses, not one per miss.

A miss costs a parse, so an operator chasing a low hit rate wants to see which files miss (the
runbook: ``journalctl -u lapce-ai-service | grep "cache_miss"``). A line per miss would be a line
per file on a first indexing run — tens of thousands — so the first miss opens a window of
``WINDOW_SECONDS`` and one line closes it: how many lookups missed, out of how many, and the first
few paths. It is an ``events.emit`` event, so the service relays the indexer's lines into its own
log (``metrics_bridge``).
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from collections.abc import Callable

from lapce_ai.observability import events

log = logging.getLogger("lapce_ai.cache")

WINDOW_SECONDS = 10.0
SAMPLE_PATHS = 5
EVENT = "cache_miss"

_LIVE: weakref.WeakSet[MissLog] = weakref.WeakSet()


class MissLog:
    """Counts misses of one cache and logs them a window at a time.

    ``lookups`` returns the cache's lookups so far (hits and misses), read when a window opens and when it closes."""

    def __init__(self, lookups: Callable[[], int], window: float = WINDOW_SECONDS, sample: int = SAMPLE_PATHS):
        self.window = window
        self.sample = sample
        self._lookups = lookups
        self._lock = threading.Lock()
        self._misses = 0
        self._paths: list[str] = []
        self._base = 0  # lookups before the window's first miss
        self._opened = 0.0
        self._timer: threading.Timer | None = None
        _LIVE.add(self)

    def record(self, path: str) -> None:
        """One miss of ``path`` (already counted in the cache's lookups)."""
        with self._lock:
            if self._misses == 0:
                self._base, self._opened = self._lookups() - 1, time.monotonic()
                self._timer = threading.Timer(self.window, self.flush)
                self._timer.daemon = True
                self._timer.start()
            self._misses += 1
            if len(self._paths) < self.sample and path not in self._paths:
                self._paths.append(path)

    def flush(self) -> dict[str, object] | None:
        """Log the open window now (the timer does this when it ends); the event, or None."""
        with self._lock:
            timer, self._timer = self._timer, None
            misses, paths, base, opened = self._misses, self._paths, self._base, self._opened
            self._misses, self._paths = 0, []
        if timer is not None and timer is not threading.current_thread():
            timer.cancel()
        if not misses:
            return None
        lookups = max(self._lookups() - base, misses)
        seconds = round(time.monotonic() - opened, 1)
        more = f" (+{misses - len(paths)} more)" if misses > len(paths) else ""
        return events.emit(
            log,
            EVENT,
            f"{EVENT}: {misses} of {lookups} CST cache lookups missed in {seconds:.1f}s: {', '.join(paths)}{more}",
            misses=misses,
            lookups=lookups,
            window_s=seconds,
            paths=paths,
        )


@atexit.register
def _flush_all() -> None:
    """A process that exits mid-window still logs its last misses."""
    for miss_log in list(_LIVE):
        miss_log.flush()
