"""Request and response models: they are the OpenAPI document (``/openapi.json``)."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

MAX_QUERY_LENGTH = 8192
WORD_PATTERN = r"^[A-Za-z0-9_+#.-]{0,64}$"  # what search.filters accepts for language and kind
K_LIMIT = 1000  # the schema's bound; ``service.max_k`` (<= 1000) is the configured one


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(
        max_length=MAX_QUERY_LENGTH,
        validation_alias=AliasChoices("query", "q"),
        description="What to look for: words, an identifier, or a code snippet (`q` is accepted too).",
    )
    k: int = Field(10, ge=1, le=K_LIMIT, description="How many results (capped at `service.max_k`).")
    path: str | None = Field(
        None,
        max_length=1024,
        description="Path prefix or glob, relative to the workspace root ('src/', 'src/**/*.go').",
    )
    language: str | None = Field(
        None, pattern=WORD_PATTERN, description="Only chunks of this language (e.g. 'python'); empty: any."
    )
    kind: str | None = Field(None, pattern=WORD_PATTERN, description="Only chunks of this kind (function, class, ...).")


class SearchHit(BaseModel):
    path: str
    start_line: int
    end_line: int
    symbol: str
    kind: str
    language: str
    score: float
    content: str


class SearchResponse(BaseModel):
    query: str
    corrected_query: str | None = Field(
        None,
        description="The query as searched when a misspelled, part-typed or abbreviated name in it, or words, "
        "were read as the name the code has ('OrderdDict', 'ordered dict', 'OrDi' -> 'OrderedDict'); null when "
        "it was searched as typed.",
    )
    k: int
    count: int
    took_ms: float
    results: list[SearchHit]


class ErrorResponse(BaseModel):
    detail: str


class HealthResponse(BaseModel):
    model_config = ConfigDict(extra="allow")

    status: Literal["healthy", "degraded", "unhealthy"]
    cst_enabled: bool
    cache_hit_rate: float
    ready: bool
    version: str
    build: str | None = None  # a release's build id, git:<commit> in a checkout (observability.build)
    uptime_seconds: float


class ReadyResponse(BaseModel):
    ready: bool
    reason: str | None = None


class AliveResponse(BaseModel):
    alive: bool


class IndexerStatsResponse(BaseModel):
    model_config = ConfigDict(extra="allow")

    running: bool
    state: str
    queue_depth: int
    files_indexed: int
