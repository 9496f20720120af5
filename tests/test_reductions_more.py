"""Reductions with the keywords PyTorch takes (dim as an int, negative or a tuple,
keepdim, axis, correction/unbiased, p/ord) and var, std, norm, amax, amin: SymPy against
autograd at 1e-12, both against central differences of numpy written here.
"""

from __future__ import annotations

import numpy as np
import pytest

from gradexplain import ExitStatus, explain
from tests.helpers import central_differences

V = np.array([0.5, -1.25, 2.0, 0.75])
M = np.array([[0.5, -1.25, 2.0], [1.5, 0.25, -0.75]])
S = 0.6


def logsumexp(u, axis=None, keepdims=False):
    top = np.max(u, axis=axis, keepdims=True)
    found = top + np.log(np.exp(u - top).sum(axis=axis, keepdims=True))
    return found if keepdims else np.squeeze(found, axis=axis)


def weights(shape):
    """Weights that make every output element count differently."""
    return np.arange(1.0, 1.0 + np.prod(shape, dtype=int)).reshape(shape) / 3.0


CASES = [
    # (expression, values, numpy of the result before the weighting)
    ("x.sum(dim=0)", {"x": V}, lambda x: x.sum(axis=0)),
    ("torch.sum(X, dim=(0, 1))", {"X": M}, lambda X: X.sum()),
    ("X.sum(dim=-1, keepdim=True)", {"X": M}, lambda X: X.sum(axis=-1, keepdims=True)),
    ("torch.sum(X, axis=0)", {"X": M}, lambda X: X.sum(axis=0)),
    ("X.sum(1, True)", {"X": M}, lambda X: X.sum(axis=1, keepdims=True)),
    ("X.sum(keepdim=True)", {"X": M}, lambda X: X.sum(keepdims=True)),
    ("X.mean(dim=(-1, -2))", {"X": M}, lambda X: X.mean()),
    ("torch.mean(X, 0, keepdim=True)", {"X": M}, lambda X: X.mean(axis=0, keepdims=True)),
    ("X.prod(dim=1, keepdim=True)", {"X": M}, lambda X: X.prod(axis=1, keepdims=True)),
    (
        "torch.logsumexp(X, dim=1, keepdim=True)",
        {"X": M},
        lambda X: logsumexp(X, axis=1, keepdims=True),
    ),
    ("X.logsumexp((0, 1))", {"X": M}, lambda X: logsumexp(X)),
    ("torch.special.logsumexp(x, 0)", {"x": V}, lambda x: logsumexp(x)),
    ("X.amax(dim=(0, 1))", {"X": M}, lambda X: X.max()),
    ("torch.amax(X, 1, keepdim=True)", {"X": M}, lambda X: X.max(axis=1, keepdims=True)),
    ("X.amin(-2)", {"X": M}, lambda X: X.min(axis=0)),
    ("torch.amin(x)", {"x": V}, lambda x: x.min()),
    ("X.max(dim=1, keepdim=True)", {"X": M}, lambda X: X.max(axis=1, keepdims=True)),
    ("torch.var(x)", {"x": V}, lambda x: x.var(ddof=1)),
    ("x.var(unbiased=False)", {"x": V}, lambda x: x.var()),
    ("torch.var(X, dim=1, correction=0)", {"X": M}, lambda X: X.var(axis=1)),
    ("X.var(0, keepdim=True)", {"X": M}, lambda X: X.var(axis=0, ddof=1, keepdims=True)),
    ("torch.var(X, (0, 1), correction=2)", {"X": M}, lambda X: X.var(ddof=2)),
    ("torch.std(x)", {"x": V}, lambda x: x.std(ddof=1)),
    (
        "X.std(dim=-1, unbiased=False, keepdim=True)",
        {"X": M},
        lambda X: X.std(axis=-1, keepdims=True),
    ),
    ("torch.std(X, axis=0)", {"X": M}, lambda X: X.std(axis=0, ddof=1)),
    ("x.norm()", {"x": V}, lambda x: np.sqrt((x**2).sum())),
    ("torch.norm(X)", {"X": M}, lambda X: np.sqrt((X**2).sum())),
    ("torch.norm(X, p='fro')", {"X": M}, lambda X: np.sqrt((X**2).sum())),
    ("x.norm(p=1)", {"x": V}, lambda x: np.abs(x).sum()),
    ("x.norm(3)", {"x": V}, lambda x: (np.abs(x) ** 3).sum() ** (1 / 3)),
    ("x.norm(p=0.5)", {"x": V}, lambda x: (np.abs(x) ** 0.5).sum() ** 2),
    ("x.norm(p=float('inf'))", {"x": V}, lambda x: np.abs(x).max()),
    ("torch.linalg.vector_norm(x, ord=-float('inf'))", {"x": V}, lambda x: np.abs(x).min()),
    (
        "torch.linalg.vector_norm(X, ord=torch.inf, dim=1)",
        {"X": M},
        lambda X: np.abs(X).max(axis=1),
    ),
    ("torch.linalg.vector_norm(X, dim=0)", {"X": M}, lambda X: np.sqrt((X**2).sum(axis=0))),
    (
        "torch.linalg.vector_norm(X, ord=1.5, dim=(0, 1), keepdim=True)",
        {"X": M},
        lambda X: ((np.abs(X) ** 1.5).sum() ** (1 / 1.5)).reshape(1, 1),
    ),
    (
        "X.norm(p=2, dim=-1, keepdim=True)",
        {"X": M},
        lambda X: np.sqrt((X**2).sum(axis=-1, keepdims=True)),
    ),
    # torch.linalg.norm / matrix_norm: matrix norms (numpy's np.linalg.norm is the value)
    ("torch.linalg.norm(X)", {"X": M}, lambda X: np.linalg.norm(X)),
    ("torch.linalg.norm(X, 'fro')", {"X": M}, lambda X: np.linalg.norm(X, "fro")),
    ("torch.linalg.norm(X, ord=1)", {"X": M}, lambda X: np.linalg.norm(X, 1)),
    ("torch.linalg.norm(X, -1)", {"X": M}, lambda X: np.linalg.norm(X, -1)),
    ("torch.linalg.norm(X, float('inf'))", {"X": M}, lambda X: np.linalg.norm(X, np.inf)),
    ("torch.linalg.norm(X, ord=-math.inf)", {"X": M}, lambda X: np.linalg.norm(X, -np.inf)),
    ("torch.linalg.norm(X, 1, dim=(1, 0))", {"X": M}, lambda X: np.linalg.norm(X.T, 1)),
    ("torch.linalg.norm(X, ord='fro', dim=(0, 1))", {"X": M}, lambda X: np.linalg.norm(X)),
    (
        "torch.linalg.norm(X, torch.inf, (-2, -1), True)",
        {"X": M},
        lambda X: np.linalg.norm(X, np.inf, keepdims=True),
    ),
    ("torch.linalg.matrix_norm(X)", {"X": M}, lambda X: np.linalg.norm(X)),
    (
        "torch.linalg.matrix_norm(X, ord=-1, keepdim=True)",
        {"X": M},
        lambda X: np.linalg.norm(X, -1, keepdims=True),
    ),
    ("matrix_norm(X.T, float('inf'))", {"X": M}, lambda X: np.linalg.norm(X.T, np.inf)),
    ("torch.linalg.norm(x)", {"x": V}, lambda x: np.linalg.norm(x)),
    ("torch.linalg.norm(x, 3)", {"x": V}, lambda x: np.linalg.norm(x, 3)),
    ("torch.linalg.norm(x, ord=float('inf'))", {"x": V}, lambda x: np.linalg.norm(x, np.inf)),
    ("torch.linalg.norm(X, dim=1)", {"X": M}, lambda X: np.linalg.norm(X, axis=1)),
    ("torch.linalg.norm(X, 1, dim=0)", {"X": M}, lambda X: np.linalg.norm(X, 1, axis=0)),
    ("torch.cumsum(x, 0)", {"x": V}, lambda x: np.cumsum(x)),
    ("X.cumsum(dim=-1)", {"X": M}, lambda X: np.cumsum(X, axis=-1)),
    ("torch.cumsum(X, axis=0) * X", {"X": M}, lambda X: np.cumsum(X, axis=0) * X),
    ("c.cumsum(0)", {"c": S}, lambda c: c),
    ("torch.cumprod(x, 0)", {"x": V}, lambda x: np.cumprod(x)),
    ("torch.cumprod(x, dim=-1)", {"x": np.array([0.5, 0.0, 2.0, -1.5])}, lambda x: np.cumprod(x)),
    ("X.cumprod(1) * X", {"X": M}, lambda X: np.cumprod(X, axis=1) * X),
    ("torch.cumprod(X, axis=0)", {"X": M}, lambda X: np.cumprod(X, axis=0)),
    # a scalar: dim 0 and -1 are its only dim, as in torch
    ("torch.sum(c, dim=0)", {"c": S}, lambda c: c),
    ("c.mean(-1)", {"c": S}, lambda c: c),
    ("torch.logsumexp(c, dim=0)", {"c": S}, lambda c: c),
    ("c.amax(0)", {"c": S}, lambda c: c),
    ("torch.softmax(c, 0) * c", {"c": S}, lambda c: c),
    ("torch.norm(c, dim=0)", {"c": S}, lambda c: abs(c)),
]


