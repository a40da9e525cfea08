"""The pieces the service and the indexer daemon build from settings, each guarded.

The embedder comes from ``lapce_ai.embedding.registry`` and the tiered CST cache from
``lapce_ai.cache.build_cache``; a process whose cache cannot be built still runs (without it).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from lapce_ai.config import Settings
from lapce_ai.embedding.base import Embedder

log = logging.getLogger(__name__)


class ComponentError(Exception):
    """A component cannot be built; the message is one line for the operator."""


def create_embedder(settings: Settings, index_dir: Path | None = None) -> Embedder:
    try:
        from lapce_ai.embedding.registry import create_embedder as _create
    except ImportError as exc:
        raise ComponentError(f"embedder registry unavailable: {exc}") from exc
    try:
        embedder: Embedder = _create(settings, index_dir)
        return embedder
    except Exception as exc:
        raise ComponentError(f"embedder {settings.embedder.provider!r} unavailable: {exc}") from exc


def resolved_provider(settings: Settings, index_dir: Path) -> str:
    """What ``[embedder] provider`` means for the index at ``index_dir`` (``default`` follows an
    existing index: after a rebuild or restore swapped in another one, it may change)."""
    from lapce_ai.embedding.registry import resolve_provider

    return resolve_provider(settings.embedder.provider, index_dir)


def reconfigure_embedder(embedder: Embedder | None, settings: Settings) -> bool:
    """Apply rate limits and the like to a running embedder (only Titan has any)."""
    fn = getattr(embedder, "reconfigure", None)
    if not callable(fn):
        return False
    fn(settings.aws)
    return True


def build_cache(settings: Settings) -> Any | None:
    """The tiered CST cache, or None (disabled by ``features.tiered_cache`` or not available)."""
    if not settings.features.tiered_cache:
        return None
    try:
        from lapce_ai import cache as cache_pkg
    except ImportError:
        return None
    factory = getattr(cache_pkg, "build_cache", None)
    if not callable(factory):
        return None
    try:
        return factory(settings)
    except Exception as exc:
        log.error("CST cache unavailable: %s", exc, extra={"error_type": "cache_unavailable"})
        return None


def resize_cache(cache: Any | None, settings: Settings) -> bool:
    fn = getattr(cache, "resize", None)
    if not callable(fn):
        return False
    perf = settings.performance
    try:
        fn(
            hot=perf.cache_hot_size,
            warm=perf.cache_warm_size,
            cold=perf.cache_cold_size,
            frozen_bytes=perf.cache_frozen_bytes,
        )
    except TypeError:
        fn(perf)
    return True


def cache_stats(cache: Any | None) -> dict[str, Any] | None:
    fn = getattr(cache, "stats", None)
    if not callable(fn):
        return None
    try:
        stats = fn()
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    if isinstance(stats, dict):
        return stats
    to_json = getattr(stats, "to_json", None)
    if callable(to_json):
        result = to_json()
        return result if isinstance(result, dict) else {"stats": result}
    return dict(getattr(stats, "__dict__", {})) or {"stats": str(stats)}
