"""Stable chunk IDs and content hashes (SPEC §2)."""

from __future__ import annotations

import xxhash


def content_hash(text: str | bytes) -> str:
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    return xxhash.xxh3_128_hexdigest(data)


def chunk_id(path: str, symbol: str, kind: str, ordinal: int) -> str:
    """Derived from identity, not position: an edit above a function keeps its ID."""
    return xxhash.xxh3_128_hexdigest(f"{path}\x00{symbol}\x00{kind}\x00{ordinal}".encode("utf-8", "surrogatepass"))


def stable_bucket(path: str) -> int:
    """Deterministic 0..99 bucket of a relative path, identical on every machine and run."""
    return xxhash.xxh3_64_intdigest(path.encode("utf-8", "surrogatepass")) % 100
