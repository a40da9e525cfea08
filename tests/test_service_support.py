"""Helpers for the service tests: real processes, real ports (loopback only), real indexes.

Nothing here is a test; the service test modules import it (``from test_service_support import``).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parent.parent

ROUTER_PY = '''"""A tiny HTTP router."""


class Router:
    """Maps paths to handlers."""

    def __init__(self):
        self.routes = {}

    def add_route(self, path, handler):
        """Register handler for path."""
        self.routes[path] = handler

    def dispatch(self, path, request):
        return self.routes[path](request)


def parse_query_string(raw):
    """Split a query string into a dict."""
    pairs = [p.split("=", 1) for p in raw.split("&") if p]
    return {k: v for k, v in pairs}
'''

TOKENIZER_GO = """package text

import "strings"

// Tokenize splits text into words.
func Tokenize(text string) []string {
\treturn strings.Fields(text)
}
"""

CACHE_RS = """pub struct LruCache {
    capacity: usize,
}

impl LruCache {
    pub fn new(capacity: usize) -> Self {
        LruCache { capacity }
    }

    pub fn evict_oldest(&mut self) -> Option<u64> {
        None
    }
}
"""


def make_workspace(root: Path, extra_modules: int = 6) -> Path:
    (root / "web").mkdir(parents=True, exist_ok=True)
    (root / "text").mkdir(exist_ok=True)
    (root / "store").mkdir(exist_ok=True)
    (root / "web" / "router.py").write_text(ROUTER_PY)
    (root / "text" / "tokenizer.go").write_text(TOKENIZER_GO)
    (root / "store" / "cache.rs").write_text(CACHE_RS)
    for i in range(extra_modules):
        (root / "web" / f"handler{i}.py").write_text(
            f'"""Handler module {i}."""\n\n\ndef handle_request_{i}(request):\n'
            f"    return {{'status': 200, 'n': {i}, 'path': request.path}}\n"
        )
    return root


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def base_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CST_", "LAPCE_AI", "AWS_"))}
    env.pop("LOG_LEVEL", None)
    env.update(XDG_DATA_HOME=str(tmp / "xdg"), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    return env


def write_config(
    path: Path, *, port: int, index: Path, roots: list[Path] | None = None, extra: str = "", service_extra: str = ""
) -> Path:
    roots_toml = ", ".join(json.dumps(str(r)) for r in (roots or []))
    path.write_text(
        "[service]\n"
        f'host = "127.0.0.1"\nport = {port}\n{service_extra}\n'
        "[paths]\n"
        f"index_dir = {json.dumps(str(index))}\ncache_dir = {json.dumps(str(index.parent / 'cache'))}\n\n"
        f"[workspaces]\nroots = [{roots_toml}]\n\n"
        '[embedder]\nprovider = "static"\n\n'
        f"{extra}"
    )
    return path


def run_cli(*args: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(args, capture_output=True, text=True, env=env, timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(f"{' '.join(args)} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def build_index(config: Path, workspace: Path, index: Path, env: dict[str, str]) -> dict[str, Any]:
    """The real CLI, as an operator runs it. A two-stage index is left at its first stage
    (``--no-refine``): refining is the service's indexer's job, and what tests set up."""
    out = run_cli(
        str(BIN / "lapce-index"),
        "--config",
        str(config),
        "index",
        str(workspace),
        "--index",
        str(index),
        "--json",
        "--no-refine",
        env=env,
    )
    summary: dict[str, Any] = json.loads(out.stdout)
    return summary


class Proc:
    """A started ``lapce-ai-service`` or ``lapce-ai-indexer``; output goes to files we can read."""

    def __init__(self, args: list[str], env: dict[str, str], log_dir: Path, name: str):
        self.out_path = log_dir / f"{name}.out"
        self.err_path = log_dir / f"{name}.err"
        self._out = open(self.out_path, "wb")  # noqa: SIM115
        self._err = open(self.err_path, "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(args, env=env, stdout=self._out, stderr=self._err)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def wait(self, timeout: float = 30) -> int:
        return self.proc.wait(timeout)

    def stderr(self) -> str:
        if not self._err.closed:
            self._err.flush()
        return self.err_path.read_text(errors="replace")

    def log_records(self) -> list[dict[str, Any]]:
        records = []
        for line in self.stderr().splitlines():
            line = line.strip()
            if line:
                records.append(json.loads(line))  # every line is one JSON object
        return records

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._out.close()
        self._err.close()


class Service(Proc):
    def __init__(self, config: Path, port: int, env: dict[str, str], log_dir: Path, *extra: str):
        super().__init__(
            [str(BIN / "lapce-ai-service"), "--config", str(config), *extra], env, log_dir, f"service-{port}"
        )
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.client = httpx.Client(base_url=self.url, timeout=30)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"service exited with {self.proc.returncode}:\n{self.stderr()}")
            try:
                if self.client.get("/ready").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"service not ready after {timeout}s:\n{self.stderr()}")

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.client.get(path, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self.client.post(path, **kw)

    def stop(self) -> None:
        self.client.close()
        super().stop()


def metric_value(text: str, name: str, labels: dict[str, str] | None = None) -> float | None:
    """The value of one sample in Prometheus text exposition."""
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and (labels is None or all(s.labels.get(k) == v for k, v in labels.items())):
                return float(s.value)
    return None


def wait_for(predicate: Any, timeout: float = 10.0, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    return last


@pytest.fixture(scope="session")
def built_index(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One small real index, built once with ``lapce-index index``; tests copy it before changing it."""
    base = tmp_path_factory.mktemp("svc-index")
    env = base_env(base)
    workspace = make_workspace(base / "ws")
    config = write_config(base / "build.toml", port=free_port(), index=base / "index", roots=[workspace])
    build_index(config, workspace, base / "index", env)
    return {"index": base / "index", "workspace": workspace}


@pytest.fixture
def fresh(tmp_path: Path, built_index: dict[str, Path]) -> Iterator[dict[str, Any]]:
    """A private copy of the index and workspace, a config naming them, and a free port."""
    index = tmp_path / "index"
    shutil.copytree(built_index["index"], index)
    workspace = tmp_path / "ws"
    shutil.copytree(built_index["workspace"], workspace)
    port = free_port()
    config = write_config(tmp_path / "config.toml", port=port, index=index, roots=[workspace])
    started: list[Proc] = []
    yield {
        "tmp": tmp_path,
        "index": index,
        "workspace": workspace,
        "port": port,
        "config": config,
        "env": base_env(tmp_path),
        "started": started,
    }
    for p in started:
        p.stop()


def service_over_copy(tmp: Path, built_index: dict[str, Path], service_extra: str = "", extra: str = "") -> Service:
    """A service (started, not yet ready) over a private copy of the session's index; the caller
    stops it. ``service_extra`` / ``extra``: more config lines, as in ``write_config``."""
    index = tmp / "index"
    shutil.copytree(built_index["index"], index)
    port = free_port()
    config = write_config(
        tmp / "config.toml",
        port=port,
        index=index,
        roots=[built_index["workspace"]],
        service_extra=service_extra,
        extra=extra,
    )
    return Service(config, port, base_env(tmp), tmp)


def start_service(ctx: dict[str, Any], *extra: str, config: Path | None = None, port: int | None = None) -> Service:
    svc = Service(config or ctx["config"], port or ctx["port"], ctx["env"], ctx["tmp"], *extra)
    ctx["started"].append(svc)
    return svc
