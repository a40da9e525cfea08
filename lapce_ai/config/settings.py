"""The configuration schema: every key of SPEC §6, with the runbook's names and defaults."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


def default_data_home() -> Path:
    """Where data lives when no config file names a path (SPEC §7): no root needed."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "lapce-ai"


def _path_from_text(value: Any) -> Any:
    # TOML has no path type: a path is written as a string, also when the file is validated strictly.
    return Path(value) if isinstance(value, str) else value


ConfigPath = Annotated[Path, BeforeValidator(_path_from_text)]


class _Section(BaseModel):
    # Unknown keys are errors, never silently ignored: a typo must not become a default.
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ServiceSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    # Required when bound to a non-loopback address (see service.auth).
    auth_token: str | None = None
    max_request_bytes: int = Field(64 * 1024, ge=1024, le=16 * 1024 * 1024)
    max_k: int = Field(100, ge=1, le=1000)
    log_level: Literal["debug", "info", "warning", "error", "critical"] = "info"


class PathSettings(_Section):
    index_dir: ConfigPath = Path("/var/lib/lapce-ai/indices")
    cache_dir: ConfigPath = Path("/var/lib/lapce-ai/cache")


class WorkspaceSettings(_Section):
    roots: list[ConfigPath] = Field(default_factory=lambda: [Path("/srv/code/project")])


class DiscoverySettings(_Section):
    max_file_bytes: int = Field(10 * 1024 * 1024, ge=1)
    include_vendored: bool = False


class EmbedderSettings(_Section):
    provider: Literal["default", "static", "transformer", "two-stage", "titan"] = "default"
    batch_size: int = Field(64, ge=1, le=4096)


class FeatureSettings(_Section):
    cst_pipeline_enabled: bool = True
    rollout_percentage: int = Field(100, ge=0, le=100)
    incremental_indexing: bool = True
    tiered_cache: bool = True
    embedding_reuse: bool = True
    legacy_fallback: bool = True


class PerformanceSettings(_Section):
    max_concurrent_parses: int = Field(8, ge=1, le=256)
    cache_hot_size: int = Field(100, ge=0)
    cache_warm_size: int = Field(500, ge=0)
    cache_cold_size: int = Field(2000, ge=0)
    cache_frozen_bytes: int = Field(256 * 1024 * 1024, ge=0)
    parse_timeout_ms: int = Field(5000, ge=1)
    # Service search worker processes; unset: one per core on a machine with several, 0: search
    # in the HTTP process. Needs a restart.
    search_workers: int | None = Field(None, ge=0, le=32)
    # Query embeddings the service remembers, by query text: a query asked again is not embedded
    # again (with Titan: no request). 0 remembers none. Needs a restart.
    query_vector_cache: int = Field(256, ge=0, le=100_000)
    # A CST in which more than this share of the file is loose tokens of error nodes (not
    # recovered into any well-formed construct) goes to legacy.
    max_error_ratio: float = Field(0.3, ge=0.0, le=1.0)


class AwsSettings(_Section):
    region: str = "us-east-1"
    titan_tier: Literal["standard", "express"] = "standard"
    # None means "the tier's default" (standard 25 / 5 rps, express 50 / 20 rps).
    max_batch_size: int | None = Field(None, ge=1, le=1000)
    requests_per_second: float | None = Field(None, gt=0, le=10_000)
    model_id: str = "amazon.titan-embed-text-v2:0"
    dimensions: Literal[256, 512, 1024] = 1024
    max_retries: int = Field(5, ge=0, le=20)
    timeout_seconds: float = Field(30.0, gt=0)
    # Longer texts are truncated, not rejected. Titan v2 takes 8,192 tokens / 50,000 chars; code
    # can run ~2 chars per token, so the default stays well under the token limit.
    max_input_chars: int = Field(16_000, ge=100, le=50_000)


class Settings(_Section):
    service: ServiceSettings = Field(default_factory=ServiceSettings)
    paths: PathSettings = Field(default_factory=PathSettings)
    workspaces: WorkspaceSettings = Field(default_factory=WorkspaceSettings)
    discovery: DiscoverySettings = Field(default_factory=DiscoverySettings)
    embedder: EmbedderSettings = Field(default_factory=EmbedderSettings)
    features: FeatureSettings = Field(default_factory=FeatureSettings)
    performance: PerformanceSettings = Field(default_factory=PerformanceSettings)
    aws: AwsSettings = Field(default_factory=AwsSettings)

    @classmethod
    def embedded_default(cls) -> Settings:
        """Built-in defaults with data under $XDG_DATA_HOME/lapce-ai (no config file, no root)."""
        home = default_data_home()
        return cls(
            paths=PathSettings(index_dir=home / "indices", cache_dir=home / "cache"),
            workspaces=WorkspaceSettings(roots=[Path.cwd()]),
        )
