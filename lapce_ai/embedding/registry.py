"""``[embedder] provider`` -> an Embedder. Imports are lazy: choosing one never loads the others."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lapce_ai.embedding.base import Embedder, EmbedderError

if TYPE_CHECKING:
    from lapce_ai.config.settings import Settings

# What provider = "default" means; chosen by measurement (bench/embedders.py, bench/quality/run.py).
DEFAULT_PROVIDER = "transformer"


def resolve_provider(provider: str) -> str:
    return DEFAULT_PROVIDER if provider == "default" else provider


def create_embedder(settings: Settings) -> Embedder:
    provider = resolve_provider(settings.embedder.provider)
    if provider == "static":
        from lapce_ai.embedding.static import StaticEmbedder

        return StaticEmbedder()
    if provider == "transformer":
        from lapce_ai.embedding.transformer import TransformerEmbedder

        return TransformerEmbedder()
    if provider == "titan":
        try:
            from lapce_ai.embedding.titan import TitanEmbedder
        except ImportError as exc:
            raise EmbedderError(f"Titan embedder unavailable: {exc}", "embedder_unavailable") from exc
        embedder: Embedder = TitanEmbedder(settings.aws)
        return embedder
    raise EmbedderError(f"unknown embedder provider {provider!r}", "embedder_unavailable")
