"""The runbook's cache checks against the real two processes: the CST cache lives in
lapce-ai-indexer, the operator asks lapce-ai-service (``/metrics``, ``/cache/stats``, its journal)."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Any

from runbook_queries import hit_rate, series
from test_service_indexer import start_indexer
from test_service_support import built_index, fresh, metric_value, start_service, wait_for  # noqa: F401 (fixtures)

from lapce_ai.cache.misses import WINDOW_SECONDS


def grep(text: str, word: str) -> list[str]:
    """``journalctl -u UNIT | grep WORD``: the unit's output lines holding WORD."""
    return [line for line in text.splitlines() if word in line]


def test_runbook_cache_checks_answer_from_the_service(fresh: dict[str, Any]) -> None:  # noqa: F811
    svc = start_service(fresh)
    svc.wait_ready()
    before = svc.get("/metrics").text
    indexer = start_indexer(fresh)
    # The copied workspace is a new root to the indexer: every file is parsed, every lookup misses.
    assert wait_for(lambda: (metric_value(svc.get("/metrics").text, "cst_cache_misses_total") or 0) >= 5, timeout=60)
    module = Path(fresh["workspace"]) / "web" / "refunds.py"
    first = "def refund(order):\n    return order.total\n"
    module.write_text(first)
    time.sleep(1.0)
    module.write_text("def refund(order):\n    return -order.total\n")
    time.sleep(1.0)
    module.write_text(first)  # a version the cache has seen: a hit (from the disk tier)
    assert wait_for(lambda: (metric_value(svc.get("/metrics").text, "cst_cache_hits_total") or 0) >= 1, timeout=30)
    after = svc.get("/metrics").text

    # Cache hit rate, as the runbook queries it: one result, between 0 and 1.
    rate = hit_rate(before, after)
    assert list(rate) == [()], rate
    assert 0 < rate[()] < 1
    per_tier = series(after, "cst_cache_tier_hits_total")
    assert sum(per_tier.values()) == metric_value(after, "cst_cache_hits_total")

    # journalctl -u lapce-ai-service | grep "cache_miss": the indexer's lines, relayed by the service.
    relayed = wait_for(lambda: grep(svc.stderr(), "cache_miss"), timeout=WINDOW_SECONDS + 15)
    assert relayed, svc.stderr()[-2000:]
    line = json.loads(relayed[0])
    assert line["level"] == "INFO" and line["event"] == "cache_miss" and line["source"] == "lapce-ai-indexer"
    assert line["misses"] >= 5 and line["paths"] and line["msg"].startswith("cache_miss: ")
    assert line["indexer_pid"] == indexer.pid
    own = grep(indexer.stderr(), "cache_miss")  # journalctl -u lapce-ai-indexer: the same lines
    assert own and json.loads(own[0])["msg"] == line["msg"]

    # With the indexer stopped, the disk tier is still there: every view says how big it is.
    indexer.signal(signal.SIGTERM)
    assert indexer.wait(30) == 0
    on_disk = len(list((Path(fresh["tmp"]) / "cache" / "cst").glob("*/*.cst")))
    assert on_disk > 5
    stats = wait_for(lambda: (s := svc.get("/cache/stats").json())["indexer_running"] is False and s)
    assert stats["tier_sizes"] == {"hot": 0.0, "warm": 0.0, "cold": 0.0, "frozen": float(on_disk)}
    assert stats["details"]["tiers"]["frozen"]["entries"] == on_disk == stats["frozen_on_disk"]["entries"]
    text = svc.get("/metrics").text
    assert metric_value(text, "cst_cache_tier_size", {"tier": "frozen"}) == on_disk


def test_the_last_miss_window_reaches_the_final_status_file(tmp_path: Path) -> None:
    """An indexer that stops inside a window of misses logs it before its last status file, the
    only way its ``cache_miss`` line reaches the service once the process is gone."""
    from conftest import settings_for

    from lapce_ai.config.settings import WorkspaceSettings
    from lapce_ai.service.indexer_daemon import IndexerDaemon
    from lapce_ai.service.status import read_status

    root = tmp_path / "ws"
    root.mkdir()
    for i in range(6):
        (root / f"m{i}.py").write_text(f"def fn_{i}(value):\n    return value * {i}\n")
    settings = settings_for(tmp_path).model_copy(update={"workspaces": WorkspaceSettings(roots=[root])})
    daemon = IndexerDaemon(settings)
    started = time.monotonic()
    assert daemon.run(once=True) == 0
    assert time.monotonic() - started < WINDOW_SECONDS  # it stopped inside the window
    status = read_status(settings.paths.index_dir)
    assert status is not None
    events = [fields for family, kind, _name, fields, _seq in status["metrics"] if kind == "event"]
    misses = [e for e in events if e.get("msg", "").startswith("cache_miss: ") and e["misses"] >= 6]
    assert misses, events
