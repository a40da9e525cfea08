"""``lapce-index outline FILE``: a file's symbols (kind, name, lines), served from the CST cache.

The cache key is the file's absolute path and content hash, so a second run — a new process —
is answered by the frozen tier under ``paths.cache_dir`` without parsing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import xxhash

from lapce_ai.cache.incremental import Symbol, _flatten
from lapce_ai.cache.tiers import TieredCstCache
from lapce_ai.chunking.cst import CstChunker, _nest
from lapce_ai.config.settings import Settings
from lapce_ai.parsing.languages import definitions, has_grammar, language_for_path, new_parser
from lapce_ai.parsing.recovery import best_reading


class OutlineError(ValueError):
    """The file cannot be outlined (unreadable, or no grammar for its language)."""


def outline_file(path: Path, settings: Settings, cache: TieredCstCache | None = None) -> list[dict[str, Any]]:
    """Symbols of ``path`` in document order: ``start_line``, ``end_line``, ``kind``, ``symbol``."""
    from lapce_ai.cache import build_cache

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise OutlineError(f"cannot read {path}: {exc.strerror or exc}") from exc
    spec = language_for_path(path.name)
    if spec is None or not has_grammar(spec):
        raise OutlineError(f"no grammar for {path.name}: outline needs a CST language")
    key = str(path.resolve())
    file_hash = xxhash.xxh3_128_hexdigest(data)
    cache = cache if cache is not None else build_cache(settings)
    symbols: list[Symbol] | None = None
    if cache is not None:
        symbols = cache.get_symbols(key, file_hash)
        if symbols is None:
            parser = new_parser(spec)
            reading = best_reading(spec, parser, data, cache.parse(key, file_hash, data, parser))
            chunks = cache.chunk(key, file_hash, spec, data, reading.tree, CstChunker())
            cache.put_parsed(key, file_hash, reading.source, reading.tree, chunks)
            symbols = cache.get_symbols(key, file_hash)
    if symbols is None:  # tiered_cache = false: parse, outline, keep nothing
        parser = new_parser(spec)
        reading = best_reading(spec, parser, data, parser.parse(data))
        symbols = [s.sym for s in _flatten(_nest(definitions(spec, reading.tree.root_node)))]
    return [{"start_line": s.start_line, "end_line": s.end_line, "kind": s.kind, "symbol": s.symbol} for s in symbols]
