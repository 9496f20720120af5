"""--v against torch.autograd.grad(y, x, v); --jacobian's column sums are the gradient."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from gradexplain import explain, vjp
from gradexplain.cli import app
from gradexplain.parser import parse
from gradexplain.values import from_numbers

ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}
X = [3.0, 4.0, 10.0]
W = [1.0, -2.0, 0.5]

CASES = [
    ("x**2", {"x": X}, lambda t: t["x"] ** 2),
    ("exp(x)*x", {"x": W}, lambda t: torch.exp(t["x"]) * t["x"]),
    ("w*x + b", {"w": W, "x": X, "b": 0.5}, lambda t: t["w"] * t["x"] + t["b"]),
    ("x*sum(x)", {"x": X}, lambda t: t["x"] * t["x"].sum()),
    ("sigmoid(c*x)", {"c": 0.3, "x": X}, lambda t: torch.sigmoid(t["c"] * t["x"])),
]


@pytest.mark.parametrize(("expression", "values", "by_hand"), CASES,
                         ids=[case[0] for case in CASES])
@pytest.mark.parametrize("v", [[1.0, 0.0, 0.0], [0.5, -2.0, 3.0]])
def test_backward_v_matches_torch_autograd_grad(expression, values, by_hand, v):
    result = explain(expression, values)
    parsed = {n: from_numbers(n, val) for n, val in values.items()}
    found = vjp.compare(parse(expression), parsed, ",".join(map(str, v)), result)
    leaves = {n: torch.tensor(val, dtype=torch.float64, requires_grad=True)
              for n, val in values.items()}
    names = list(leaves)
    want = torch.autograd.grad(by_hand(leaves), [leaves[n] for n in names],
                               torch.tensor(v, dtype=torch.float64))
    for name, grad in zip(names, want):
        np.testing.assert_allclose(found.autograd[name], grad.numpy(), rtol=1e-12)
        np.testing.assert_allclose(found.symbolic[name], grad.numpy(), rtol=1e-10, atol=1e-12)
        assert found.close(name).all()


@pytest.mark.parametrize(("expression", "scale"), [("sum(x*sum(x))", 1.0), ("x**2", 1.0),
                                                   ("mean(x**2)", 1 / 3)])
def test_jacobian_column_sums_are_the_gradient(expression, scale):
    parsed = {"x": from_numbers("x", X)}
    found = vjp.jacobian(parse(expression), parsed)
    assert found.scale == pytest.approx(scale)
    gradient = explain(expression, x=X).gradients["x"].symbolic
    np.testing.assert_allclose(found.scale * found.matrices["x"].sum(axis=0), gradient)


def test_cli_v_and_jacobian():
    result = CliRunner().invoke(app, ["x**2", "--x", "3,4,10", "--v", "1,0,0",
                                      "--jacobian"], env=ENV)
    assert result.exit_code == 0, result.output
    assert "x: autograd [6, 0, 0]; SymPy J^T v = 2*v_j*x_j = [6, 0, 0]  ok" in result.output
    assert "│ sum │   6 │   8 │  20 │" in result.output


def test_cli_v_json_and_errors():
    ok = CliRunner().invoke(app, ["x**2", "--x", "3,4,10", "--v", "0,1,0", "--format",
                                  "json"], env=ENV)
    assert json.loads(ok.output)["vjp"]["gradients"]["x"]["autograd"] == [0.0, 8.0, 0.0]
    scalar = CliRunner().invoke(app, ["sum(x**2)", "--x", "3,4", "--v", "1,0"], env=ENV)
    assert scalar.exit_code == 2
    short = CliRunner().invoke(app, ["x**2", "--x", "3,4", "--v", "1"], env=ENV)
    assert short.exit_code == 2


def test_a_variable_named_v_keeps_its_option():
    result = CliRunner().invoke(app, ["sum(v**2)", "--v", "1,2", "--format", "json"],
                                env=ENV)
    assert result.exit_code == 0
    assert json.loads(result.output)["gradients"]["v"]["autograd"] == [2.0, 4.0]
