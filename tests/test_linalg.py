"""Linear algebra of square matrices: det, logdet, slogdet, inverse/inv and solve.

The symbolic witness differentiates by the Matrix Cookbook's closed forms (gradexplain/
matfun.py) and evaluates with numpy.linalg; the autograd witness is torch's backward.
Each case checks both at 1e-12, against the Cookbook's formula written here in numpy, and
against float64 central differences of a numpy loss; a singular matrix exits 3 with the
reason, a wrong shape exits 2 naming it.
"""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from gradexplain import ExitStatus, explain
from gradexplain.cli import app
from gradexplain.errors import ExpressionError
from tests.helpers import assert_cli_refuses, assert_matches_closed_form
from tests.test_matrices import ENV
from tests.test_startup import _imports

X = np.array([[2.0, 1.0, 0.5], [-1.0, 3.0, 0.25], [0.5, 1.0, 4.0]])  # det 26.875 > 0
N = np.array([[1.0, 2.0], [3.0, 4.0]])  # det -2 < 0
A = np.array([[1.0, -2.0, 0.5], [0.25, 1.0, 3.0], [2.0, 0.0, -1.0]])
B = np.array([[0.5, 1.0], [-1.0, 2.0], [3.0, 0.25]])
b = np.array([1.0, -0.5, 2.0])
u = np.array([0.5, 2.0, -1.0])
inv, det = np.linalg.inv, np.linalg.det
Xi, Ni = inv(X), inv(N)

COOKBOOK = [
    # (expression, values, numpy loss, {variable: the closed form of the Matrix Cookbook})
    ("torch.det(X)", {"X": X}, lambda X: det(X), {"X": det(X) * Xi.T}),  # eq. 49
    ("torch.linalg.det(X)", {"X": X}, lambda X: det(X), {"X": det(X) * Xi.T}),
    ("N.det()", {"N": N}, lambda N: det(N), {"N": det(N) * Ni.T}),
    ("trace(A @ X)", {"A": A, "X": X}, lambda A, X: np.trace(A @ X), {"X": A.T}),  # eq. 100
    ("torch.logdet(X)", {"X": X}, lambda X: np.log(det(X)), {"X": Xi.T}),  # eq. 57
    ("X.logdet()", {"X": X}, lambda X: np.log(det(X)), {"X": Xi.T}),
    (
        "trace(torch.inverse(X))",
        {"X": X},
        lambda X: np.trace(inv(X)),
        {"X": -(Xi @ Xi).T},
    ),  # eq. 124
    ("trace(A @ torch.linalg.inv(X) @ B.T.T @ A.T[0:3, 0:2].T)", None, None, None),
    ("torch.linalg.slogdet(N)[1]", {"N": N}, lambda N: np.log(abs(det(N))), {"N": Ni.T}),
    ("torch.slogdet(X).logabsdet", {"X": X}, lambda X: np.log(abs(det(X))), {"X": Xi.T}),
    ("N.slogdet()[-1] * 2", {"N": N}, lambda N: 2 * np.log(abs(det(N))), {"N": 2 * Ni.T}),
    (
        "torch.slogdet(N).sign * sum(N)",
        {"N": N},
        lambda N: np.sign(det(N)) * N.sum(),
        {"N": np.sign(det(N)) * np.ones((2, 2))},
    ),  # the sign's gradient is 0
    (
        "slogdet(N)[0] * exp(slogdet(N)[1])",
        {"N": N},
        lambda N: np.sign(det(N)) * np.exp(np.log(abs(det(N)))),
        {"N": det(N) * Ni.T},
    ),
    (
        "sum(inverse(X))",
        {"X": X},
        lambda X: inv(X).sum(),
        {"X": -Xi.T @ np.ones((3, 3)) @ Xi.T},
    ),  # eq. 59: -X^-T G X^-T
    (
        "sum(torch.linalg.inv(X) * A)",
        {"X": X, "A": A},
        lambda X, A: (inv(X) * A).sum(),
        {"X": -Xi.T @ A @ Xi.T, "A": Xi},
    ),
    (
        "u @ X.inverse() @ b",
        {"u": u, "X": X, "b": b},
        lambda u, X, b: u @ inv(X) @ b,
        {"u": Xi @ b, "X": -np.outer(Xi.T @ u, Xi @ b), "b": Xi.T @ u},
    ),  # eq. 61
    (
        "sum(torch.linalg.solve(X, b))",
        {"X": X, "b": b},
        lambda X, b: np.linalg.solve(X, b).sum(),
        {"X": -np.outer(Xi.T @ np.ones(3), Xi @ b), "b": Xi.T @ np.ones(3)},
    ),
    (
        "sum(torch.linalg.solve(X, B)**2)",
        {"X": X, "B": B},
        lambda X, B: (np.linalg.solve(X, B) ** 2).sum(),
        {"X": -Xi.T @ (2 * Xi @ B) @ (Xi @ B).T, "B": Xi.T @ (2 * Xi @ B)},
    ),
    (
        "torch.det(A @ X)",
        {"A": A, "X": X},
        lambda A, X: det(A @ X),
        {"X": det(A @ X) * inv(X).T, "A": det(A @ X) * inv(A).T},
    ),
    ("logdet(X.T @ X)", {"X": X}, lambda X: np.log(det(X.T @ X)), {"X": 2 * Xi.T}),
    ("det(inverse(X))", {"X": X}, lambda X: det(inv(X)), {"X": -Xi.T / det(X)}),
    ("sum(inverse(inverse(X)))", {"X": X}, lambda X: inv(inv(X)).sum(), {"X": np.ones((3, 3))}),
]
COOKBOOK = [case for case in COOKBOOK if case[1] is not None]


