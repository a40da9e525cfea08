"""The one interface every embedder implements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]


class EmbedderError(Exception):
    """An embedder failed; ``error_type`` feeds ``semantic_search_errors_total{error_type}``."""

    def __init__(self, message: str, error_type: str = "embedder"):
        super().__init__(message)
        self.error_type = error_type


@runtime_checkable
class Embedder(Protocol):
    # Recorded in the index: opening an index with another model id or dimension is refused.
    model_id: str
    dim: int

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        """Embed chunk texts: float32 array of shape (len(texts), dim), L2-normalised rows."""
        ...

    def embed_query(self, text: str) -> Vectors:
        """Embed one search query: float32 array of shape (dim,), L2-normalised."""
        ...


def normalize_rows(vectors: npt.NDArray[np.floating]) -> Vectors:
    arr = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(arr, axis=-1, keepdims=True)
    norms[norms == 0] = 1.0
    result: Vectors = (arr / norms).astype(np.float32, copy=False)
    return result
