"""The bridge that carries lapce-ai-indexer's metrics and log events into lapce-ai-service."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest

from lapce_ai.observability import events, metrics
from lapce_ai.service.metrics_bridge import MetricsBridge, snapshot


def value(name: str, labels: dict[str, str] | None = None) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels or {}) or 0.0


def test_snapshot_sends_tier_hits_and_the_service_derives_the_total() -> None:
    metrics.CST_CACHE_HITS.inc(3)
    metrics.CST_CACHE_TIER_HITS.labels("warm").inc(3)
    sent = snapshot()
    names = {s[0] for s in sent}
    # an older service has a per-tier cst_cache_hits_total: an unlabelled sample would not fit it
    assert "cst_cache_tier_hits" in names and "cst_cache_hits" not in names
    tier = next(s for s in sent if s[2] == "cst_cache_tier_hits_total" and s[3] == {"tier": "warm"})
    hits, warm = value("cst_cache_hits_total"), value("cst_cache_tier_hits_total", {"tier": "warm"})
    bridge = MetricsBridge()
    bridge.apply((1, 1.0), [["cst_cache_tier_hits", "counter", tier[2], {"tier": "warm"}, 10.0]], True)
    bridge.apply((1, 1.0), [["cst_cache_tier_hits", "counter", tier[2], {"tier": "warm"}, 14.0]], True)
    assert value("cst_cache_tier_hits_total", {"tier": "warm"}) == warm + 14
    assert value("cst_cache_hits_total") == hits + 14


def test_an_indexer_from_before_the_tier_counter_is_understood() -> None:
    hits, frozen = value("cst_cache_hits_total"), value("cst_cache_tier_hits_total", {"tier": "frozen"})
    misses = value("cst_cache_misses_total")
    old = [
        ["cst_cache_hits", "counter", "cst_cache_hits_total", {"tier": "frozen"}, 5.0],
        ["cst_cache_misses", "counter", "cst_cache_misses_total", {}, 2.0],
    ]
    MetricsBridge().apply((2, 2.0), old, True)
    assert value("cst_cache_tier_hits_total", {"tier": "frozen"}) == frozen + 5
    assert value("cst_cache_hits_total") == hits + 5
    assert value("cst_cache_misses_total") == misses + 2


def test_samples_whose_labels_do_not_fit_are_skipped() -> None:
    misses = value("cst_cache_misses_total")
    odd = [
        ["cst_cache_misses", "counter", "cst_cache_misses_total", {"tier": "hot"}, 4.0],  # labelled: skip
        ["cst_cache_tier_hits", "counter", "cst_cache_tier_hits_total", {}, 4.0],  # unlabelled: skip
        ["cst_cache_tier_size", "gauge", "cst_cache_tier_size", {}, 4.0],
        ["cst_cache_hits", "counter", "cst_cache_hits_total", {}, 4.0],  # derived here, never taken
    ]
    MetricsBridge().apply((3, 3.0), odd, True)
    assert value("cst_cache_misses_total") == misses


def relayed(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "lapce_ai.service.bridge"]


def test_indexer_events_are_logged_once_by_the_service(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("lapce_ai.cache")
    with caplog.at_level("INFO"):
        events.emit(log, "cache_miss", "cache_miss: 2 of 3 CST cache lookups missed", misses=2, paths=["a.py"])
        sent = snapshot()
        caplog.clear()
        bridge = MetricsBridge()
        bridge.apply((4, 4.0), sent, True)
        bridge.apply((4, 4.0), sent, True)  # the same status again: nothing new
    lines = [r for r in relayed(caplog) if r.getMessage().startswith("cache_miss: 2 of 3")]
    assert len(lines) == 1  # (the ring also holds what other tests' caches logged)
    line: Any = lines[0]
    assert line.levelname == "INFO"
    assert (line.event, line.misses, line.paths, line.source, line.indexer_pid) == (
        "cache_miss",
        2,
        ["a.py"],
        "lapce-ai-indexer",
        4,
    )


def test_stale_events_are_not_relayed(caplog: pytest.LogCaptureFixture) -> None:
    old = ["cache_miss", "event", "cache_miss", {"ts": time.time() - 3600, "msg": "cache_miss: old"}, 1.0]
    new = ["cache_miss", "event", "cache_miss", {"ts": time.time(), "msg": "cache_miss: new", "name": "x"}, 2.0]
    with caplog.at_level("INFO"):
        MetricsBridge().apply((5, 5.0), [old, new], False)
    assert [r.getMessage() for r in relayed(caplog)] == ["cache_miss: new"]  # a field named "name" is dropped
