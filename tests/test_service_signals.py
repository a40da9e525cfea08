"""Lifecycle of a real ``lapce-ai-service`` process: reload, drain, refusals, --check-config."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from test_service_support import (
    BIN,
    base_env,
    built_index,  # noqa: F401  (session fixture)
    free_port,
    fresh,  # noqa: F401  (fixture)
    metric_value,
    start_service,
    wait_for,
    write_config,
)


class Load:
    """Background requests (bounded) that must all succeed while the service is reloaded."""

    def __init__(self, url: str):
        self.url = url
        self.ok = 0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Load:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=10) as client:
            for i in range(5000):
                if self._stop.is_set():
                    return
                try:
                    if i % 2:
                        r = client.get("/search", params={"q": "router dispatch", "k": 3})
                    else:
                        r = client.get("/health")
                    if r.status_code == 200:
                        self.ok += 1
                    else:
                        self.failures.append(f"{r.status_code} {r.text[:200]}")
                except httpx.HTTPError as exc:
                    self.failures.append(repr(exc))


def test_sighup_reload_valid_then_invalid_without_dropping_requests(fresh: dict[str, Any]) -> None:  # noqa: F811
    svc = start_service(fresh)
    svc.wait_ready()
    config: Path = fresh["config"]
    original = config.read_text()
    with Load(svc.url) as load:
        wait_for(lambda: load.ok > 20)
        # 1. a valid change: rollout (rollback to legacy), cache sizes, log level, limits, a restart-only key
        config.write_text(
            original.replace(f"port = {svc.port}", f"port = {svc.port + 1}")
            + "\n[features]\nrollout_percentage = 0\n\n[performance]\ncache_hot_size = 200\ncache_warm_size = 1000\n"
            + "max_concurrent_parses = 16\n"
        )
        config.write_text(config.read_text().replace("[service]\n", '[service]\nlog_level = "debug"\nmax_k = 7\n'))
        svc.signal(signal.SIGHUP)
        body = wait_for(lambda: (c := svc.get("/config").json())["features"]["rollout_percentage"] == 0 and c)
        assert body, "reload not applied"
        assert body["performance"]["cache_hot_size"] == 200 and body["performance"]["max_concurrent_parses"] == 16
        assert body["service"]["log_level"] == "debug" and body["service"]["max_k"] == 7
        assert body["service"]["port"] == svc.port  # restart-only: kept, and reported
        assert body["pending_restart"] == ["service.port"]
        health = svc.get("/health").json()
        assert health["cst_enabled"] is False and health["status"] == "healthy"
        assert svc.get("/search", params={"q": "router", "k": 50}).json()["k"] == 7

        # 2. an invalid file: the running config stays, the failure is visible everywhere
        config.write_text(original + "\n[features]\nrollout_percentage = 150\nbogus = true\n")
        svc.signal(signal.SIGHUP)
        detailed = wait_for(
            lambda: (
                (d := svc.get("/health/detailed").json())["checks"]["config"]["last_reload"]["status"] == "failed" and d
            )
        )
        assert detailed, "failed reload not reported"
        problems = " ".join(detailed["checks"]["config"]["last_reload"]["problems"])
        assert "features.rollout_percentage" in problems and "features.bogus" in problems
        assert detailed["status"] == "degraded"
        assert svc.get("/config").json()["features"]["rollout_percentage"] == 0  # old config kept
        metrics = svc.get("/metrics").text
        assert metric_value(metrics, "config_reloads_total", {"status": "failed"}) == 1.0
        assert metric_value(metrics, "config_reloads_total", {"status": "success"}) == 1.0
        assert metric_value(metrics, "semantic_search_errors_total", {"error_type": "config_invalid"}) == 1.0

        # 3. fixed again
        config.write_text(original)
        svc.signal(signal.SIGHUP)
        assert wait_for(lambda: svc.get("/health").json()["status"] == "healthy")
        assert svc.get("/config").json()["features"]["rollout_percentage"] == 100
        wait_for(lambda: load.ok > 100, timeout=5)
    assert not load.failures, load.failures[:5]
    assert load.ok > 50
    errors = [r for r in svc.log_records() if r["level"] == "ERROR"]
    assert any(r.get("error_type") == "config_invalid" for r in errors)
    assert any(r["level"] == "DEBUG" for r in svc.log_records())  # log level really changed


def _raw_request_head(port: int, body: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=20)
    head = (
        f"POST /search HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    sock.sendall(head + body[:10])  # the request is in flight: headers and part of the body
    return sock


def _read_response(sock: socket.socket) -> tuple[int, dict[str, Any]]:
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        length = [int(h.split(b":")[1]) for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")]
        if length and len(rest) >= length[0]:
            break
    head, _, rest = data.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), json.loads(rest)


def test_sigterm_drains_in_flight_request_then_exits_0(fresh: dict[str, Any]) -> None:  # noqa: F811
    svc = start_service(fresh)
    svc.wait_ready()
    body = json.dumps({"query": "parse query string", "k": 2}).encode()
    sock = _raw_request_head(svc.port, body)
    time.sleep(0.3)
    svc.signal(signal.SIGTERM)
    time.sleep(0.8)
    assert svc.proc.poll() is None, "exited with a request in flight"
    with socket.socket() as probe:  # no new connections are accepted while draining
        probe.settimeout(2)
        assert probe.connect_ex(("127.0.0.1", svc.port)) != 0
    sock.sendall(body[10:])
    status, payload = _read_response(sock)
    sock.close()
    assert status == 200 and payload["results"], payload
    assert svc.wait(20) == 0
    assert any("draining" in r["msg"] for r in svc.log_records())


def test_busy_port_fails_with_one_line(fresh: dict[str, Any]) -> None:  # noqa: F811
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        port = blocker.getsockname()[1]
        config = write_config(fresh["tmp"] / "busy.toml", port=port, index=fresh["index"])
        proc = subprocess.run(
            [str(BIN / "lapce-ai-service"), "--config", str(config)],
            capture_output=True,
            text=True,
            env=fresh["env"],
            timeout=60,
        )
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "address already in use" in lines[0] and str(port) in lines[0], proc.stderr


def _service(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "lapce-ai-service"), *args], capture_output=True, text=True, env=env, timeout=60)


def test_check_config(tmp_path: Path) -> None:
    env = base_env(tmp_path)
    good = write_config(tmp_path / "good.toml", port=free_port(), index=tmp_path / "idx")
    ok = _service("--config", str(good), "--check-config", env=env)
    assert ok.returncode == 0 and "config OK" in ok.stdout

    bad = tmp_path / "bad.toml"
    bad.write_text(
        good.read_text()
        + '\n[features]\nrollout_percentage = 150\nbogus = 1\n\n[performance]\ncache_hot_size = "big"\n'
    )
    res = _service("--config", str(bad), "--check-config", env=env)
    assert res.returncode == 1
    assert "features.rollout_percentage" in res.stderr and "features.bogus" in res.stderr
    assert "performance.cache_hot_size" in res.stderr
    assert f"{bad}:" in res.stderr  # file and line of each bad key

    syntax = tmp_path / "syntax.toml"
    syntax.write_text("[service\nport = 1\n")
    res = _service("--config", str(syntax), "--check-config", env=env)
    assert res.returncode == 1 and "syntax" in res.stderr

    env_bad = dict(env, CST_ROLLOUT_PERCENTAGE="250")
    res = _service("--config", str(good), "--check-config", env=env_bad)
    assert res.returncode == 1 and "rollout_percentage" in res.stderr

    # starting with a bad config: non-zero, one line
    res = _service("--config", str(bad), env=env)
    assert res.returncode == 1 and len(res.stderr.strip().splitlines()) == 1
    assert "features.bogus" in res.stderr


def test_non_loopback_needs_a_token(tmp_path: Path) -> None:
    env = base_env(tmp_path)
    config = write_config(tmp_path / "c.toml", port=free_port(), index=tmp_path / "idx")
    res = _service("--config", str(config), "--host", "0.0.0.0", env=env)
    assert res.returncode == 1 and len(res.stderr.strip().splitlines()) == 1
    assert "service.auth_token" in res.stderr
    res = _service("--config", str(config), "--host", "0.0.0.0", "--check-config", env=env)
    assert res.returncode == 1 and "service.auth_token" in res.stderr


def test_bearer_token(fresh: dict[str, Any]) -> None:  # noqa: F811
    token = "s3cret-token-value-123"
    config = write_config(
        fresh["tmp"] / "auth.toml",
        port=fresh["port"],
        index=fresh["index"],
        service_extra=f'auth_token = "{token}"',
    )
    svc = start_service(fresh, config=config)
    svc.wait_ready()
    assert svc.get("/search", params={"q": "router"}).status_code == 401
    assert svc.get("/config", headers={"Authorization": "Bearer wrong"}).status_code == 401
    auth = {"Authorization": f"Bearer {token}"}
    assert svc.get("/search", params={"q": "router"}, headers=auth).status_code == 200
    for probe in ("/health", "/alive", "/ready"):
        assert svc.get(probe).status_code == 200
    cfg = svc.get("/config", headers=auth)
    assert cfg.json()["service"]["auth_token"] == "[REDACTED]" and token not in cfg.text
    assert token not in svc.get("/metrics", headers=auth).text
    svc.stop()
    assert token not in svc.stderr()
