"""A model2vec static model distilled from MiniLM: a text's vector is the mean of its token vectors.

Inference is a few lines of numpy over the saved matrix (same result as ``model2vec.StaticModel``,
checked at build time) so the runtime needs neither model2vec nor its joblib/tqdm/huggingface_hub
imports; tokenisation dominates the cost.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from tokenizers import Tokenizer

from lapce_ai.embedding.base import EmbedderError, Vectors, normalize_rows
from lapce_ai.embedding.models_dir import STATIC, TOKENIZER_FILE, ensure_model, read_manifest, sanitize

# model2vec truncates to 512 tokens by default; keep that so our vectors equal StaticModel's.
MAX_TOKENS = 512
# Bounds tokenizer work on huge inputs; 64k characters hold far more than 512 tokens of real text.
MAX_CHARS = 65_536

_SAFETENSORS_DTYPES = {"F16": np.float16, "F32": np.float32}


def load_safetensors_matrix(path: Path, key: str) -> npt.NDArray[np.float32]:
    """One 2-D tensor from a .safetensors file (8-byte header length, JSON header, raw data)."""
    try:
        with open(path, "rb") as fh:
            (header_len,) = struct.unpack("<Q", fh.read(8))
            header: dict[str, Any] = json.loads(fh.read(header_len))
            if set(header) - {key, "__metadata__"}:
                # Vocabulary-quantised models carry extra tensors (weights, mappings) we do not apply.
                raise EmbedderError(f"{path}: unsupported tensors {sorted(set(header) - {key})}", "model_missing")
            meta = header[key]
            begin, end = meta["data_offsets"]
            fh.seek(8 + header_len + begin)
            raw = fh.read(end - begin)
        matrix = np.frombuffer(raw, dtype=_SAFETENSORS_DTYPES[meta["dtype"]]).reshape(meta["shape"])
    except EmbedderError:
        raise
    except Exception as exc:
        raise EmbedderError(f"cannot read {key!r} from {path}: {exc}", "model_missing") from exc
    # float16 on disk (half the size); float32 in memory so the sums are exact and fast.
    return np.ascontiguousarray(matrix, dtype=np.float32)


class StaticEmbedder:
    def __init__(self, model_dir: Path | None = None):
        path = model_dir if model_dir is not None else ensure_model(STATIC)
        manifest = read_manifest(path)
        self.model_id: str = str(manifest["model_id"])
        self.dim: int = int(manifest["dim"])
        self._vectors = load_safetensors_matrix(path / "model.safetensors", "embeddings")
        if self._vectors.shape[1] != self.dim:
            raise EmbedderError(
                f"{path}: vectors have dim {self._vectors.shape[1]}, manifest {self.dim}", "model_missing"
            )
        try:
            self._tokenizer = Tokenizer.from_file(str(path / TOKENIZER_FILE))
        except Exception as exc:
            raise EmbedderError(f"cannot load tokenizer from {path}: {exc}", "model_missing") from exc
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(MAX_TOKENS)
        unk = self._tokenizer.token_to_id("[UNK]")
        # model2vec drops unknown tokens from the mean; a text with no known token at all (e.g. "")
        # gets the [UNK] vector so that every row stays unit length.
        self._unk: int | None = unk
        self._empty = normalize_rows(self._vectors[unk if unk is not None else 0])

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        encodings = self._tokenizer.encode_batch_fast(sanitize(texts, MAX_CHARS), add_special_tokens=False)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        unk, vectors = self._unk, self._vectors
        for i, encoding in enumerate(encodings):
            ids = encoding.ids
            if unk is not None and unk in ids:
                ids = [t for t in ids if t != unk]
            if ids:
                # A sum, not a mean: the rows are normalised below, so dividing would change nothing.
                # One gather + sum per text beats np.add.reduceat over a concatenated batch by 10x.
                np.sum(vectors[ids], axis=0, out=out[i])
            else:
                out[i] = self._empty
        return normalize_rows(out)

    def embed_query(self, text: str) -> Vectors:
        vec: Vectors = self.embed_documents([text])[0]
        return vec
