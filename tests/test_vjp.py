"""--v against torch.autograd.grad(y, x, v); --jacobian's column sums are the gradient."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from gradexplain import explain
from gradexplain.cli import app
from gradexplain.ir.program import build
from gradexplain.ir.values import from_numbers, from_text
from gradexplain.witnesses import vjp

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


@pytest.mark.parametrize(
    ("expression", "values", "by_hand"), CASES, ids=[case[0] for case in CASES]
)
@pytest.mark.parametrize("v", [[1.0, 0.0, 0.0], [0.5, -2.0, 3.0]])
def test_backward_v_matches_torch_autograd_grad(expression, values, by_hand, v):
    result = explain(expression, values)
    found = vjp.compare(result, ",".join(map(str, v)))
    leaves = {
        n: torch.tensor(val, dtype=torch.float64, requires_grad=True) for n, val in values.items()
    }
    names = list(leaves)
    want = torch.autograd.grad(
        by_hand(leaves), [leaves[n] for n in names], torch.tensor(v, dtype=torch.float64)
    )
    for name, grad in zip(names, want):
        np.testing.assert_allclose(found.autograd[name], grad.numpy(), rtol=1e-12)
        np.testing.assert_allclose(found.symbolic[name], grad.numpy(), rtol=1e-10, atol=1e-12)
        assert found.close(name).all()


@pytest.mark.parametrize(
    ("expression", "scale"), [("sum(x*sum(x))", 1.0), ("x**2", 1.0), ("mean(x**2)", 1 / 3)]
)
def test_jacobian_column_sums_are_the_gradient(expression, scale):
    found = vjp.jacobian(build(expression, {"x": from_numbers("x", X)}))
    assert found.scale == pytest.approx(scale)
    gradient = explain(expression, x=X).gradients["x"].symbolic
    np.testing.assert_allclose(found.scale * found.matrices["x"].sum(axis=0), gradient)


@pytest.mark.parametrize(
    ("expression", "values", "formula"),
    [
        ("x - mean(x)", {"x": "3,4,10"}, "delta_ij - 1/n"),
        (
            "softmax(x)",
            {"x": "3,4,10"},
            "-exp(x_i)*exp(x_j)/sum_k(exp(x_k))**2 + exp(x_i)*delta_ij/sum_k(exp(x_k))",
        ),
        ("x*n - mean(x)", {"x": "3,4,10", "n": "2"}, "n*delta_ij - 1/N"),  # n is taken
    ],
)
def test_the_jacobian_is_written_in_the_program_s_letters(expression, values, formula):
    """J's formula names the length and bound indices as the table does (n, k): it read
    `delta_ij - 1/3` and `sum_m` beside the table's `/n` and `sum_k`."""
    program = build(expression, {name: from_text(name, text) for name, text in values.items()})
    assert vjp.jacobian(program).formulas["x"] == formula


def test_cli_v_and_jacobian():
    result = CliRunner().invoke(
        app, ["x**2", "--x", "3,4,10", "--v", "1,0,0", "--jacobian"], env=ENV
    )
    assert result.exit_code == 0, result.output
    assert "x: autograd [6, 0, 0]; SymPy J^T v = 2*v_j*x_j = [6, 0, 0]  ok" in result.output
    assert "│ sum │   6 │   8 │  20 │" in result.output


def test_cli_v_json_and_errors():
    ok = CliRunner().invoke(
        app, ["x**2", "--x", "3,4,10", "--v", "0,1,0", "--format", "json"], env=ENV
    )
    assert json.loads(ok.output)["vjp"]["gradients"]["x"]["autograd"] == [0.0, 8.0, 0.0]
    scalar = CliRunner().invoke(app, ["sum(x**2)", "--x", "3,4", "--v", "1,0"], env=ENV)
    assert scalar.exit_code == 2
    short = CliRunner().invoke(app, ["x**2", "--x", "3,4", "--v", "1"], env=ENV)
    assert short.exit_code == 2


def test_a_variable_named_v_keeps_its_option():
    result = CliRunner().invoke(app, ["sum(v**2)", "--v", "1,2", "--format", "json"], env=ENV)
    assert result.exit_code == 0
    assert json.loads(result.output)["gradients"]["v"]["autograd"] == [2.0, 4.0]


# ---- matrices: v shaped like y, J flattened row-major ----------------------------------

