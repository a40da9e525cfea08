"""The vectors of the queries embedded last, so that a query asked again is not embedded again.

An agent repeats a query with other filters or more results, an editor refreshes its results
after a save: the same text each time. Its embedding is the largest share of a dense search
(~1.5-3 ms with the transformer on 2 cores), and with Titan a paid, rate-limited request.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

Vector = npt.NDArray[np.float32]

# 256 transformer vectors take 0.4 MB (two-stage: 0.7 MB).
QUERY_VECTOR_CACHE = 256


class QueryVectors:
    """A bounded, thread-safe map of query text -> its vector, least recently used first out
    (one per engine: one index, one embedder)."""

    def __init__(self, size: int = QUERY_VECTOR_CACHE):
        self.size = size
        self._vectors: OrderedDict[str, Vector] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, embed: Callable[[], Vector]) -> Vector:
        """The vector remembered under ``key``, else ``embed()``'s (called outside the lock: a
        slow embedder does not hold up other queries). It is read-only, since it is shared."""
        with self._lock:
            vector = self._vectors.get(key)
            if vector is not None:
                self._vectors.move_to_end(key)
                return vector
        vector = embed()
        vector.setflags(write=False)
        if self.size > 0:
            with self._lock:
                self._vectors[key] = vector
                self._vectors.move_to_end(key)
                while len(self._vectors) > self.size:
                    self._vectors.popitem(last=False)
        return vector

    def __len__(self) -> int:
        return len(self._vectors)