@pytest.mark.parametrize(
    ("expression", "values", "loss", "expected"), COOKBOOK, ids=[case[0] for case in COOKBOOK]
)
def test_the_cookbook_closed_forms_autograd_and_central_differences_agree(
    expression, values, loss, expected
):
    assert_matches_closed_form(expression, values, loss, expected)


@pytest.mark.parametrize(
    ("expression", "formula"),
    [
        ("det(X)", "det(X)*inv(X)_kj"),  # det(X) X^-T
        ("logdet(X)", "inv(X)_kj"),  # X^-T
        ("slogdet(X)[1]", "inv(X)_kj"),
        ("trace(inverse(X))", "sum_i(-inv(X)_ij*inv(X)_ki)"),  # -(X^-2)^T
        ("slogdet(X)[0]", "0"),
    ],
)
def test_the_formula_is_the_cookbook_rule_in_generic_elements(expression, formula):
    assert explain(expression, {"X": X}).gradients["X"].formula == formula


SINGULAR = "1,2;2,4"  # rank 1


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        (
            "det(S)",
            "S is singular: det = 0, the inverse does not exist; the rule d det(X)/dX "
            "= det(X) X^-T needs it",
        ),
        (
            "logdet(S)",
            "S is singular: det = 0, the inverse does not exist, and log det(S) = log(0) = -inf",
        ),
        ("torch.linalg.slogdet(S)[1]", "S is singular: det = 0, the inverse does not exist"),
        ("sum(inverse(S))", "S is singular: det = 0, the inverse does not exist"),
        ("sum(torch.linalg.inv(S @ S))", "S@S is singular: det = 0, the inverse does not exist"),
        ("sum(torch.linalg.solve(S, r))", "S is singular: det = 0, the inverse does not exist"),
    ],
)
def test_a_singular_matrix_is_undefined_with_the_reason(expression, reason):
    args = [expression, "--S", SINGULAR] + (["--r", "1,2"] if "r)" in expression else [])
    result = CliRunner().invoke(app, args, env=ENV)
    assert result.exit_code == 3, result.output
    assert reason in " ".join(result.output.split())


def test_logdet_of_a_negative_determinant_is_undefined_and_names_slogdet():
    result = CliRunner().invoke(app, ["logdet(N)", "--N", "1,2;3,4"], env=ENV)
    assert result.exit_code == 3, result.output
    assert "slogdet(X)[1] is log|det X|" in " ".join(result.output.split())


