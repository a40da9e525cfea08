"""The query-vector cache: a query asked again is not embedded again."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from lapce_ai.search.query_vectors import QueryVectors


def _embedder(calls: list[str]) -> Callable[[str], np.ndarray]:
    """An embedder that records its calls; the n-th call's vector is all n."""

    def embed(text: str) -> np.ndarray:
        calls.append(text)
        return np.full(4, float(len(calls)), dtype=np.float32)

    return embed


def test_a_key_is_embedded_once_then_remembered() -> None:
    calls: list[str] = []
    embed = _embedder(calls)
    cache = QueryVectors(size=8)
    first = cache.get("q", lambda: embed("q"))
    again = cache.get("q", lambda: embed("q"))
    assert calls == ["q"] and again is first
    with pytest.raises(ValueError):
        first[0] = 9.0  # shared: read-only


def test_the_least_recently_used_key_goes_first() -> None:
    calls: list[str] = []
    embed = _embedder(calls)
    cache = QueryVectors(size=2)
    for key in ("a", "b", "a", "c"):  # "a" used again before "c" comes: "b" is the one to go
        cache.get(key, lambda key=key: embed(key))
    assert calls == ["a", "b", "c"] and len(cache) == 2
    cache.get("a", lambda: embed("a"))
    cache.get("b", lambda: embed("b"))
    assert calls == ["a", "b", "c", "b"]


def test_size_zero_remembers_nothing_and_a_failure_is_not_remembered() -> None:
    calls: list[str] = []
    embed = _embedder(calls)
    cache = QueryVectors(size=0)
    cache.get("q", lambda: embed("q"))
    cache.get("q", lambda: embed("q"))
    assert calls == ["q", "q"] and len(cache) == 0

    def fail() -> np.ndarray:
        raise RuntimeError("embedder down")

    cache = QueryVectors(size=4)
    with pytest.raises(RuntimeError):
        cache.get("q", fail)
    assert len(cache) == 0
    assert cache.get("q", lambda: embed("q"))[0] == 3.0
