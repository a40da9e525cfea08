"""The runbook's Prometheus queries, evaluated the way Prometheus evaluates them, over the
service's real ``/metrics`` text (no Prometheus binary in CI). Not a test module."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

Series = dict[tuple[tuple[str, str], ...], float]

# The runbook's "Cache hit rate", as typed there.
HIT_RATE = "rate(cst_cache_hits_total[5m])/(rate(cst_cache_hits_total[5m])+rate(cst_cache_misses_total[5m]))"


def series(text: str, name: str) -> Series:
    """Every series of sample ``name``, keyed by its label set (what vector matching compares)."""
    out: Series = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name:
                out[tuple(sorted(s.labels.items()))] = float(s.value)
    return out


def increase(before: str, after: str, name: str) -> Series:
    """``increase()`` between two scrapes (``rate()`` up to the window length)."""
    old = series(before, name)
    return {labels: v - old.get(labels, 0.0) for labels, v in series(after, name).items()}


def one_to_one(left: Series, right: Series, op: str) -> Series:
    """A binary operator between two instant vectors with default (one-to-one) matching: only
    series with exactly the same label set pair up; the rest drop out of the result."""
    out: Series = {}
    for labels, a in left.items():
        if labels not in right:
            continue
        b = right[labels]
        if op == "+":
            out[labels] = a + b
        elif op == "/":
            out[labels] = a / b if b else float("nan")
        else:
            raise ValueError(op)
    return out


def hit_rate(before: str, after: str) -> Series:
    """The runbook's HIT_RATE over the interval between two scrapes (rate's 1/seconds cancels)."""
    hits = increase(before, after, "cst_cache_hits_total")
    misses = increase(before, after, "cst_cache_misses_total")
    return one_to_one(hits, one_to_one(hits, misses, "+"), "/")