@pytest.mark.parametrize(
    ("expression", "values", "message"),
    [
        ("det(C)", {"C": "1,2,3;4,5,6"}, "det() needs a square matrix, got shape 2x3 (column 1)"),
        (
            "sum(inverse(v))",
            {"v": "1,2"},
            "inverse() needs a square matrix, got shape 2 (column 5)",
        ),
        (
            "sum(torch.linalg.solve(S, v))",
            {"S": "1,0;0,1", "v": "1,2,3"},
            "solve() of shapes 2x2 and 3: B must be a vector or a matrix with 2 rows (column 5)",
        ),
        ("logdet(c)", {"c": "2"}, "logdet() needs a square matrix, got shape scalar (column 1)"),
    ],
)
def test_bad_shapes_exit_2_naming_the_shape(expression, values, message):
    assert_cli_refuses(expression, values, message, ENV)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("slogdet(X)", "slogdet() returns two tensors (sign, logabsdet): take slogdet(X)[1]"),
        ("slogdet(X)[2]", "slogdet() has two outputs: [0] or .sign, [1] or .logabsdet"),
        ("slogdet(X).det", "slogdet() has two outputs"),
        (
            "torch.solve(X, X)",
            "torch.solve is not supported; the closest supported spelling is "
            "torch.linalg.solve(...)",
        ),
        (
            "torch.linalg.logdet(X)",
            "torch.linalg.logdet is not supported; the closest "
            "supported spelling is torch.logdet(...)",
        ),
        ("slogdet(X)[0:1]", "slogdet() has two outputs"),
    ],
)
def test_wrong_spellings_are_refused(expression, message):
    with pytest.raises(ExpressionError) as info:
        explain(expression, {"X": X})
    assert message in str(info.value)


@pytest.mark.parametrize(
    "args",
    [
        ["slogdet(X)", "--X", "1,2;3,4"],
        ["det(C)", "--C", "1,2,3;4,5,6"],
        ["sum(torch.mm(A, x))", "--A", "1,2;3,4", "--x", "1,2"],
        ["torch.linalg.solve(A, x)", "--A", "1,2;3,4", "--x", "1,2,3"],
        ["torch.einsum('ij,jk->ik', A)", "--A", "1,2;3,4"],
    ],
)
def test_input_errors_import_neither_torch_nor_sympy(args):
    assert _imports(*args) == (2, [])


@pytest.mark.parametrize(
    ("expression", "values", "formula", "expected"),
    [
        ("det(X)", {"X": [[2.0]]}, "det(X)*inv(X)_00", {"X": [[1.0]]}),
        ("sum(inverse(X))", {"X": [[2.0]]}, "-inv(X)_00**2", {"X": [[-0.25]]}),
        (
            "sum(torch.linalg.solve(X, y))",
            {"X": [[2.0]], "y": [3.0]},
            None,
            {"X": [[-0.75]], "y": [0.5]},
        ),
    ],
)
def test_a_one_by_one_matrix_has_no_sum_over_its_one_element(expression, values, formula, expected):
    result = explain(expression, values)
    assert result.status is ExitStatus.AGREE, result.verdict()
    if formula is not None:
        assert result.gradients["X"].formula == formula
    for name, want in expected.items():
        np.testing.assert_allclose(result.gradients[name].symbolic, want, rtol=1e-12)
        np.testing.assert_allclose(result.gradients[name].autograd, want, rtol=1e-12)


def test_hessian_of_the_cookbook_functions_agrees_with_torch():
    for expression in (
        "det(X)",
        "logdet(X)",
        "sum(inverse(X))",
        "slogdet(X)[1]",
        "sum(torch.linalg.solve(X, X))",
    ):
        result = explain(expression, {"X": X}, hessian=True)
        assert result.status is ExitStatus.AGREE, (expression, result.verdict())
        assert result.hessian is not None and result.hessian.agree, expression
