"""``[embedder] provider`` -> an Embedder. Imports are lazy: choosing one never loads the others.

``two-stage``: chunks are written with the static model at once and refined with the transformer
afterwards (``lapce_ai.embedding.two_stage``, ``lapce_ai.index.refine``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from lapce_ai.embedding.base import Embedder, EmbedderError

if TYPE_CHECKING:
    from lapce_ai.config.settings import Settings

# What provider = "default" means for a new index; chosen by measurement (bench/two_stage.py,
# bench/embedders.py, bench/quality/run.py).
DEFAULT_PROVIDER = "two-stage"

# model id prefix (as recorded in an index's meta.json) -> the provider that writes it
_PROVIDER_OF_MODEL = (
    ("minilm-l6-v2-static", "static"),
    ("minilm-l6-v2-onnx", "transformer"),
    ("amazon.titan", "titan"),
)


def provider_of_index(index_dir: Path) -> str | None:
    """The provider that built the index at ``index_dir``, from its meta.json (None: no index,
    or a model this program does not know). Reads one small file: no LanceDB."""
    try:
        meta = json.loads((Path(index_dir) / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict):
        return None
    if meta.get("refine_model_id") is not None:
        return "two-stage"
    return provider_of_model(str(meta.get("model_id", "")))


def provider_of_model(model_id: str) -> str | None:
    """The provider that writes vectors of ``model_id`` (None: a model this program does not know)."""
    return next((provider for prefix, provider in _PROVIDER_OF_MODEL if model_id.startswith(prefix)), None)


def resolve_provider(provider: str, index_dir: Path | None = None) -> str:
    """``default`` is ``DEFAULT_PROVIDER`` for a new index; an existing index keeps the embedder
    it was built with, so a new default never locks out an index built under an older one.
    An explicit provider is taken as is (a mismatching index is refused when opened)."""
    if provider != "default":
        return provider
    existing = provider_of_index(index_dir) if index_dir is not None else None
    return existing or DEFAULT_PROVIDER


def create_embedder(settings: Settings, index_dir: Path | None = None) -> Embedder:
    """The embedder ``settings`` ask for, for the index at ``index_dir`` (default: ``[paths]
    index_dir``; it only matters for ``provider = "default"``)."""
    provider = resolve_provider(settings.embedder.provider, index_dir or settings.paths.index_dir)
    if provider == "static":
        from lapce_ai.embedding.static import StaticEmbedder

        return StaticEmbedder()
    if provider == "transformer":
        from lapce_ai.embedding.transformer import TransformerEmbedder

        return TransformerEmbedder()
    if provider == "two-stage":
        from lapce_ai.embedding.static import StaticEmbedder
        from lapce_ai.embedding.transformer import TransformerEmbedder, transformer_identity
        from lapce_ai.embedding.two_stage import LazyEmbedder, TwoStageEmbedder

        model_id, dim = transformer_identity()
        return TwoStageEmbedder(StaticEmbedder(), LazyEmbedder(TransformerEmbedder, model_id, dim))
    if provider == "titan":
        try:
            from lapce_ai.embedding.titan import TitanEmbedder
        except ImportError as exc:
            raise EmbedderError(f"Titan embedder unavailable: {exc}", "embedder_unavailable") from exc
        embedder: Embedder = TitanEmbedder(settings.aws)
        return embedder
    raise EmbedderError(f"unknown embedder provider {provider!r}", "embedder_unavailable")
