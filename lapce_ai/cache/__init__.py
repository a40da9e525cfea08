"""The 4-tier CST cache: hot trees, warm and cold chunk structures, a frozen tier on disk."""

from __future__ import annotations

from lapce_ai.cache.codec import CachedFile
from lapce_ai.cache.incremental import Symbol
from lapce_ai.cache.tiers import TIERS, TieredCstCache
from lapce_ai.config.settings import Settings

__all__ = ["TIERS", "CachedFile", "Symbol", "TieredCstCache", "build_cache"]

FROZEN_SUBDIR = "cst"


def build_cache(settings: Settings) -> TieredCstCache | None:
    """The cache as configured, or None when ``features.tiered_cache`` is false."""
    if not settings.features.tiered_cache:
        return None
    perf = settings.performance
    return TieredCstCache(
        hot_size=perf.cache_hot_size,
        warm_size=perf.cache_warm_size,
        cold_size=perf.cache_cold_size,
        frozen_dir=settings.paths.cache_dir / FROZEN_SUBDIR if perf.cache_frozen_bytes > 0 else None,
        frozen_bytes=perf.cache_frozen_bytes,
    )
