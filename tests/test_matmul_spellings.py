"""The matrix-product spellings a PyTorch user types: torch.matmul / x.matmul, mm, mv, dot,
inner, outer (and torch.linalg.matmul), beside `@`, plus trace, diag and diagonal.

Each is checked as every function is: the symbolic witness against torch autograd at
1e-12, both against a gradient derived by hand here in numpy, and against float64
central differences of a numpy loss; wrong shapes exit 2 naming both shapes.
"""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from gradexplain import explain
from gradexplain.cli import app
from gradexplain.errors import ExpressionError
from gradexplain.ir.axes import ShapeError
from tests.helpers import assert_cli_refuses, assert_matches_closed_form
from tests.test_matrices import ENV

A = np.array([[1.0, 2.0, -1.0], [0.5, -3.0, 2.0]])  # 2x3
B = np.array([[0.5, -1.0], [2.0, 0.25], [-1.5, 1.0]])  # 3x2
S = np.array([[2.0, 1.0, 0.5], [-1.0, 3.0, 0.25], [0.5, 1.0, 4.0]])  # 3x3
x = np.array([0.5, -1.0, 2.0])
y = np.array([1.5, 0.25, -2.0])
v = np.array([-1.0, 3.0])
G22, G23 = np.ones((2, 2)), np.ones((2, 3))
C = np.array([[0.5, -1.0], [2.0, 0.25], [-1.5, 1.0], [1.0, 3.0]])  # 4x2

