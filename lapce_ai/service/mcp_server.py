"""The MCP front end: the search engine served to AI coding agents over the Model Context Protocol.

Two transports, one tool. ``lapce-index mcp`` serves it over stdio (``stdio_server``): the same
``SearchEngine`` the CLI and the HTTP API call (SPEC §3), kept in one process, so the corpus stays
loaded between calls and follows the index as it changes (a running ``lapce-ai-indexer``) and an
agent's query costs milliseconds instead of a process start. The protocol owns stdout; everything
else (logs, errors) goes to stderr. ``lapce-ai-service`` serves it over Streamable HTTP at ``/mcp``
(``http_server`` and ``http_endpoint``; ``app.py`` routes ``/mcp`` to it), where the tool answers
through the same code as ``POST /search``.

``build_server`` is the tool's one definition: its name, description, parameters and error
messages; each transport hands it the callable that runs a checked search.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable
from typing import Any

import anyio
from mcp.server.fastmcp import FastMCP
from mcp.server.fastmcp.exceptions import ToolError
from mcp.server.lowlevel.server import NotificationOptions
from mcp.server.lowlevel.server import Server as LowLevelServer
from mcp.server.models import InitializationOptions
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp, Receive, Scope, Send

from lapce_ai.search.engine import SearchEngine
from lapce_ai.search.filters import FilterError, SearchFilters
from lapce_ai.service.schemas import MAX_QUERY_LENGTH

INSTRUCTIONS = (
    "Semantic code search over one indexed code base. Ask `search` where the code that does "
    "something is, in words ('how are routes registered') or by name ('HTTPException'), where a "
    "name is defined or used ('who calls clean_path': its callers, not its definition), or paste "
    'what you saw: an error message, a line of code, a stack frame (\'File "app/routes.py", line '
    "42'), a failing test as the runner named it ('FAIL app.test.ts > Router > adds a route'); "
    "results come best first with path, lines, symbol and the code itself."
)

SearchRunner = Callable[[str, int, SearchFilters], tuple[list[dict[str, Any]], str | None]]
"""Runs one search whose query and ``k`` the tool has checked: ``(query, k, filters)`` -> the
results as JSON objects and the corrected query (``engine.Answer``). Called on a worker thread.
Raises ``FilterError`` for a bad filter and ``ToolError`` for anything else the agent should be
told."""


def build_server(run: SearchRunner, max_k: Callable[[], int], **settings: Any) -> FastMCP:
    """The MCP server with its one tool, ``search``. ``max_k`` is read per call (a reload may change
    it); ``settings`` go to ``FastMCP`` (the HTTP transport's options)."""
    server = FastMCP("lapce-ai", instructions=INSTRUCTIONS, log_level="WARNING", **settings)

    @server.tool()
    async def search(
        query: str,
        k: int = 10,
        path: str | None = None,
        language: str | None = None,
        kind: str | None = None,
    ) -> dict[str, Any]:
        """Find the code that does what the query says, best first.

        query: words ("parse multipart form data"), a question, an identifier, a snippet, a
        name's definition, uses, implementations, callees or tests ("where is Router defined",
        "who calls clean_path": the chunks using it, the code's before the tests'; "implementations
        of Handler", or "where is Handler implemented" of an interface or abstract class,
        "overrides of Handler.serve", "what does serve call", "tests for clean_path"), or what a
        run printed: an error or log message (the line printing it comes first), a stack frame
        or compiler message naming a file and line ("at Foo.bar(Foo.java:42)"), a failing test's
        line ("FAILED tests/test_app.py::test_add", "Router > adds a route": that test).
        k: how many results. path: a path prefix or glob relative to the workspace root
        ("src/", "src/**/*.go"). language / kind: only chunks of this language ("python", or
        an alias: "py", "js", "golang") or kind ("function", "class", "method", "test"); an unknown
        one is an error that names the likely one.
        Each result: path, start_line, end_line (1-based, inclusive), symbol, kind, language,
        score, content. corrected_query: the query as searched where a misspelled, part-typed or
        abbreviated name in it, or words, were read as the name the code has ("OrderdDict",
        "ordered dict", "OrDi" -> "OrderedDict"), else null."""
        if not query.strip():
            raise ToolError("query is empty")
        if len(query) > MAX_QUERY_LENGTH:
            raise ToolError(f"query is longer than {MAX_QUERY_LENGTH} characters")
        limit = max_k()
        if not 1 <= k <= limit:
            raise ToolError(f"k must be between 1 and {limit}")
        try:  # the search blocks (embedding, ranking, a worker's reply): off the event loop
            results, corrected = await anyio.to_thread.run_sync(run, query, k, SearchFilters(path, language, kind))
        except FilterError as exc:
            raise ToolError(str(exc)) from exc
        return {"results": results, "corrected_query": corrected}

    return server


# -- stdio: ``lapce-index mcp`` ----------------------------------------------------------------


def stdio_server(engine: SearchEngine, max_k: int) -> FastMCP:
    """The server ``lapce-index mcp`` runs on stdio: the engine searches in this process."""

    def run(query: str, k: int, filters: SearchFilters) -> tuple[list[dict[str, Any]], str | None]:
        answer = engine.answer(query, k, filters, source="mcp")
        return [r.to_json() for r in answer.results], answer.corrected_query

    return build_server(run, lambda: max_k)


# -- Streamable HTTP: ``lapce-ai-service`` at /mcp ---------------------------------------------

HTTP_PATH = "/mcp"
# The SDK's own body limit, set to ``service.max_request_bytes``' upper bound: the service's guard
# (auth.py) enforces the configured limit first, on /mcp as everywhere.
MAX_BODY_BYTES = 16 * 1024 * 1024
_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def transport_security(host: str) -> TransportSecuritySettings:
    """The SDK's Host/Origin checks (DNS-rebinding protection) for the address the service listens on.

    On a named address the Host header must name the loopback address (127.0.0.1, localhost, [::1])
    or the configured ``service.host``, with any port, and a browser's Origin must be one of them;
    anything else is refused (421 / 403) before a message is read. On a wildcard address (0.0.0.0,
    ::) the names clients use are unknown, so the check is off: such an address needs
    ``service.auth_token`` (``reload.service_problems``), and a rebinding page cannot send it.
    """
    bare = host.strip().strip("[]")
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(bare)
    except ValueError:
        address = None
    if not bare or (address is not None and address.is_unspecified):
        return TransportSecuritySettings(enable_dns_rebinding_protection=False)
    configured = f"[{bare}]" if address is not None and address.version == 6 else bare
    names = list(dict.fromkeys([*_LOOPBACK_NAMES, configured]))
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[h for name in names for h in (name, f"{name}:*")],
        allowed_origins=[o for name in names for s in ("http", "https") for o in (f"{s}://{name}", f"{s}://{name}:*")],
    )


