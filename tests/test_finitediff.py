"""--check-fd: float64 central differences agree on smooth functions and flag kinks."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from gradexplain import explain
from gradexplain.cli import app
from gradexplain.ir.parser import parse
from gradexplain.ir.values import from_numbers
from gradexplain.witnesses import finitediff
from tests.test_core import CASES

ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}


def _values(values):
    return {name: from_numbers(name, np.asarray(v).tolist()) for name, v in values.items()}


@pytest.mark.parametrize(
    ("expression", "values", "expected"), CASES, ids=[case[0] for case in CASES]
)
def test_fd_agrees_with_autograd_on_smooth_functions(expression, values, expected):
    result = explain(expression, values)
    found = finitediff.compare(parse(expression), _values(values), result)
    for name, fd in found.items():
        assert fd.agree, (name, fd.values, fd.autograd)


@pytest.mark.parametrize(
    ("expression", "marks"),
    [
        ("sum(relu(w))", [False, True, True]),  # FD sees the mean slope 1/2, torch uses 0
        ("sum(abs(w))", [True, True, True]),  # symmetric: FD's 0 equals torch's abs'(0) = 0
    ],
)
def test_fd_at_kinks(expression, marks):
    result = explain(expression, w=[0.0, 1.0, -2.0])
    assert result.status == 3  # the kink itself is always reported
    fd = finitediff.compare(parse(expression), _values({"w": [0.0, 1.0, -2.0]}), result)["w"]
    assert fd.close.tolist() == marks


def test_float32_autograd_against_float64_fd():
    result = explain("sum(x**2)", x=[3.0, 4.0, 10.0], dtype="float32")
    fd = finitediff.compare(parse("sum(x**2)"), _values({"x": [3.0, 4.0, 10.0]}), result)["x"]
    np.testing.assert_allclose(fd.values, [6, 8, 20], rtol=1e-8)
    assert fd.agree


def test_batched_per_element_differences_equal_one_nudge_at_a_time():
    """vmap's batches (here several, by a small BATCH_NUMBERS) give each element's own
    central difference: the same numbers as nudging one element per forward pass."""
    x = np.linspace(-1.0, 2.0, 50)
    loss = finitediff._loss_of(
        parse("sum(tanh(x)*exp(x))"),
        finitediff._leaves(parse("sum(tanh(x)*exp(x))"), _values({"x": x})),
        "x",
    )
    leaf = torch.tensor(x)
    batched = finitediff.per_element(loss, leaf, largest=50_000)  # batches of 40
    single = [
        (float(loss(leaf + finitediff.EPS * e)) - float(loss(leaf - finitediff.EPS * e)))
        / (2 * finitediff.EPS)
        for e in torch.eye(50, dtype=torch.float64)
    ]
    np.testing.assert_allclose(batched, single, rtol=1e-9, atol=1e-9)


def test_beyond_max_fd_elements_random_directions_are_checked():
    n = finitediff.MAX_FD_ELEMENTS + 1
    x = np.linspace(-1.0, 1.0, n)
    result = explain("sum(tanh(x)*exp(x))", x=x)
    fd = finitediff.compare(parse("sum(tanh(x)*exp(x))"), _values({"x": x}), result)["x"]
    assert fd.mode == finitediff.DIRECTIONAL and fd.agree
    assert fd.values.shape == (finitediff.DIRECTIONS,)
    gradient = np.asarray(result.gradients["x"].autograd)
    generator = torch.Generator().manual_seed(finitediff.SEED)
    u = torch.randn(n, generator=generator, dtype=torch.float64).numpy()
    assert fd.autograd[0] == pytest.approx(u @ gradient, rel=1e-12)
    assert "10,001 nudged elements > MAX_FD_ELEMENTS = 10,000" in fd.reason


def test_directions_catch_a_wrong_gradient():
    """relu at 0: torch's gradient there is 0, the central difference 1/2. Along random
    directions the gap shows (half the elements sit on the kink)."""
    n = finitediff.MAX_FD_ELEMENTS + 2
    x = np.where(np.arange(n) % 2 == 0, 0.0, 1.0)
    result = explain("sum(relu(x))", x=x)
    fd = finitediff.compare(parse("sum(relu(x))"), _values({"x": x}), result)["x"]
    assert fd.mode == finitediff.DIRECTIONAL and not fd.agree


def test_cli_json_has_finite_differences_and_exit_codes():
    ok = CliRunner().invoke(
        app, ["sum(x**2)", "--x", "3,4,10", "--check-fd", "--format", "json"], env=ENV
    )
    assert ok.exit_code == 0
    fd = json.loads(ok.output)["gradients"]["x"]["finite_differences"]
    assert fd["agree"] is True and fd["eps"] == 1e-6
    np.testing.assert_allclose(fd["values"], [6, 8, 20], rtol=1e-8)
    kink = CliRunner().invoke(app, ["sum(relu(w))", "--w", "0,1,-2", "--check-fd"], env=ENV)
    assert kink.exit_code == 3
    assert "│        0 │ UNDEFINED │          0.5 │ DIFFERS │" in kink.output
    assert "Finite differences of dL/dw (float64, central, eps 1e-06) DIFFER" in kink.output


def test_output_without_check_fd_has_no_fd_column():
    plain = CliRunner().invoke(app, ["sum(relu(w))", "--w", "0,1,-2"], env=ENV)
    assert "finite diff." not in plain.output


def test_cli_says_which_mode_ran_and_why():
    values = ",".join(["1"] * (finitediff.MAX_FD_ELEMENTS + 1))
    result = CliRunner().invoke(
        app, ["sum(x**2)", "--x", values, "--check-fd"], env={**ENV, "COLUMNS": "400"}
    )
    assert result.exit_code == 0, result.output
    assert (
        "Finite differences of dL/dx along random directions (float64, central, eps "
        "1e-06) agree with autograd's u . grad"
    ) in result.output
    assert (
        "Directional: 10,001 nudged elements > MAX_FD_ELEMENTS = 10,000: per-element "
        "differences would cost O(n**2), so 8 random directions u"
    ) in result.output
    document = json.loads(
        CliRunner()
        .invoke(app, ["sum(x**2)", "--x", values, "--check-fd", "--format", "json"], env=ENV)
        .output
    )
    fd = document["gradients"]["x"]["finite_differences"]
    assert fd["mode"] == "directional" and len(fd["values"]) == finitediff.DIRECTIONS
    assert len(fd["autograd_along"]) == finitediff.DIRECTIONS


# ---- matrices: one nudge per element, the result shaped like the variable --------------


def _sigmoid(u):
    return 1 / (1 + np.exp(-u))


XM = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
WM = np.array([[0.5, -1.0, 0.25], [0.0, 2.0, -0.5]])
BM = np.array([0.1, -0.2, 0.3])


def _analytic_mlp(X, W, b):
    """L = sum(sigmoid(X@W + b)): dL/dZ = s(1-s), dX = dZ W^T, dW = X^T dZ, db = sum_rows."""
    s = _sigmoid(X @ W + b)
    dz = s * (1 - s)
    return {"X": dz @ W.T, "W": X.T @ dz, "b": dz.sum(axis=0)}


def _analytic_least_squares(X, w, y):
    """L = mean((X@w - y)**2): dw = 2/n X^T r, dX = 2/n r w^T, dy = -2/n r."""
    r = X @ w - y
    n = len(y)
    return {"X": 2 / n * np.outer(r, w), "w": 2 / n * X.T @ r, "y": -2 / n * r}


@pytest.mark.parametrize(
    ("expression", "values", "analytic"),
    [
        ("sum(sigmoid(X@W + b))", {"X": XM, "W": WM, "b": BM}, _analytic_mlp),
        (
            "mean((X@w - y)**2)",
            {"X": XM, "w": np.array([1.0, -0.5]), "y": np.array([0.0, 1.0, -1.0])},
            _analytic_least_squares,
        ),
        ("sum(X.T*X.T)", {"X": XM}, lambda X: {"X": 2 * X}),
    ],
)
def test_matrix_fd_matches_the_gradient_by_hand(expression, values, analytic):
    result = explain(expression, {n: v.tolist() for n, v in values.items()})
    found = finitediff.compare(parse(expression), _values(values), result)
    wanted = analytic(**values)
    assert set(found) == set(wanted)
    for name, fd in found.items():
        assert fd.values.shape == values[name].shape
        np.testing.assert_allclose(fd.values, wanted[name], rtol=1e-6, atol=1e-8)
        assert fd.agree and fd.close.shape == values[name].shape


def test_cli_matrix_fd_lists_values_and_json_is_shaped():
    args = ["sum(X*X)", "--X", "1,2;3,4", "--check-fd"]
    result = CliRunner().invoke(app, args, env=ENV)
    assert result.exit_code == 0, result.output
    assert result.output.endswith(
        "Finite differences of dL/dX (float64, central, eps 1e-06) agree with autograd "
        "(gradcheck's rtol 0.001, atol 1e-05; largest |difference| 1.22e-09).\n"
        "  dL/dX by finite differences: [[2, 3.999999999], [6.000000001, 7.999999999]]\n"
    )
    document = json.loads(CliRunner().invoke(app, [*args, "--format", "json"], env=ENV).output)
    fd = document["gradients"]["X"]["finite_differences"]
    np.testing.assert_allclose(fd["values"], [[2, 4], [6, 8]], rtol=1e-8)
    assert fd["agree"] is True


def test_cli_matrix_fd_names_the_elements_at_a_kink():
    result = CliRunner().invoke(
        app, ["sum(relu(X@w))", "--X", "1,2;3,4;5,6", "--w", "2,-1", "--check-fd"], env=ENV
    )
    assert result.exit_code == 3  # X@w is 0 in row 0: relu's kink
    assert (
        "  dL/dX by finite differences: [[1, -0.5000000001], [2, -1], [2, -1]]; differs "
        "at X[0,0], X[0,1]\n"
    ) in result.output


def test_cli_matrix_fd_beyond_the_per_element_limit_is_directional():
    rows = ";".join(",".join(["1"] * 101) for _ in range(100))
    result = CliRunner().invoke(
        app, ["sum(X*X)", "--X", rows, "--check-fd"], env={**ENV, "COLUMNS": "400"}
    )
    assert result.exit_code == 0
    assert "Directional: 10,100 nudged elements > MAX_FD_ELEMENTS = 10,000" in result.output
