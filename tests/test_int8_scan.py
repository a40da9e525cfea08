"""The projected scan's 8-bit first pass: the hand-written ONNX graph and the codes' arithmetic."""

from __future__ import annotations

import numpy as np

from lapce_ai.search.int8_scan import Int8Codes, _matmul_session, matmul_integer_model


def test_the_written_graph_is_a_valid_onnx_model_of_one_integer_product() -> None:
    import onnx  # build-time package: checks the bytes the runtime writes without it

    model = onnx.load_from_string(matmul_integer_model())
    onnx.checker.check_model(model, full_check=True)
    assert [n.op_type for n in model.graph.node] == ["MatMulInteger"]
    assert [(i.name, i.type.tensor_type.elem_type) for i in model.graph.input] == [
        ("A", onnx.TensorProto.UINT8),
        ("B", onnx.TensorProto.INT8),
    ]
    assert model.graph.output[0].type.tensor_type.elem_type == onnx.TensorProto.INT32


def test_the_kernel_computes_the_exact_integer_product() -> None:
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, size=(1, 64)).astype(np.uint8)
    b = rng.integers(-127, 128, size=(64, 3001)).astype(np.int8)
    got = _matmul_session().run(None, {"A": a, "B": b})[0]
    assert got.dtype == np.int32 and got.shape == (1, 3001)
    assert np.array_equal(got, a.astype(np.int64) @ b.astype(np.int64))


def test_codes_score_close_to_the_float_coordinates() -> None:
    rng = np.random.default_rng(1)
    coordinates = rng.standard_normal((5000, 64)).astype(np.float32)
    coordinates[:, 3] *= 40  # a wide dimension keeps its own scale, not the others'
    codes = Int8Codes.quantize(coordinates)
    assert codes.codes.dtype == np.int8 and codes.codes.shape == (64, 5000)
    for _ in range(5):
        query = rng.standard_normal(64).astype(np.float32)
        exact = coordinates @ query
        got = codes.scores(query)
        assert got.dtype == np.float32 and got.shape == (5000,)
        assert np.corrcoef(got, exact)[0, 1] > 0.9995
        # Both sides are rounded to 1/254 of their range: each term is off by that share of
        # its largest product at most, and the errors of 64 terms mostly cancel.
        assert np.abs(got - exact).max() < 0.03 * np.abs(exact).max()
        assert np.abs(got - exact).mean() < 0.005 * np.abs(exact).max()
        assert set(np.argsort(-got)[:20].tolist()) & set(np.argsort(-exact)[:10].tolist()) == set(
            np.argsort(-exact)[:10].tolist()
        )


def test_empty_and_zero_inputs_score_zero() -> None:
    query = np.ones(8, dtype=np.float32)
    assert Int8Codes.quantize(np.zeros((0, 8), dtype=np.float32)).scores(query).shape == (0,)
    zeros = Int8Codes.quantize(np.zeros((3, 8), dtype=np.float32))
    assert np.array_equal(zeros.scores(query), np.zeros(3, dtype=np.float32))
    some = Int8Codes.quantize(np.eye(8, dtype=np.float32))
    assert np.array_equal(some.scores(np.zeros(8, dtype=np.float32)), np.zeros(8, dtype=np.float32))


def test_codes_keep_small_differences_on_a_shared_mean_direction() -> None:
    """Chunks of one code base lie close to a common direction: coded around each dimension's
    centre, the codes resolve their differences, not the mean they share."""
    rng = np.random.default_rng(2)
    coordinates = (3.0 + 0.05 * rng.standard_normal((2000, 64))).astype(np.float32)
    codes = Int8Codes.quantize(coordinates)
    query = rng.standard_normal(64).astype(np.float32)
    exact = coordinates @ query
    error = np.abs(codes.scores(query) - exact)
    assert error.max() < 0.05 * exact.std()
    assert int(np.argmax(codes.scores(query))) == int(np.argmax(exact))
