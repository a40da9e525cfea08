"""The HTTP API (SPEC §5): health probes, config, metrics, cache and indexer stats, search, and the
search tool over MCP (Streamable HTTP) at ``/mcp``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Annotated, Any

import psutil
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.routing import APIRoute
from mcp.server.fastmcp import FastMCP
from mcp.server.fastmcp.exceptions import ToolError
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Route

from lapce_ai import __version__
from lapce_ai.embedding.base import EmbedderError
from lapce_ai.embedding.two_stage import refiner_of
from lapce_ai.observability import metrics
from lapce_ai.observability.build import running_build
from lapce_ai.search.engine import MAX_QUERY_CHARS
from lapce_ai.search.filters import FilterError, SearchFilters, glob_to_regex, normalize_path_filter
from lapce_ai.service.auth import GuardMiddleware
from lapce_ai.service.mcp_server import HTTP_PATH as MCP_PATH
from lapce_ai.service.mcp_server import http_endpoint, http_server
from lapce_ai.service.schemas import (
    K_LIMIT,
    MAX_QUERY_LENGTH,
    WORD_PATTERN,
    AliveResponse,
    ErrorResponse,
    HealthResponse,
    IndexerStatsResponse,
    ReadyResponse,
    SearchHit,
    SearchRequest,
    SearchResponse,
)
from lapce_ai.service.search_pool import SearchPool, SearchReply, WorkerError
from lapce_ai.service.state import IndexHandle, ServiceState
from lapce_ai.service.status import status_path

log = logging.getLogger("lapce_ai.service")

REFRESH_SECONDS = 0.5
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse},
    413: {"model": ErrorResponse},
    503: {"model": ErrorResponse},
}


class ApiError(Exception):
    def __init__(self, status: int, detail: str, error_type: str):
        super().__init__(detail)
        self.status, self.detail, self.error_type = status, detail, error_type


def create_app(state: ServiceState) -> FastAPI:
    mcp = _mcp_server(state)
    mcp_endpoint = http_endpoint(mcp)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(state.refresh)
        await asyncio.to_thread(state.start_search_pool)
        task = asyncio.create_task(_refresher(state))
        try:
            async with mcp.session_manager.run():  # /mcp answers while this runs
                yield
        finally:  # after the server drained its requests
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await asyncio.to_thread(state.stop_search_pool)

    app = FastAPI(
        title="lapce-ai",
        version=__version__,
        description="Semantic code search over tree-sitter CSTs (see the operator runbook).",
        lifespan=lifespan,
    )
    app.state.service = state
    app.add_middleware(GuardMiddleware, state=state)

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        metrics.SEARCH_ERRORS.labels(exc.error_type).inc()
        return JSONResponse({"detail": exc.detail}, status_code=exc.status)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        metrics.SEARCH_ERRORS.labels("internal").inc()
        log.error(
            "internal error on %s: %s", request.url.path, exc, exc_info=exc, extra={"error_type": type(exc).__name__}
        )
        return JSONResponse({"detail": "internal error"}, status_code=500)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> Response:
        # ASCII-escaped: the offending input may hold lone surrogates, which UTF-8 cannot encode.
        body = json.dumps({"detail": _plain(exc.errors())}, ensure_ascii=True)
        return Response(body, status_code=422, media_type="application/json")

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # list every method the path has, not just one route's
            methods = {
                m
                for r in app.routes
                if isinstance(r, APIRoute) and r.path_regex.match(request.url.path)
                for m in r.methods or ()
            }
            headers["Allow"] = ", ".join(sorted(methods))
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)

    _add_probes(app, state)
    _add_info(app, state)
    _add_search(app, state)
    # A plain route, not a mount: the path is exactly /mcp (a mount would redirect it to /mcp/).
    # Behind GuardMiddleware like every endpoint but the probes.
    app.router.routes.append(Route(MCP_PATH, endpoint=mcp_endpoint, include_in_schema=False))
    return app


async def _refresher(state: ServiceState) -> None:
    while True:
        await asyncio.sleep(REFRESH_SECONDS)
        try:
            await asyncio.to_thread(state.refresh)
        except Exception as exc:  # never let the refresher die
            log.error("refresh failed: %s", exc, extra={"error_type": type(exc).__name__})


def _plain(value: Any) -> Any:
    """JSON-safe copy of validation errors (inputs may be bytes, exceptions, anything)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


# -- probes ----------------------------------------------------------------------------------


def cst_enabled(state: ServiceState) -> bool:
    f = state.settings.features
    return bool(f.cst_pipeline_enabled and f.rollout_percentage > 0)


