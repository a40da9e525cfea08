"""Prometheus metrics: the runbook's exact names (SPEC §5), defined once for every process.

Collectors live in one module-level registry so the CLI, the indexer and the service count into
the same objects; ``/metrics`` renders ``REGISTRY``.
"""

from __future__ import annotations

import contextlib
import os

import psutil
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

import lapce_ai
from lapce_ai.observability.build import running_build

REGISTRY = CollectorRegistry(auto_describe=True)

_FAST_BUCKETS = (0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
_REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# -- CST cache (runbook "Low Cache Hit Rate") ------------------------------------------------
# Hits and misses carry the same (no) labels, so the runbook's hit-rate expression
# ``rate(hits) / (rate(hits) + rate(misses))`` finds its one-to-one pairs as typed; the tier a hit
# came from is counted apart, in ``cst_cache_tier_hits_total{tier}`` (the tiers' sum is the total).
CST_CACHE_HITS = Counter("cst_cache_hits", "CST cache hits (all tiers)", registry=REGISTRY)
CST_CACHE_TIER_HITS = Counter(
    "cst_cache_tier_hits", "CST cache hits by the tier that served them", ["tier"], registry=REGISTRY
)
CST_CACHE_MISSES = Counter("cst_cache_misses", "CST cache misses", registry=REGISTRY)
CST_CACHE_GET_DURATION = Histogram(
    "cst_cache_get_duration_seconds", "CST cache lookup latency", buckets=_FAST_BUCKETS, registry=REGISTRY
)
CST_CACHE_TIER_SIZE = Gauge("cst_cache_tier_size", "Entries held per CST cache tier", ["tier"], registry=REGISTRY)
CST_CACHE_EVICTIONS = Counter("cst_cache_evictions", "CST cache evictions by tier", ["tier"], registry=REGISTRY)
CST_CACHE_CORRUPT = Counter(
    "cst_cache_corrupt_entries", "Frozen-tier entries dropped for a bad checksum", registry=REGISTRY
)

# -- Parser router ---------------------------------------------------------------------------
CST_REQUESTS = Counter("cst_requests", "Files parsed by the CST pipeline", registry=REGISTRY)
CST_ERRORS = Counter("cst_errors", "CST parse failures", ["reason"], registry=REGISTRY)
LEGACY_REQUESTS = Counter("legacy_requests", "Files chunked by the legacy parser", ["reason"], registry=REGISTRY)
LEGACY_ERRORS = Counter("legacy_errors", "Legacy parser failures", registry=REGISTRY)

# -- Indexing --------------------------------------------------------------------------------
INDEX_OPERATIONS = Counter(
    "index_operations", "Index operations by kind and outcome", ["operation", "status"], registry=REGISTRY
)
FILES_INDEXED = Counter("files_indexed", "Files (re-)indexed", registry=REGISTRY)
FILES_SKIPPED = Counter("files_skipped", "Files skipped by discovery", ["reason"], registry=REGISTRY)
CHUNKS_INDEXED = Counter("chunks_indexed", "Chunks written to the index", registry=REGISTRY)
EMBEDDINGS_COMPUTED = Counter("embeddings_computed", "Chunk embeddings computed", registry=REGISTRY)
EMBEDDINGS_REUSED = Counter("embeddings_reused", "Chunk embeddings reused by content hash", registry=REGISTRY)
INDEXER_QUEUE_DEPTH = Gauge("indexer_queue_depth", "Files waiting to be indexed", registry=REGISTRY)
# Two-stage indexes: rows written with the static model, then given the transformer's vector.
CHUNKS_REFINED = Counter("chunks_refined", "Chunks given their second-stage vector", registry=REGISTRY)
REFINE_PENDING = Gauge(
    "index_refine_pending_chunks", "Two-stage index rows waiting for their second-stage vector", registry=REGISTRY
)

# -- Search ----------------------------------------------------------------------------------
SEARCH_REQUESTS = Counter("semantic_search_requests", "Search requests", ["source"], registry=REGISTRY)
SEARCH_ERRORS = Counter(
    "semantic_search_errors", "Errors by type (search, embedder, AWS, config)", ["error_type"], registry=REGISTRY
)
SEARCH_LATENCY = Histogram(
    "semantic_search_latency_seconds", "End-to-end search latency", buckets=_REQUEST_BUCKETS, registry=REGISTRY
)

# -- AWS Titan -------------------------------------------------------------------------------
TITAN_LATENCY = Histogram(
    "aws_titan_request_latency_seconds", "Bedrock InvokeModel latency", buckets=_REQUEST_BUCKETS, registry=REGISTRY
)
TITAN_REQUESTS = Counter("aws_titan_requests", "Bedrock InvokeModel calls by outcome", ["outcome"], registry=REGISTRY)
TITAN_THROTTLES = Counter("aws_titan_throttles", "Bedrock throttling responses", registry=REGISTRY)

# -- Build -----------------------------------------------------------------------------------
# lapce_ai_build_info{version, build} 1: which build a process runs (observability.build).
BUILD_INFO = Info("lapce_ai_build", "The running code: package version and build", registry=REGISTRY)
BUILD_INFO.info({"version": lapce_ai.__version__, "build": running_build() or "unknown"})

# -- Config ----------------------------------------------------------------------------------
CONFIG_RELOADS = Counter("config_reloads", "Config reloads by outcome", ["status"], registry=REGISTRY)


class _ProcessMemoryCollector(Collector):
    """``semantic_search_memory_rss_bytes``: read at scrape time, so it is always live. It counts
    the worker processes too (the service's search workers each hold a copy of the corpus)."""

    def collect(self):  # type: ignore[no-untyped-def]
        yield GaugeMetricFamily(
            "semantic_search_memory_rss_bytes",
            "Resident set size of this process and its worker processes",
            value=memory_rss_bytes(),
        )


def memory_rss_bytes() -> int:
    me = psutil.Process(os.getpid())
    total = int(me.memory_info().rss)
    for child in me.children():
        with contextlib.suppress(psutil.Error):
            total += int(child.memory_info().rss)
    return total


REGISTRY.register(_ProcessMemoryCollector())


def render() -> bytes:
    return generate_latest(REGISTRY)
