"""Carry the indexer's metrics, and the log events operators look for, into the service.

``lapce-ai-indexer`` parses, caches and embeds; ``lapce-ai-service`` answers ``/metrics``. The
indexer puts a snapshot of its collectors into its status file; the service adds the *increase*
since the last snapshot it saw to its own counters and histograms, and copies gauges. Counters stay
monotonic across indexer restarts (a new indexer process starts a new baseline), so ``rate()``
over the service's metrics covers both processes.

The snapshot also carries the indexer's recent relayed log events (``observability.events``:
``cache_miss``); the service logs each one it has not seen yet, so they are in its journal too.

Mixed versions (one unit restarted on another release) keep working: a sample whose labels do
not fit the service's collector is skipped, and hits reported the old way
(``cst_cache_hits_total{tier}``) are counted as the tier hits they are.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.utils import floatToGoString

from lapce_ai.observability import events, metrics

log = logging.getLogger("lapce_ai.service.bridge")

# The service's own families: never overwritten from the indexer.
SERVICE_ONLY = frozenset(
    {
        "config_reloads",
        "semantic_search_requests",
        "semantic_search_latency_seconds",
        "semantic_search_memory_rss_bytes",
    }
)

# Derived by the service from the tier hits it is sent (never sent: a service from before
# cst_cache_tier_hits_total has a per-tier cst_cache_hits_total, and an unlabelled sample would
# not fit it).
DERIVED = frozenset({"cst_cache_hits"})
_NOT_BRIDGED = SERVICE_ONLY | DERIVED

CACHE_TIERS = ("hot", "warm", "cold", "frozen")

# A relayed event older than this when first seen (a service started long after) is not logged.
RELAY_MAX_AGE_SECONDS = 300.0

# [family, type, sample name, labels, value]; for a relayed log event
# [event, "event", event, its fields, sequence number].
Sample = list[Any]


def snapshot() -> list[Sample]:
    """This process's metric samples and recent relayed events, JSON-ready (the indexer writes
    these to its status file)."""
    out: list[Sample] = []
    for family in metrics.REGISTRY.collect():
        if family.name in _NOT_BRIDGED or family.type not in ("counter", "gauge", "histogram"):
            continue
        for s in family.samples:
            if s.name.endswith("_created"):
                continue
            out.append([family.name, family.type, s.name, dict(s.labels), float(s.value)])
    for event in events.recent():
        fields = {k: v for k, v in event.items() if k not in ("event", "seq")}
        out.append([event["event"], "event", event["event"], fields, float(event["seq"])])
    return out


def prime() -> None:
    """Create the common label sets at zero, so ``curl /metrics | grep NAME`` finds every name."""
    for error_type in ("internal", "invalid_filter", "embedder", "not_ready", "index_unavailable", "config_invalid"):
        metrics.SEARCH_ERRORS.labels(error_type)
    for operation, status in (
        ("index_file", "ok"),
        ("index_file", "failed"),
        ("delete", "ok"),
        ("run", "ok"),
        ("run", "failed"),
    ):
        metrics.INDEX_OPERATIONS.labels(operation, status)
    for status in ("success", "failed"):
        metrics.CONFIG_RELOADS.labels(status)
    for tier in CACHE_TIERS:
        metrics.CST_CACHE_TIER_HITS.labels(tier)
        metrics.CST_CACHE_EVICTIONS.labels(tier)
        metrics.CST_CACHE_TIER_SIZE.labels(tier)


def _collectors() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for value in vars(metrics).values():
        if isinstance(value, Counter | Gauge | Histogram):
            found[value._name] = value
    return found


_RECORD_ATTRS = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class MetricsBridge:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._collectors = _collectors()
        self._origin: Any = None
        self._last: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        self._relayed = 0.0  # the last event sequence number logged for this origin

    def apply(self, origin: Any, samples: list[Sample], alive: bool) -> None:
        """Fold a snapshot from process ``origin`` (pid and start time) into this registry."""
        with self._lock:
            if origin != self._origin:
                self._origin, self._last, self._relayed = origin, {}, 0.0
            hist_deltas: dict[tuple[str, tuple[tuple[str, str], ...]], dict[str, float]] = {}
            for entry in samples:
                try:
                    family, kind, name, labels, value = entry
                    if kind == "event":
                        self._relay(origin, str(family), dict(labels), float(value))
                        continue
                    family, name = str(family), str(name)
                    labels = {str(k): str(v) for k, v in dict(labels).items()}
                    value = float(value)
                except (TypeError, ValueError):
                    continue
                if family == "cst_cache_hits" and "tier" in labels:  # an indexer from before the tier counter
                    family, name = "cst_cache_tier_hits", "cst_cache_tier_hits_total"
                collector = self._collectors.get(family)
                if collector is None or family in _NOT_BRIDGED:
                    continue
                if kind == "gauge":
                    gauge = self._child(collector, labels)
                    if gauge is not None:
                        gauge.set(value if alive else 0.0)
                    continue
                key = (name, tuple(sorted(labels.items())))
                delta = value - self._last.get(key, 0.0)
                self._last[key] = value
                if delta <= 0:
                    continue
                if kind == "counter" and name.endswith("_total"):
                    counter = self._child(collector, labels)
                    if counter is not None:
                        counter.inc(delta)
                        if family == "cst_cache_tier_hits":
                            metrics.CST_CACHE_HITS.inc(delta)
                elif kind == "histogram":
                    le = labels.pop("le", None)
                    hkey = (family, tuple(sorted(labels.items())))
                    slot = hist_deltas.setdefault(hkey, {})
                    if name.endswith("_bucket") and le is not None:
                        slot[le] = delta
                    elif name.endswith("_sum"):
                        slot["__sum__"] = delta
            for (family, label_items), deltas in hist_deltas.items():
                self._apply_histogram(self._collectors[family], dict(label_items), deltas)

    def _relay(self, origin: Any, event: str, fields: dict[str, Any], seq: float) -> None:
        """Log an event of the indexer's in this process, once (callers hold the lock)."""
        if seq <= self._relayed:
            return
        self._relayed = seq
        at = fields.pop("ts", None)
        if isinstance(at, int | float) and time.time() - at > RELAY_MAX_AGE_SECONDS:
            return
        msg = str(fields.pop("msg", event))
        level = logging.getLevelName(str(fields.pop("level", "INFO")))
        extra = {k: v for k, v in fields.items() if k not in _RECORD_ATTRS}
        pid = origin[0] if isinstance(origin, tuple) and origin else None
        extra.update(event=event, source="lapce-ai-indexer", indexer_pid=pid, indexer_ts=at)
        log.log(level if isinstance(level, int) else logging.INFO, msg, extra=extra)

    @staticmethod
    def _child(collector: Any, labels: dict[str, str]) -> Any:
        """The collector's child for ``labels``, or None when they are not its label names (a
        sample from another version of the indexer)."""
        if set(labels) != set(getattr(collector, "_labelnames", ())):
            return None
        return collector.labels(**labels) if labels else collector

    def _apply_histogram(self, collector: Any, labels: dict[str, str], deltas: dict[str, float]) -> None:
        """Cumulative bucket increases → per-bucket increases on the service's histogram."""
        child = self._child(collector, labels)
        if child is None:
            return
        bounds = list(getattr(child, "_upper_bounds", []))
        buckets = getattr(child, "_buckets", None)
        if buckets is None or len(bounds) != len(buckets):
            return
        previous = 0.0
        for i, bound in enumerate(bounds):
            cumulative = deltas.get(_le(bound), 0.0)
            own = cumulative - previous
            if own > 0:
                buckets[i].inc(own)
            previous = max(previous, cumulative)
        if deltas.get("__sum__", 0.0) > 0:
            child._sum.inc(deltas["__sum__"])


def _le(bound: float) -> str:
    """The ``le`` label prometheus_client writes for a bucket bound ("0.005", "1.0", "+Inf")."""
    to_go: Callable[[float], str] = floatToGoString
    return to_go(bound)
