"""where(cond, a, b): comparisons of data (issue 7, step 2), of differentiated variables
(the relu idiom, its boundary a kink), and the chapter-4 losses."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from gradexplain import ExitStatus, explain
from gradexplain.cli import app
from gradexplain.errors import ExpressionError, ValuesError
from gradexplain.ir.parser import parse
from tests.helpers import assert_matches_torch


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


def test_a_variable_only_compared_cannot_be_differentiated():
    """It is on no gradient path (PyTorch leaves its .grad None); read in a branch too, it
    is differentiated (below)."""
    with pytest.raises(ValuesError) as caught:
        explain("sum(where(t == 1, x, 0))", x=[1, 2], t=[1, 0])
    assert caught.value.message == (
        "t is only compared (in where() at column 11), so it is data "
        "and cannot be differentiated; differentiate the others "
        "with --wrt x"
    )
    with pytest.raises(ValuesError) as caught:
        explain("sum(where(x > t, x, 0))", x=[1, 2], t=[0, 3], wrt="x,t")
    assert caught.value.message.startswith("t is only compared (in where() at column 11)")


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


# A differentiated variable in the condition: the comparison only picks the branch, so
# d where(c, a, b) = where(c, da, db), as torch's backward() gives (checked against real
# torch.where and its central differences); no point sits on a boundary here.
V = [-1.5, 2.0, 3.0, -0.25]
M = np.array([[0.5, -1.0, 2.0], [1.5, 0.3, -0.5]])
W = [0.1, -0.2, 0.3]
DIFFERENTIATED = [
    ("sum(where(x > 0, x, 0*x))", {"x": V}, lambda x: torch.where(x > 0, x, 0 * x), None),
    (
        "torch.where(x < 1, x**2, 2*x - 1).sum()",
        {"x": V},
        lambda x: torch.where(x < 1, x**2, 2 * x - 1),
        None,
    ),
    ("sum(where(x >= b, x, b))", {"x": V, "b": 0.5}, lambda x, b: torch.where(x >= b, x, b), None),
    (
        "sum(where(x*t <= 3, exp(x), x))",
        {"x": V, "t": [1.0, 1.0, 2.0, 2.0]},
        lambda x, t: torch.where(x * t <= 3, torch.exp(x), x),
        "x",
    ),
    ("mean(where(X > 0, X, 0))", {"X": M}, lambda X: torch.where(X > 0, X, 0.0).mean(), None),
    (
        "sum(where(X @ w > 0, X @ w, 0))",
        {"X": M, "w": W},
        lambda X, w: torch.where(X @ w > 0, X @ w, 0.0),
        None,
    ),
]


@pytest.mark.parametrize(
    "expression, values, reference, wrt", DIFFERENTIATED, ids=[c[0] for c in DIFFERENTIATED]
)
def test_a_differentiated_condition_matches_torch_and_central_differences(
    expression, values, reference, wrt
):
    assert_matches_torch(expression, values, reference, wrt)


def test_the_relu_idiom_reads_as_its_derivative():
    result = explain("sum(where(x > 0, x, 0*x))", x=[-1, 2, 3])
    assert result.status is ExitStatus.AGREE
    assert result.gradients["x"].formula == "where(x_j > 0, 1, 0)"
    assert result.gradients["x"].autograd.tolist() == [0.0, 1.0, 1.0]
    assert result.gradients["x"].symbolic.tolist() == [0.0, 1.0, 1.0]


@pytest.mark.parametrize(
    "expression, values, elements, branch",
    [
        ("sum(where(x > 0, x, 0*x))", {"x": [-1.0, 0.0, 2.0]}, (1,), "x > 0 is false there: 0*x"),
        ("sum(where(x >= 0, x**2, -x))", {"x": [0.0, -1.0]}, (0,), "x >= 0 is true there: x**2"),
        ("sum(where(X < 1, X, 0))", {"X": [[1.0, 2.0], [0.5, 1.0]]}, (0, 3), "false there: 0"),
    ],
)
def test_the_boundary_of_a_differentiated_condition_is_a_kink(expression, values, elements, branch):
    """Where the comparison's sides are equal it flips: no derivative, as relu at 0; both
    witnesses take the branch the comparison picks there, and the run says so (exit 3)."""
    result = explain(expression, values)
    assert result.status is ExitStatus.UNDEFINED, result.verdict()
    (singular,) = result.singularities
    assert (singular.function, singular.kind, singular.elements) == ("where", "kink", elements)
    assert "so the point counts as a kink; PyTorch takes the branch that the comparison picks" in (
        singular.reason
    )
    assert branch in singular.reason.replace("the derivative of ", "")
    gradient = result.gradients["x" if "x" in values else "X"]
    np.testing.assert_array_equal(gradient.symbolic, gradient.autograd)


def test_nothing_inside_the_comparison_is_watched():
    """No gradient flows into a comparison: abs's kink at 0 there is no kink of L (the
    Huber-like idiom); where's own boundary, |x| = 1, is not met here."""
    result = explain("sum(where(abs(x) < 1, x**2, 2*x - 1))", x=[0.0, 2.0])
    assert result.status is ExitStatus.AGREE, result.verdict()
    assert result.gradients["x"].autograd.tolist() == [0.0, 2.0]


def test_the_boundary_in_json_and_the_extras():
    env = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}
    args = ["sum(where(x > 0, x**2, 0*x))", "--x", "-1,0,3"]
    result = CliRunner().invoke(app, [*args, "--format", "json"], env=env)
    assert result.exit_code == 3, result.output
    data = json.loads(result.stdout)
    assert data["status"] == "undefined"
    assert data["gradients"]["x"]["formula"] == "where(x_j > 0, 2*x_j, 0)"
    assert data["gradients"]["x"]["autograd"] == [0.0, 0.0, 6.0]
    (singular,) = data["singularities"]
    assert (singular["function"], singular["elements"]) == ("where", [1])
    # x**2 and 0 meet at 0 with one value and slope, so a derivative exists there: the
    # words say the boundary is not checked, never that no derivative exists
    assert "only if both branches meet with the same value and slope" in singular["reason"]
    assert "no derivative exists" not in singular["reason"]
    for extra in (["--steps"], ["--graph"], ["--format", "markdown"], ["--hessian"]):
        shown = CliRunner().invoke(app, [*args, *extra], env=env)
        assert shown.exit_code == 3, (extra, shown.output)
        assert "PyTorch takes the branch that the comparison picks" in shown.stdout
