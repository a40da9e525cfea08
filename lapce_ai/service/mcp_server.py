"""The MCP front end: ``lapce-index mcp`` serves the search engine to AI coding agents over stdio.

It is the same ``SearchEngine`` the CLI and the HTTP API call (SPEC §3), kept in one process: the
corpus stays loaded between calls and follows the index as it changes (a running
``lapce-ai-indexer``), so an agent's query costs milliseconds instead of a process start.
The protocol owns stdout; everything else (logs, errors) goes to stderr.
"""

from __future__ import annotations

from typing import Any

from mcp.server.fastmcp import FastMCP
from mcp.server.fastmcp.exceptions import ToolError

from lapce_ai.search.engine import SearchEngine
from lapce_ai.search.filters import FilterError, SearchFilters
from lapce_ai.service.schemas import MAX_QUERY_LENGTH

INSTRUCTIONS = (
    "Semantic code search over one indexed code base. Ask `search` where the code that does "
    "something is, in words ('how are routes registered') or by name ('HTTPException'); results "
    "come best first with path, lines, symbol and the code itself."
)


def build_server(engine: SearchEngine, max_k: int) -> FastMCP:
    server = FastMCP("lapce-ai", instructions=INSTRUCTIONS, log_level="WARNING")

    @server.tool()
    def search(
        query: str,
        k: int = 10,
        path: str | None = None,
        language: str | None = None,
        kind: str | None = None,
    ) -> dict[str, Any]:
        """Find the code that does what the query says, best first.

        query: words ("parse multipart form data"), a question, an identifier or a snippet.
        k: how many results. path: a path prefix or glob relative to the workspace root
        ("src/", "src/**/*.go"). language / kind: only chunks of this language ("python") or
        kind ("function", "class", "method").
        Each result: path, start_line, end_line (1-based, inclusive), symbol, kind, language,
        score, content."""
        if not query.strip():
            raise ToolError("query is empty")
        if len(query) > MAX_QUERY_LENGTH:
            raise ToolError(f"query is longer than {MAX_QUERY_LENGTH} characters")
        if not 1 <= k <= max_k:
            raise ToolError(f"k must be between 1 and {max_k}")
        try:
            results = engine.search(query, k, SearchFilters(path, language, kind), source="mcp")
        except FilterError as exc:
            raise ToolError(str(exc)) from exc
        return {"results": [r.to_json() for r in results]}

    return server
