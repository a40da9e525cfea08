"""docs/operations.md's commands, run as an operator runs them (journald, Prometheus and systemd
stand-ins where CI has none): the commands the doc gives must do what it says they do."""

from __future__ import annotations

import http.server
import io
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psutil
import pytest

from lapce_ai.observability.logging import JsonFormatter
from lapce_ai.observability.metrics import memory_rss_bytes

DOC = Path(__file__).resolve().parent.parent / "docs" / "operations.md"
# The runbook's "Parse errors by type" filter and "Cache hit rate" command, as typed there.
RUNBOOK_JQ = """jq -r 'select(.level=="ERROR") | .error_type' | sort | uniq -c"""
RUNBOOK_HIT_RATE = (
    "curl -s http://localhost:9090/api/v1/query?query='rate(cst_cache_hits_total[5m])/"
    "(rate(cst_cache_hits_total[5m])+rate(cst_cache_misses_total[5m]))' | jq '.data.result[0].value[1]'"
)

needs_tools = pytest.mark.skipif(
    not (shutil.which("jq") and shutil.which("curl") and shutil.which("ps")), reason="needs jq, curl and ps"
)


def doc_commands(prefix: str) -> list[str]:
    """The lines of the doc's fenced code blocks that start with ``prefix``."""
    blocks = re.findall(r"```bash\n(.*?)```", DOC.read_text(), flags=re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip().startswith(prefix)]


def sh(command: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
    )


def service_lines() -> list[str]:
    """What lapce-ai-service writes: real JsonFormatter lines, two config errors among them."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger("lapce_ai.test_operations_doc")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.info("lapce-ai-service listening on http://127.0.0.1:8080")
        for _ in range(2):
            log.error("config reload failed: bad key", extra={"error_type": "config_invalid"})
        try:
            raise OSError("disk full")
        except OSError:
            log.exception("cannot write status file")
        log.warning("some changes need a restart: service.port")
    finally:
        log.removeHandler(handler)
    return out.getvalue().splitlines()


def journal_json(lines: list[str]) -> str:
    """``journalctl -u lapce-ai-service -o json``: one entry per line, journald's own (upper-case)
    fields, the process's line in MESSAGE; systemd's own messages about the unit are not JSON."""
    entries = [{"MESSAGE": "Started lapce-ai semantic code search service.", "_PID": "1", "PRIORITY": "6"}]
    for i, line in enumerate(lines):
        entries.append(
            {
                "__REALTIME_TIMESTAMP": str(1_760_000_000_000_000 + i),
                "_SYSTEMD_UNIT": "lapce-ai-service.service",
                "_PID": "4242",
                "PRIORITY": "6",
                "SYSLOG_IDENTIFIER": "lapce-ai-service",
                "MESSAGE": line,
            }
        )
    return "".join(json.dumps(e) + "\n" for e in entries)


@needs_tools
def test_the_docs_error_type_commands_count_error_types() -> None:
    lines = service_lines()
    commands = doc_commands("journalctl -u lapce-ai-service")
    assert len([c for c in commands if "jq" in c]) == 2, commands
    for command in commands:
        source, pipeline = command.split(" | ", 1)
        stdin = journal_json(lines) if "-o json" in source else "Started lapce-ai.\n" + "\n".join(lines) + "\n"
        res = sh(pipeline, stdin)
        assert res.returncode == 0, res.stderr
        counts = sorted(tuple(line.split()) for line in res.stdout.strip().splitlines())
        assert counts == [("1", "OSError"), ("2", "config_invalid")], (command, res.stdout)


@needs_tools
def test_the_runbooks_error_type_command_finds_nothing_and_the_doc_says_so() -> None:
    res = sh(RUNBOOK_JQ, journal_json(service_lines()))
    assert res.returncode == 0 and res.stdout == "", res.stdout  # no entry has a top-level .level
    text = DOC.read_text()
    assert "works as the runbook shows" not in text
    logs = text[text.index("## Logs") : text.index("## Memory")]
    assert """select(.level=="ERROR") | .error_type'`:\n  **nothing**""" in logs