def _counter_by_label(counter: Any) -> dict[str, float]:
    out: dict[str, float] = {}
    for family in counter.collect():
        for s in family.samples:
            if s.name.endswith("_total"):
                out[next(iter(s.labels.values()), "")] = float(s.value)
    return out


def frozen_on_disk(state: ServiceState, alive: bool) -> tuple[int, int] | None:
    """(entries, bytes) of the frozen tier, counted on disk, when lapce-ai-indexer (the process that
    holds the cache and reports its sizes) is not running; it also sets
    ``cst_cache_tier_size{tier="frozen"}`` to it. The memory tiers died with that process: their
    size is 0. None while the indexer runs, or when the frozen tier is off."""
    perf = state.settings.performance
    if alive or not state.settings.features.tiered_cache or perf.cache_frozen_bytes <= 0:
        return None
    from lapce_ai.cache import FROZEN_SUBDIR
    from lapce_ai.cache.frozen import on_disk

    entries, size = on_disk(state.settings.paths.cache_dir / FROZEN_SUBDIR)
    metrics.CST_CACHE_TIER_SIZE.labels("frozen").set(entries)
    return entries, size


def _hit_rate(status: dict[str, Any] | None, total_hits: float, misses: float) -> float:
    """The indexer's own hit rate where its status has one, else the bridged counters'."""
    details = status.get("cache") if status else None
    rate = details.get("hit_rate") if isinstance(details, dict) else None
    if not isinstance(rate, int | float):
        rate = total_hits / (total_hits + misses) if total_hits + misses else 0.0
    return round(float(rate), 4)


def _hits_and_misses() -> tuple[float, float]:
    return (
        sum(_counter_by_label(metrics.CST_CACHE_HITS).values()),
        sum(_counter_by_label(metrics.CST_CACHE_MISSES).values()),
    )


def cache_view(state: ServiceState) -> dict[str, Any]:
    status, alive = state.indexer_status()
    on_disk = frozen_on_disk(state, alive)
    hits = _counter_by_label(metrics.CST_CACHE_TIER_HITS)
    total_hits, misses = _hits_and_misses()
    rate = _hit_rate(status, total_hits, misses)
    details = status.get("cache") if status else None
    tiers: dict[str, float] = {}
    for family in metrics.CST_CACHE_TIER_SIZE.collect():
        for s in family.samples:
            tiers[s.labels.get("tier", "")] = float(s.value)
    perf = state.settings.performance
    heartbeat = status.get("heartbeat_at") if status else None
    return {
        "enabled": state.settings.features.tiered_cache,
        "source": "lapce-ai-indexer",
        "indexer_running": alive,
        "hit_rate": rate,
        "hits": total_hits,
        "hits_by_tier": hits,
        "misses": misses,
        "evictions_by_tier": _counter_by_label(metrics.CST_CACHE_EVICTIONS),
        "tier_sizes": tiers,
        # while the indexer is stopped, tier_sizes["frozen"] is this count of the disk tier
        "frozen_on_disk": {"entries": on_disk[0], "bytes": on_disk[1]} if on_disk is not None else None,
        "configured": {
            "hot": perf.cache_hot_size,
            "warm": perf.cache_warm_size,
            "cold": perf.cache_cold_size,
            "frozen_bytes": perf.cache_frozen_bytes,
        },
        # the indexer's own last report: live while it runs, as it was when it stopped otherwise
        "details": details if isinstance(details, dict) else None,
        "details_at": heartbeat if isinstance(details, dict) else None,
    }


def health(state: ServiceState) -> dict[str, Any]:
    reasons = []
    status = "healthy"
    if not state.ready:
        reason = state.not_ready_reason() or "loading"
        reasons.append(reason)
        broken = state.embedder_error is not None or (
            state.index_error is not None and not state.index_error.startswith("no index")
        )
        status = "unhealthy" if broken else "degraded"
    last_reload = state.last_reload
    if last_reload is not None and not last_reload.ok:
        reasons.append("last config reload failed: " + "; ".join(last_reload.problems))
        status = "degraded" if status == "healthy" else status
    return {
        "status": status,
        "cst_enabled": cst_enabled(state),
        "cache_hit_rate": _hit_rate(state.indexer_status()[0], *_hits_and_misses()),  # no disk scan per probe
        "ready": state.ready,
        "version": __version__,
        "build": running_build(),
        "uptime_seconds": round(time.time() - state.started_at, 3),
        "reasons": reasons,
        "last_reload": last_reload.to_json() if last_reload else None,
    }


