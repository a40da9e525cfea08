"""Code-aware tokens for lexical search: identifiers kept whole and split into their parts.

``HTTPServerError`` → ``httpservererror http server error``; ``parse_url2`` → ``parse_url2 parse
url2 url``. No stemming: ``parser`` and ``parse`` stay distinct, as they are distinct identifiers.
The same function tokenizes documents and queries, so both sides agree.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
MAX_TOKEN_CHARS = 40  # longer "identifiers" are base64 blobs and hashes, not words


def identifier_parts(word: str) -> list[str]:
    parts: list[str] = []
    for piece in word.split("_"):
        if piece:
            parts.extend(p.lower() for p in _CAMEL.findall(piece))
    return parts


def code_tokens(text: str) -> list[str]:
    out: list[str] = []
    for word in _WORD.findall(text):
        if len(word) > MAX_TOKEN_CHARS:
            continue
        low = word.lower()
        out.append(low)
        parts = identifier_parts(word)
        if len(parts) > 1:
            out.extend(p for p in parts if p != low)
    return out


def path_tokens(path: str) -> list[str]:
    """File name (without extension) and the last folders: ``src/http/router_group.go``."""
    segments = [s for s in path.replace("\\", "/").split("/") if s]
    if not segments:
        return []
    stem = segments[-1].rsplit(".", 1)[0]
    return code_tokens(" ".join([stem, *segments[-4:-1]]))


def document_text(path: str, symbol: str, content: str) -> str:
    """The text the full-text index sees for a chunk (space-joined tokens)."""
    tokens = path_tokens(path) + code_tokens(symbol.replace(".", " ")) + code_tokens(content)
    return " ".join(tokens)


def query_text(query: str) -> str:
    return " ".join(code_tokens(query))