class _Prometheus(http.server.BaseHTTPRequestHandler):
    """Records the query Prometheus would parse (Go's url.ParseQuery: ``+`` is a space)."""

    queries: list[str] = []

    def _answer(self, form: str) -> None:
        self.queries.append(parse_qs(form, keep_blank_values=True).get("query", [""])[0])
        body = b'{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"0.5"]}]}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._answer(urlsplit(self.path).query)

    def do_POST(self) -> None:
        self._answer(self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode())

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def prometheus() -> Iterator[tuple[str, list[str]]]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Prometheus)
    queries: list[str] = []
    _Prometheus.queries = queries
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", queries
    finally:
        server.shutdown()
        server.server_close()


@needs_tools
def test_the_docs_prometheus_queries_reach_prometheus_intact(prometheus: tuple[str, list[str]]) -> None:
    url, queries = prometheus
    commands = doc_commands("curl -s http://localhost:9090/api/v1/query")
    assert len(commands) == 2, commands
    for command in commands:
        expression = re.search(r"'query=(.*?)'", command)
        assert expression is not None
        res = sh(command.replace("http://localhost:9090", url))
        assert res.returncode == 0 and res.stdout.strip() == '"0.5"', (command, res.stdout, res.stderr)
        assert queries[-1] == expression.group(1)
    assert queries[0] == RUNBOOK_HIT_RATE.split("query='")[1].split("'")[0]  # the runbook's own expression


@needs_tools
def test_the_runbooks_prometheus_commands_fail_as_the_doc_says(prometheus: tuple[str, list[str]]) -> None:
    url, queries = prometheus
    typed = sh(RUNBOOK_HIT_RATE.replace("http://localhost:9090", url))
    assert typed.returncode == 3 and not queries  # curl: (3) bad range in URL — nothing was sent
    globbing_off = sh(RUNBOOK_HIT_RATE.replace("curl -s", "curl -gs").replace("http://localhost:9090", url))
    assert globbing_off.returncode == 0
    assert queries == [
        "rate(cst_cache_hits_total[5m])/(rate(cst_cache_hits_total[5m]) rate(cst_cache_misses_total[5m]))"
    ]  # the + arrives as a space


@needs_tools
def test_the_docs_memory_command_adds_up_what_the_metric_counts() -> None:
    """The runbook's ps | grep reads the main process only; the doc's command adds the children,
    as ``semantic_search_memory_rss_bytes`` does (here: this process and two children of ~60 MB)."""
    (command,) = doc_commands("ps -o rss=")
    children = [
        subprocess.Popen([sys.executable, "-c", "import time; x = b'x' * 60_000_000; time.sleep(60)"]) for _ in range(2)
    ]
    try:
        deadline = time.monotonic() + 30
        while any(psutil.Process(c.pid).memory_info().rss < 60_000_000 for c in children):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        res = sh(command, pid=str(os.getpid()))
        expected = memory_rss_bytes() / 1024 / 1024
        own = psutil.Process().memory_info().rss / 1024 / 1024
    finally:
        for c in children:
            c.kill()
            c.wait()
    assert res.returncode == 0 and res.stdout.endswith(" MB\n"), res.stderr
    reported = float(res.stdout.split()[0])
    assert abs(reported - expected) <= 0.05 * expected + 2, (reported, expected)
    assert reported > own + 100  # the children are in it


def test_the_configuration_table_documents_every_key() -> None:
    from lapce_ai.config.settings import Settings

    section = DOC.read_text(encoding="utf-8").split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented: set[str] = set()
    for row in section.splitlines():
        if row.startswith("| `"):  # `service.host` / `port`: the second is the same section's
            names = re.findall(r"`([\w.]+)`", row.split("|")[1])
            table = names[0].split(".")[0]
            documented |= {name if "." in name else f"{table}.{name}" for name in names}
    keys = {
        f"{name}.{key}"
        for name, field in Settings.model_fields.items()
        for key in getattr(field.annotation, "model_fields", {})
    }
    assert keys and keys - documented == set()