def _add_probes(app: FastAPI, state: ServiceState) -> None:
    @app.get("/health", response_model=HealthResponse, tags=["probes"], responses={503: {"model": HealthResponse}})
    def get_health() -> JSONResponse:
        body = health(state)
        body.pop("last_reload")
        return JSONResponse(body, status_code=503 if body["status"] == "unhealthy" else 200)

    @app.get("/health/detailed", tags=["probes"])
    def get_health_detailed() -> dict[str, Any]:
        body = health(state)
        status, alive = state.indexer_status()
        proc = psutil.Process(os.getpid())
        f = state.settings.features
        body.update(
            checks={
                "embedder": {
                    "loaded": state.embedder is not None,
                    "provider": state.settings.embedder.provider,
                    "model_id": getattr(state.embedder, "model_id", None),
                    "dim": getattr(state.embedder, "dim", None),
                    "refine_model_id": getattr(refiner_of(state.embedder), "model_id", None),
                    "error": state.embedder_error,
                },
                "index": state.index_facts(),
                "indexer": _indexer_summary(state, status, alive),
                "config": {
                    "source": state.config_source,
                    "loaded_at": round(state.loaded_at, 3),
                    "last_reload": body.pop("last_reload"),
                    "pending_restart": state.pending_restart,
                },
            },
            features={
                "cst_pipeline_enabled": f.cst_pipeline_enabled,
                "rollout_percentage": f.rollout_percentage,
                "incremental_indexing": f.incremental_indexing,
                "tiered_cache": f.tiered_cache,
                "embedding_reuse": f.embedding_reuse,
                "legacy_fallback": f.legacy_fallback,
            },
            cache=cache_view(state),
            process={
                "pid": proc.pid,
                "rss_bytes": proc.memory_info().rss,
                "threads": proc.num_threads(),
                "cpu_seconds": round(sum(proc.cpu_times()[:2]), 3),
                "search_workers": pool.facts() if (pool := state.search_pool) is not None else None,
            },
        )
        return body

    @app.get("/ready", response_model=ReadyResponse, tags=["probes"], responses={503: {"model": ReadyResponse}})
    def get_ready() -> JSONResponse:
        if state.ready:
            return JSONResponse({"ready": True, "reason": None})
        return JSONResponse({"ready": False, "reason": state.not_ready_reason()}, status_code=503)

    @app.get("/alive", response_model=AliveResponse, tags=["probes"])
    def get_alive() -> dict[str, bool]:
        return {"alive": True}


# -- config, metrics, cache, indexer ---------------------------------------------------------


def redacted_config(state: ServiceState) -> dict[str, Any]:
    data: dict[str, Any] = state.settings.model_dump(mode="json")
    if data["service"].get("auth_token"):
        data["service"]["auth_token"] = "[REDACTED]"
    data["config_source"] = state.config_source
    data["config_loaded_at"] = round(state.loaded_at, 3)
    data["pending_restart"] = state.pending_restart
    data["last_reload"] = state.last_reload.to_json() if state.last_reload else None
    return data


def _indexer_summary(state: ServiceState, status: dict[str, Any] | None, alive: bool) -> dict[str, Any]:
    if status is None:
        return {
            "running": False,
            "state": "unknown",
            "queue_depth": 0,
            "files_indexed": 0,
            "status_file": str(status_path(state.index_dir)),
            "detail": "no status from lapce-ai-indexer (not started, or writing elsewhere)",
        }
    heartbeat = status.get("heartbeat_at")
    return {
        "running": alive,
        "state": status.get("state", "unknown") if alive else "stopped",
        "queue_depth": int(status.get("queue_depth") or 0) if alive else 0,
        "files_indexed": int(status.get("files_indexed") or 0),
        "files_deleted": int(status.get("files_deleted") or 0),
        "files_failed": int(status.get("files_failed") or 0),
        "runs": int(status.get("runs") or 0),
        "last_run": status.get("last_run"),
        "last_error": status.get("last_error"),
        "refine": status.get("refine"),
        "roots": status.get("roots", []),
        "pid": status.get("pid"),
        "started_at": status.get("started_at"),
        "heartbeat_age_seconds": round(time.time() - heartbeat, 3) if isinstance(heartbeat, int | float) else None,
        "config": status.get("config"),
        "status_file": str(status_path(state.index_dir)),
    }


