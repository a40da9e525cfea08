"""Scores of every chunk's projected coordinates as 8-bit integer codes.

The projected scan's first pass (``corpus.ProjectedScan``) takes one dot product per chunk over
its projected coordinates. In float32, 64 of them read 29 MB per query at 113k chunks (1.3 ms
on one core here); as int8 codes, a quarter of that. numpy has no integer matrix product, so
onnxruntime's ``MatMulInteger`` (MLAS's uint8 x int8 kernels, already installed for the
transformer) takes it: ~0.3 ms. Each coordinate is coded on its own scale (its range over the
corpus spans -127 to 127), the query per search; on 95k MiniLM chunks the scan keeps exactly as
much of the exact top 100 and top 10 as in float32 at 64, 96 and 128 coordinates
(``bench/quality/scale.py``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
CODE_MAX = 127
QUERY_OFFSET = 128  # the kernel's fast path takes the query unsigned: codes shifted by this

_session: Any = None
_session_lock = threading.Lock()


@dataclass
class Int8Codes:
    codes: npt.NDArray[np.int8]  # dims x chunks (the kernel's right-hand matrix)
    centres: FloatArray  # per dimension: centre + code x scale = coordinate
    scales: FloatArray
    sums: npt.NDArray[np.int32]  # per chunk: its codes' sum, to undo the query's offset

    @classmethod
    def quantize(cls, coordinates: FloatArray) -> Int8Codes:
        """``coordinates``: chunks x dims. Each dimension is coded around the middle of its range:
        chunks of one code base share a mean direction, which would otherwise spend the codes."""
        dims = coordinates.shape[1]
        centres = np.zeros(dims, dtype=np.float32)
        scales = np.ones(dims, dtype=np.float32)
        if coordinates.shape[0]:
            low, high = coordinates.min(axis=0), coordinates.max(axis=0)
            centres = ((low + high) / 2).astype(np.float32)
            scales = ((high - low) / (2 * CODE_MAX)).astype(np.float32)
            scales[scales == 0] = 1.0
        codes = np.clip(np.rint((coordinates - centres) / scales), -CODE_MAX, CODE_MAX).astype(np.int8)
        return cls(np.ascontiguousarray(codes.T), centres, scales, codes.sum(axis=1, dtype=np.int32))

    @property
    def n(self) -> int:
        return int(self.codes.shape[1])

    def scores(self, query: FloatArray) -> FloatArray:
        """Each chunk's dot product with ``query`` (its projected coordinates, float32)."""
        if self.n == 0:
            return np.zeros(0, dtype=np.float32)
        query = np.asarray(query, dtype=np.float32)
        weights = query * self.scales
        step = float(np.abs(weights).max()) / CODE_MAX or 1.0
        shifted = (np.rint(weights / step) + QUERY_OFFSET).astype(np.uint8).reshape(1, -1)
        products: npt.NDArray[np.int32] = _matmul_session().run(None, {"A": shifted, "B": self.codes})[0]
        unshifted = products.reshape(-1) - QUERY_OFFSET * self.sums
        return unshifted.astype(np.float32) * np.float32(step) + np.float32(self.centres @ query)


def _matmul_session() -> Any:
    """One onnxruntime session per process (``run`` is thread-safe), on one thread: searches
    run side by side in the service and each keeps to one core (``service.maththreads``)."""
    global _session
    if _session is None:
        with _session_lock:
            if _session is None:
                import onnxruntime as ort

                opts = ort.SessionOptions()
                opts.intra_op_num_threads = 1
                opts.inter_op_num_threads = 1
                opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
                _session = ort.InferenceSession(matmul_integer_model(), opts, providers=["CPUExecutionProvider"])
    return _session


# ONNX is a protobuf; the runtime has no ``onnx`` package (build-time only), and this graph of
# one node is small enough to write out: Y[1, n] (int32) = MatMulInteger(A[1, k] uint8, B[k, n] int8).
_UINT8, _INT8, _INT32 = 2, 3, 6  # onnx.TensorProto data types


def matmul_integer_model() -> bytes:
    node = _field(1, b"A") + _field(1, b"B") + _field(2, b"Y") + _field(4, b"MatMulInteger")
    graph = (
        _field(1, node)
        + _field(2, b"int8_scan")
        + _field(11, _value_info(b"A", _UINT8, (1, b"k")))
        + _field(11, _value_info(b"B", _INT8, (b"k", b"n")))
        + _field(12, _value_info(b"Y", _INT32, (1, b"n")))
    )
    opset = _key(2, 0) + _varint(13)  # OperatorSetIdProto.version (the domain left empty: ONNX's own)
    # ModelProto: ir_version (1) 8, graph (7), opset_import (8) of the default domain, version 13.
    return _key(1, 0) + _varint(8) + _field(7, graph) + _field(8, opset)


def _value_info(name: bytes, elem_type: int, dims: tuple[int | bytes, ...]) -> bytes:
    # TensorShapeProto.Dimension: dim_value (1, varint) or dim_param (2, a symbolic size).
    shape = b"".join(_field(1, _key(1, 0) + _varint(d) if isinstance(d, int) else _field(2, d)) for d in dims)
    tensor_type = _key(1, 0) + _varint(elem_type) + _field(2, shape)
    return _field(1, name) + _field(2, _field(1, tensor_type))  # ValueInfoProto{name, TypeProto{tensor_type}}


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (wire type 2)."""
    return _key(number, 2) + _varint(len(payload)) + payload


def _key(number: int, wire_type: int) -> bytes:
    return _varint(number << 3 | wire_type)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)