CASES = [
    # (expression, values, numpy loss, {variable: gradient derived by hand})
    (
        "torch.matmul(A, B).sum()",
        {"A": A, "B": B},
        lambda A, B: (A @ B).sum(),
        {"A": G22 @ B.T, "B": A.T @ G22},
    ),
    (
        "A.matmul(x).sum()",
        {"A": A, "x": x},
        lambda A, x: (A @ x).sum(),
        {"A": np.outer(np.ones(2), x), "x": A.T @ np.ones(2)},
    ),
    (
        "torch.linalg.matmul(v, A).sum()",
        {"v": v, "A": A},
        lambda v, A: (v @ A).sum(),
        {"v": A @ np.ones(3), "A": np.outer(v, np.ones(3))},
    ),
    ("torch.matmul(x, y)", {"x": x, "y": y}, lambda x, y: x @ y, {"x": y, "y": x}),
    (
        "sum(torch.mm(A, B)**2)",
        {"A": A, "B": B},
        lambda A, B: ((A @ B) ** 2).sum(),
        {"A": 2 * (A @ B) @ B.T, "B": A.T @ (2 * (A @ B))},
    ),
    (
        "A.mm(B).sum()",
        {"A": A, "B": B},
        lambda A, B: (A @ B).sum(),
        {"A": G22 @ B.T, "B": A.T @ G22},
    ),
    (
        "torch.mv(A, x).sum()",
        {"A": A, "x": x},
        lambda A, x: (A @ x).sum(),
        {"A": np.outer(np.ones(2), x), "x": A.T @ np.ones(2)},
    ),
    (
        "sum(sigmoid(A.mv(x)))",
        {"A": A, "x": x},
        lambda A, x: (1 / (1 + np.exp(-(A @ x)))).sum(),
        {"x": A.T @ (np.exp(-(A @ x)) / (1 + np.exp(-(A @ x))) ** 2)},
    ),
    ("torch.dot(x, y)", {"x": x, "y": y}, lambda x, y: x @ y, {"x": y, "y": x}),
    ("x.dot(x)", {"x": x}, lambda x: x @ x, {"x": 2 * x}),
    ("torch.inner(x, y)", {"x": x, "y": y}, lambda x, y: np.inner(x, y), {"x": y, "y": x}),
    (
        "torch.inner(A, S).sum()",
        {"A": A, "S": S},
        lambda A, S: np.inner(A, S).sum(),
        {"A": G23 @ S, "S": np.ones((3, 2)) @ A},
    ),
    (
        "x.inner(A).sum()",
        {"x": x, "A": A},
        lambda x, A: np.inner(x, A).sum(),
        {"x": A.T @ np.ones(2), "A": np.outer(np.ones(2), x)},
    ),
    (
        "torch.outer(x, v).sum()",
        {"x": x, "v": v},
        lambda x, v: np.outer(x, v).sum(),
        {"x": np.full(3, v.sum()), "v": np.full(2, x.sum())},
    ),
    (
        "sum(x.outer(y) * S)",
        {"x": x, "y": y, "S": S},
        lambda x, y, S: (np.outer(x, y) * S).sum(),
        {"x": S @ y, "y": S.T @ x, "S": np.outer(x, y)},
    ),
    ("torch.trace(S)", {"S": S}, lambda S: np.trace(S), {"S": np.eye(3)}),
    ("S.trace()", {"S": S}, lambda S: np.trace(S), {"S": np.eye(3)}),
    ("trace(A)", {"A": A}, lambda A: np.trace(A), {"A": np.eye(2, 3)}),
    ("trace(B)", {"B": B}, lambda B: np.trace(B), {"B": np.eye(3, 2)}),
    ("trace(A @ B)", {"A": A, "B": B}, lambda A, B: np.trace(A @ B), {"A": B.T, "B": A.T}),
    ("trace(S @ S)", {"S": S}, lambda S: np.trace(S @ S), {"S": 2 * S.T}),
    ("torch.diagonal(S).sum()", {"S": S}, lambda S: np.diagonal(S).sum(), {"S": np.eye(3)}),
    (
        "sum(S.diagonal() * x)",
        {"S": S, "x": x},
        lambda S, x: (np.diagonal(S) * x).sum(),
        {"S": np.diag(x), "x": np.diagonal(S)},
    ),
    (
        "sum(torch.linalg.diagonal(S)**2)",
        {"S": S},
        lambda S: (np.diagonal(S) ** 2).sum(),
        {"S": np.diag(2 * np.diagonal(S))},
    ),
    (
        "sum(torch.diag(S) * x)",
        {"S": S, "x": x},
        lambda S, x: (np.diag(S) * x).sum(),
        {"S": np.diag(x), "x": np.diag(S)},
    ),
    (
        "sum(torch.diag(x) @ S)",
        {"x": x, "S": S},
        lambda x, S: (np.diag(x) @ S).sum(),
        {"x": S.sum(axis=1), "S": np.outer(x, np.ones(3))},
    ),
    ("sum(x.diag()**2)", {"x": x}, lambda x: (np.diag(x) ** 2).sum(), {"x": 2 * x}),
    (  # non-square matrices and offsets, as torch.diagonal / torch.diag count them
        "sum(diag(A)**2)",
        {"A": A},
        lambda A: (np.diagonal(A) ** 2).sum(),
        {"A": 2 * A * np.eye(2, 3)},
    ),
    (
        "sum(torch.diagonal(A, 1)**3)",
        {"A": A},
        lambda A: (np.diagonal(A, 1) ** 3).sum(),
        {"A": 3 * A**2 * np.eye(2, 3, 1)},
    ),
    (
        "sum(B.diagonal(offset=-1) * v)",
        {"B": B, "v": v},
        lambda B, v: (np.diagonal(B, -1) * v).sum(),
        {"B": np.array([[0.0, 0.0], [v[0], 0.0], [0.0, v[1]]]), "v": np.diagonal(B, -1)},
    ),
    (
        "sum(torch.diagonal(B, 1, 1, 0)**2)",
        {"B": B},
        lambda B: (np.diagonal(B.T, 1) ** 2).sum(),
        {"B": 2 * B * np.eye(3, 2, -1)},
    ),
    (
        "sum(torch.diagonal(S, offset=-2, dim1=-1, dim2=-2) * 5)",
        {"S": S},
        lambda S: (np.diagonal(S.T, -2) * 5).sum(),
        {"S": 5 * np.eye(3, 3, 2)},
    ),
    (
        "sum(torch.linalg.diagonal(A, offset=2)**2)",
        {"A": A},
        lambda A: (np.diagonal(A, 2) ** 2).sum(),
        {"A": 2 * A * np.eye(2, 3, 2)},
    ),
    (  # x_3 does not exist: the term at row 3 needs its guard (deltas.py)
        "sum(torch.diag(x, 1) * (C @ C.T))",
        {"x": x, "C": C},
        lambda x, C: (np.diag(x, 1) * (C @ C.T)).sum(),
        {"x": np.diagonal(C @ C.T, 1), "C": (np.diag(x, 1) + np.diag(x, -1)) @ C},
    ),
    (
        "sum(x.diag(diagonal=-2)**2)",
        {"x": x},
        lambda x: (np.diag(x, -2) ** 2).sum(),
        {"x": 2 * x},
    ),
    (
        "sum(diag(A, -1) * 3)",
        {"A": A},
        lambda A: (np.diag(A, -1) * 3).sum(),
        {"A": 3 * np.eye(2, 3, -1)},
    ),
    (
        "sum(diag(S.diag()) * S)",
        {"S": S},
        lambda S: (np.diag(np.diag(S)) * S).sum(),
        {"S": 2 * np.diag(np.diag(S))},
    ),
    # einsum, one and two operands; without '->' the output is the letters seen once
    (
        "torch.einsum('ij,jk->ik', A, B).sum()",
        {"A": A, "B": B},
        lambda A, B: np.einsum("ij,jk->ik", A, B).sum(),
        {"A": G22 @ B.T, "B": A.T @ G22},
    ),
    (
        "torch.einsum('ij,jk', A, B).sum()",
        {"A": A, "B": B},
        lambda A, B: np.einsum("ij,jk", A, B).sum(),
        {"A": G22 @ B.T, "B": A.T @ G22},
    ),
    (
        "torch.einsum('ij,j->i', A, x).sum()",
        {"A": A, "x": x},
        lambda A, x: np.einsum("ij,j->i", A, x).sum(),
        {"A": np.outer(np.ones(2), x), "x": A.T @ np.ones(2)},
    ),
    (
        "torch.einsum('i,i->', x, y)",
        {"x": x, "y": y},
        lambda x, y: np.einsum("i,i->", x, y),
        {"x": y, "y": x},
    ),
    (
        "torch.einsum('i,j->ij', x, v).sum()",
        {"x": x, "v": v},
        lambda x, v: np.einsum("i,j->ij", x, v).sum(),
        {"x": np.full(3, v.sum()), "v": np.full(2, x.sum())},
    ),
    (
        "torch.einsum('ij,kj->ik', A, A).sum()",
        {"A": A},
        lambda A: np.einsum("ij,kj->ik", A, A).sum(),
        {"A": 2 * np.ones((2, 2)) @ A},
    ),
    ("torch.einsum('ij,ij->', A, A)", {"A": A}, lambda A: np.einsum("ij,ij->", A, A), {"A": 2 * A}),
    (
        "torch.einsum('ji->ij', A).sum()",
        {"A": A},
        lambda A: np.einsum("ji->ij", A).sum(),
        {"A": np.ones((2, 3))},
    ),
    ("torch.einsum('ii', S)", {"S": S}, lambda S: np.einsum("ii", S), {"S": np.eye(3)}),
    (
        "sum(torch.einsum('ii->i', S) * x)",
        {"S": S, "x": x},
        lambda S, x: (np.einsum("ii->i", S) * x).sum(),
        {"S": np.diag(x), "x": np.diag(S)},
    ),
    ("torch.einsum('ij->i', A**2).sum()", {"A": A}, lambda A: (A**2).sum(), {"A": 2 * A}),
    (
        "torch.einsum('ij,jk->', S, S)",
        {"S": S},
        lambda S: np.einsum("ij,jk->", S, S),
        {"S": np.ones((3, 3)) @ S.T + S.T @ np.ones((3, 3))},
    ),
]