def _add_info(app: FastAPI, state: ServiceState) -> None:
    @app.get("/config", tags=["info"])
    def get_config() -> dict[str, Any]:
        return redacted_config(state)

    @app.get("/metrics", response_class=PlainTextResponse, tags=["info"])
    def get_metrics() -> Response:
        _, alive = state.indexer_status()  # fold the indexer's latest numbers in first
        frozen_on_disk(state, alive)
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/cache/stats", tags=["info"])
    def get_cache_stats() -> dict[str, Any]:
        return cache_view(state)

    @app.get("/indexer/stats", response_model=IndexerStatsResponse, tags=["info"])
    def get_indexer_stats() -> dict[str, Any]:
        status, alive = state.indexer_status()
        body = _indexer_summary(state, status, alive)
        body["index"] = state.index_facts()
        return body


# -- search ----------------------------------------------------------------------------------


def _clean(text: str | None) -> str | None:
    """Lone surrogates (valid JSON escapes, invalid UTF-8) would break encoding further on."""
    if text is None:
        return None
    return text.encode("utf-8", "replace").decode("utf-8")


def _check_filters(filters: SearchFilters) -> None:
    filters.to_sql()  # raises FilterError for bad language/kind/path
    if filters.path and any(ch in filters.path for ch in "*?["):
        try:
            re.compile(glob_to_regex(normalize_path_filter(filters.path)))
        except re.error as exc:
            raise FilterError(f"invalid path glob: {exc}") from exc


@dataclass(frozen=True)
class Found:
    """One search's answer before it becomes a response: the results as JSON objects when searched
    in this process, or as the JSON array a search worker encoded."""

    query: str
    k: int
    count: int
    took_ms: float
    results: list[dict[str, Any]] | None = None
    results_json: bytes | None = None
    corrected_query: str | None = None

    def result_list(self) -> list[dict[str, Any]]:
        if self.results is not None:
            return self.results
        decoded: list[dict[str, Any]] = json.loads(self.results_json or b"[]")
        return decoded

    def response(self) -> Response:
        head = {
            "query": self.query,
            "corrected_query": self.corrected_query,
            "k": self.k,
            "count": self.count,
            "took_ms": self.took_ms,
        }
        if self.results is not None:
            return _json({**head, "results": self.results})
        text = json.dumps(head, ensure_ascii=False)
        body = text[:-1].encode("utf-8", "replace") + b', "results": ' + (self.results_json or b"[]") + b"}"
        return Response(body, media_type="application/json")


def run_search(state: ServiceState, req: SearchRequest) -> Response:
    return find(state, req.query, req.k, req.path, req.language, req.kind, source="http").response()


def find(
    state: ServiceState,
    query: str,
    k: int,
    path: str | None,
    language: str | None,
    kind: str | None,
    source: str,
) -> Found:
    """The search behind ``POST /search`` and the ``/mcp`` tool (``source`` labels its metrics):
    ``k`` bounded by ``service.max_k``, filters checked, in a search worker when there are some.
    Raises ``ApiError`` with the status the HTTP API answers."""
    k = min(k, state.settings.service.max_k)  # bounded: larger asks get max_k results
    handle = state.index
    if handle is None:
        raise ApiError(503, f"not ready: {state.not_ready_reason()}", "not_ready")
    query = _clean(query) or ""
    filters = SearchFilters(_clean(path), _clean(language), _clean(kind))
    try:
        _check_filters(filters)
    except FilterError as exc:
        raise ApiError(400, str(exc), "invalid_filter") from exc
    pool = state.search_pool
    if pool is not None:
        return _pooled_search(state, pool, handle, query, k, filters, source)
    started = time.perf_counter()
    try:
        answer = handle.engine.answer(query, k, filters, source=source)
    except FilterError as exc:
        raise ApiError(400, str(exc), "invalid_filter") from exc
    except EmbedderError as exc:
        log.error("query embedding failed: %s", exc, extra={"error_type": exc.error_type})
        raise ApiError(503, f"embedder unavailable: {exc}", exc.error_type) from exc
    except Exception as exc:
        if filters.path and any(ch in filters.path for ch in "*?["):
            raise ApiError(400, f"invalid path glob: {filters.path!r}", "invalid_filter") from exc
        if state.index is not handle or not state.ready:
            raise ApiError(503, "index is being replaced; retry", "index_unavailable") from exc
        raise
    took = (time.perf_counter() - started) * 1000
    results = [r.to_json() for r in answer.results]
    if log.isEnabledFor(logging.DEBUG):
        log.debug("search", extra={"source": source, "k": k, "count": len(results), "latency_ms": round(took, 3)})
    return Found(query, k, len(results), round(took, 3), results=results, corrected_query=answer.corrected_query)


