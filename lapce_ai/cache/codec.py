"""The cold/frozen encoding of a file's chunks and symbols: compressed JSON, never pickle.

JSON because the frozen directory can be shared between processes (and versions): a bad entry
must fail to decode, not execute. The blob names its own path and content hash so an entry can
never be served for another file, even after a key collision or a renamed file on disk.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass

from lapce_ai.cache.incremental import Symbol
from lapce_ai.chunking.model import Chunk

FORMAT = 1


class DecodeError(ValueError):
    pass


@dataclass(frozen=True)
class CachedFile:
    """What every tier can answer from: the chunks and the symbol outline of one file version."""

    chunks: tuple[Chunk, ...]
    symbols: tuple[Symbol, ...]

    def size(self) -> int:
        """Approximate bytes held (text dominates; object headers are left out)."""
        return sum(len(c.content) + len(c.symbol) + 160 for c in self.chunks) + 64 * len(self.symbols)


def pack(path: str, file_hash: str, entry: CachedFile) -> bytes:
    doc = {
        "v": FORMAT,
        "path": path,
        "hash": file_hash,
        "chunks": [
            [c.id, c.language, c.kind, c.symbol, c.start_line, c.end_line, c.parser, c.content, c.content_hash]
            for c in entry.chunks
        ],
        "symbols": [[s.kind, s.symbol, s.start_line, s.end_line] for s in entry.symbols],
    }
    # Level 1: cold-tier demotions happen on the request path; the ratio gain above 1 is small.
    return zlib.compress(json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8"), 1)


def unpack(blob: bytes, path: str, file_hash: str) -> CachedFile:
    try:
        doc = json.loads(zlib.decompress(blob))
        if doc["v"] != FORMAT or doc["path"] != path or doc["hash"] != file_hash:
            raise DecodeError("entry belongs to another file or format")
        chunks = tuple(
            Chunk(str(i), path, str(lang), str(kind), str(sym), int(s), int(e), str(parser), str(text), str(h))
            for i, lang, kind, sym, s, e, parser, text, h in doc["chunks"]
        )
        symbols = tuple(Symbol(str(k), str(n), int(s), int(e)) for k, n, s, e in doc["symbols"])
    except DecodeError:
        raise
    except (ValueError, KeyError, TypeError, zlib.error) as exc:  # JSONDecodeError is a ValueError
        raise DecodeError(f"undecodable entry: {type(exc).__name__}") from exc
    return CachedFile(chunks, symbols)
