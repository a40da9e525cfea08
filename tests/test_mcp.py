"""``lapce-index mcp``: the search engine over MCP (stdio), driven by the official MCP client."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

BIN = Path(sys.executable).parent


def _cli(env: dict[str, str], *args: str) -> str:
    proc = subprocess.run([str(BIN / "lapce-index"), *args], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def _payload(result: Any) -> dict[str, Any]:
    assert not result.isError, result.content
    text = json.loads(result.content[0].text)
    assert result.structuredContent in (None, text)  # both forms say the same
    out: dict[str, Any] = text
    return out


def test_agents_search_over_mcp_like_the_cli(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    (root / "app").mkdir(parents=True)
    (root / "app" / "config.py").write_text(
        "import tomllib\n\n\ndef read_config(path):\n    with open(path, 'rb') as fh:\n"
        "        return tomllib.load(fh)\n\n\nclass Settings:\n    def port(self):\n        return 8080\n"
    )
    (root / "app" / "geo.go").write_text(
        "package app\n\n// Haversine gives the great-circle distance between two points.\n"
        "func Haversine(a, b Point) float64 {\n\treturn 0\n}\n"
    )
    config = tmp_path / "config.toml"
    config.write_text(f'[embedder]\nprovider = "static"\n\n[paths]\ncache_dir = "{tmp_path / "cache"}"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CST_", "LAPCE_AI"))}
    env.update(LAPCE_AI_CONFIG=str(config), XDG_DATA_HOME=str(tmp_path / "xdg"), HF_HUB_OFFLINE="1")
    index = tmp_path / "idx"
    _cli(env, "index", str(root), "--index", str(index), "--json")
    expected = json.loads(_cli(env, "search", "read_config", "--index", str(index), "-k", "3", "--json"))

    async def session() -> None:
        params = StdioServerParameters(command=str(BIN / "lapce-index"), args=["mcp", "--index", str(index)], env=env)
        async with stdio_client(params) as (read, write), ClientSession(read, write) as client:
            init = await client.initialize()
            assert init.serverInfo.name == "lapce-ai" and init.instructions
            tools = (await client.list_tools()).tools
            assert [t.name for t in tools] == ["search"]
            assert set(tools[0].inputSchema["properties"]) == {"query", "k", "path", "language", "kind"}

            hits = _payload(await client.call_tool("search", {"query": "read_config", "k": 3}))["results"]
            assert hits == expected and hits[0]["symbol"] == "read_config"  # the CLI's answer, exactly
            typo = _payload(await client.call_tool("search", {"query": "who calls read_confg", "k": 3}))
            assert typo["corrected_query"] == "who calls read_config"
            go = _payload(await client.call_tool("search", {"query": "distance between two points", "language": "go"}))
            assert go["results"][0]["symbol"] == "Haversine"
            assert {h["language"] for h in go["results"]} == {"go"}
            nothing = _payload(await client.call_tool("search", {"query": "read_config", "path": "nowhere/"}))
            assert nothing["results"] == []

            for bad, message in (
                ({"query": "x", "k": 0}, "k must be between 1 and"),
                ({"query": "   "}, "query is empty"),
                ({"query": "x" * 9000}, "longer than"),
                ({"query": "x", "language": "py'; DROP TABLE chunks; --"}, "language"),
            ):
                result = await client.call_tool("search", bad)
                assert result.isError and message in result.content[0].text, (bad, result.content)

            # The index changes under the running server (a watching indexer would do this): the
            # next call answers from the new version.
            (root / "app" / "late.py").write_text("def late_arrival(x):\n    return x\n")
            _cli(env, "index", str(root), "--index", str(index), "--json")
            late = _payload(await client.call_tool("search", {"query": "late_arrival", "k": 1}))["results"]
            assert late[0]["symbol"] == "late_arrival"

    asyncio.run(session())