@pytest.mark.parametrize(
    ("expression", "values", "function"), CASES, ids=[case[0] for case in CASES]
)
def test_reduction_agrees_three_ways(expression, values, function):
    arrays = {name: np.asarray(value, dtype=np.float64) for name, value in values.items()}
    shape = np.shape(function(**arrays))
    weighted = f"({expression}) * w" if shape else expression
    given = {name: (float(a) if a.shape == () else a) for name, a in arrays.items()}
    if shape:
        given["w"] = weights(shape)
        arrays["w"] = weights(shape)

    def loss(**a):
        value = function(**{name: a[name] for name in values})
        return float(np.sum(value * a["w"])) if shape else float(value)

    result = explain(weighted, values=given)
    assert result.status is ExitStatus.AGREE, result.verdict()
    assert result.value == pytest.approx(loss(**arrays), rel=1e-12, abs=1e-12)
    for name in values:
        gradient = result.gradients[name]
        np.testing.assert_allclose(gradient.symbolic, gradient.autograd, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(
            gradient.symbolic, central_differences(loss, arrays, name), rtol=1e-6, atol=1e-7
        )


@pytest.mark.parametrize(
    ("expression", "values", "function", "reason"),
    [
        ("x.std()", [1.0, 1.0, 1.0], "std", "every element of a slice"),
        ("torch.var(x)", [2.0], "var", "N <= 1 elements"),
        ("x.norm()", [0.0, 0.0], "norm", "every element (of a slice) is 0"),
        ("x.norm(p=1)", [0.0, 2.0], "norm", "kink at every element that is 0"),
        ("x.norm(p=float('inf'))", [-3.0, 3.0, 1.0], "norm", "tie for the largest |u_k|"),
        ("X.amax(dim=1)", [[1.0, 1.0], [0.0, 2.0]], "amax", "tie for its largest value"),
        (
            "torch.linalg.norm(X, 1)",
            [[1.0, -2.0], [2.0, 1.0]],
            "linalg_norm",
            "two columns tie for the largest sum",
        ),
        (
            "torch.linalg.matrix_norm(X, ord=float('inf'))",
            [[1.0, 0.0], [0.5, 0.25]],
            "matrix_norm",
            "or where an element of that row is 0",
        ),
        (
            "torch.linalg.matrix_norm(X, -1)",
            [[2.0, 3.0], [0.0, -1.0]],
            "matrix_norm",
            "smallest column sum of |X|",
        ),
        ("torch.linalg.norm(X)", [[0.0, 0.0], [0.0, 0.0]], "linalg_norm", "every element"),
    ],
)
def test_reductions_name_their_kinks_and_poles(expression, values, function, reason):
    name = "X" if "X" in expression else "x"
    result = explain(expression, {name: np.array(values)})
    assert result.status is ExitStatus.UNDEFINED
    assert result.singularities[0].function == function
    assert reason in result.singularities[0].reason


def test_max_ties_split_the_gradient_as_torch_does():
    result = explain("torch.linalg.vector_norm(x, ord=float('inf'))", x=[3.0, -3.0, 1.0])
    np.testing.assert_array_equal(result.gradients["x"].autograd, [0.5, -0.5, 0.0])
    np.testing.assert_array_equal(result.gradients["x"].symbolic, [0.5, -0.5, 0.0])


def test_var_formula_is_in_a_generic_element():
    formula = explain("x.var(unbiased=False)", x=[1.0, 2.0, 4.0]).gradients["x"].formula
    assert "x_j" in formula and "sum_k" in formula


def test_a_matrix_norm_gradient_at_a_kink_is_torch_s_convention():
    """Two columns tie for the largest sum: torch splits the gradient evenly, as does the
    symbolic rule; the verdict is still UNDEFINED, since no derivative exists there."""
    result = explain("torch.linalg.norm(X, ord=1)", X=[[1.0, -2.0], [2.0, 1.0]])
    assert result.status is ExitStatus.UNDEFINED
    np.testing.assert_array_equal(result.gradients["X"].autograd, [[0.5, -0.5], [0.5, 0.5]])
    np.testing.assert_array_equal(result.gradients["X"].symbolic, [[0.5, -0.5], [0.5, 0.5]])


@pytest.mark.parametrize(
    ("expression", "values", "fragment"),
    [
        ("torch.linalg.norm(X, 'nuc')", {"X": M}, "the nuclear norm is the sum of the singular"),
        ("torch.norm(X, p='nuc')", {"X": M}, "p='nuc' of norm() is not supported: the nuclear"),
        ("torch.linalg.norm(X, 2)", {"X": M}, "the spectral norm ord=2 is the largest singular"),
        ("torch.linalg.matrix_norm(X, ord=-2)", {"X": M}, "ord=-2 is the smallest singular"),
        ("torch.linalg.norm(X, 3)", {"X": M}, "ord=3 of torch.linalg.norm() is not a matrix"),
        ("torch.linalg.norm(x, 'fro')", {"x": V}, "ord='fro' of torch.linalg.norm() needs a"),
        ("torch.linalg.matrix_norm(x)", {"x": V}, "needs a matrix and two dims, got shape 4"),
        ("torch.linalg.norm(X, 1, dim=(0, 1, 1))", {"X": M}, "needs a matrix and two dims"),
        ("torch.linalg.norm(X, ord='max')", {"X": M}, "ord='max' of linalg_norm() is not"),
        ("torch.linalg.norm(X, p=1)", {"X": M}, "keyword p= of linalg_norm() is not supported"),
    ],
)
def test_matrix_norms_refuse_what_they_cannot_do(expression, values, fragment):
    from gradexplain.errors import GradexplainError

    with pytest.raises(GradexplainError) as caught:
        explain(expression, values)
    assert fragment in caught.value.message
    assert caught.value.exit_status is ExitStatus.INVALID
