"""Chunking: syntax trees cut into semantic chunks (functions, methods, types and the module code
between them) with stable IDs and content hashes; the legacy line-window chunker."""