def http_server(run: SearchRunner, max_k: Callable[[], int], host: str) -> FastMCP:
    """The server ``lapce-ai-service`` serves at ``/mcp``: stateless, answering in JSON.

    Stateless, each POST is a whole exchange (no session id, nothing kept between requests), so
    any process behind the port can answer it and a drain never waits on an idle session."""
    return build_server(
        run,
        max_k,
        stateless_http=True,
        json_response=True,
        streamable_http_path=HTTP_PATH,
        max_request_body_size=MAX_BODY_BYTES,
        transport_security=transport_security(host),
    )


def _cache_initialization_options(lowlevel: LowLevelServer[Any, Any]) -> None:
    """Stateless, the SDK builds the server's initialization options again for every request, and
    that reads its own package metadata from disk each time (~1.4 ms of the ~2 ms the SDK spends
    on a request, mcp 1.30). They cannot change once the tool is registered: build them once."""
    build = lowlevel.create_initialization_options
    built = build()

    def create_initialization_options(
        notification_options: NotificationOptions | None = None,
        experimental_capabilities: dict[str, dict[str, Any]] | None = None,
    ) -> InitializationOptions:
        if notification_options is None and experimental_capabilities is None:
            return built
        return build(notification_options, experimental_capabilities)

    lowlevel.create_initialization_options = create_initialization_options  # type: ignore[method-assign]


class _Endpoint:
    """An ASGI app (a class, so that Starlette's ``Route`` passes it the raw scope)."""

    def __init__(self, server: FastMCP):
        server.streamable_http_app()  # creates server.session_manager (the SDK makes it on first use)
        self.manager = server.session_manager
        _cache_initialization_options(self.manager.app)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            await self.manager.handle_request(scope, receive, send)
            return
        body = json.dumps({"detail": "Method Not Allowed: send MCP messages with POST"}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 405,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"allow", b"POST"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def http_endpoint(server: FastMCP) -> ASGIApp:
    """The ASGI app to route ``/mcp`` to. Its session manager must run (``server.session_manager.run()``)
    for as long as the app serves: ``create_app``'s lifespan does that.

    POST carries every message. GET, which would open a stream for messages the server starts, is
    405: the spec's answer from a server that offers no such stream, as a stateless one cannot
    (and an open GET would hold the SIGTERM drain for its whole time). DELETE (ending a session)
    is 405 too: there are no sessions."""
    return _Endpoint(server)
