"""softmax and log_softmax (issue 7): vectors, every spelling, dim= of 0 or -1.

Expected gradients are derived here by hand in numpy (d s_i/d u_k = s_i([i==k] - s_k))
never by SymPy or torch. Along an axis of a matrix: tests/test_matrices.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from gradexplain import ExitStatus, explain
from gradexplain.errors import ExpressionError
from gradexplain.ir.shapes import ShapeError

X = np.array([1.0, -2.0, 0.5, 3.0])
T = np.array([0.0, 0.0, 1.0, 0.0])  # one-hot target


def softmax(u, axis=-1):
    e = np.exp(u - u.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


S = softmax(X)

CASES = [
    # cross-entropy with a one-hot target: d/dx -sum(t*log_softmax(x)) = softmax(x) - t
    ("-sum(log_softmax(x) * t)", {"x": X, "t": T}, {"x": S - T, "t": -np.log(S)}),
    ("-(torch.log_softmax(x, dim=-1) * t).sum()", {"x": X, "t": T}, {"x": S - T, "t": -np.log(S)}),
    ("-(x.log_softmax(0) * t).sum()", {"x": X, "t": T}, {"x": S - T, "t": -np.log(S)}),
    ("sum(softmax(x) * t)", {"x": X, "t": T}, {"x": S * (T - S @ T), "t": S}),
    ("(torch.softmax(x, dim=0) * t).sum()", {"x": X, "t": T}, {"x": S * (T - S @ T), "t": S}),
    ("sum(x.softmax(-1)**2)", {"x": X}, {"x": 2 * S * (S - S @ S)}),
    ("mean(log_softmax(2*x))", {"x": X}, {"x": 2 / 4 - 2 * softmax(2 * X)}),
    ("sum(log_softmax(x) * t)", {"x": 3.0, "t": 2.0}, {"x": 0.0, "t": 0.0}),
]


@pytest.mark.parametrize(
    ("expression", "values", "expected"), CASES, ids=[case[0] for case in CASES]
)
def test_softmax_gradients_match_the_hand_derivation(expression, values, expected):
    result = explain(expression, values)
    assert result.status is ExitStatus.AGREE, result.verdict()
    for name, want in expected.items():
        gradient = result.gradients[name]
        np.testing.assert_allclose(gradient.symbolic, want, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(gradient.autograd, want, rtol=1e-12, atol=1e-12)


def test_softmax_of_a_vector_result_has_zero_gradient_and_says_why():
    result = explain("softmax(x)", {"x": X})
    assert result.status is ExitStatus.AGREE
    np.testing.assert_allclose(result.gradients["x"].symbolic, 0.0, atol=1e-15)
    np.testing.assert_allclose(result.gradients["x"].autograd, 0.0, atol=1e-15)
    assert any("always sums to 1" in note for note in result.decomposition.notes)
    assert not any(
        "always sums to 1" in note
        for note in explain("log_softmax(x)", {"x": X}).decomposition.notes
    )


def test_softmax_of_a_matrix_needs_dim():
    with pytest.raises(ShapeError, match=r"softmax\(\) of a 2x3 matrix needs dim="):
        explain("sum(softmax(X) * T)", {"X": np.ones((2, 3)), "T": np.ones((2, 3))})


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("softmax(x, 0, 1)", "softmax() takes a tensor and then at most dim, got 3 arguments"),
        ("log_softmax()", "log_softmax() takes a tensor and then at most dim, got 0 arguments"),
        ("softmax(x, dim=0.5)", "dim of softmax() must be an integer"),
        ("softmax(x, dim=y)", "dim of softmax() must be an integer"),
        ("exp(x, dim=0)", "keyword dim= of exp() is not supported"),
    ],
)
def test_bad_softmax_calls_are_refused(expression, message):
    with pytest.raises(ExpressionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        explain(expression, {"x": X, "y": X})


def test_softmax_dim_must_fit_the_shape():
    with pytest.raises(ShapeError, match=r"dim must be in -1\.\.0"):
        explain("sum(softmax(x, dim=1) * t)", {"x": X, "t": T})