XM = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
WM = [[1.0, -1.0], [0.0, 2.0]]
MATRIX_CASES = [
    ("sigmoid(X@W)", {"X": XM, "W": WM}, "1,0;0,1;2,-1", lambda t: torch.sigmoid(t["X"] @ t["W"])),
    ("X@w", {"X": XM, "w": [1.0, -1.0]}, "1,0,2", lambda t: t["X"] @ t["w"]),
    (
        "X@W + b*c",
        {"X": XM, "W": WM, "b": [0.5, -0.5], "c": 3.0},
        "0.5,1;-1,2;3,0",
        lambda t: t["X"] @ t["W"] + t["b"] * t["c"],
    ),
    ("(X@W.T)**2", {"X": XM, "W": WM}, "1,2;3,4;0,-1", lambda t: (t["X"] @ t["W"].mT) ** 2),
    ("sum(exp(X), dim=0)", {"X": XM}, "1,-1", lambda t: torch.exp(t["X"]).sum(dim=0)),
]


@pytest.mark.parametrize(
    ("expression", "values", "v", "by_hand"), MATRIX_CASES, ids=[case[0] for case in MATRIX_CASES]
)
def test_matrix_backward_v_matches_torch_autograd_grad(expression, values, v, by_hand):
    result = explain(expression, values)
    found = vjp.compare(result, v)
    leaves = {
        n: torch.tensor(val, dtype=torch.float64, requires_grad=True) for n, val in values.items()
    }
    output = by_hand(leaves)
    weights = torch.tensor(
        [[float(x) for x in row.split(",")] for row in v.split(";")], dtype=torch.float64
    ).reshape(output.shape)
    names = list(leaves)
    want = torch.autograd.grad(output, [leaves[n] for n in names], weights)
    np.testing.assert_array_equal(found.v, weights.numpy())
    for name, grad in zip(names, want):
        np.testing.assert_allclose(found.autograd[name], grad.numpy(), rtol=1e-12)
        np.testing.assert_allclose(found.symbolic[name], grad.numpy(), rtol=1e-10, atol=1e-12)
        assert found.close(name).all()


def test_cli_matrix_v_text_and_json():
    args = ["X@W", "--X", "1,2;3,4;5,6", "--W", "1,-1;0,2", "--v", "1,0;0,1;2,-1"]
    text = CliRunner().invoke(app, args, env={**ENV, "COLUMNS": "200"})
    assert text.exit_code == 0, text.output
    assert text.output.endswith(
        "y.backward(v) with v = [[1, 0], [0, 1], [2, -1]] computes J^T v, J_ij = dy_i/dx_j "
        "(v = ones would give the gradient of sum(y)):\n"
        "  X: autograd [[1, 0], [-1, 2], [3, -2]]; SymPy J^T v = sum_m(W_km*v_jm) = "
        "[[1, 0], [-1, 2], [3, -2]]  ok\n"
        "  W: autograd [[11, -2], [14, -2]]; SymPy J^T v = sum_i(X_ij*v_ik) = "
        "[[11, -2], [14, -2]]  ok\n"
    )
    document = json.loads(CliRunner().invoke(app, [*args, "--format", "json"], env=ENV).output)
    assert document["vjp"]["v"] == [[1.0, 0.0], [0.0, 1.0], [2.0, -1.0]]
    assert document["vjp"]["gradients"]["W"]["autograd"] == [[11.0, -2.0], [14.0, -2.0]]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["X@w", "--X", "1,2;3,4;5,6", "--w", "1,-1", "--v", "1,0;0,1"],
            "--v has shape 2x2 but y = X@w has shape 3: give v the shape of y (a matrix's rows "
            "separated by ';', as in --v \"1,0;0,1\")",
        ),
        (
            ["X@W", "--X", "1,2;3,4", "--W", "1,0;0,1", "--v", "1,0,0,1"],
            "--v has shape 4 but y = X@W has shape 2x2: give v the shape of y (a matrix's rows "
            "separated by ';', as in --v \"1,0;0,1\")",
        ),
        (
            ["sum(X@w)", "--X", "1,2;3,4", "--w", "1,-1", "--v", "1,0"],
            "--v is for a vector result y: this expression is already a scalar L, and "
            "L.backward() needs no v",
        ),
        (
            ["sum(X@W)", "--X", ";".join(["1,2"] * 501), "--W", "1,0;0,1", "--jacobian"],
            "--jacobian forms J with y and each x flattened in row-major order, for at most "
            "MAX_JACOBIAN_N = 1,000 elements each: y = X@W has 1,002 (501x2), X has 1,002 "
            "(501x2), W has 4 (2x2); use --v to get J^T v without forming J",
        ),
        (
            ["sum(X)*c", "--X", "1,2;3,4", "--c", "2", "--jacobian"],
            "--jacobian needs a vector or matrix y: y = sum(X)*c is a scalar, so its Jacobian is "
            "the gradient the table shows",
        ),
    ],
)
def test_matrix_v_and_jacobian_refusals(args, message):
    result = CliRunner().invoke(app, args, env={**ENV, "COLUMNS": "400"})
    assert result.exit_code == 2
    assert result.output == f"gradexplain: error: {message}\n"


