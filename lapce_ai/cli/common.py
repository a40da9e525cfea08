"""What every command needs: settings, the embedder, the index, the router."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from lapce_ai.config import ConfigError, Settings, load_config
from lapce_ai.embedding.base import Embedder, EmbedderError

if TYPE_CHECKING:
    from lapce_ai.index.store import IndexStore


class CliError(Exception):
    """A user-facing failure: printed as one line, exit code ``code``."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


def fail(message: str, code: int = 2) -> NoReturn:
    raise CliError(message, code)


def load_settings(config: str | None, provider: str | None = None) -> Settings:
    try:
        settings = load_config(config).settings
    except ConfigError as exc:
        lines = "\n  ".join(str(p) for p in exc.problems)
        fail(f"invalid configuration:\n  {lines}", code=1)
    if provider:
        settings = settings.model_copy(update={"embedder": settings.embedder.model_copy(update={"provider": provider})})
    return settings


def make_embedder(settings: Settings, index_dir: Path | None = None) -> Embedder:
    from lapce_ai.embedding.registry import create_embedder

    try:
        embedder: Embedder = create_embedder(settings, index_dir)
        return embedder
    except EmbedderError as exc:
        fail(f"embedder unavailable: {exc}", code=1)


def index_path(arg: str | None, settings: Settings) -> Path:
    return Path(arg) if arg else settings.paths.index_dir


@dataclass
class Opened:
    settings: Settings
    embedder: Embedder
    store: IndexStore


def open_index(path: Path, settings: Settings, create: bool = False) -> Opened:
    from lapce_ai.index.store import IndexError_, IndexStore

    embedder = make_embedder(settings, path)
    try:
        store = IndexStore.open_for(path, embedder, create=create)
    except IndexError_ as exc:
        fail(str(exc), code=1)
    return Opened(settings, embedder, store)


def open_index_readonly(path: Path) -> IndexStore:
    """Open without an embedder (stats, validate): the index's own metadata decides."""
    from lapce_ai.index.store import IndexError_, IndexStore, read_meta

    try:
        meta = read_meta(path)
        if meta is None:
            fail(f"no index at {path}", code=1)
        return IndexStore.open(path)
    except IndexError_ as exc:
        fail(str(exc), code=1)


def run(main_fn: object) -> None:
    """Run a command's body, turning CliError into a one-line message and its exit code."""
    try:
        code = main_fn() if callable(main_fn) else 0
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.code)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(code or 0)
