"""Search worker processes of a real ``lapce-ai-service``: they answer like the in-process search,
are replaced when they die, survive a reload, and stay until the drain is over."""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psutil
from test_service_support import (
    built_index,  # noqa: F401  (session fixture)
    free_port,
    fresh,  # noqa: F401  (fixture)
    metric_value,
    start_service,
    wait_for,
    write_config,
)

QUERIES = ["router dispatch", "parse_query_string", "Tokenize", "evict oldest cache entry", "handle_request_3"]


def _with_workers(ctx: dict[str, Any], workers: int, name: str) -> tuple[Path, int]:
    port = free_port()
    config = write_config(
        ctx["tmp"] / name,
        port=port,
        index=ctx["index"],
        roots=[ctx["workspace"]],
        extra=f"[performance]\nsearch_workers = {workers}\n",
    )
    return config, port


def _workers(svc: Any) -> dict[str, Any]:
    facts: dict[str, Any] = svc.get("/health/detailed").json()["process"]["search_workers"]
    return facts


def _results(svc: Any, query: str, **params: Any) -> list[dict[str, Any]]:
    r = svc.get("/search", params={"q": query, "k": 5, **params})
    assert r.status_code == 200, r.text
    results: list[dict[str, Any]] = r.json()["results"]
    return results


def test_workers_answer_exactly_like_the_http_process(fresh: dict[str, Any]) -> None:  # noqa: F811
    config, port = _with_workers(fresh, 2, "workers.toml")
    pooled = start_service(fresh, config=config, port=port)
    config0, port0 = _with_workers(fresh, 0, "inline.toml")
    inline = start_service(fresh, config=config0, port=port0)
    pooled.wait_ready()
    inline.wait_ready()

    facts = _workers(pooled)
    assert facts["count"] == 2 and facts["restarts"] == 0 and facts["rss_bytes"] > 0
    children = {p.pid for p in psutil.Process(pooled.pid).children()}
    assert set(facts["pids"]) <= children, "workers are not the service's own processes"
    for pid in facts["pids"]:  # one BLAS thread per search (lapce_ai/service/maththreads.py)
        assert psutil.Process(pid).environ().get("OPENBLAS_NUM_THREADS") == "1", pid
    assert inline.get("/health/detailed").json()["process"]["search_workers"] is None

    for q in QUERIES:
        assert _results(pooled, q) == _results(inline, q), q
        assert _results(pooled, q, language="python") == _results(inline, q, language="python"), q
    typo = {"query": "where is Tokenzie defined", "k": 3}
    read = pooled.post("/search", json=typo).json()
    assert read["corrected_query"] == "where is Tokenize defined" and read["results"][0]["symbol"] == "Tokenize"
    assert {k: v for k, v in read.items() if k != "took_ms"} == {
        k: v for k, v in inline.post("/search", json=typo).json().items() if k != "took_ms"
    }
    # The dense side too searched for the name meant: the worker handed the reading back to be embedded.
    meant = pooled.post("/search", json={"query": "where is Tokenize defined", "k": 3}).json()
    assert read["results"] == meant["results"]
    body = {"query": "cache", "k": 3, "path": "store/**/*.rs"}
    assert pooled.post("/search", json=body).json()["results"] == inline.post("/search", json=body).json()["results"]
    # Errors keep their statuses: a bad glob is the caller's fault, not a 5xx.
    bad_glob = {"q": "x", "path": "src/[z-a]*"}
    bad = pooled.get("/search", params=bad_glob)
    assert bad.status_code == 400 and bad.json() == inline.get("/search", params=bad_glob).json()

    # The HTTP process records the workers' searches, as it records its own.
    metrics = pooled.get("/metrics").text
    searches = 2 * len(QUERIES) + 3  # and the misspelled query, the one it means, and the filtered `cache` one
    assert metric_value(metrics, "semantic_search_requests_total", {"source": "http"}) == searches
    assert metric_value(metrics, "semantic_search_latency_seconds_count") == searches


def test_a_dead_worker_is_replaced_and_no_request_fails(fresh: dict[str, Any]) -> None:  # noqa: F811
    config, port = _with_workers(fresh, 2, "workers.toml")
    svc = start_service(fresh, config=config, port=port)
    svc.wait_ready()
    before = _workers(svc)["pids"]
    os.kill(before[0], signal.SIGKILL)
    wait_for(lambda: not psutil.pid_exists(before[0]) or psutil.Process(before[0]).status() == "zombie")
    for i in range(20):  # every worker is asked at least once: the dead one is found and replaced
        assert _results(svc, QUERIES[i % len(QUERIES)]), i
    facts = wait_for(lambda: (f := _workers(svc))["restarts"] == 1 and f["count"] == 2 and f)
    assert facts, _workers(svc)
    assert before[0] not in facts["pids"] and before[1] in facts["pids"]
    assert any(r.get("error_type") == "worker_lost" for r in svc.log_records())


def test_workers_survive_reload_and_stay_until_the_drain_is_over(fresh: dict[str, Any]) -> None:  # noqa: F811
    config, port = _with_workers(fresh, 2, "workers.toml")
    svc = start_service(fresh, config=config, port=port)
    svc.wait_ready()
    pids = _workers(svc)["pids"]

    failures: list[str] = []
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(base_url=svc.url, timeout=10) as client:
            while not stop.is_set():
                r = client.get("/search", params={"q": "router dispatch", "k": 3})
                if r.status_code != 200:
                    failures.append(f"{r.status_code} {r.text[:200]}")

    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    config.write_text(config.read_text().replace("search_workers = 2", "search_workers = 1") + "\n")
    config.write_text(config.read_text().replace("[service]\n", "[service]\nmax_k = 4\n"))
    svc.signal(signal.SIGHUP)
    body = wait_for(lambda: (c := svc.get("/config").json())["service"]["max_k"] == 4 and c)
    assert body, "reload not applied"
    assert body["performance"]["search_workers"] == 2  # needs a restart, reported as such
    assert "performance.search_workers" in body["pending_restart"]
    assert svc.get("/search", params={"q": "router", "k": 50}).json()["k"] == 4
    time.sleep(0.5)
    stop.set()
    thread.join(15)
    assert not failures, failures[:5]
    assert _workers(svc)["pids"] == pids  # a reload does not restart the workers

    # SIGTERM to every process, as a service manager stopping the unit does: the workers wait
    # for the HTTP process, which finishes the request in flight with their help, then exits.
    payload = json.dumps({"query": "parse query string", "k": 2}).encode()
    sock = socket.create_connection(("127.0.0.1", svc.port), timeout=20)
    head = f"POST /search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
    sock.sendall(head.encode() + b"\r\n" + payload[:10])
    time.sleep(0.3)
    for pid in [svc.pid, *pids]:
        os.kill(pid, signal.SIGTERM)
    time.sleep(0.8)
    assert svc.proc.poll() is None, "exited with a request in flight"
    assert all(psutil.pid_exists(p) for p in pids)
    sock.sendall(payload[10:])
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    sock.close()
    status = int(data.split(b" ", 2)[1])
    assert status == 200 and json.loads(data.partition(b"\r\n\r\n")[2])["results"], data[:300]
    assert svc.wait(30) == 0
    assert wait_for(lambda: not any(psutil.pid_exists(p) and psutil.Process(p).status() != "zombie" for p in pids))