@pytest.mark.parametrize(
    ("expression", "values", "by_hand", "scale"),
    [
        ("sigmoid(X@W)", {"X": XM, "W": WM}, lambda t: torch.sigmoid(t["X"] @ t["W"]), 1.0),
        ("mean(X@w)", {"X": XM, "w": [1.0, -1.0]}, lambda t: t["X"] @ t["w"], 1 / 3),
        ("sum(X.T*X.T)", {"X": XM}, lambda t: t["X"].mT * t["X"].mT, 1.0),
    ],
)
def test_matrix_jacobian_is_torchs_flattened_row_major(expression, values, by_hand, scale):
    parsed = {n: from_numbers(n, val) for n, val in values.items()}
    found = vjp.jacobian(build(expression, parsed))
    assert found.scale == pytest.approx(scale)
    gradients = explain(expression, values).gradients
    for name, matrix in found.matrices.items():
        x = torch.tensor(values[name], dtype=torch.float64)
        others = {n: torch.tensor(v, dtype=torch.float64) for n, v in values.items()}
        want = torch.autograd.functional.jacobian(
            lambda t, n=name, o=others: by_hand({**o, n: t}).reshape(-1), x
        )
        np.testing.assert_allclose(
            matrix, want.reshape(matrix.shape[0], x.numel()).numpy(), rtol=1e-12
        )
        np.testing.assert_allclose(found.column_sums(name), gradients[name].symbolic, rtol=1e-10)


def test_cli_matrix_jacobian_labels_flattened_indices():
    result = CliRunner().invoke(app, ["X*X", "--X", "1,2;3,4", "--jacobian"], env=ENV)
    assert result.exit_code == 0, result.output
    assert result.output.endswith(
        "Jacobian dy_i/dX_j with y = X*X, both flattened in row-major order:\n"
        "┏━━━━━━━━━┳━━━━━━━┳━━━━━━━┳━━━━━━━┳━━━━━━━┓\n"
        "┃         ┃   j=0 ┃   j=1 ┃   j=2 ┃   j=3 ┃\n"
        "┃       i ┃ (0,0) ┃ (0,1) ┃ (1,0) ┃ (1,1) ┃\n"
        "┡━━━━━━━━━╇━━━━━━━╇━━━━━━━╇━━━━━━━╇━━━━━━━┩\n"
        "│ 0 (0,0) │     2 │     0 │     0 │     0 │\n"
        "│ 1 (0,1) │     0 │     4 │     0 │     0 │\n"
        "│ 2 (1,0) │     0 │     0 │     6 │     0 │\n"
        "│ 3 (1,1) │     0 │     0 │     0 │     8 │\n"
        "├─────────┼───────┼───────┼───────┼───────┤\n"
        "│     sum │     2 │     4 │     6 │     8 │\n"
        "└─────────┴───────┴───────┴───────┴───────┘\n"
        "Each column sum is dL/dx_j (X flattened the same way): the sum rule, made visible.\n"
        "SymPy's dy_ik/dX_jl = 2*delta_ij*delta_kl*X_ik agrees with torch.func.jacrev "
        "(largest |difference| 0).\n"
    )
    document = json.loads(
        CliRunner()
        .invoke(app, ["X*X", "--X", "1,2;3,4", "--jacobian", "--format", "json"], env=ENV)
        .output
    )
    assert document["jacobian"]["column_sums"]["X"] == [[2.0, 4.0], [6.0, 8.0]]
    assert document["jacobian"]["shapes"] == {"y": [2, 2], "X": [2, 2]}
    assert document["jacobian"]["flattened"] == "row-major"
