"""Local embedders on the real models (built by `make models`, or on first use here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lapce_ai.config.settings import EmbedderSettings, Settings
from lapce_ai.embedding import models_dir
from lapce_ai.embedding.base import Embedder, EmbedderError
from lapce_ai.embedding.registry import DEFAULT_PROVIDER, create_embedder
from lapce_ai.embedding.static import StaticEmbedder
from lapce_ai.embedding.transformer import TransformerEmbedder
from lapce_ai.embedding.two_stage import TwoStageEmbedder

REPO = Path(__file__).resolve().parent.parent

READ_FILE = '''def load_text(path: str) -> str:
    """Return the whole content of the file at ``path``."""
    with open(path, encoding="utf-8") as fh:
        return fh.read()
'''
HTTP_GET = '''def fetch_json(url: str) -> dict:
    """GET ``url`` over HTTP and decode the JSON body."""
    resp = requests.get(url, headers={"Accept": "application/json"}, timeout=10)
    resp.raise_for_status()
    return resp.json()
'''
SAMPLES = [
    READ_FILE,
    HTTP_GET,
    "class Stack:\n    def __init__(self):\n        self.items = []\n    def push(self, x):\n        self.items += [x]",
    "SELECT name FROM users WHERE id = ?",
    "sort a list of numbers",
    "fn add(a: i32, b: i32) -> i32 { a + b }",
]
NASTY = [
    "",
    " \n\t ",
    "x",
    "\x00\x01\x02",
    "lone surrogate \ud800 here",
    "\udfff",
    "é" * 10,
    "def f():\n" + "    pass\n" * 200_000,
]


@pytest.fixture(scope="module")
def static() -> StaticEmbedder:
    return StaticEmbedder()


@pytest.fixture(scope="module")
def transformer() -> TransformerEmbedder:
    return TransformerEmbedder()


@pytest.fixture(params=["static", "transformer"])
def emb(request: pytest.FixtureRequest) -> Embedder:
    e: Embedder = request.getfixturevalue(request.param)
    return e


def _assert_unit_rows(vecs: np.ndarray, n: int, dim: int) -> None:
    assert vecs.shape == (n, dim)
    assert vecs.dtype == np.float32
    assert np.isfinite(vecs).all()
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)


def test_ids_and_dims(static: StaticEmbedder, transformer: TransformerEmbedder) -> None:
    assert (transformer.model_id, transformer.dim) == ("minilm-l6-v2-onnx-int8", 384)
    assert (static.model_id, static.dim) == (f"minilm-l6-v2-static-{models_dir.STATIC_PCA_DIMS}", 256)
    assert isinstance(static, Embedder) and isinstance(transformer, Embedder)


def test_shapes_dtype_normalised(emb: Embedder) -> None:
    _assert_unit_rows(emb.embed_documents(SAMPLES), len(SAMPLES), emb.dim)
    q = emb.embed_query("read a file")
    assert q.shape == (emb.dim,) and q.dtype == np.float32
    assert abs(float(np.linalg.norm(q)) - 1.0) < 1e-5
    assert emb.embed_documents([]).shape == (0, emb.dim)


def test_deterministic_and_batch_independent(emb: Embedder) -> None:
    a = emb.embed_documents(SAMPLES)
    b = emb.embed_documents(SAMPLES)
    np.testing.assert_array_equal(a, b)
    # A text's vector must not depend on what it is batched with (embedding reuse relies on it).
    for i in (0, 3, 4):
        np.testing.assert_allclose(emb.embed_query(SAMPLES[i]), a[i], atol=1e-6)
    np.testing.assert_allclose(emb.embed_documents(SAMPLES[::-1])[::-1], a, atol=1e-6)


def test_semantic_sanity(emb: Embedder) -> None:
    docs = emb.embed_documents([READ_FILE, HTTP_GET])
    for query in ("read a file", "load the contents of a text file"):
        sims = docs @ emb.embed_query(query)
        assert sims[0] > sims[1], (query, sims)
    sims = docs @ emb.embed_query("send an HTTP request and parse the JSON response")
    assert sims[1] > sims[0], sims


def test_degenerate_inputs_do_not_crash(emb: Embedder) -> None:
    _assert_unit_rows(emb.embed_documents(NASTY), len(NASTY), emb.dim)
    for text in NASTY[:6]:
        assert emb.embed_query(text).shape == (emb.dim,)


def test_int8_matches_sentence_transformers(transformer: TransformerEmbedder) -> None:
    pytest.importorskip("sentence_transformers")
    from sentence_transformers import SentenceTransformer

    src, _ = models_dir._source_dir()
    st = SentenceTransformer(str(src), device="cpu")
    texts = [*SAMPLES, *(models_dir.VERIFY_SAMPLES[::5])]
    ref = st.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    cos = np.sum(transformer.embed_documents(texts) * ref, axis=1)
    assert cos.min() >= models_dir.MIN_INT8_COSINE, cos


def test_static_matches_model2vec(static: StaticEmbedder) -> None:
    pytest.importorskip("model2vec")
    from model2vec import StaticModel

    ref = StaticModel.from_pretrained(str(models_dir.models_dir() / models_dir.STATIC)).encode(SAMPLES)
    cos = np.sum(static.embed_documents(SAMPLES) * np.asarray(ref, dtype=np.float32), axis=1)
    assert cos.min() > 0.999, cos


def _imports_after(code: str) -> list[str]:
    probe = (
        f"import sys, json\n{code}\n"
        "print(json.dumps([m for m in ('torch', 'transformers', 'sentence_transformers', 'model2vec', "
        "'onnxruntime', 'huggingface_hub') if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO)
    loaded: list[str] = json.loads(out.stdout.strip().splitlines()[-1])
    return loaded


def test_runtime_path_never_imports_torch() -> None:
    loaded = _imports_after(
        "from lapce_ai.config.settings import EmbedderSettings, Settings\n"
        "from lapce_ai.embedding.registry import create_embedder\n"
        "for p in ('transformer', 'static'):\n"
        "    create_embedder(Settings(embedder=EmbedderSettings(provider=p))).embed_query('read a file')\n"
    )
    assert loaded == ["onnxruntime"]


def test_registry_import_is_cheap() -> None:
    assert _imports_after("import lapce_ai.embedding.registry") == []


def test_registry_providers(static: StaticEmbedder) -> None:
    def make(provider: str) -> Embedder:
        return create_embedder(Settings(embedder=EmbedderSettings(provider=provider)))  # type: ignore[arg-type]

    assert make("static").model_id == static.model_id
    assert make("transformer").model_id == TransformerEmbedder.model_id
    two = make("two-stage")
    assert isinstance(two, TwoStageEmbedder) and (two.model_id, two.dim) == (static.model_id, static.dim)
    expected = {"static": StaticEmbedder, "transformer": TransformerEmbedder, "two-stage": TwoStageEmbedder}
    assert isinstance(make("default"), expected[DEFAULT_PROVIDER])


def test_default_provider_follows_an_existing_index(tmp_path: Path) -> None:
    from lapce_ai.embedding.registry import provider_of_index, resolve_provider

    assert DEFAULT_PROVIDER == "two-stage"  # chosen by bench/two_stage.py (README "Embedders")
    assert resolve_provider("default", tmp_path / "none") == DEFAULT_PROVIDER
    for meta, provider in (
        ({"model_id": "minilm-l6-v2-onnx-int8", "dim": 384}, "transformer"),
        ({"model_id": "minilm-l6-v2-static-256", "dim": 256}, "static"),
        ({"model_id": "minilm-l6-v2-static-256", "dim": 256, "refine_model_id": "x", "refine_dim": 8}, "two-stage"),
        ({"model_id": "amazon.titan-embed-text-v2:0/1024", "dim": 1024}, "titan"),
    ):
        (tmp_path / "meta.json").write_text(json.dumps({"schema_version": 1, "created_at": 0, **meta}))
        assert provider_of_index(tmp_path) == provider
        assert resolve_provider("default", tmp_path) == provider  # an index built under an older default
        assert resolve_provider("static", tmp_path) == "static"  # explicit: taken as is (refused on open)


def test_models_dir_resolution(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(models_dir.MODELS_ENV, str(tmp_path))
    assert models_dir.models_dir() == tmp_path
    monkeypatch.delenv(models_dir.MODELS_ENV)
    assert models_dir.models_dir() == REPO / "models"  # a source checkout


def test_missing_model_names_make_models(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(models_dir, "build_extras_available", lambda: False)
    with pytest.raises(EmbedderError, match="make models") as info:
        models_dir.ensure_model(models_dir.STATIC, root=tmp_path)
    assert info.value.error_type == "model_missing"
    with pytest.raises(EmbedderError, match="make models"):
        models_dir.ensure_model(models_dir.MINILM_ONNX, root=tmp_path)


def test_manifests_match_files(static: StaticEmbedder, transformer: TransformerEmbedder) -> None:
    for name, embedder in ((models_dir.STATIC, static), (models_dir.MINILM_ONNX, transformer)):
        path = models_dir.models_dir() / name
        assert models_dir.is_complete(path, verify_checksums=True)
        manifest = models_dir.read_manifest(path)
        assert (manifest["model_id"], manifest["dim"]) == (embedder.model_id, embedder.dim)
        assert manifest["source"]["model"] == models_dir.SOURCE_MODEL