@pytest.mark.parametrize(
    ("expression", "values", "loss", "expected"), CASES, ids=[case[0] for case in CASES]
)
def test_each_spelling_agrees_with_autograd_by_hand_and_central_differences(
    expression, values, loss, expected
):
    assert_matches_closed_form(expression, values, loss, expected)


@pytest.mark.parametrize(
    ("spelling", "matmul"),
    [
        ("sum(mm(A, B))", "sum(A @ B)"),
        ("sum(torch.matmul(A, x))", "sum(A @ x)"),
        ("sum(mv(A, x))", "sum(A @ x)"),
        ("dot(x, y)", "x @ y"),
    ],
)
def test_a_spelling_has_the_formula_of_its_at(spelling, matmul):
    """One rule: the spelling's Sum of products is the one `@` builds."""
    values = {"A": A, "B": B, "x": x, "y": y}
    mine, theirs = (
        explain(e, {k: values[k] for k in values if k in e}) for e in (spelling, matmul)
    )
    assert {n: g.formula for n, g in mine.gradients.items()} == {
        n: g.formula for n, g in theirs.gradients.items()
    }


def test_trace_gradient_is_the_identity_as_the_cookbook_says():
    result = explain("trace(S)", {"S": S})
    assert result.gradients["S"].formula == "delta_jk"


