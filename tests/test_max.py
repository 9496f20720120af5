"""max/min over a vector (issue 7): the gradient goes to the arg-max; ties are a kink.

The symbolic side uses a dedicated indicator (is_max(u_j)/sum_k is_max(u_k)); the
expectations here are one-hot vectors and central differences written by hand. Matrices
and max(X, dim=d): tests/test_matrices.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from gradexplain import ExitStatus, explain
from gradexplain.errors import ExpressionError

X = np.array([1.0, 3.0, -5.0, 2.0])


def one_hot(index, n=4):
    v = np.zeros(n)
    v[index] = 1.0
    return v


CASES = [
    ("max(x)", {"x": X}, {"x": one_hot(1)}),
    ("torch.max(x)", {"x": X}, {"x": one_hot(1)}),
    ("x.max()", {"x": X}, {"x": one_hot(1)}),
    ("min(x)", {"x": X}, {"x": one_hot(2)}),
    ("x.min()", {"x": X}, {"x": one_hot(2)}),
    ("max(x**2)", {"x": X}, {"x": 2 * X * one_hot(2)}),  # (-5)**2 is the largest
    ("max(x)**2", {"x": X}, {"x": 2 * 3.0 * one_hot(1)}),
    ("sum(x) - max(x)", {"x": X}, {"x": 1 - one_hot(1)}),
    ("max(w*x + b)", {"w": 2.0, "x": X, "b": 0.5}, {"w": 3.0, "x": 2 * one_hot(1), "b": 1.0}),
    ("max(x) - min(x)", {"x": X}, {"x": one_hot(1) - one_hot(2)}),
    ("max(c)", {"c": 1.5}, {"c": 1.0}),
]


@pytest.mark.parametrize(
    ("expression", "values", "expected"), CASES, ids=[case[0] for case in CASES]
)
def test_max_gradients_match_the_hand_derivation(expression, values, expected):
    result = explain(expression, values)
    assert result.status is ExitStatus.AGREE, result.verdict()
    for name, want in expected.items():
        np.testing.assert_allclose(result.gradients[name].symbolic, want, rtol=1e-12)
        np.testing.assert_allclose(result.gradients[name].autograd, want, rtol=1e-12)


def test_max_value_and_central_differences():
    result = explain("max(sin(x))", {"x": X})
    assert result.value == pytest.approx(np.sin(X).max())
    assert result.value_symbolic == pytest.approx(np.sin(X).max())
    h = 1e-6
    expected = [(np.sin(X + h * e).max() - np.sin(X - h * e).max()) / (2 * h) for e in np.eye(4)]
    np.testing.assert_allclose(result.gradients["x"].symbolic, expected, rtol=1e-6)


@pytest.mark.parametrize(
    ("expression", "function", "elements"),
    [
        ("max(x)", "max", (1, 3)),
        ("min(x - 1)", "min", (0, 2)),
    ],
)
def test_ties_are_a_kink_split_evenly(expression, function, elements):
    values = np.array([-1.0, 3.0, -1.0, 3.0])
    result = explain(expression, {"x": values})
    assert result.status is ExitStatus.UNDEFINED
    (singularity,) = result.singularities
    assert (singularity.function, singularity.kind) == (function, "kink")
    assert singularity.elements == elements
    assert "splits the gradient evenly" in singularity.reason
    assert "Heaviside(0) = 1/2" in singularity.reason
    half = np.zeros(4)
    half[list(elements)] = 0.5
    np.testing.assert_array_equal(result.gradients["x"].autograd, half)
    np.testing.assert_array_equal(result.gradients["x"].symbolic, half)


def test_a_tie_below_the_max_is_no_kink():
    result = explain("max(x)", {"x": np.array([1.0, 1.0, 4.0])})
    assert result.status is ExitStatus.AGREE
    assert result.singularities == ()


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("max(x, y, 1)", "dim of max() must be an integer such as 0, 1 or -1"),
        ("min()", "min() takes a tensor and then at most dim, keepdim, got 0 arguments"),
        ("max(x, 0, dim=0)", "max() got dim= twice"),
    ],
)
def test_bad_max_calls_are_refused(expression, message):
    with pytest.raises(ExpressionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        explain(expression, {"x": X, "y": X})


def test_cli_exits_3_and_names_the_tied_elements():
    from typer.testing import CliRunner

    from gradexplain.cli import app

    env = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}
    result = CliRunner().invoke(app, ["max(x)", "--x", "1,3,3"], env=env)
    assert result.exit_code == 3
    assert (
        "Undefined: max at column 1, elements [1], [2]: max has a kink where elements "
        "tie" in " ".join(result.output.split())
    )


@pytest.mark.parametrize(
    ("expression", "s"),
    [("max(x)**2", "3"), ("min(x)**2", "1"), ("log(prod(x))", "6"), ("sqrt(sum(x**2))", "14")],
)
def test_the_s_row_is_the_inner_reduction(expression, s):
    # max(x)**2 at [1, 3, 2]: s = max_i y_i = 3 (it used to show the sum, 6)
    from typer.testing import CliRunner

    from gradexplain.cli import app

    result = CliRunner().invoke(
        app, [expression, "--x", "1,3,2"], env={"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}
    )
    (row,) = [line for line in result.output.splitlines() if line.startswith("│ s │")]
    assert row.split("│")[3].strip() == s
