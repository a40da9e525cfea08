"""Two stages: index with the fast static model, refine the same rows with the transformer later.

``TwoStageEmbedder`` is the first stage to everything that writes chunks (its ``model_id``,
``dim`` and ``embed_documents`` are the static model's), and carries the second stage as
``refiner``: the refiner (``lapce_ai.index.refine``) fills the index's ``refined`` column with
it, and search embeds the query with both. The index records both identities.

The transformer loads on first use: indexing, a no-op CLI run or a search of an unrefined index
never pay its start-up (~0.4 s) or memory.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from lapce_ai.embedding.base import Embedder, EmbedderError, Vectors


class LazyEmbedder:
    """An embedder built on first use; its identity is known (and checked) without loading it."""

    def __init__(self, factory: Callable[[], Embedder], model_id: str, dim: int):
        self.model_id = model_id
        self.dim = dim
        self._factory = factory
        self._loaded: Embedder | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._loaded is not None

    def load(self) -> Embedder:
        loaded = self._loaded
        if loaded is not None:
            return loaded
        with self._lock:
            if self._loaded is None:
                embedder = self._factory()
                if (embedder.model_id, embedder.dim) != (self.model_id, self.dim):
                    raise EmbedderError(
                        f"second-stage model is {embedder.model_id!r} (dim {embedder.dim}), "
                        f"expected {self.model_id!r} (dim {self.dim})",
                        "model_missing",
                    )
                self._loaded = embedder
            return self._loaded

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        return self.load().embed_documents(texts)

    def embed_query(self, text: str) -> Vectors:
        return self.load().embed_query(text)


class TwoStageEmbedder:
    """First stage (what chunks are written with) + ``refiner`` (what fills them in afterwards)."""

    def __init__(self, first: Embedder, refiner: Embedder):
        self.first = first
        self.refiner = refiner
        self.model_id: str = first.model_id
        self.dim: int = first.dim

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        return self.first.embed_documents(texts)

    def embed_query(self, text: str) -> Vectors:
        return self.first.embed_query(text)


def refiner_of(embedder: Embedder | None) -> Embedder | None:
    """The second stage of a two-stage embedder, None for a single-stage one."""
    refiner = getattr(embedder, "refiner", None)
    return refiner if isinstance(refiner, Embedder) else None
