"""Broadcasting as PyTorch does it (issue 7): size-1 axes stretch, shapes align on the right.

Each gradient is checked three ways: the two witnesses against each other at 1e-12, and
both against float64 central differences of a hand-written numpy loss. The shape pass is
compared with `torch.broadcast_shapes` for every pair of shapes up to 3x3.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from gradexplain import ExitStatus, explain
from gradexplain.cli import app
from gradexplain.ir.parser import parse
from gradexplain.ir.shapes import ShapeError, broadcast, element, infer
from tests.helpers import central_differences

ENV = {"COLUMNS": "120", "NO_COLOR": "1", "TERM": "dumb"}
TIGHT = {"rtol": 1e-12, "atol": 1e-12}


def sigmoid(u):
    return 1 / (1 + np.exp(-u))


# (expression, shapes, numpy loss: the sum of every element of the expression)
CASES = [
    ("a + b", {"a": (4, 1), "b": (1, 5)}, lambda a, b: (a + b).sum()),
    ("sum((a + b)**2)", {"a": (4, 1), "b": (1, 5)}, lambda a, b: ((a + b) ** 2).sum()),
    ("sum((a - b)**2)", {"a": (3, 1), "b": (1, 4)}, lambda a, b: ((a - b) ** 2).sum()),
    ("mean((a - b)**2)", {"a": (3, 1), "b": (1, 4)}, lambda a, b: ((a - b) ** 2).mean()),
    ("sum(a * B)", {"a": (4, 1), "B": (4, 5)}, lambda a, B: (a * B).sum()),
    ("sum(tanh(a * B)**2)", {"a": (4, 1), "B": (4, 5)}, lambda a, B: (np.tanh(a * B) ** 2).sum()),
    ("sum(sin(r - B))", {"r": (1, 5), "B": (4, 5)}, lambda r, B: np.sin(r - B).sum()),
    ("sum((B - r)**3)", {"r": (1, 5), "B": (4, 5)}, lambda r, B: ((B - r) ** 3).sum()),
    ("sum(exp(a + v))", {"a": (4, 1), "v": (5,)}, lambda a, v: np.exp(a + v).sum()),
    ("sum((v + a)*(a - v))", {"a": (3, 1), "v": (2,)}, lambda a, v: ((v + a) * (a - v)).sum()),
    ("sum(c * B)", {"c": (1, 1), "B": (3, 4)}, lambda c, B: (c * B).sum()),
    (
        "sum(sigmoid(c * B + b))",
        {"c": (1, 1), "B": (3, 4), "b": (4,)},
        lambda c, B, b: sigmoid(c * B + b).sum(),
    ),
    ("sum(s * a)", {"s": (), "a": (4, 1)}, lambda s, a: (s * a).sum()),
    (
        "sum(exp(s * a) / (1 + a**2))",
        {"s": (), "a": (4, 1)},
        lambda s, a: (np.exp(s * a) / (1 + a**2)).sum(),
    ),
    ("sum(u * B)", {"u": (1,), "B": (3, 4)}, lambda u, B: (u * B).sum()),
    ("sum((x*y + x)**2)", {"x": (5,), "y": (1,)}, lambda x, y: ((x * y + x) ** 2).sum()),
    ("sum(a.T * B)", {"a": (4, 1), "B": (3, 4)}, lambda a, B: (a.T * B).sum()),
    (
        "sum((X@W + a)**2)",
        {"X": (4, 3), "W": (3, 5), "a": (4, 1)},
        lambda X, W, a: ((X @ W + a) ** 2).sum(),
    ),
    (
        "sum(tanh(X@W + r))",
        {"X": (4, 3), "W": (3, 5), "r": (1, 5)},
        lambda X, W, r: np.tanh(X @ W + r).sum(),
    ),
    ("sum((a @ r)**2)", {"a": (3, 1), "r": (1, 4)}, lambda a, r: ((a @ r) ** 2).sum()),
    ("a.T @ B @ b", {"a": (3, 1), "B": (3, 4), "b": (4, 1)}, lambda a, B, b: (a.T @ B @ b).sum()),
    (
        "sum((X@w - a)**2)",
        {"X": (4, 3), "w": (3,), "a": (1, 1)},
        lambda X, w, a: ((X @ w - a) ** 2).sum(),
    ),
    (
        "sum(sum(a * B, dim=0)**2)",
        {"a": (4, 1), "B": (4, 5)},
        lambda a, B: ((a * B).sum(axis=0) ** 2).sum(),
    ),
    (
        "sum(mean(a + b, dim=1)**3)",
        {"a": (3, 1), "b": (1, 4)},
        lambda a, b: ((a + b).mean(axis=1) ** 3).sum(),
    ),
    (
        "sum((sum(X, dim=1) - a)**2)",
        {"X": (2, 3), "a": (4, 1)},
        lambda X, a: ((X.sum(axis=1) - a) ** 2).sum(),
    ),
    ("sum(X.sum(-1) * b)", {"X": (4, 5), "b": (3, 1)}, lambda X, b: (X.sum(axis=-1) * b).sum()),
]


def random_values(shapes: dict[str, tuple[int, ...]], seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {name: np.asarray(rng.uniform(-1, 1, size=shape)) for name, shape in shapes.items()}


def as_given(arrays: dict[str, np.ndarray]) -> dict[str, object]:
    """What a user passes: a float for a scalar, the array (a 1x1 or 3x1 stays 2-D)."""
    return {name: (float(a) if a.shape == () else a) for name, a in arrays.items()}


@pytest.mark.parametrize(("expression", "shapes", "loss"), CASES, ids=[case[0] for case in CASES])
def test_broadcast_gradients_agree_with_central_differences(expression, shapes, loss):
    arrays = random_values(shapes, len(expression))
    result = explain(expression, values=as_given(arrays), **TIGHT)
    assert result.status is ExitStatus.AGREE, result.verdict()
    assert result.value == pytest.approx(loss(**arrays), rel=1e-12, abs=1e-12)
    for name, array in arrays.items():
        gradient = result.gradients[name]
        assert gradient.shape == array.shape
        assert gradient.symbolic.shape == gradient.autograd.shape == array.shape
        expected = central_differences(loss, arrays, name)
        np.testing.assert_allclose(gradient.symbolic, expected, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(gradient.autograd, expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(
    ("expression", "shapes"),
    [
        ("sum((a - b)**2)", {"a": (3, 1), "b": (1, 4)}),
        ("sum(c * B)", {"c": (1, 1), "B": (3, 4)}),
        ("sum(u * B)", {"u": (1,), "B": (3, 4)}),
    ],
)
def test_autograd_gives_each_leaf_its_own_shape(expression, shapes):
    """torch reduces a stretched leaf's gradient back to the leaf's shape; check it does."""
    from gradexplain.ir.values import from_numbers
    from gradexplain.witnesses import autograd

    arrays = random_values(shapes, 7)
    values = {name: from_numbers(name, array) for name, array in arrays.items()}
    run = autograd.run(parse(expression), values, torch.device("cpu"), "float64", set(shapes))
    assert {name: g.shape for name, g in run.gradients.items()} == shapes


@pytest.mark.parametrize(
    ("expression", "shapes", "formulas"),
    [
        (
            "sum((a - b)**2)",
            {"a": (3, 1), "b": (1, 4)},
            {"a": "sum_m(2*a_j0 - 2*b_0m)", "b": "sum_i(-2*a_i0 + 2*b_0k)"},
        ),
        ("sum(a * B)", {"a": (3, 1), "B": (3, 4)}, {"a": "sum_m(B_jm)", "B": "a_j0"}),
        ("sum(a)", {"a": (3, 1)}, {"a": "1"}),
        ("sum(c * B)", {"c": (1, 1), "B": (2, 3)}, {"c": "sum_m(sum_i(B_im))", "B": "c_00"}),
    ],
)
def test_a_stretched_axis_is_element_0_and_its_gradient_sums_over_it(expression, shapes, formulas):
    result = explain(expression, values=as_given(random_values(shapes, 3)))
    assert {name: g.formula for name, g in result.gradients.items()} == formulas


def test_the_table_names_the_element_with_its_fixed_index():
    result = CliRunner().invoke(app, ["sum((a - b)**2)", "--a", "1;2;3", "--b", "1,2,3,4"], env=ENV)
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "gradexplain sum((a - b)**2)  (a: 3x1, b: 4)"
    assert lines[1] == "L = sum_m(sum_i((a_i0 - b_m)**2))"
    assert lines[2] == "y = (a - b)**2 (3x4)"
    assert "y_ik = (a_i0 - b_k)**2" in lines[4]  # the sum-rule table of y comes first
    at = lines.index("dL/da (3x1)")
    assert "dL/da_j0 = sum_m(2*a_j0 - 2*b_m)" in lines[at + 2]
    assert [line.split() for line in lines[at + 5 : at + 8]] == [
        ["│", "0,0", "│", "1", "│", "-12", "│", "-12", "│", "ok", "│"],
        ["│", "1,0", "│", "2", "│", "-4", "│", "-4", "│", "ok", "│"],
        ["│", "2,0", "│", "3", "│", "4", "│", "4", "│", "ok", "│"],
    ]
    assert "Chain rule, element by element: dL/da_j0 = sum_m(2*a_j0 - 2*b_m)." in lines
    assert lines[-1].startswith("SymPy and autograd agree on cpu, float64")


def test_json_shapes_are_the_variables_shapes():
    import json

    result = CliRunner().invoke(
        app, ["sum(a * B)", "--a", "1;2;3", "--B", "1,2;3,4;5,6", "--format", "json"], env=ENV
    )
    assert result.exit_code == 0
    document = json.loads(result.output)
    assert document["shapes"] == {"a": [3, 1], "B": [3, 2]}
    assert document["gradients"]["a"]["shape"] == [3, 1]
    assert document["gradients"]["a"]["symbolic"] == [[3], [7], [11]]
    assert document["gradients"]["a"]["autograd"] == [[3], [7], [11]]
    assert document["gradients"]["B"]["symbolic"] == [[1, 1], [2, 2], [3, 3]]


def test_a_valid_column_and_vector_is_not_refused():
    """(3,1) + (2,) is (3,2) in torch: the column stretches, and so does the vector."""
    result = CliRunner().invoke(app, ["sum((a + v)**2)", "--a", "1;2;3", "--v", "1,2"], env=ENV)
    assert result.exit_code == 0, result.output
    assert "(a: 3x1, v: 2)" in result.output.splitlines()[0]


def _all_shapes(largest: int = 3) -> list[tuple[int, ...]]:
    sizes = range(1, largest + 1)
    return [(), *((n,) for n in sizes), *itertools.product(sizes, sizes)]


def _ours(*shapes: tuple[int, ...]) -> tuple[int, ...] | None:
    node = parse("a + b")
    try:
        return broadcast(node, list(shapes), "a + b")
    except ShapeError:
        return None


def _torchs(*shapes: tuple[int, ...]) -> tuple[int, ...] | None:
    try:
        return tuple(torch.broadcast_shapes(*shapes))
    except RuntimeError:
        return None


def test_the_shape_pass_broadcasts_every_pair_as_torch_does():
    shapes = _all_shapes()
    differ = [
        (a, b, _ours(a, b), _torchs(a, b))
        for a in shapes
        for b in shapes
        if _ours(a, b) != _torchs(a, b)
    ]
    assert differ == []
    assert len(shapes) ** 2 == 169


@settings(max_examples=200, deadline=None, database=None)
@given(st.lists(st.sampled_from(_all_shapes(4)), min_size=1, max_size=3))
def test_where_broadcasts_three_shapes_as_torch_does(shapes):
    assert _ours(*shapes) == _torchs(*shapes)


_PAIRS = [(a, b) for a in _all_shapes() for b in _all_shapes() if _torchs(a, b) is not None]


@settings(max_examples=15, deadline=None, database=None)
@given(st.sampled_from(_PAIRS), st.integers(0, 2**32 - 1))
def test_both_witnesses_agree_for_any_pair_torch_broadcasts(pair, seed):
    """Shapes from the pairs torch accepts; the gradients keep each variable's shape."""
    shapes = {"a": pair[0], "b": pair[1]}
    arrays = random_values(shapes, seed)
    result = explain("sum(sin(a*b) + a**2*b)", values=as_given(arrays), **TIGHT)
    assert result.status is ExitStatus.AGREE, result.verdict()
    assert {name: g.shape for name, g in result.gradients.items()} == shapes
    tree = parse("a*b")
    assert infer(tree, shapes, "a*b")[id(tree)] == _torchs(*pair)


