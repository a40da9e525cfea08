"""``lapce-ai-service`` over real HTTP: probes, config, metrics, stats, search, safety limits."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from runbook_queries import one_to_one, series
from test_service_support import (
    Service,
    built_index,  # noqa: F401  (session fixture)
    metric_value,
    service_over_copy,
)

# Every metric name the runbook and SPEC §5 name.
RUNBOOK_METRICS = [
    "cst_cache_hits_total",
    "cst_cache_misses_total",
    "cst_cache_get_duration_seconds_bucket",
    "cst_cache_tier_size",
    "cst_cache_evictions_total",
    "semantic_search_errors_total",
    "semantic_search_memory_rss_bytes",
    "index_operations_total",
    "aws_titan_request_latency_seconds_bucket",
    "cst_requests_total",
    "cst_errors_total",
    "legacy_requests_total",
    "legacy_errors_total",
    "semantic_search_latency_seconds_bucket",
    "files_indexed_total",
    "chunks_indexed_total",
    "embeddings_computed_total",
    "embeddings_reused_total",
    "config_reloads_total",
]


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory, built_index: dict[str, Path]) -> Iterator[Service]:  # noqa: F811
    service = service_over_copy(
        tmp_path_factory.mktemp("svc"), built_index, service_extra="max_k = 20\nmax_request_bytes = 4096"
    )
    try:
        service.wait_ready()
        yield service
    finally:
        service.stop()


def test_health_alive_ready(svc: Service) -> None:
    r = svc.get("/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "healthy"
    assert body["cst_enabled"] is True
    assert isinstance(body["cache_hit_rate"], float)
    assert svc.get("/alive").json() == {"alive": True}
    assert svc.get("/ready").status_code == 200


def test_health_detailed(svc: Service) -> None:
    body = svc.get("/health/detailed").json()
    checks = body["checks"]
    assert checks["embedder"]["loaded"] is True and checks["embedder"]["dim"] > 0
    assert checks["index"]["loaded"] is True and checks["index"]["chunks"] > 0
    assert checks["config"]["last_reload"] is None
    assert body["features"]["rollout_percentage"] == 100
    assert body["process"]["rss_bytes"] > 0


def test_config_is_effective_and_typed(svc: Service) -> None:
    body = svc.get("/config").json()
    assert body["service"]["port"] == svc.port
    assert body["service"]["max_k"] == 20
    assert body["features"]["rollout_percentage"] == 100
    assert body["performance"]["cache_hot_size"] == 100
    assert body["config_source"].endswith("config.toml")


def test_metrics_has_every_runbook_name(svc: Service) -> None:
    svc.get("/search", params={"q": "router"})
    r = svc.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    missing = [name for name in RUNBOOK_METRICS if name not in text]
    assert not missing, missing
    rss = metric_value(text, "semantic_search_memory_rss_bytes")
    assert rss is not None and rss > 10_000_000  # live: read at scrape time
    assert (metric_value(text, "semantic_search_requests_total", {"source": "http"}) or 0) >= 1


def test_runbook_hit_rate_expression_pairs_hits_with_misses(svc: Service) -> None:
    """The runbook's cache hit-rate query divides by ``rate(hits) + rate(misses)``: Prometheus'
    one-to-one matching pairs only series with identical label sets, so both counters must have
    the same labels in the real exposition, or the query returns nothing."""
    text = svc.get("/metrics").text
    hits, misses = series(text, "cst_cache_hits_total"), series(text, "cst_cache_misses_total")
    assert hits and set(hits) == set(misses), (sorted(hits), sorted(misses))
    assert list(one_to_one(hits, one_to_one(hits, misses, "+"), "/")) == list(hits)  # one result per series
    tiers = {dict(labels).get("tier") for labels in series(text, "cst_cache_tier_hits_total")}
    assert tiers == {"hot", "warm", "cold", "frozen"}  # the per-tier split is still exported


def test_cache_and_indexer_stats(svc: Service) -> None:
    cache = svc.get("/cache/stats").json()
    assert {"hit_rate", "hits", "misses", "tier_sizes", "configured", "enabled"} <= set(cache)
    assert set(cache["hits_by_tier"]) == {"hot", "warm", "cold", "frozen"}
    assert cache["frozen_on_disk"] == {"entries": 0, "bytes": 0}  # no indexer: counted on disk (none yet)
    assert cache["configured"] == {"hot": 100, "warm": 500, "cold": 2000, "frozen_bytes": 268435456}
    stats = svc.get("/indexer/stats").json()
    assert stats["queue_depth"] == 0
    assert stats["running"] is False  # no lapce-ai-indexer in this test
    assert stats["index"]["chunks"] > 0


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_search_results_follow_spec(svc: Service, method: str) -> None:
    if method == "GET":
        r = svc.get("/search", params={"q": "Tokenize", "k": 3})
    else:
        r = svc.post("/search", json={"query": "Tokenize", "k": 3})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["count"] == len(body["results"]) <= 3
    top = body["results"][0]
    assert set(top) == {"path", "start_line", "end_line", "symbol", "kind", "language", "score", "content"}
    assert top["path"] == "text/tokenizer.go" and top["symbol"] == "Tokenize" and top["language"] == "go"
    assert 1 <= top["start_line"] <= top["end_line"]


def test_a_misspelled_name_is_searched_as_the_name_and_said_so(svc: Service) -> None:
    body = svc.post("/search", json={"query": "where is Tokenzie defined", "k": 3}).json()
    assert body["query"] == "where is Tokenzie defined"
    assert body["corrected_query"] == "where is Tokenize defined"
    assert body["results"][0]["symbol"] == "Tokenize"
    assert svc.get("/search", params={"q": "Tokenize"}).json()["corrected_query"] is None
    schema = svc.get("/openapi.json").json()["components"]["schemas"]["SearchResponse"]
    assert "corrected_query" in schema["properties"]


def test_search_filters(svc: Service) -> None:
    r = svc.get("/search", params={"q": "handle request", "path": "web/", "language": "python", "k": 20})
    results = r.json()["results"]
    assert results and all(x["path"].startswith("web/") and x["language"] == "python" for x in results)
    r = svc.post("/search", json={"query": "cache", "path": "store/**/*.rs"})
    assert {x["path"] for x in r.json()["results"]} == {"store/cache.rs"}
    r = svc.get("/search", params={"q": "add_route", "kind": "method"})
    assert all(x["kind"] == "method" for x in r.json()["results"])


def test_curl_style_form_body_is_read_as_json(svc: Service) -> None:
    r = svc.post(
        "/search",
        content=b'{"query": "add_route", "k": 2}',
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 200 and r.json()["query"] == "add_route" and r.json()["k"] == 2
    assert any("def add_route" in x["content"] for x in r.json()["results"])


@pytest.mark.parametrize("path", ["../etc", "/etc/passwd", "web/../../x", "C:/Windows", "a\x00b"])
def test_path_filter_cannot_escape_workspace(svc: Service, path: str) -> None:
    r = svc.post("/search", json={"query": "x", "path": path})
    assert r.status_code == 400, r.text
    assert "detail" in r.json()
    errors = metric_value(svc.get("/metrics").text, "semantic_search_errors_total", {"error_type": "invalid_filter"})
    assert errors and errors >= 1


def test_an_unknown_language_filter_is_a_400_that_names_the_likely_one(svc: Service) -> None:
    r = svc.post("/search", json={"query": "handle request", "language": "pyhton"})
    assert r.status_code == 400, r.text
    assert "did you mean python" in r.json()["detail"]
    assert svc.get("/search", params={"q": "handle request", "language": "PY"}).status_code == 200


def test_k_is_bounded(svc: Service) -> None:
    r = svc.get("/search", params={"q": "handle request", "k": 500})
    assert r.status_code == 200 and r.json()["k"] == 20 and r.json()["count"] <= 20
    assert svc.get("/search", params={"q": "x", "k": 0}).status_code == 422
    assert svc.get("/search", params={"q": "x", "k": 5000}).status_code == 422


def test_request_size_is_bounded(svc: Service) -> None:
    big = json.dumps({"query": "x" * 5000}).encode()
    r = svc.post("/search", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: the streamed size is counted
        yield b'{"query": "'
        for _ in range(10):
            yield b"y" * 1000
        yield b'"}'

    r = svc.post("/search", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_bad_input_is_4xx(svc: Service) -> None:
    assert svc.post("/search", content=b"{not json", headers={"content-type": "application/json"}).status_code == 422
    assert svc.post("/search", json={"k": 3}).status_code == 422
    assert svc.get("/search").status_code == 422
    assert svc.post("/search", json={"query": "x", "language": "py thon"}).status_code == 422
    surrogate = b'{"query": "\\ud800 lone surrogate", "path": "\\udc00"}'  # valid JSON, invalid UTF-16
    assert svc.post("/search", content=surrogate, headers={"content-type": "application/json"}).status_code == 422
    r = svc.post("/search", json={"query": "x", "path": "src/[]"})
    assert r.status_code in (200, 400)
    r = svc.client.put("/search")
    assert r.status_code == 405 and set(r.headers["allow"].split(", ")) >= {"GET", "POST"}


def test_openapi_document(svc: Service) -> None:
    doc = svc.get("/openapi.json").json()
    paths = doc["paths"]
    for p in (
        "/health",
        "/health/detailed",
        "/ready",
        "/alive",
        "/config",
        "/metrics",
        "/cache/stats",
        "/indexer/stats",
        "/search",
    ):
        assert p in paths, p
    assert {"get", "post"} <= set(paths["/search"])
    assert "SearchHit" in doc["components"]["schemas"]


def test_logs_are_json_lines(svc: Service) -> None:
    records = svc.log_records()
    assert records, "no log output"
    for rec in records:
        assert {"level", "msg", "ts"} <= set(rec)
    assert any(r["msg"].startswith("lapce-ai-service listening") for r in records)
