"""Shared pieces of the quality benches: data locations, embedders, index building, scoring.

Data: ``$LAPCE_SHARED`` (default: ``../shared`` beside the repository) holds ``eval/cosqa`` and
``eval/semble-dev``; semble corpora live in ``$SEMBLE_DEV_CORPORA`` (default ``/work/corpora``),
outside every repository. Indexes are cached under ``$LAPCE_BENCH_DIR`` (default
``/tmp/lapce-quality``), one per (corpus, embedder).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("LAPCE_SHARED", REPO.parent / "shared"))
SEMBLE_DATA = Path(os.environ.get("SEMBLE_DEV_DATA", SHARED / "eval" / "semble-dev"))
COSQA_DATA = SHARED / "eval" / "cosqa"
CORPORA = Path(os.environ.get("SEMBLE_DEV_CORPORA", "/work/corpora"))
WORK = Path(os.environ.get("LAPCE_BENCH_DIR", "/tmp/lapce-quality"))
BIN = Path(sys.executable).parent


def semble_module() -> ModuleType:
    """The semble-dev harness (stdlib only), imported for its loaders and scoring rule."""
    path = SEMBLE_DATA / "semble_bench.py"
    spec = importlib.util.spec_from_file_location("semble_bench", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["semble_bench"] = mod
    spec.loader.exec_module(mod)
    return mod


class NullEmbedder:
    """Zero vectors: lets lexical-only runs work before/without a real embedder."""

    model_id = "null-embedder"
    dim = 8

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return np.zeros((len(texts), self.dim), dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return np.zeros(self.dim, dtype=np.float32)


def make_embedder(provider: str) -> Any:
    if provider == "null":
        return NullEmbedder()
    if provider == "random":
        return RandomEmbedder()
    from lapce_ai.config.settings import EmbedderSettings, Settings
    from lapce_ai.embedding.registry import create_embedder

    return create_embedder(Settings(embedder=EmbedderSettings(provider=provider)))


def settings_for(provider: str, index_dir: Path) -> Any:
    from lapce_ai.config.settings import EmbedderSettings, PathSettings, Settings

    base = Settings()
    return base.model_copy(
        update={
            "paths": PathSettings(index_dir=index_dir, cache_dir=index_dir.parent / "cache"),
            "embedder": EmbedderSettings(
                provider=provider if provider in ("static", "transformer", "two-stage") else "static"
            ),
        }
    )


def build_index(src: Path, index_dir: Path, provider: str, embedder: Any, fresh: bool = False) -> dict[str, Any]:
    """Index ``src`` in-process with the real pipeline (same code as ``lapce-index index``)."""
    from lapce_ai.index.indexer import Indexer
    from lapce_ai.index.store import IndexStore
    from lapce_ai.parsing.router import ParserRouter

    if fresh and index_dir.exists():
        shutil.rmtree(index_dir)
    settings = settings_for(provider, index_dir)
    store = IndexStore.open_for(index_dir, embedder, create=True)
    router = ParserRouter(settings.features, settings.performance)
    started = time.perf_counter()
    summary = Indexer(settings, store, embedder, router).index(src)
    out = summary.to_json()
    out["wall"] = time.perf_counter() - started
    return out


def ensure_summaries(index_dir: Path, embedder: Any) -> None:
    """Give an index cached before file summaries existed its summaries (what the next
    ``lapce-index index`` run would do); a no-op for an index that has them."""
    from lapce_ai.index import file_summaries
    from lapce_ai.index.store import FILES, IndexStore

    store = IndexStore.open_for(index_dir, embedder)
    roots = set(store.table(FILES).to_arrow().column("root").to_pylist())
    started = time.perf_counter()
    embedded = sum(file_summaries.backfill(store, embedder, root) for root in sorted(roots))
    if embedded:
        print(
            f"  {index_dir}: {embedded} file summaries embedded in {time.perf_counter() - started:.0f}s",
            file=sys.stderr,
        )


def index_via_cli(src: Path, index_dir: Path, provider: str) -> dict[str, Any]:
    cmd = [str(BIN / "lapce-index"), "index", str(src), "--index", str(index_dir), "--json", "--no-progress"]
    if provider != "default":
        cmd += ["--embedder", provider]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def open_engine(index_dir: Path, embedder: Any, mode: str, config: Any = None, check_model: bool = True) -> Any:
    from lapce_ai.index.store import IndexStore
    from lapce_ai.search.engine import SearchEngine

    store = IndexStore.open_for(index_dir, embedder) if check_model else IndexStore.open(index_dir)
    return SearchEngine(store, embedder, mode=mode, config=config)


def mean(xs: Sequence[float]) -> float:
    return float(sum(xs) / len(xs)) if xs else 0.0


def recall_against_exact(
    vectors: np.ndarray | None,
    queries: Sequence[np.ndarray],
    search: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
    exact_scores: Callable[[np.ndarray], np.ndarray] | None = None,
) -> tuple[float, float, float]:
    """How much of the exact top 100 / top 10 a dense search keeps among the chunks it scored
    exactly (``search``: query -> (similarities, those chunks)), and its median time in ms.
    The exact scores are ``vectors @ query`` unless ``exact_scores`` computes them."""
    at100, at10, ms = [], [], []
    for q in queries:
        scores = exact_scores(q) if exact_scores is not None else np.asarray(vectors) @ q
        exact = np.argsort(-scores, kind="stable")[:100]
        started = time.perf_counter()
        sims, kept = search(q)
        ms.append((time.perf_counter() - started) * 1000)
        top = kept[np.argsort(-sims[kept], kind="stable")][:100]
        at100.append(len(set(top.tolist()) & set(exact.tolist())) / 100)
        at10.append(len(set(top[:10].tolist()) & set(exact[:10].tolist())) / 10)
    return mean(at100), mean(at10), float(np.median(ms))


class RandomEmbedder:
    """Pseudo-random unit vectors keyed by text (latency benches only: shapes, not meaning)."""

    model_id = "bench-random-384"
    dim = 384

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            rng = np.random.default_rng(abs(hash(text)) % (2**32))
            v = rng.standard_normal(self.dim).astype(np.float32)
            out[i] = v / np.linalg.norm(v)
        return out

    def embed_query(self, text: str) -> np.ndarray:
        vector: np.ndarray = self.embed_documents([text])[0]
        return vector
