"""``lapce-ai-service`` serves the MCP search tool over Streamable HTTP at ``/mcp``: a real service,
real HTTP, driven by the official MCP client, checked against ``POST /search`` and the stdio server."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from test_service_support import (
    BIN,
    Service,
    base_env,
    built_index,  # noqa: F401  (session fixture)
    fresh,  # noqa: F401  (fixture)
    metric_value,
    service_over_copy,
    start_service,
    wait_for,
    write_config,
)

TOKEN = "mcp-test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MAX_K = 20
T = TypeVar("T")
Call = Callable[[ClientSession], Awaitable[T]]

# (tool arguments, the same search as POST /search's body)
SEARCHES: list[dict[str, Any]] = [
    {"query": "Tokenize", "k": 3},
    {"query": "router dispatch"},
    {"query": "handle request", "k": MAX_K, "path": "web/", "language": "python"},
    {"query": "cache", "path": "store/**/*.rs"},
    {"query": "add_route", "kind": "function"},
    {"query": "evict oldest cache entry", "k": 1},
    {"query": "parse_query_string", "path": "nowhere/"},
    {"query": "Tokenzie", "k": 2},
]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, built_index: dict[str, Path]) -> Iterator[dict[str, Any]]:  # noqa: F811
    """One service for the module: a token, search workers (the pooled path) and a small max_k."""
    tmp = tmp_path_factory.mktemp("svc-mcp")
    service = service_over_copy(
        tmp,
        built_index,
        service_extra=f'auth_token = "{TOKEN}"\nmax_k = {MAX_K}',
        extra="[performance]\nsearch_workers = 2\n",
    )
    service.client.headers.update(AUTH)
    try:
        service.wait_ready()
        yield {"svc": service, "config": tmp / "config.toml", "index": tmp / "index"}
    finally:
        service.stop()


@pytest.fixture
def svc(served: dict[str, Any]) -> Service:
    service: Service = served["svc"]
    return service


@asynccontextmanager
async def _session(url: str, headers: dict[str, str] | None = None) -> AsyncIterator[ClientSession]:
    async with (
        httpx.AsyncClient(headers=headers or {}, timeout=30) as http,
        streamable_http_client(f"{url}/mcp", http_client=http) as (read, write, _session_id),
        ClientSession(read, write) as client,
    ):
        init = await client.initialize()
        assert init.serverInfo.name == "lapce-ai" and init.instructions
        yield client


def _over_mcp(url: str, call: Call[T], headers: dict[str, str] | None = AUTH) -> T:
    async def run() -> T:
        async with _session(url, headers) as client:
            return await call(client)

    return asyncio.run(run())


def _payload(result: Any) -> dict[str, Any]:
    assert not result.isError, result.content
    text: dict[str, Any] = json.loads(result.content[0].text)
    assert result.structuredContent in (None, text)  # both forms say the same
    return text


def _searches(url: str, calls: list[dict[str, Any]], headers: dict[str, str] | None = AUTH) -> list[Any]:
    async def run(client: ClientSession) -> list[Any]:
        return [await client.call_tool("search", args) for args in calls]

    return _over_mcp(url, run, headers)


def _mcp_searches(svc: Service) -> float:
    return metric_value(svc.get("/metrics").text, "semantic_search_requests_total", {"source": "mcp"}) or 0.0


def test_mcp_tool_is_the_stdio_servers_and_answers_like_it(served: dict[str, Any], tmp_path: Path) -> None:
    """Same tool (name, description, schemas) over HTTP as ``lapce-index mcp`` over stdio, same answers."""
    svc, config = served["svc"], served["config"]
    index = tmp_path / "index"
    shutil.copytree(served["index"], index)
    queries = [{"query": "Tokenize", "k": 3}, {"query": "handle request", "language": "python", "k": 5}]

    async def listing(client: ClientSession) -> tuple[list[dict[str, Any]], list[Any]]:
        tools = [t.model_dump(mode="json") for t in (await client.list_tools()).tools]
        return tools, [_payload(await client.call_tool("search", q)) for q in queries]

    async def over_stdio() -> tuple[list[dict[str, Any]], list[Any]]:
        args = ["--config", str(config), "mcp", "--index", str(index)]
        params = StdioServerParameters(command=str(BIN / "lapce-index"), args=args, env=base_env(tmp_path))
        async with stdio_client(params) as (read, write), ClientSession(read, write) as client:
            await client.initialize()
            return await listing(client)

    http_tools, http_answers = _over_mcp(svc.url, listing)
    stdio_tools, stdio_answers = asyncio.run(over_stdio())
    assert [t["name"] for t in http_tools] == ["search"]
    assert set(http_tools[0]["inputSchema"]["properties"]) == {"query", "k", "path", "language", "kind"}
    assert http_tools == stdio_tools
    assert http_answers == stdio_answers and http_answers[0]["results"][0]["symbol"] == "Tokenize"


def test_mcp_search_equals_post_search(svc: Service) -> None:
    before = _mcp_searches(svc)
    answers = _searches(svc.url, SEARCHES)
    for args, answer in zip(SEARCHES, answers, strict=True):
        r = svc.post("/search", json=args)
        assert r.status_code == 200, r.text
        assert _payload(answer) == {k: r.json()[k] for k in ("results", "corrected_query")}, args
    hits = [_payload(a)["results"] for a in answers]
    assert hits[0][0]["symbol"] == "Tokenize"
    assert hits[2] and all(h["path"].startswith("web/") and h["language"] == "python" for h in hits[2])
    assert {h["path"] for h in hits[3]} == {"store/cache.rs"}
    assert hits[4] and all(h["kind"] == "function" for h in hits[4])
    assert len(hits[5]) == 1 and hits[6] == []
    assert hits[7][0]["symbol"] == "Tokenize" and _payload(answers[7])["corrected_query"] == "Tokenize"
    # Counted like every search, under their own source (the workers' searches included).
    assert _mcp_searches(svc) - before == len(SEARCHES)


def test_mcp_bad_input_is_a_tool_error(svc: Service) -> None:
    bad_path = svc.post("/search", json={"query": "x", "path": "../etc"})
    assert bad_path.status_code == 400
    cases: list[tuple[dict[str, Any], str]] = [
        ({"query": "   "}, "query is empty"),
        ({"query": "x" * 9000}, "query is longer than 8192 characters"),
        ({"query": "x", "k": 0}, f"k must be between 1 and {MAX_K}"),
        ({"query": "x", "k": MAX_K + 1}, f"k must be between 1 and {MAX_K}"),
        ({"query": "x", "language": "py'; DROP TABLE chunks; --"}, "language"),
        ({"query": "x", "path": "../etc"}, bad_path.json()["detail"]),  # POST /search's reason
        ({"query": "x", "path": "src/[z-a]*"}, "invalid path glob"),
    ]
    errors = metric_value(svc.get("/metrics").text, "semantic_search_errors_total", {"error_type": "invalid_filter"})
    results = _searches(svc.url, [args for args, _ in cases] + [{"query": "Tokenize", "k": 1}])
    for (args, message), result in zip(cases, results, strict=False):
        assert result.isError and message in result.content[0].text, (args, result.content)
    assert _payload(results[-1])["results"][0]["symbol"] == "Tokenize"  # the server kept going
    after = metric_value(svc.get("/metrics").text, "semantic_search_errors_total", {"error_type": "invalid_filter"})
    assert (after or 0) - (errors or 0) == 3  # the filter errors, counted as POST /search counts them


def test_mcp_needs_the_token_and_a_known_host(svc: Service) -> None:
    initialize: dict[str, Any] = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}},
    }
    headers = {"accept": "application/json, text/event-stream"}

    def post(extra: dict[str, str], *, token: str | None = TOKEN) -> httpx.Response:
        auth = {"Authorization": f"Bearer {token}"} if token else {}
        with httpx.Client(base_url=svc.url, timeout=30) as raw:  # no default token
            return raw.post("/mcp", json=initialize, headers={**headers, **auth, **extra})

    assert post({}, token=None).status_code == 401
    assert post({}, token="wrong").status_code == 401
    ok = post({})
    assert ok.status_code == 200 and ok.headers["content-type"].startswith("application/json")
    assert ok.json()["result"]["serverInfo"]["name"] == "lapce-ai"
    assert "mcp-session-id" not in ok.headers  # stateless
    assert post({"host": f"localhost:{svc.port}"}).status_code == 200
    assert post({"host": f"evil.example:{svc.port}"}).status_code == 421  # DNS rebinding
    assert post({"origin": "http://evil.example"}).status_code == 403
    assert post({"origin": f"http://localhost:{svc.port}"}).status_code == 200
    big = {**initialize, "params": {**initialize["params"], "padding": "x" * 70_000}}
    assert svc.post("/mcp", json=big, headers=headers).status_code == 413  # service.max_request_bytes
    get = svc.get("/mcp")
    assert get.status_code == 405 and get.headers["allow"] == "POST"  # no server-initiated stream
    slash = svc.post("/mcp/", json=initialize, headers=headers)
    assert slash.status_code == 307 and slash.headers["location"] == f"{svc.url}/mcp"

    # The SDK's client, without the token, gets no further than its first request.
    with pytest.raises(ExceptionGroup) as refused:
        _over_mcp(svc.url, lambda c: c.list_tools(), headers={})
    assert refused.group_contains(httpx.HTTPStatusError, match="401 Unauthorized", depth=1)


def test_mcp_in_process_search_and_not_ready(fresh: dict[str, Any]) -> None:  # noqa: F811
    """No search workers, no token: the tool searches in the HTTP process, answers "not ready" until
    there is an index, then follows it."""
    index = fresh["index"]
    parked = fresh["tmp"] / "parked-index"
    index.rename(parked)
    config = write_config(
        fresh["tmp"] / "inline.toml",
        port=fresh["port"],
        index=index,
        roots=[fresh["workspace"]],
        extra="[performance]\nsearch_workers = 0\n",
    )
    svc = start_service(fresh, config=config)
    assert wait_for(lambda: _alive(svc), timeout=60), svc.stderr()
    assert svc.get("/ready").status_code == 503
    (waiting,) = _searches(svc.url, [{"query": "Tokenize"}], headers=None)
    assert waiting.isError and "not ready" in waiting.content[0].text, waiting.content

    parked.rename(index)
    svc.wait_ready()
    answers = _searches(svc.url, SEARCHES, headers=None)
    for args, answer in zip(SEARCHES, answers, strict=True):
        expected = svc.post("/search", json=args).json()
        assert _payload(answer) == {k: expected[k] for k in ("results", "corrected_query")}, args
    assert _mcp_searches(svc) == len(SEARCHES)
    assert svc.get("/health/detailed").json()["process"]["search_workers"] is None
    records = svc.log_records()  # still one JSON object per line, nothing from the SDK at INFO
    assert not [r for r in records if r["logger"].startswith("mcp") or r["level"] == "ERROR"], records


def _alive(svc: Service) -> bool:
    try:
        return svc.get("/alive").status_code == 200
    except httpx.TransportError:
        return False
