"""where(cond, a, b) with comparisons of data (issue 7, step 2), and the chapter-4 losses."""

from __future__ import annotations

import numpy as np
import pytest

from gradexplain import ExitStatus, explain
from gradexplain.errors import ExpressionError, ValuesError
from gradexplain.ir.parser import parse


def sigmoid(u):
    return 1.0 / (1.0 + np.exp(-u))


X = np.array([-1.5, 0.0, 0.5, 2.0])
T = np.array([1.0, 0.0, 1.0, -2.0])

# (expression, the gradient of L in x, derived here by hand with numpy)
CASES = [
    ("sum(where(t == 1, x**2, 3*x))", np.where(T == 1, 2 * X, 3.0)),
    ("sum(where(t != 1, x**2, 3*x))", np.where(T != 1, 2 * X, 3.0)),
    ("sum(where(t < 0.5, exp(x), -x))", np.where(T < 0.5, np.exp(X), -1.0)),
    ("sum(where(t <= 0, x*t, x))", np.where(T <= 0, T, 1.0)),
    ("sum(where(t > 0, sin(x), 0))", np.where(T > 0, np.cos(X), 0.0)),
    ("sum(where(t >= 1, x, -x) + x**2)", np.where(T >= 1, 1.0, -1.0) + 2 * X),
    ("torch.where(t == 1, x, 2*x).sum()", np.where(T == 1, 1.0, 2.0)),
    ("mean(where(0 < t, tanh(x), x))", np.where(T > 0, 1 - np.tanh(X) ** 2, 1.0) / 4),
    (
        "sum(where(t == 1, x, 0))**2",
        2 * np.sum(np.where(T == 1, X, 0.0)) * np.where(T == 1, 1.0, 0.0),
    ),
]


@pytest.mark.parametrize("expression, expected", CASES, ids=[c[0] for c in CASES])
def test_where_gradient_matches_a_hand_derivation(expression, expected):
    result = explain(expression, x=X.tolist(), t=T.tolist(), wrt="x")
    assert result.status is ExitStatus.AGREE, result.verdict()
    gradient = result.gradients["x"]
    np.testing.assert_allclose(gradient.symbolic, expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(gradient.autograd, expected, rtol=1e-12, atol=1e-15)


def test_where_formula_reads_like_the_input():
    result = explain("sum(where(t == 1, x**2, 3*x))", x=[1, 2], t=[1, 0], wrt="x")
    assert result.gradients["x"].formula == "where(t_j == 1, 2*x_j, 3)"
    assert result.decomposition.term == "where(t_i == 1, x_i**2, 3*x_i)"


def test_a_scalar_condition_switches_every_element():
    result = explain("sum(where(c > 0, x**2, -x))", x=[-1, 2], c=1, wrt="x")
    assert result.gradients["x"].symbolic.tolist() == [-2.0, 4.0]
    assert result.status is ExitStatus.AGREE


def test_a_compared_variable_cannot_be_differentiated():
    with pytest.raises(ValuesError) as caught:
        explain("sum(where(t == 1, x, 0))", x=[1, 2], t=[1, 0])
    assert caught.value.message == (
        "t is compared in where() at column 11, so it is data "
        "and cannot be differentiated; differentiate the others "
        "with --wrt x"
    )
    with pytest.raises(ValuesError):
        explain("sum(where(x > 0, x, 0))", x=[1, 2], wrt="x")


@pytest.mark.parametrize(
    "expression, column, fragment",
    [
        ("x < y", 2, "'<' is not allowed"),
        ("sum(where(t, x, 0))", 10, "where() needs one comparison as its first argument"),
        ("sum(where(0 < t < 1, x, 0))", 10, "where() needs one comparison"),
        ("sum(where(t == 1, x == 1, 0))", 18, "comparisons outside where(cond, a, b)"),
        ("sum(where(t == 1, x))", 4, "where() takes 3 arguments, got 2"),
        ("sum(where(t is 1, x, 0))", 10, "where() needs one comparison"),
        ("where(t == 1, x, 0) + (x == 1)", 23, "comparisons outside where"),
        (
            "x.where(t == 1, 0)",
            2,
            "method .where() is not supported; the closest supported spelling is torch.where(...)",
        ),
    ],
)
def test_comparisons_are_refused_outside_where(expression, column, fragment):
    with pytest.raises(ExpressionError) as caught:
        parse(expression)
    assert fragment in caught.value.message
    assert caught.value.offset == column


def test_mnist_loss_matches_a_hand_derivation():
    """fastai chapter 4: mnist_loss = where(targets==1, 1-sigmoid(preds), sigmoid(preds)).mean()."""
    preds = np.array([0.9, 0.4, -0.2, 1.5, -3.0])
    targets = np.array([1.0, 0.0, 1.0, 0.0, 1.0])
    s = sigmoid(preds)
    expected = np.where(targets == 1, -s * (1 - s), s * (1 - s)) / len(preds)
    loss = np.mean(np.where(targets == 1, 1 - s, s))
    result = explain(
        "where(targets==1, 1-sigmoid(preds), sigmoid(preds)).mean()",
        targets=targets.tolist(),
        preds=preds.tolist(),
        wrt="preds",
    )
    assert result.status is ExitStatus.AGREE
    assert result.value == pytest.approx(loss, rel=1e-12)
    np.testing.assert_allclose(result.gradients["preds"].symbolic, expected, rtol=1e-12)
    np.testing.assert_allclose(result.gradients["preds"].autograd, expected, rtol=1e-12)
