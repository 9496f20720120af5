"""Functions added through the op registry, one entry each (README, "Adding a function").

Each is checked the way every function is: both witnesses against a derivative written
here in numpy, and against float64 central differences, for vectors and matrices, in
each spelling a PyTorch user types.
"""

from __future__ import annotations

import numpy as np
import pytest

from gradexplain import ExitStatus, explain
from gradexplain.errors import ExpressionError
from tests.helpers import assert_matches_closed_form


def softplus(u):
    return np.logaddexp(0.0, u)


def sigmoid(u):
    return 0.5 * (1.0 + np.tanh(0.5 * u))


def logsumexp(u, axis=None):
    top = np.max(u, axis=axis, keepdims=True)
    return np.squeeze(top, axis=axis) + np.log(np.exp(u - top).sum(axis=axis))


def softmax(u, axis=-1):
    e = np.exp(u - np.max(u, axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


V = np.array([-2.0, 0.0, 0.5, 3.0])
M = np.array([[1.0, -0.5, 2.0], [0.25, -3.0, 0.0]])
R = np.array([0.5, -1.0, 2.0])

CASES = [
    # (expression, values, numpy loss, {variable: hand-derived gradient})
    ("sum(softplus(x))", {"x": V}, lambda x: softplus(x).sum(), {"x": sigmoid(V)}),
    (
        "torch.nn.functional.softplus(x).sum()",
        {"x": V},
        lambda x: softplus(x).sum(),
        {"x": sigmoid(V)},
    ),
    (
        "mean(F.softplus(2*x - 1))",
        {"x": V},
        lambda x: softplus(2 * x - 1).mean(),
        {"x": 2 * sigmoid(2 * V - 1) / V.size},
    ),
    (
        "sum(softplus(X) * X)",
        {"X": M},
        lambda X: (softplus(X) * X).sum(),
        {"X": sigmoid(M) * M + softplus(M)},
    ),
    (
        "sum(softplus(X @ w))",
        {"X": M, "w": np.array([0.5, -1.0, 2.0])},
        lambda X, w: softplus(X @ w).sum(),
        {"w": M.T @ sigmoid(M @ np.array([0.5, -1.0, 2.0]))},
    ),
    ("logsumexp(x, dim=0)", {"x": V}, lambda x: logsumexp(x, 0), {"x": softmax(V)}),
    ("torch.logsumexp(x, -1) * 2", {"x": V}, lambda x: 2 * logsumexp(x, -1), {"x": 2 * softmax(V)}),
    ("x.logsumexp(0)", {"x": V}, lambda x: logsumexp(x, 0), {"x": softmax(V)}),
    (
        "torch.logsumexp(X, dim=1).sum()",
        {"X": M},
        lambda X: logsumexp(X, 1).sum(),
        {"X": softmax(M, 1)},
    ),
    (
        "sum(logsumexp(X, dim=0) * w)",
        {"X": M, "w": R},
        lambda X, w: (logsumexp(X, 0) * w).sum(),
        {"X": softmax(M, 0) * R, "w": logsumexp(M, 0)},
    ),
    (
        "mean(logsumexp(X @ W, dim=1))",
        {"X": M, "W": np.outer(R, [1.0, -1.0])},
        lambda X, W: logsumexp(X @ W, 1).mean(),
        {"W": M.T @ softmax(M @ np.outer(R, [1.0, -1.0]), 1) / 2},
    ),
    (
        "sum(logsumexp(X, dim=1) - X.T.logsumexp(0))",
        {"X": M},
        lambda X: (logsumexp(X, 1) - logsumexp(X.T, 0)).sum(),
        {"X": np.zeros_like(M)},
    ),
]


@pytest.mark.parametrize(
    ("expression", "values", "loss", "expected"), CASES, ids=[case[0] for case in CASES]
)
def test_both_witnesses_match_the_hand_derivation_and_central_differences(
    expression, values, loss, expected
):
    assert_matches_closed_form(expression, values, loss, expected)


def test_softplus_formula_is_written_with_sigmoid():
    assert explain("sum(softplus(x))", x=[1.0, 2.0]).gradients["x"].formula == "sigmoid(x_j)"


def test_softplus_of_large_values_does_not_overflow_the_symbolic_witness():
    # log(1 + exp(1000)) overflows if evaluated as written; the entry's numpy rule is
    # logaddexp, and torch is linear above its threshold 20
    result = explain("sum(softplus(x))", x=[-1000.0, 1000.0])
    assert result.status is ExitStatus.AGREE, result.verdict()
    np.testing.assert_allclose(result.gradients["x"].symbolic, [0.0, 1.0], atol=1e-300)


@pytest.mark.parametrize("expression", ["x.softplus()", "torch.softplus(x)"])
def test_softplus_is_spelled_as_torch_spells_it(expression):
    # torch has neither Tensor.softplus nor torch.softplus: F.softplus only
    with pytest.raises(ExpressionError):
        explain(expression, x=[1.0, 2.0])


def test_softplus_hessian_matches_torch():
    result = explain("sum(softplus(x) * x)", x=[0.5, -1.0, 2.0], hessian=True)
    assert result.hessian is not None and result.hessian.agree


def test_logsumexp_formula_is_the_softmax():
    result = explain("logsumexp(x, dim=0)", x=[1.0, 2.0])
    assert result.gradients["x"].formula == "exp(x_j)/sum_i(exp(x_i))"


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        (
            "logsumexp(x)",
            "logsumexp() needs a dim, as in logsumexp(x, dim=0): torch.logsumexp has no default",
        ),
        ("logsumexp(x, dim=1)", "logsumexp(dim=1) of shape 3: dim must be in -1..0"),
        (
            "logsumexp(x, dim=0.5)",
            "dim of logsumexp() must be an integer such as 0, 1 or -1 "
            "(a tuple of them for several dims)",
        ),
    ],
)
def test_logsumexp_refuses_what_torch_refuses(expression, message):
    with pytest.raises(ExpressionError) as caught:
        explain(expression, x=[1.0, 2.0, 3.0])
    assert str(caught.value).startswith(message + " (column ")


def test_logsumexp_steps_derive_the_softmax():
    from gradexplain.ir.program import build
    from gradexplain.ir.values import from_numbers
    from gradexplain.teach import steps

    program = build("sum(logsumexp(X, dim=1))", {"X": from_numbers("X", M.tolist())})
    derivation = steps.derive_all(program)["X"]
    assert derivation.formula == "exp(X_jk)/sum_m(exp(X_jm))"
    assert any(line.strip().startswith("logsumexp rule:") for line in derivation.lines)


def test_logsumexp_hessian_matches_torch():
    result = explain("sum(logsumexp(X, dim=1))", X=M.tolist(), hessian=True)
    assert result.hessian is not None and result.hessian.agree
