"""Service: the HTTP API (FastAPI on uvicorn), its search workers, the indexer daemon that watches
the workspaces, config reload, auth, heap dumps and the MCP server."""
