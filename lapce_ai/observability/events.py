"""Log events another process relays: the indexer's ``cache_miss`` lines reach the service's log.

Some things operators grep the service's journal for happen in ``lapce-ai-indexer`` (the CST cache
lives there), whose output systemd files under its own unit. An event is logged where it happens,
as an ordinary JSON line with ``event`` set, and kept in a short ring with a sequence number; the
indexer's status file carries the ring (``metrics_bridge.snapshot``) and the service logs every
event it has not seen yet (``MetricsBridge.apply``), so ``journalctl -u lapce-ai-service`` shows it
too.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from typing import Any

RING_SIZE = 20  # what a restarted service can still catch up with (the runbook tails 20 lines)

_lock = threading.Lock()
_ring: deque[dict[str, Any]] = deque(maxlen=RING_SIZE)
_seq = itertools.count(1)


def emit(logger: logging.Logger, event: str, msg: str, level: int = logging.INFO, **fields: Any) -> dict[str, Any]:
    """Log ``msg`` with ``event`` and ``fields`` as JSON keys, and keep it for relaying.

    ``fields`` must be JSON values and must not use a ``LogRecord`` attribute's name (``msg``,
    ``name``, ``args``...)."""
    logger.log(level, msg, extra={"event": event, **fields})
    with _lock:
        entry = {"seq": next(_seq), "ts": round(time.time(), 3), "event": event, "msg": msg, **fields}
        entry["level"] = logging.getLevelName(level)
        _ring.append(entry)
    return entry


def recent() -> list[dict[str, Any]]:
    """The last ``RING_SIZE`` events of this process, oldest first."""
    with _lock:
        return list(_ring)
