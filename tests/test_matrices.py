"""Matrices (issue 7): values, `@`, `.T`, bias broadcasting and reductions over all elements.

Each case is checked three ways: SymPy's generic-element formula (evaluated over arrays),
autograd, and float64 central differences computed here from a hand-written numpy loss.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from gradexplain import ExitStatus, explain
from gradexplain.cli import app
from gradexplain.errors import ValuesError
from gradexplain.ir.shapes import ShapeError
from gradexplain.ir.values import from_spec, from_text
from tests.helpers import assert_cli_refuses, central_differences

ENV = {"COLUMNS": "120", "NO_COLOR": "1", "TERM": "dumb"}


def sigmoid(u):
    return 1 / (1 + np.exp(-u))


# (expression, shapes, numpy loss: the sum of every element of the expression)
CASES = [
    ("sum(X@w)", {"X": (4, 5), "w": (5,)}, lambda X, w: (X @ w).sum()),
    ("x@W", {"x": (3,), "W": (3, 4)}, lambda x, W: (x @ W).sum()),
    ("A@B", {"A": (2, 3), "B": (3, 4)}, lambda A, B: (A @ B).sum()),
    ("sum((A@B)**2)", {"A": (4, 5), "B": (5, 2)}, lambda A, B: ((A @ B) ** 2).sum()),
    ("x@y", {"x": (5,), "y": (5,)}, lambda x, y: x @ y),
    (
        "sum(sigmoid(X@W + b))",
        {"X": (4, 3), "W": (3, 2), "b": (2,)},
        lambda X, W, b: sigmoid(X @ W + b).sum(),
    ),
    (
        "mean((X@w + c - y)**2)",
        {"X": (4, 5), "w": (5,), "c": (), "y": (4,)},
        lambda X, w, c, y: ((X @ w + c - y) ** 2).mean(),
    ),
    ("sum(X.T@X)", {"X": (3, 4)}, lambda X: (X.T @ X).sum()),
    ("sum(tanh(A.T))", {"A": (2, 3)}, lambda A: np.tanh(A.T).sum()),
    ("mean(A*B + A)", {"A": (3, 4), "B": (3, 4)}, lambda A, B: (A * B + A).mean()),
    ("sum(exp(A) + b)", {"A": (2, 3), "b": (3,)}, lambda A, b: (np.exp(A) + b).sum()),
    ("x@W@y", {"x": (2,), "W": (2, 3), "y": (3,)}, lambda x, W, y: x @ W @ y),
    ("sum((W@x)*(W@x))", {"W": (4, 5), "x": (5,)}, lambda W, x: ((W @ x) * (W @ x)).sum()),
    ("sum(X, dim=0)", {"X": (4, 5)}, lambda X: X.sum(axis=0).sum()),
    ("sum(X.sum(0)**2)", {"X": (4, 5)}, lambda X: (X.sum(axis=0) ** 2).sum()),
    ("sum(mean(X, dim=1)**3)", {"X": (3, 4)}, lambda X: (X.mean(axis=1) ** 3).sum()),
    (
        "sum(torch.sum(sigmoid(X@W), dim=-1)**2)",
        {"X": (4, 3), "W": (3, 5)},
        lambda X, W: (sigmoid(X @ W).sum(axis=-1) ** 2).sum(),
    ),
    (
        "mean(exp(X).sum(dim=1) * w)",
        {"X": (4, 2), "w": (4,)},
        lambda X, w: (np.exp(X).sum(axis=1) * w).mean(),
    ),
]


@pytest.mark.parametrize(("expression", "shapes", "loss"), CASES, ids=[case[0] for case in CASES])
def test_matrix_gradients_agree_with_central_differences(expression, shapes, loss):
    rng = np.random.default_rng(len(expression))
    arrays = {name: np.asarray(rng.uniform(-1, 1, size=shape)) for name, shape in shapes.items()}
    given = {name: (float(a) if a.shape == () else a) for name, a in arrays.items()}
    result = explain(expression, values=given)
    assert result.status is ExitStatus.AGREE, result.verdict()
    assert result.value == pytest.approx(loss(**arrays))
    for name, array in arrays.items():
        gradient = result.gradients[name]
        assert gradient.shape == array.shape
        expected = central_differences(loss, arrays, name)
        np.testing.assert_allclose(gradient.symbolic, expected, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(gradient.autograd, expected, rtol=1e-6, atol=1e-7)


def test_the_formula_is_written_in_generic_elements():
    result = explain(
        "sum(sigmoid(X@W + b))",
        X=[[1, 2, 3], [4, 5, 6]],
        W=[[0.1, 0.2], [0.3, -0.4], [0.5, 0.6]],
        b=[0.1, -0.2],
    )
    assert (
        result.gradients["W"].formula
        == "sum_i((1 - sigmoid(b_k + sum_m(W_mk*X_im)))*sigmoid(b_k + sum_m(W_mk*X_im))*X_ij)"
    )
    # y is the array the sum adds up, sigmoid(X@W + b), so the product inside it is z
    assert result.gradients["W"].sentence.startswith(
        "Chain rule through @: with z = X@W, dL/dW = X.T @ dL/dz"
    )
    assert result.gradients["X"].sentence.startswith(
        "Chain rule through @: with z = X@W, dL/dX = dL/dz @ W.T"
    )


@pytest.mark.parametrize(
    ("expression", "values"),
    [
        ("sum(X.T@X)", {"X": [[1, 2], [3, 4]]}),
        ("sum(X@w) + sum(X**2)", {"X": [[1, 2], [3, 4]], "w": [1, -1]}),
        ("sum(X@X)", {"X": [[1, 2], [3, 4]]}),
    ],
)
def test_no_single_matmul_sentence_for_a_variable_used_twice(expression, values):
    # dL/dX = X @ dL/dy would name one of two paths; the sum of both is the gradient
    result = explain(expression, **values)
    assert result.gradients["X"].sentence.startswith(
        "Chain rule, element by element: X appears 2 times, so dL/dX adds the "
        "contribution of each; dL/dX_jk = "
    )
    assert result.agree


def test_one_product_written_twice_keeps_its_sentence():
    # both branches of the where use the same z = X@w, so dL/dw = X.T @ dL/dz holds
    result = explain(
        "sum(where(t == 1, X@w, -(X@w)))", X=[[1, 2], [3, 4]], w=[1, -1], t=[1, 0], wrt=["w"]
    )
    assert result.gradients["w"].sentence.startswith(
        "Chain rule through @: with z = X@w, dL/dw = X.T @ dL/dz, so dL/dw_j = "
    )


@pytest.mark.parametrize(
    ("expression", "values", "message"),
    [
        (
            "X@w",
            {"X": "1,2,3;4,5,6", "w": "1,2"},
            "@ of shapes 2x3 and 2: the inner sizes 3 and 2 differ (column 1)",
        ),
        (
            "sum(A@B)",
            {"A": "1,2;3,4", "B": "1,2,3;4,5,6;7,8,9"},
            "@ of shapes 2x2 and 3x3: the inner sizes 2 and 3 differ (column 5)",
        ),
        (
            "sum(X + b)",
            {"X": "1,2,3;4,5,6", "b": "1,2"},
            "shapes 2x3 and 2 cannot be broadcast together: a vector is added to each row, so "
            "its length (2) must equal the number of columns (3), or one of them must be 1 "
            "(column 5)",
        ),
        (
            "sum(X, dim=2)",
            {"X": "1,2,3;4,5,6"},
            "sum(dim=2) of shape 2x3: dim must be in -2..1 (column 1)",
        ),
        (
            "sum(c@x)",
            {"c": "2", "x": "1,2"},
            "@ needs a vector or a matrix on each side, got scalar @ 2; use * for a scalar "
            "(column 5)",
        ),
        # broadcasting (tests/test_broadcast.py has the shapes that do broadcast)
        (
            "A + B",
            {"A": "1,2;3,4;5,6", "B": "1,2,3;4,5,6"},
            "shapes 3x2 and 2x3 cannot be broadcast together: the rows (3 and 2) must be equal, "
            "or one of them 1 (column 1)",
        ),
        (
            "sum(A * B)",
            {"A": "1,2,3;4,5,6", "B": "1,2;3,4"},
            "shapes 2x3 and 2x2 cannot be broadcast together: the columns (3 and 2) must be "
            "equal, or one of them 1 (column 5)",
        ),
        (
            "sum(a - X)",
            {"a": "1;2", "X": "1,2;3,4;5,6"},
            "shapes 2x1 and 3x2 cannot be broadcast together: the rows (2 and 3) must be equal, "
            "or one of them 1 (column 5)",
        ),
        (
            "sum(X@w + v)",
            {"X": "1,2;3,4", "w": "1,2", "v": "1,2,3"},
            "shapes 2 and 3 cannot be broadcast together: the lengths (2 and 3) must be equal, "
            "or one of them 1 (column 5)",
        ),
        (
            "sum(X + b)",
            {"X": "1,2,3;4,5,6", "b": "1,2"},
            "shapes 2x3 and 2 cannot be broadcast together: a vector is added to each row, so "
            "its length (2) must equal the number of columns (3), or one of them must be 1 "
            "(column 5)",
        ),
    ],
)
def test_bad_shapes_exit_2_naming_both_shapes(expression, values, message):
    assert_cli_refuses(expression, values, message, ENV)
    with pytest.raises(ShapeError):
        explain(expression, values={k: from_text(k, v) for k, v in values.items()})


def test_matrix_values_from_text_csv_and_json(tmp_path):
    assert from_text("W", "1,2;3,4").shape == (2, 2)
    assert from_text("W", " 1, 2 ; 3, 4 ").data.tolist() == [1, 2, 3, 4]
    with pytest.raises(ValuesError, match="--W: row 2 has 1 values, row 1 has 2"):
        from_text("W", "1,2;3")
    csv = tmp_path / "w.csv"
    csv.write_text("1,2,3\n4,5,6\n")
    assert from_spec("W", f"@{csv}", lambda: "").shape == (2, 3)
    column = tmp_path / "v.csv"
    column.write_text("1\n2\n3\n")
    assert from_spec("v", f"@{column}", lambda: "").shape == (3,)
    ragged = tmp_path / "r.csv"
    ragged.write_text("1,2\n3\n")
    with pytest.raises(ValuesError, match="row 2 has 1 values, row 1 has 2"):
        from_spec("W", f"@{ragged}", lambda: "")
    nested = tmp_path / "w.json"
    nested.write_text("[[1, 2], [3, 4], [5, 6]]")
    assert from_spec("W", f"@{nested}", lambda: "").shape == (3, 2)
    deeper = tmp_path / "d.json"
    deeper.write_text("[[[1]]]")
    with pytest.raises(ValuesError, match="a matrix is a list of rows"):
        from_spec("W", f"@{deeper}", lambda: "")


def test_api_takes_nested_lists_and_2d_arrays():
    nested = explain("sum(W@x)", W=[[1, 2], [3, 4]], x=[1, 1])
    array = explain("sum(W@x)", W=np.array([[1.0, 2.0], [3.0, 4.0]]), x=np.ones(2))
    assert nested.gradients["W"].symbolic.tolist() == [[1, 1], [1, 1]]
    assert array.gradients["x"].autograd.tolist() == [4, 6]


def test_json_values_are_nested_like_the_input():
    result = CliRunner().invoke(
        app, ["sum(W@x)", "--W", "1,2,3;4,5,6", "--x", "1,0,2", "--format", "json"], env=ENV
    )
    assert result.exit_code == 0
    document = json.loads(result.output)
    gradient = document["gradients"]["W"]
    assert gradient["shape"] == [2, 3]
    assert gradient["symbolic"] == [[1, 0, 2], [1, 0, 2]]
    assert gradient["autograd"] == [[1, 0, 2], [1, 0, 2]]
    assert document["gradients"]["x"]["symbolic"] == [5, 7, 9]
    assert document["shapes"] == {"W": [2, 3], "x": [3]}


def test_table_shows_shapes_and_elides_large_matrices():
    result = CliRunner().invoke(app, ["sum(W**2)", "--W", ";".join(["1,2,3"] * 6)], env=ENV)
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "gradexplain sum(W**2)  (W: 6x3)"
    assert lines[2] == "y = W**2 (6x3)"  # the sum rule's elements come first, elided too
    assert sum(line.startswith("│ ... ") for line in lines) == 2
    assert any(line.startswith("dL/dW (6x3)") for line in lines)
    assert any(line.startswith("│ 0,0 │    1 │") for line in lines)
    assert any(line.startswith("│ 5,2 │    3 │") for line in lines)


def test_markdown_shows_matrix_elements():
    result = CliRunner().invoke(
        app, ["sum(W@x)", "--W", "1,2;3,4", "--x", "1,1", "--format", "markdown"], env=ENV
    )
    assert result.exit_code == 0
    assert result.output.startswith("## gradexplain `sum(W@x)` (W: 2x2, x: 2)")
    assert "| 1,0 | 3 | 1 | 1 | ok |" in result.output


def test_expect_checks_a_matrix_gradient_element_by_element():
    import jsonschema

    from gradexplain.output.jsonout import schema_text

    ok = CliRunner().invoke(
        app,
        ["sum(W@x)", "--W", "1,2;3,4", "--x", "1,1", "--expect", "W=1,1;1,1", "--expect", "x=4,6"],
        env=ENV,
    )
    assert ok.exit_code == 0
    assert "│ dL/dW    │ 1,0 │        1 │     1 │        1 │ ok │" in ok.output
    assert ok.output.endswith("The expected gradient matches both witnesses.\n")
    wrong = CliRunner().invoke(
        app,
        ["sum(W@x)", "--W", "1,2;3,4", "--x", "1,1", "--expect", "W=1,1;1,2", "--format", "json"],
        env=ENV,
    )
    assert wrong.exit_code == 1
    document = json.loads(wrong.output)
    jsonschema.validate(document, json.loads(schema_text()))
    expected = document["expect"]
    assert expected["gradients"]["W"] == {
        "expected": [[1.0, 1.0], [1.0, 2.0]],
        "match": [[True, True], [True, False]],
        "max_abs_diff": 1.0,
        "mismatches": [3],
    }


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("W=1,1,1,1", "--expect W: shape 4 given, but W has shape 2x2"),
        ("W=1,1;1,1;1,1", "--expect W: shape 3x2 given, but W has shape 2x2"),
        ("x=1;1", "--expect x: shape 2x1 given, but x has shape 2"),
    ],
)
def test_expect_refuses_a_matrix_of_the_wrong_shape(spec, message):
    result = CliRunner().invoke(
        app, ["sum(W@x)", "--W", "1,2;3,4", "--x", "1,1", "--expect", spec], env=ENV
    )
    assert result.exit_code == 2
    assert result.output == f"gradexplain: error: {message}\n"


def test_expect_of_a_column_is_given_as_a_column():
    result = CliRunner().invoke(
        app, ["sum(a*B)", "--a", "1;2", "--B", "1,2;3,4", "--expect", "a=3;7", "--quiet"], env=ENV
    )
    assert result.exit_code == 0


# Along an axis: softmax/log_softmax(dim=), max/min over all elements or along dim=,
# prod over all elements or along dim=. Values are +-(0.5..1.5), so products stay O(1)
# and no two elements tie. (expression, shapes, numpy loss, variables differentiated)
def softmax(u, axis):
    e = np.exp(u - u.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(u, axis):
    return np.log(softmax(u, axis))


AXIS_CASES = [
    (
        "sum(log_softmax(X@W + b, dim=1) * Y)",
        {"X": (4, 3), "W": (3, 5), "b": (5,), "Y": (4, 5)},
        lambda X, W, b, Y: (log_softmax(X @ W + b, 1) * Y).sum(),
        "X,W,b",
    ),
    (
        "-sum(torch.log_softmax(X, dim=-1) * Y)",
        {"X": (4, 5), "Y": (4, 5)},
        lambda X, Y: -(log_softmax(X, 1) * Y).sum(),
        "X",
    ),
    ("mean(softmax(X, dim=0)**2)", {"X": (4, 5)}, lambda X: (softmax(X, 0) ** 2).mean(), None),
    (
        "sum(softmax(X, dim=1) * Y)",
        {"X": (3, 4), "Y": (3, 4)},
        lambda X, Y: (softmax(X, 1) * Y).sum(),
        None,
    ),
    ("sum(X.log_softmax(0)**2)", {"X": (2, 3)}, lambda X: (log_softmax(X, 0) ** 2).sum(), None),
    (
        "sum(softmax(X@w) * t)",
        {"X": (4, 5), "w": (5,), "t": (4,)},
        lambda X, w, t: (softmax(X @ w, 0) * t).sum(),
        None,
    ),
    (
        "sum(softmax(X.T, dim=1) * Y)",
        {"X": (3, 2), "Y": (2, 3)},
        lambda X, Y: (softmax(X.T, 1) * Y).sum(),
        None,
    ),
    ("sum(max(X, dim=1))", {"X": (4, 5)}, lambda X: X.max(axis=1).sum(), None),
    ("sum(min(X, dim=0)**2)", {"X": (3, 4)}, lambda X: (X.min(axis=0) ** 2).sum(), None),
    ("sum(X.max(1) * w)", {"X": (4, 3), "w": (4,)}, lambda X, w: (X.max(axis=1) * w).sum(), None),
    ("max(X)", {"X": (4, 5)}, lambda X: X.max(), None),
    ("torch.min(X@W)", {"X": (3, 4), "W": (4, 2)}, lambda X, W: (X @ W).min(), None),
    ("max(x, dim=0)", {"x": (5,)}, lambda x: x.max(), None),
    (
        "sum(max(softmax(X, dim=1), dim=1))",
        {"X": (3, 4)},
        lambda X: softmax(X, 1).max(axis=1).sum(),
        None,
    ),
    ("prod(X)", {"X": (4, 5)}, lambda X: X.prod(), None),
    ("sum(prod(X, dim=0))", {"X": (4, 5)}, lambda X: X.prod(axis=0).sum(), None),
    ("sum(X.prod(1)**2)", {"X": (3, 4)}, lambda X: (X.prod(axis=1) ** 2).sum(), None),
    (
        "prod(sigmoid(X@W + b))",
        {"X": (2, 3), "W": (3, 2), "b": (2,)},
        lambda X, W, b: sigmoid(X @ W + b).prod(),
        None,
    ),
    (
        "mean(prod(X, dim=-1) * max(X, dim=1)) + max(X)",
        {"X": (3, 4)},
        lambda X: (X.prod(axis=1) * X.max(axis=1)).mean() + X.max(),
        None,
    ),
]


@pytest.mark.parametrize(
    ("expression", "shapes", "loss", "wrt"), AXIS_CASES, ids=[case[0] for case in AXIS_CASES]
)
def test_gradients_along_an_axis_agree_with_central_differences(expression, shapes, loss, wrt):
    rng = np.random.default_rng(len(expression))
    arrays = {
        name: rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.5, 1.5, size=shape)
        for name, shape in shapes.items()
    }
    result = explain(expression, values=arrays, wrt=wrt)
    assert result.status is ExitStatus.AGREE, result.verdict()
    assert result.value == pytest.approx(loss(**arrays), rel=1e-12)
    assert result.value_symbolic == pytest.approx(loss(**arrays), rel=1e-12)
    for name in wrt.split(",") if wrt else shapes:
        gradient = result.gradients[name]
        np.testing.assert_allclose(gradient.symbolic, gradient.autograd, rtol=1e-12, atol=1e-12)
        expected = central_differences(loss, arrays, name)
        np.testing.assert_allclose(gradient.symbolic, expected, rtol=1e-6, atol=1e-7)
        element = name + "_jk"[: len(shapes[name]) + 1] if shapes[name] else name
        assert f"dL/d{element} = {gradient.formula}" in gradient.sentence


@pytest.mark.parametrize(
    ("expression", "name", "formula"),
    [
        ("sum(max(X, dim=1))", "X", "is_max_k(X_jk)/sum_m(is_max_m(X_jm))"),
        ("max(X)", "X", "is_max_jk(X_jk)/sum_m(sum_i(is_max_im(X_im)))"),
        ("sum(prod(X, dim=0))", "X", "prod_{m<j}(X_mk)*prod_{m>j}(X_mk)"),
        (
            "prod(X)",
            "X",
            "prod_{i<j}(X_ik)*prod_{i>j}(X_ik)*prod_{m<k}(prod_i(X_im))*prod_{m>k}(prod_i(X_im))",
        ),
        ("-sum(log_softmax(X, dim=1) * Y)", "X", "-Y_jk - sum_p(-exp(X_jk)*Y_jp/sum_m(exp(X_jm)))"),
    ],
)
def test_axis_formulas_are_written_in_generic_elements(expression, name, formula):
    values = {"X": np.array([[1.0, 2.0, 3.0], [6.0, 5.0, 4.0]]), "Y": np.eye(2, 3)}
    used = {k: v for k, v in values.items() if k in expression}
    assert explain(expression, values=used, wrt=name).gradients[name].formula == formula


def test_a_tie_for_the_max_of_a_row_is_a_kink_split_evenly():
    result = explain("sum(max(X, dim=1))", X=[[1.0, 3.0, 3.0], [4.0, 0.0, 2.0]])
    assert result.status is ExitStatus.UNDEFINED
    (singularity,) = result.singularities
    assert (singularity.function, singularity.kind, singularity.column) == ("max", "kink", 4)
    assert singularity.elements == (1, 2)  # flat positions in X: row 0, columns 1 and 2
    assert singularity.reason.startswith(
        "max(dim=1) has a kink where elements of one slice along dim 1 tie for its largest value"
    )
    assert "PyTorch's amax() splits the gradient evenly" in singularity.reason
    expected = [[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]]
    np.testing.assert_array_equal(result.gradients["X"].symbolic, expected)
    np.testing.assert_array_equal(result.gradients["X"].autograd, expected)


@pytest.mark.parametrize(
    ("expression", "matrix"),
    [
        ("sum(min(X, dim=0))", [[1.0, 0.0], [1.0, 2.0]]),  # a tie for a column's smallest
        ("max(X)", [[5.0, 1.0], [2.0, 5.0]]),  # a tie for the largest of all
    ],
)
def test_ties_at_the_extreme_are_kinks(expression, matrix):
    result = explain(expression, X=matrix)
    assert result.status is ExitStatus.UNDEFINED
    assert [s.kind for s in result.singularities] == ["kink"]
    np.testing.assert_array_equal(result.gradients["X"].symbolic, result.gradients["X"].autograd)


def test_a_tie_below_the_max_of_a_row_is_no_kink():
    result = explain("sum(max(X, dim=1))", X=[[1.0, 1.0, 3.0], [0.0, 2.0, 2.5]])
    assert result.status is ExitStatus.AGREE
    assert result.singularities == ()


@pytest.mark.parametrize(
    ("expression", "matrix", "expected"),
    [
        ("prod(X)", [[1.0, 2.0, 0.0], [3.0, 4.0, 5.0]], [[0, 0, 120], [0, 0, 0]]),
        ("prod(X)", [[0.0, 2.0, 0.0], [3.0, 4.0, 5.0]], [[0, 0, 0], [0, 0, 0]]),
        ("sum(prod(X, dim=1))", [[1.0, 2.0, 0.0], [3.0, 4.0, 5.0]], [[0, 0, 2], [20, 15, 12]]),
        ("sum(X.prod(0))", [[1.0, 0.0, 7.0], [3.0, 4.0, 5.0]], [[3, 4, 5], [1, 0, 7]]),
    ],
)
def test_a_zero_in_prod_keeps_the_exact_product_rule(expression, matrix, expected):
    result = explain(expression, X=matrix)
    assert result.status is ExitStatus.AGREE
    np.testing.assert_array_equal(result.gradients["X"].symbolic, expected)
    np.testing.assert_array_equal(result.gradients["X"].autograd, expected)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        (
            "sum(softmax(X))",
            "softmax() of a 2x3 matrix needs dim=: dim=1 normalises each row, "
            "dim=0 each column, as in softmax(X, dim=1) (column 5)",
        ),
        (
            "sum(torch.log_softmax(X@W))",
            "log_softmax() of a 2x2 matrix needs dim=: dim=1 "
            "normalises each row, dim=0 each column, as in log_softmax(X, dim=1) (column 5)",
        ),
        ("sum(max(X, dim=2))", "max(dim=2) of shape 2x3: dim must be in -2..1 (column 5)"),
        ("sum(X.min(-3))", "min(dim=-3) of shape 2x3: dim must be in -2..1 (column 5)"),
        ("sum(softmax(X, dim=2))", "softmax(dim=2) of shape 2x3: dim must be in -2..1 (column 5)"),
        ("sum(prod(X, dim=-3))", "prod(dim=-3) of shape 2x3: dim must be in -2..1 (column 5)"),
        ("max(X, dim=0.5)", "dim of max() must be an integer such as 0, 1 or -1 (column 12)"),
        (
            "sum(softmax(X, dim=W))",
            "dim of softmax() must be an integer such as 0, 1 or -1 (column 20)",
        ),
    ],
)
def test_a_missing_or_invalid_dim_exits_2_with_a_column(expression, message):
    values = {"X": "1,2,3;4,5,6", "W": "1,2;3,4;5,6"}
    args = [expression]
    for name in ("X", "W"):
        if name in expression.replace("max", "").replace("softmax", ""):
            args += [f"--{name}", values[name]]
    result = CliRunner().invoke(app, args, env=ENV)
    assert result.exit_code == 2, result.output
    assert result.output.splitlines()[0] == f"gradexplain: error: {message}"


def test_a_kink_in_a_matrix_names_row_and_column():
    result = CliRunner().invoke(app, ["sum(max(X, dim=1))", "--X", "1,3,3;6,5,4"], env=ENV)
    assert result.exit_code == 3
    assert (
        "Undefined: max at column 5, elements [0,1], [0,2]: max(dim=1) has a kink" in result.output
    )
    document = json.loads(
        CliRunner()
        .invoke(
            app,
            ["sum(relu(X@W))", "--X", "1,-1;2,0", "--W", "1,0;1,1", "--format", "json"],
            env=ENV,
        )
        .output
    )
    # X@W = [[0, -1], [2, 0]]: relu's kinks at (0,0) and (1,1), flat 0 and 3 of a 2x2
    assert [(s["elements"], s["shape"]) for s in document["singularities"]] == [([0, 3], [2, 2])]


@pytest.mark.parametrize(
    ("expression", "rule", "term"),
    [
        ("mean(sigmoid(X@w))", "mean", "sigmoid(sum_m(X_im*w_m))"),
        ("sum(X**2) + 0*sum(w)", "derivative", None),  # two terms: no one array at the top
        ("sum(X*w)", "sum", "X_ik*w_k"),
        ("X@w", "sum", "sum_m(X_im*w_m)"),  # backward(ones) sums y's elements
        ("log(sum(X@w))", "derivative", None),  # no one sum of an array at the top
    ],
)
def test_json_decomposition_of_a_matrix_expression(expression, rule, term):
    result = CliRunner().invoke(
        app, [expression, "--X", "1,2;3,4", "--w", "1,1", "--format", "json"], env=ENV
    )
    decomposition = json.loads(result.output)["decomposition"]
    assert (decomposition["rule"], decomposition["term"]) == (rule, term)
