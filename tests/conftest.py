from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from lapce_ai.config.settings import EmbedderSettings, PathSettings, Settings
from lapce_ai.embedding.base import Embedder
from lapce_ai.index.indexer import Indexer
from lapce_ai.index.store import IndexStore
from lapce_ai.parsing.router import ParserRouter


def settings_for(tmp_path: Path, **features: object) -> Settings:
    base = Settings()
    return base.model_copy(
        update={
            "paths": PathSettings(index_dir=tmp_path / "index", cache_dir=tmp_path / "cache"),
            "embedder": EmbedderSettings(provider="static"),
            "features": base.features.model_copy(update=features),
        }
    )


def index_files(tmp: Path, files: dict[str, str], embedder: Embedder) -> IndexStore:
    """A real index of these files (relative path -> text), written under ``tmp / "ws"``."""
    root = tmp / "ws"
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    settings = settings_for(tmp)
    store = IndexStore.open(tmp / "index", embedder.model_id, embedder.dim, create=True)
    summary = Indexer(settings, store, embedder, ParserRouter(settings.features, settings.performance)).index(root)
    assert summary.files_failed == 0
    return store


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