@pytest.mark.parametrize(
    ("name", "shape", "label"),
    [
        ("W", (3, 4), "W_jk"),
        ("a", (3, 1), "a_j0"),
        ("r", (1, 4), "r_0k"),
        ("c", (1, 1), "c_00"),
        ("x", (5,), "x_j"),
        ("u", (1,), "u_0"),
        ("s", (), "s"),
    ],
)
def test_element_labels(name, shape, label):
    assert element(name, shape) == label


def test_where_stretches_its_condition_and_branches():
    """A 1x4 condition of data picks, per column, between a stretched 3x1 and a 3x4."""
    arrays = random_values({"a": (3, 1), "B": (3, 4), "D": (1, 4)}, 11)

    def loss(a, B, D):
        return np.where(D > 0, a * B, B - a).sum()

    result = explain("sum(where(D > 0, a*B, B - a))", values=as_given(arrays), wrt="a,B", **TIGHT)
    assert result.status is ExitStatus.AGREE, result.verdict()
    for name in ("a", "B"):
        expected = central_differences(loss, arrays, name)
        np.testing.assert_allclose(result.gradients[name].symbolic, expected, rtol=1e-6, atol=1e-7)


def test_hessian_of_a_stretched_pair():
    """L = sum over (i, k) of (a_i - b_k)**2: 2*K on a's diagonal, 2*I on b's, -2 across."""
    result = explain("sum((a - b)**2)", a=[[1.0], [2.0]], b=[[1.0, 2.0, 0.5]], hessian=True)
    assert result.status is ExitStatus.AGREE, result.verdict()
    assert result.hessian.labels == ("a[0,0]", "a[1,0]", "b[0,0]", "b[0,1]", "b[0,2]")
    expected = np.block(
        [[6 * np.eye(2), -2 * np.ones((2, 3))], [-2 * np.ones((3, 2)), 4 * np.eye(3)]]
    )
    np.testing.assert_array_equal(result.hessian.symbolic, expected)
    np.testing.assert_allclose(result.hessian.autograd, expected, rtol=1e-12, atol=1e-12)