def _pooled_search(
    state: ServiceState,
    pool: SearchPool,
    handle: IndexHandle,
    query: str,
    k: int,
    filters: SearchFilters,
    source: str,
) -> Found:
    """The search in a worker process; metrics, embedding and errors as ``engine.search`` has them."""
    started = time.perf_counter()
    metrics.SEARCH_REQUESTS.labels(source).inc()
    try:
        trimmed = query[:MAX_QUERY_CHARS].strip()
        vector = handle.engine.embed_query(trimmed) if trimmed and handle.engine.mode != "lexical" else None
        target, wanted = state.search_target(handle), (filters.path, filters.language, filters.kind)
        reply: SearchReply = pool.search(target, query, vector, k, wanted, respell=vector is not None)
        if reply.respell and reply.corrected_query:
            # The worker read the query as another name: the dense side searches for that one.
            meant = reply.corrected_query
            reply = pool.search(target, meant, handle.engine.embed_query(meant), k, wanted)
            reply = replace(reply, corrected_query=reply.corrected_query or meant)
    except EmbedderError as exc:
        log.error("query embedding failed: %s", exc, extra={"error_type": exc.error_type})
        raise ApiError(503, f"embedder unavailable: {exc}", exc.error_type) from exc
    except WorkerError as exc:
        if exc.kind == "filter":
            raise ApiError(400, str(exc), "invalid_filter") from exc
        if exc.kind != "lost" and filters.path and any(ch in filters.path for ch in "*?["):
            raise ApiError(400, f"invalid path glob: {filters.path!r}", "invalid_filter") from exc
        if exc.kind == "lost" or state.index is not handle or not state.ready:
            raise ApiError(503, "search worker unavailable; retry", "index_unavailable") from exc
        raise
    if reply.searched:
        metrics.SEARCH_LATENCY.observe(time.perf_counter() - started)
    took = (time.perf_counter() - started) * 1000
    if log.isEnabledFor(logging.DEBUG):
        log.debug("search", extra={"source": source, "k": k, "count": reply.count, "latency_ms": round(took, 3)})
    return Found(
        query, k, reply.count, round(took, 3), results_json=reply.results_json, corrected_query=reply.corrected_query
    )


def _add_search(app: FastAPI, state: ServiceState) -> None:
    # The models document the responses; the handlers return JSON directly (no re-validation per hit).
    @app.post("/search", response_model=SearchResponse, tags=["search"], responses=_ERRORS)
    def post_search(req: SearchRequest) -> Response:
        return run_search(state, req)

    @app.get("/search", response_model=SearchResponse, tags=["search"], responses=_ERRORS)
    def get_search(
        q: Annotated[str, Query(max_length=MAX_QUERY_LENGTH, description="the query")],
        k: Annotated[int, Query(ge=1, le=K_LIMIT)] = 10,
        path: Annotated[str | None, Query(max_length=1024)] = None,
        language: Annotated[str | None, Query(pattern=WORD_PATTERN)] = None,
        kind: Annotated[str | None, Query(pattern=WORD_PATTERN)] = None,
    ) -> Response:
        return run_search(state, SearchRequest(query=q, k=k, path=path, language=language, kind=kind))


# -- MCP (Streamable HTTP at /mcp) -----------------------------------------------------------


def _mcp_server(state: ServiceState) -> FastMCP:
    """The stdio server's tool (``mcp_server.build_server``) answering through ``find``, as
    ``POST /search`` does: same results, same bound, same filter checks; errors become tool errors
    with the message the HTTP API would give, counted as its errors are."""

    def run(query: str, k: int, filters: SearchFilters) -> tuple[list[dict[str, Any]], str | None]:
        try:
            found = find(state, query, k, filters.path, filters.language, filters.kind, source="mcp")
        except ApiError as exc:
            metrics.SEARCH_ERRORS.labels(exc.error_type).inc()
            raise ToolError(exc.detail) from exc
        except Exception as exc:
            metrics.SEARCH_ERRORS.labels("internal").inc()
            log.error("internal error on %s: %s", MCP_PATH, exc, exc_info=exc, extra={"error_type": type(exc).__name__})
            raise ToolError("internal error") from exc
        return found.result_list(), found.corrected_query

    # The SDK logs every request at INFO ("Processing request of type ..."): not ours to log.
    logging.getLogger("mcp").setLevel(logging.WARNING)
    return http_server(run, lambda: state.settings.service.max_k, state.settings.service.host)


def _json(body: dict[str, Any]) -> Response:
    return Response(json.dumps(body, ensure_ascii=False).encode("utf-8", "replace"), media_type="application/json")


__all__ = ["SearchHit", "create_app"]
