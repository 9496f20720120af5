"""Matrix expressions that fuzzing broke once, each checked by both witnesses at 1e-12 and
against float64 central differences of a numpy loss."""

from __future__ import annotations

import re

import numpy as np
import pytest

from gradexplain import ExitStatus, explain
from tests.helpers import central_differences
from tests.test_matrices import log_softmax, sigmoid, softmax

# Found by scripts/fuzz_matrices.py (random matrix expressions through explain()).
# (expression, shapes, numpy loss, variables differentiated: None for all, else Y is data)
# - SymPy wrote d|u|/dr with re() and im() around the deltas, which no sum could resolve.
# - sp.Sum's piecewise_fold pulled a where() out of the inner Sum that binds its index
#   (the where() inside mean(dim=0), sum(dim=0), `@`, softmax's sum or prod(dim=0)).
# - A delta in one branch of a where() stayed unresolved when that branch had terms
#   without it (softmax) or the other branch had none (the branch without X).
_X, _Y, _W = {"X": (2, 3)}, {"Y": (2, 3)}, {"W": (3, 2)}
FUZZED = [
    (
        "max(X, dim=0) @ abs((X * r).T @ (v / (2 + tanh(v))))",
        {**_X, "r": (1, 3), "v": (2,)},
        lambda X, r, v: X.max(axis=0) @ np.abs((X * r).T @ (v / (2 + np.tanh(v)))),
        None,
    ),
    (
        "mean(where(Y > 0, (Y + X), (X + 0.5)), dim=0)",
        {**_X, **_Y},
        lambda X, Y: np.where(Y > 0, Y + X, X + 0.5).mean(axis=0).sum(),
        ("X",),
    ),
    (
        "sum(cos(sum(where(Y > 0, (Y * r), X), dim=0)))",
        {**_X, **_Y, "r": (1, 3)},
        lambda X, Y, r: np.cos(np.where(Y > 0, Y * r, X).sum(axis=0)).sum(),
        ("X", "r"),
    ),
    (
        "sum(((exp(tanh((X - 2))).T @ where(Y.sum(1) > 0, log((1 + v**2)), tanh(v))) - mean(W)))",
        {**_X, **_Y, **_W, "v": (2,)},
        lambda X, Y, W, v: (
            np.exp(np.tanh(X - 2)).T @ np.where(Y.sum(1) > 0, np.log(1 + v**2), np.tanh(v))
            - W.mean()
        ).sum(),
        ("W", "X", "v"),
    ),
    (
        "mean(((c + log((1 + log((1 + w**2))**2))) + (where(Y > 0, X, exp(tanh(Y))).T @ v)))",
        {**_X, **_Y, "c": (), "w": (3,), "v": (2,)},
        lambda X, Y, c, w, v: (
            c + np.log(1 + np.log(1 + w**2) ** 2) + np.where(Y > 0, X, np.exp(np.tanh(Y))).T @ v
        ).mean(),
        ("X", "c", "v", "w"),
    ),
    (
        "sum(log_softmax(where(Y > 0, sigmoid(X), X), dim=-1))",
        {**_X, **_Y},
        lambda X, Y: log_softmax(np.where(Y > 0, sigmoid(X), X), -1).sum(),
        ("X",),
    ),
    (
        "sum(prod(where(Y > 0, X, Y), dim=0))",
        {**_X, **_Y},
        lambda X, Y: np.where(Y > 0, X, Y).prod(axis=0).sum(),
        ("X",),
    ),
    (
        "where(Y > 0, cos(Y), softmax(X, dim=-1))",
        {**_X, **_Y},
        lambda X, Y: np.where(Y > 0, np.cos(Y), softmax(X, -1)).sum(),
        ("X",),
    ),
    (
        "sum((X @ (where(Y > 0, X, Y).T @ sum(X, dim=1))))",
        {**_X, **_Y},
        lambda X, Y: (X @ (np.where(Y > 0, X, Y).T @ X.sum(axis=1))).sum(),
        ("X",),
    ),
    (
        "mean(((X@W) @ (((c * 2) + where(Y > 0, Y, X)) - c)))",
        {**_X, **_Y, **_W, "c": ()},
        lambda X, Y, W, c: ((X @ W) @ (c * 2 + np.where(Y > 0, Y, X) - c)).mean(),
        ("W", "X", "c"),
    ),
    (
        "sum(relu((where(Y > 0, (X - Y), where(Y > 0, X, X)) @ (w * (w * w)))))",
        {**_X, **_Y, "w": (3,)},
        lambda X, Y, w: np.maximum(np.where(Y > 0, X - Y, X) @ w**3, 0).sum(),
        ("X", "w"),
    ),
    (
        "prod(where(Y > 0, Y, X) @ (Y.T @ v))",
        {**_X, **_Y, "v": (2,)},
        lambda X, Y, v: (np.where(Y > 0, Y, X) @ (Y.T @ v)).prod(),
        ("X", "v"),
    ),
    (
        "prod(where(Y > 0, Y, X) @ Y.T @ v)",
        {**_X, **_Y, "v": (2,)},
        lambda X, Y, v: (np.where(Y > 0, Y, X) @ Y.T @ v).prod(),
        ("X", "v"),
    ),
    (
        "prod(sum(where(Y > 0, X, Y), dim=1))",
        {**_X, **_Y},
        lambda X, Y: np.where(Y > 0, X, Y).sum(axis=1).prod(),
        ("X",),
    ),
    (
        "sum(prod(where(Y > 0, X, 2*X), dim=0))",
        {**_X, **_Y},
        lambda X, Y: np.where(Y > 0, X, 2 * X).prod(axis=0).sum(),
        ("X",),
    ),
    ("prod(where(Y > 0, X, Y))", {**_X, **_Y}, lambda X, Y: np.where(Y > 0, X, Y).prod(), ("X",)),
]


@pytest.mark.parametrize(
    ("expression", "shapes", "loss", "wrt"), FUZZED, ids=[case[0] for case in FUZZED]
)
def test_fuzzed_matrix_expressions(expression, shapes, loss, wrt):
    rng = np.random.default_rng(7)
    arrays = {
        name: np.asarray(rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.5, 1.5, size=shape))
        for name, shape in shapes.items()
    }
    given = {name: (float(a) if a.shape == () else a) for name, a in arrays.items()}
    result = explain(expression, values=given, wrt=None if wrt is None else list(wrt))
    assert result.status is ExitStatus.AGREE, result.verdict()
    for name in wrt or shapes:
        gradient = result.gradients[name]
        assert not re.search(r"\b(re|im)\(", gradient.formula)  # where( is fine
        np.testing.assert_allclose(gradient.symbolic, gradient.autograd, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(
            gradient.symbolic, central_differences(loss, arrays, name), rtol=1e-6, atol=1e-7
        )
