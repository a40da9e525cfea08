from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from lapce_ai.config.settings import EmbedderSettings, PathSettings, Settings
from lapce_ai.embedding.base import Embedder


def settings_for(tmp_path: Path, **features: object) -> Settings:
    base = Settings()
    return base.model_copy(
        update={
            "paths": PathSettings(index_dir=tmp_path / "index", cache_dir=tmp_path / "cache"),
            "embedder": EmbedderSettings(provider="static"),
            "features": base.features.model_copy(update=features),
        }
    )


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real fast local embedder (static model distilled at set-up by `make models`)."""
    from lapce_ai.embedding.registry import create_embedder

    return create_embedder(Settings(embedder=EmbedderSettings(provider="static")))


@pytest.fixture
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """No system or user config leaks into a test."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("LAPCE_AI_CONFIG", raising=False)
    for var in ("CST_PIPELINE_ENABLED", "CST_ROLLOUT_PERCENTAGE", "LOG_LEVEL"):
        monkeypatch.delenv(var, raising=False)
    yield tmp_path
