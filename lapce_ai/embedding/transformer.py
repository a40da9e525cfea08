"""MiniLM-L6-v2 as an int8 ONNX model: onnxruntime + tokenizers, no torch.

Output matches sentence-transformers' all-MiniLM-L6-v2 (truncate to 256 tokens, mean over the
token embeddings, L2-normalise) within int8 error (cosine >= 0.98, checked at build time).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from tokenizers import Encoding, Tokenizer

from lapce_ai.embedding.base import EmbedderError, Vectors, normalize_rows
from lapce_ai.embedding.models_dir import (
    MAX_SEQ_LENGTH,
    MINILM_ONNX,
    ONNX_INT8_FILE,
    TOKENIZER_FILE,
    ensure_model,
    read_manifest,
    sanitize,
)

# Tokens past the 256th are dropped anyway; this bounds tokenizer work on huge inputs
# (32k characters hold far more than 256 word pieces unless they are nearly all whitespace).
MAX_CHARS = 32_768


def available_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


INT8_MODEL_ID = "minilm-l6-v2-onnx-int8"
FP32_MODEL_ID = "minilm-l6-v2-onnx-fp32"
DIM = 384


def transformer_identity(model_dir: Path | None = None) -> tuple[str, int]:
    """(model id, dim) that ``TransformerEmbedder(model_dir)`` will have, from its manifest only."""
    path = model_dir if model_dir is not None else ensure_model(MINILM_ONNX)
    onnx_file = str(read_manifest(path).get("onnx_file", ONNX_INT8_FILE))
    return (INT8_MODEL_ID if onnx_file == ONNX_INT8_FILE else FP32_MODEL_ID), DIM


class TransformerEmbedder:
    model_id = INT8_MODEL_ID
    dim = DIM

    def __init__(self, model_dir: Path | None = None, *, onnx_file: str | None = None, threads: int | None = None):
        path = model_dir if model_dir is not None else ensure_model(MINILM_ONNX)
        # The build script runs this class on a directory whose manifest is not written yet.
        if (path / "manifest.json").exists():
            manifest = read_manifest(path)
            if manifest.get("dim") != self.dim:
                raise EmbedderError(f"{path}: model dim {manifest.get('dim')} != {self.dim}", "model_missing")
            onnx_file = onnx_file or str(manifest.get("onnx_file", ONNX_INT8_FILE))
        onnx_file = onnx_file or ONNX_INT8_FILE
        if onnx_file != ONNX_INT8_FILE:
            self.model_id = FP32_MODEL_ID
        try:
            self._tokenizer = Tokenizer.from_file(str(path / TOKENIZER_FILE))
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = threads or available_cores()
            opts.inter_op_num_threads = 1
            opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            # Spinning worker threads cost 2x throughput when the cores are shared (parsers, other processes).
            opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
            self._session = ort.InferenceSession(str(path / onnx_file), opts, providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise EmbedderError(f"cannot load ONNX model from {path}: {exc}", "model_missing") from exc
        self._tokenizer.enable_truncation(MAX_SEQ_LENGTH)
        self._tokenizer.no_padding()
        self._output = [self._session.get_outputs()[0].name]

    def _encode(self, texts: Sequence[str]) -> list[Encoding]:
        encodings: list[Encoding] = self._tokenizer.encode_batch(sanitize(texts, MAX_CHARS))
        return encodings

    def _run(self, encoding: Encoding) -> Any:
        ids = np.asarray(encoding.ids, dtype=np.int64).reshape(1, -1)
        try:
            (hidden,) = self._session.run(self._output, {"input_ids": ids, "attention_mask": np.ones_like(ids)})
        except Exception as exc:
            raise EmbedderError(f"ONNX inference failed: {exc}", "embedder_inference") from exc
        # No padding, so sentence-transformers' masked mean is a plain mean over the tokens.
        return hidden[0].mean(axis=0)

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        # One sequence per run, never padded batches: dynamic int8 quantisation scales activations
        # per tensor, so a text's vector would depend on its batch-mates (measured: cosine down to
        # 0.984 against the same text alone). Batches of ~256-token chunks gain nothing anyway.
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i, encoding in enumerate(self._encode(texts)):
            out[i] = self._run(encoding)
        return normalize_rows(out)

    def embed_query(self, text: str) -> Vectors:
        vec: Vectors = self.embed_documents([text])[0]
        return vec
