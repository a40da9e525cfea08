"""Carry the indexer's metrics into the service's ``/metrics``.

``lapce-ai-indexer`` parses, caches and embeds; ``lapce-ai-service`` answers ``/metrics``. The
indexer puts a snapshot of its collectors into its status file; the service adds the *increase*
since the last snapshot it saw to its own counters and histograms, and copies gauges. Counters stay
monotonic across indexer restarts (a new indexer process starts a new baseline), so ``rate()``
over the service's metrics covers both processes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.utils import floatToGoString

from lapce_ai.observability import metrics

# The service's own families: never overwritten from the indexer.
SERVICE_ONLY = frozenset(
    {
        "config_reloads",
        "semantic_search_requests",
        "semantic_search_latency_seconds",
        "semantic_search_memory_rss_bytes",
    }
)

CACHE_TIERS = ("hot", "warm", "cold", "frozen")

Sample = list[Any]  # [family, type, sample name, labels, value]


def snapshot() -> list[Sample]:
    """This process's metric samples, JSON-ready (the indexer writes these to its status file)."""
    out: list[Sample] = []
    for family in metrics.REGISTRY.collect():
        if family.name in SERVICE_ONLY or family.type not in ("counter", "gauge", "histogram"):
            continue
        for s in family.samples:
            if s.name.endswith("_created"):
                continue
            out.append([family.name, family.type, s.name, dict(s.labels), float(s.value)])
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
        metrics.CST_CACHE_HITS.labels(tier)
        metrics.CST_CACHE_EVICTIONS.labels(tier)
        metrics.CST_CACHE_TIER_SIZE.labels(tier)


def _collectors() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for value in vars(metrics).values():
        if isinstance(value, Counter | Gauge | Histogram):
            found[value._name] = value
    return found


class MetricsBridge:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._collectors = _collectors()
        self._origin: Any = None
        self._last: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}

    def apply(self, origin: Any, samples: list[Sample], alive: bool) -> None:
        """Fold a snapshot from process ``origin`` (pid and start time) into this registry."""
        with self._lock:
            if origin != self._origin:
                self._origin, self._last = origin, {}
            hist_deltas: dict[tuple[str, tuple[tuple[str, str], ...]], dict[str, float]] = {}
            for entry in samples:
                try:
                    family, kind, name, labels, value = entry
                    labels = {str(k): str(v) for k, v in dict(labels).items()}
                    value = float(value)
                except (TypeError, ValueError):
                    continue
                collector = self._collectors.get(str(family))
                if collector is None or family in SERVICE_ONLY:
                    continue
                if kind == "gauge":
                    self._child(collector, labels).set(value if alive else 0.0)
                    continue
                key = (str(name), tuple(sorted(labels.items())))
                delta = value - self._last.get(key, 0.0)
                self._last[key] = value
                if delta <= 0:
                    continue
                if kind == "counter" and name.endswith("_total"):
                    self._child(collector, labels).inc(delta)
                elif kind == "histogram":
                    le = labels.pop("le", None)
                    hkey = (str(family), tuple(sorted(labels.items())))
                    slot = hist_deltas.setdefault(hkey, {})
                    if name.endswith("_bucket") and le is not None:
                        slot[le] = delta
                    elif name.endswith("_sum"):
                        slot["__sum__"] = delta
            for (family, label_items), deltas in hist_deltas.items():
                self._apply_histogram(self._collectors[family], dict(label_items), deltas)

    @staticmethod
    def _child(collector: Any, labels: dict[str, str]) -> Any:
        return collector.labels(**labels) if labels else collector

    def _apply_histogram(self, collector: Any, labels: dict[str, str], deltas: dict[str, float]) -> None:
        """Cumulative bucket increases → per-bucket increases on the service's histogram."""
        child = self._child(collector, labels)
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
