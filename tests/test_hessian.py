"""`--hessian`: SymPy's explicit second derivatives against torch.func.hessian (issue 7)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from gradexplain import ExitStatus, explain, limits
from gradexplain.cli import app
from gradexplain.errors import UsageError

ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}


def sigmoid(u):
    return 1 / (1 + np.exp(-u))


def second_differences(loss, flat: np.ndarray, h: float = 1e-4) -> np.ndarray:
    """float64 central second differences of a numpy loss of the flat elements."""
    size = len(flat)
    out = np.zeros((size, size))
    for a in range(size):
        for b in range(size):
            def at(da: float, db: float) -> float:
                point = flat.copy()
                point[a] += da
                point[b] += db
                return loss(point)
            out[a, b] = (at(h, h) - at(h, -h) - at(-h, h) + at(-h, -h)) / (4 * h * h)
    return out


X = np.array([[1.0, 2.0], [3.0, 4.0], [0.5, -1.0]])
T = np.array([1.0, 0.0, 1.0])

# (expression, values, wrt, numpy loss of the flat differentiated elements, in wrt order)
CASES = [
    ("sum(x**3)", {"x": [1.0, 2.0, 3.0]}, None, lambda p: (p**3).sum()),
    ("sum(x*y) * sum(x)", {"x": [1.0, -2.0], "y": [0.5, 3.0]}, None,
     lambda p: (p[:2] * p[2:]).sum() * p[:2].sum()),
    ("mean(sigmoid(X@w + b))", {"X": X.tolist(), "w": [0.1, -0.2], "b": 0.3}, "w,b",
     lambda p: sigmoid(X @ p[:2] + p[2]).mean()),
    ("where(t==1, 1-sigmoid(X@w + b), sigmoid(X@w + b)).mean()",
     {"X": X.tolist(), "w": [0.1, -0.2], "b": 0.3, "t": T.tolist()}, "w,b",
     lambda p: np.where(T == 1, 1 - sigmoid(X @ p[:2] + p[2]),
                        sigmoid(X @ p[:2] + p[2])).mean()),
    ("sum((W@v)**2)", {"W": [[1.0, 2.0], [0.0, -1.0]], "v": [0.5, 1.5]}, "W",
     lambda p: ((p.reshape(2, 2) @ np.array([0.5, 1.5])) ** 2).sum()),
]


@pytest.mark.parametrize(("expression", "values", "wrt", "loss"), CASES,
                         ids=[case[0] for case in CASES])
def test_hessian_agrees_with_torch_func_and_second_differences(expression, values, wrt,
                                                               loss):
    result = explain(expression, values=values, wrt=wrt, hessian=True)
    assert result.status is ExitStatus.AGREE, result.verdict()
    hessian = result.hessian
    assert hessian.agree
    flat = np.concatenate([np.ravel(values[name]) for name in result.gradients])
    expected = second_differences(loss, flat)
    np.testing.assert_allclose(hessian.symbolic, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(hessian.autograd, hessian.symbolic, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(hessian.symbolic, hessian.symbolic.T)


def test_hessian_in_json_and_table():
    code = CliRunner().invoke(app, ["sum(x**3)", "--x", "1,2", "--hessian", "--format",
                                    "json"], env=ENV)
    assert code.exit_code == 0
    document = json.loads(code.output)
    assert document["hessian"] == {"elements": ["x[0]", "x[1]"],
                                   "symbolic": [[6.0, 0.0], [0.0, 12.0]],
                                   "autograd": [[6.0, 0.0], [0.0, 12.0]],
                                   "max_abs_diff": 0.0, "agree": True}
    table = CliRunner().invoke(app, ["sum(x**3)", "--x", "1,2", "--hessian"], env=ENV)
    assert "Hessian d2L/(da db), symmetric: pairs a <= b" in table.output
    assert "│ x[0] │ x[1] │     0 │                  0 │ ok │" in table.output


def test_hessian_size_is_limited():
    too_many = limits.MAX_HESSIAN_ELEMENTS + 1
    with pytest.raises(UsageError, match="MAX_HESSIAN_ELEMENTS = 16"):
        explain("sum(x**2)", x=list(range(too_many)), hessian=True)
    result = CliRunner().invoke(app, ["sum(x**2)", "--x", ",".join(["1"] * too_many),
                                      "--hessian"], env=ENV)
    assert result.exit_code == 2
    assert "gradexplain: error: --hessian: 17 differentiated elements exceed " \
        "MAX_HESSIAN_ELEMENTS = 16; choose fewer with --wrt" in result.output