@pytest.mark.parametrize(
    ("expression", "values", "message"),
    [
        (
            "sum(mm(A, x))",
            {"A": "1,2;3,4", "x": "1,2"},
            "mm() needs two matrices, got shapes 2x2 and 2; use mv() for a matrix times a vector, "
            "or @ and matmul() for any (column 5)",
        ),
        (
            "sum(torch.mm(A, B))",
            {"A": "1,2;3,4", "B": "1,2;3,4;5,6"},
            "mm() of shapes 2x2 and 3x2: the inner sizes 2 and 3 differ (column 5)",
        ),
        (
            "sum(A.mv(x))",
            {"A": "1,2;3,4", "x": "1,2,3"},
            "mv() of shapes 2x2 and 3: the inner sizes 2 and 3 differ (column 5)",
        ),
        (
            "sum(mv(A, B))",
            {"A": "1,2;3,4", "B": "1,2;3,4"},
            "mv() needs a matrix and a vector, got shapes 2x2 and 2x2; use mm() for two matrices, "
            "or @ and matmul() for any (column 5)",
        ),
        (
            "torch.dot(x, y)",
            {"x": "1,2", "y": "1,2,3"},
            "dot() needs two vectors of the same length, got lengths 2 and 3 (column 1)",
        ),
        (
            "dot(A, x)",
            {"A": "1,2;3,4", "x": "1,2"},
            "dot() needs two vectors, got shapes 2x2 and 2; use @ or matmul() for matrices "
            "(column 1)",
        ),
        (
            "sum(torch.matmul(A, x))",
            {"A": "1,2;3,4", "x": "1,2,3"},
            "matmul() of shapes 2x2 and 3: the inner sizes 2 and 3 differ (column 5)",
        ),
        (
            "sum(matmul(c, x))",
            {"c": "2", "x": "1,2"},
            "matmul() needs a vector or a matrix on each side, got scalar and 2; use * for a "
            "scalar (column 5)",
        ),
        (
            "sum(inner(A, x))",
            {"A": "1,2;3,4", "x": "1,2,3"},
            "inner() of shapes 2x2 and 3: the last sizes 2 and 3 differ (column 5)",
        ),
        (
            "sum(outer(A, x))",
            {"A": "1,2;3,4", "x": "1,2,3"},
            "outer() needs two vectors, got shapes 2x2 and 3 (column 5)",
        ),
        ("trace(x)", {"x": "1,2,3"}, "trace() needs a matrix, got shape 3 (column 1)"),
        ("sum(diagonal(x))", {"x": "1,2,3"}, "diagonal() needs a matrix, got shape 3 (column 5)"),
        (
            "sum(diag(A, 3))",
            {"A": "1,2,3;4,5,6"},
            "diag() at offset 3 of a 2x3 matrix selects no element (torch gives an empty "
            "tensor); offsets run from -1 to 2 (column 5)",
        ),
        (
            "sum(A.diagonal(dim1=0, dim2=-2))",
            {"A": "1,2,3;4,5,6"},
            "diagonal() needs two different dims, got dim1 and dim2 both 0 (torch: diagonal "
            "dimensions cannot be identical) (column 5)",
        ),
        (
            "sum(A.diagonal(dim1=2))",
            {"A": "1,2,3;4,5,6"},
            "dim1=2 of diagonal() is out of range for a matrix (-2 to 1) (column 5)",
        ),
        (
            "sum(torch.einsum('ij,jk->ik', A, x))",
            {"A": "1,2;3,4", "x": "1,2"},
            "einsum('ij,jk->ik'): operand 2 has shape 2 but its subscripts 'jk' name 2 axes "
            "(column 5)",
        ),
        (
            "sum(torch.einsum('ij,jk->ik', A, B))",
            {"A": "1,2;3,4", "B": "1,2;3,4;5,6"},
            "einsum('ij,jk->ik'): letter 'j' has sizes 2 and 3 (column 5)",
        ),
        (
            "torch.einsum('ii', A)",
            {"A": "1,2,3;4,5,6"},
            "einsum('ii'): letter 'i' has sizes 2 and 3 (column 1)",
        ),
    ],
)
def test_bad_shapes_exit_2_naming_the_shapes(expression, values, message):
    assert_cli_refuses(expression, values, message, ENV)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("mm(A)", "mm() takes 2 arguments, got 1"),
        ("A.mm(B, C)", "mm() takes 2 arguments, got 3"),
        ("trace(A, B)", "trace() takes 1 argument, got 2"),
        ("torch.diagonal(A, offset=1.5)", "offset= of diagonal() must be an integer"),
        ("torch.diag(A, k=1)", "keyword k= of diag() is not supported (diag() takes diagonal=)"),
        ("A.diagonal(axis=1)", "keyword axis= of diagonal() is not supported"),
        (
            "torch.linalg.mm(A, B)",
            "torch.linalg.mm is not supported; the closest supported spelling is torch.mm(...)",
        ),
        ("torch.einsum('...ij->', A)", "ellipsis (...) in einsum subscripts is not supported"),
        (
            "torch.einsum('ij,jk,kl->il', A, B, A)",
            "einsum with 3 operands is not supported (one or two)",
        ),
        ("torch.einsum('ij->q', A)", "the output letter 'q' is not in any input"),
        ("torch.einsum('ij->ii', A)", "the output 'ii' repeats a letter"),
        ("torch.einsum('i1->', A)", "'1' is not a subscript: use letters a-z, A-Z"),
        ("torch.einsum('ij->i->', A)", "'->' may appear once"),
        ("torch.einsum('ij,jk->ik', A)", "names 2 operands, got 1"),
        ("torch.einsum(A, B)", "einsum() takes a subscript string first"),
        ("torch.einsum('" + "i" * 40 + "', A)", "longer than MAX_EINSUM_CHARS = 32"),
        ("torch.einsum('ij', A) + 'x'", "strings are not allowed here"),
        ("torch.einsum('ij', A) > 0", "not allowed"),
    ],
)
def test_wrong_arguments_are_refused_before_any_work(expression, message):
    with pytest.raises(ExpressionError) as info:
        explain(expression, {"A": A, "B": B, "C": B})
    assert not isinstance(info.value, ShapeError)
    assert message in str(info.value)


def test_steps_derive_a_spelling_by_the_product_rule_inside_the_sum():
    result = CliRunner().invoke(
        app, ["sum(torch.mm(A, B))", "--A", "1,2;3,4", "--B", "1,0;2,1", "--steps"], env=ENV
    )
    assert result.exit_code == 0, result.output
    assert "matrix product: an element is sum_p of products" in result.output


def test_graph_names_the_product_rule():
    result = CliRunner().invoke(
        app, ["trace(A.mm(B))", "--A", "1,2;3,4", "--B", "1,0;2,1", "--graph"], env=ENV
    )
    assert result.exit_code == 0, result.output
    assert "MmBackward0" in result.output
    assert "matrix product rule" in result.output
