"""Search: lexical (BM25 over code-aware tokens) and dense retrieval, fused and re-ranked with
code-aware signals (``ranking``), answering the CLI, the HTTP API and MCP alike (``engine``)."""
