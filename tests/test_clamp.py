"""clamp(x, lo, hi) with constant bounds (issue 7): slope 1 inside, 0 outside, kinks at both.

Expected gradients are written by hand here; at a bound the gradient is undefined, the run
exits 3, names the elements and states both conventions (PyTorch 1, SymPy 1/2).
"""

from __future__ import annotations

import numpy as np
import pytest

from gradexplain import ExitStatus, explain
from gradexplain.errors import ExpressionError

X = np.array([-1.5, 0.25, 0.75, 2.0])
INSIDE = np.array([0.0, 1.0, 1.0, 0.0])  # lo = 0, hi = 1

CASES = [
    ("sum(clamp(x, 0, 1))", {"x": X}, {"x": INSIDE}),
    ("torch.clamp(x, 0, 1).sum()", {"x": X}, {"x": INSIDE}),
    ("x.clamp(0, 1).sum()", {"x": X}, {"x": INSIDE}),
    ("clamp(x, 0, 1)", {"x": X}, {"x": INSIDE}),  # a vector result: backward(ones)
    ("sum(clamp(x, -2, 1.5)**2)", {"x": X}, {"x": 2 * np.clip(X, -2, 1.5) * [1, 1, 1, 0]}),
    (
        "sum(clamp(w*x, -1/2, 2*pi))",
        {"w": 2.0, "x": X},
        {"w": float(X[1:] @ [1, 1, 1]), "x": 2.0 * np.array([0, 1, 1, 1])},
    ),
    ("clamp(c, 0, 1)*3", {"c": 0.5}, {"c": 3.0}),
]


@pytest.mark.parametrize(
    ("expression", "values", "expected"), CASES, ids=[case[0] for case in CASES]
)
def test_clamp_gradients_match_the_hand_derivation(expression, values, expected):
    result = explain(expression, values)
    assert result.status is ExitStatus.AGREE, result.verdict()
    for name, want in expected.items():
        np.testing.assert_allclose(result.gradients[name].symbolic, want, rtol=1e-12)
        np.testing.assert_allclose(result.gradients[name].autograd, want, rtol=1e-12)


def test_clamp_at_a_bound_is_a_kink_with_both_conventions():
    result = explain("sum(clamp(x, 0, 1))", {"x": np.array([0.0, 0.5, 1.0, 3.0])})
    assert result.status is ExitStatus.UNDEFINED
    (singularity,) = result.singularities
    assert singularity.function == "clamp"
    assert singularity.kind == "kink"
    assert singularity.elements == (0, 2)
    assert "PyTorch uses slope 1 at either bound" in singularity.reason
    assert "Heaviside(0) = 1/2" in singularity.reason
    gradient = result.gradients["x"]
    np.testing.assert_array_equal(gradient.autograd, [1.0, 1.0, 1.0, 0.0])
    np.testing.assert_array_equal(gradient.symbolic, [0.5, 1.0, 0.5, 0.0])


def test_a_bound_on_data_is_no_kink_of_the_gradient():
    result = explain(
        "sum(clamp(t, 0, 1) * x)", {"t": np.array([0.0, 1.0]), "x": np.array([2.0, 3.0])}, wrt=["x"]
    )
    assert result.status is ExitStatus.AGREE, result.verdict()
    np.testing.assert_array_equal(result.gradients["x"].symbolic, [0.0, 1.0])


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("x.clamp()", "clamp() needs min= or max= (or both)"),
        ("clamp(x, None, None)", "clamp() needs min= or max= (or both)"),
        ("clamp(x, 0, 1, 2)", "clamp() takes a tensor and then at most min, max, got 4 arguments"),
        ("clamp(x, 0, min=1)", "clamp() got min= twice"),
        ("clamp(x, lo=0)", "keyword lo= of clamp() is not supported"),
    ],
)
def test_bad_clamp_calls_are_refused(expression, message):
    with pytest.raises(ExpressionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        explain(expression, {"x": X, "y": X})


def test_clamp_hessian_inside_the_bounds():
    result = explain("sum(clamp(x, 0, 2)**2)", {"x": np.array([1.0, 1.5, 0.5])}, hessian=True)
    assert result.status is ExitStatus.AGREE, result.verdict()
    np.testing.assert_allclose(result.hessian.symbolic, 2 * np.eye(3))


def test_cli_exits_3_and_names_the_elements_at_a_bound():
    from typer.testing import CliRunner

    from gradexplain.cli import app

    env = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}
    result = CliRunner().invoke(app, ["sum(clamp(x, 0, 1))", "--x", "-0.5,0,0.5,1,2"], env=env)
    assert result.exit_code == 3
    assert "Undefined: clamp at column 5, elements [1], [3]: clamp(u, 0, 1) has kinks" in " ".join(
        result.output.split()
    )
