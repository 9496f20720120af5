"""Shape operations (reshape, view, flatten, t, transpose, permute, squeeze, unsqueeze,
flip, roll, repeat, expand, triu, tril, cat, stack) against torch autograd of the same
operations and float64 central differences, with their input errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gradexplain import ExitStatus, explain
from gradexplain.errors import ExpressionError
from tests.helpers import Reference, assert_matches_torch

X6 = np.array([1.0, -2.0, 3.0, 0.5, 2.5, -1.5])
W3 = np.array([0.3, -1.2, 2.0])
W2 = np.array([1.5, -0.5])
M = np.array([[1.0, 2.0, -1.0], [0.5, -3.0, 2.0]])
S = np.array([[1.0, 2.0, -1.0], [0.5, -3.0, 2.0], [4.0, 0.2, -0.7]])
ROW = np.array([[1.0, -2.0, 3.0]])

CASES: list[tuple[str, dict[str, object], Reference]] = [
    (
        "sum(x.reshape(2, 3)**2 * w)",
        {"x": X6, "w": W3},
        lambda x, w: (x.reshape(2, 3) ** 2 * w).sum(),
    ),
    (
        "sum(torch.reshape(x, (3, 2)) @ v)",
        {"x": X6, "v": W2},
        lambda x, v: (torch.reshape(x, (3, 2)) @ v).sum(),
    ),
    ("sum(X.view(-1)**3)", {"X": M}, lambda X: (X.view(-1) ** 3).sum()),
    ("sum(X.flatten() * x)", {"X": M, "x": X6}, lambda X, x: (X.flatten() * x).sum()),
    ("sum(X.reshape(3, 2)**2)", {"X": M}, lambda X: (X.reshape(3, 2) ** 2).sum()),
    ("sum(X.t() @ v)", {"X": M, "v": W2}, lambda X, v: (X.t() @ v).sum()),
    ("sum(torch.t(X)**2 * v)", {"X": M, "v": W2}, lambda X, v: (torch.t(X) ** 2 * v).sum()),
    (
        "sum(X.transpose(0, 1)[0] * v)",
        {"X": M, "v": W2},
        lambda X, v: (X.transpose(0, 1)[0] * v).sum(),
    ),
    (
        "sum(torch.transpose(X, -1, -2) @ v)",
        {"X": M, "v": W2},
        lambda X, v: (torch.transpose(X, -1, -2) @ v).sum(),
    ),
    (
        "sum(X.permute(1, 0)**2 * v)",
        {"X": M, "v": W2},
        lambda X, v: (X.permute(1, 0) ** 2 * v).sum(),
    ),
    ("sum(w.unsqueeze(0) * X)", {"w": W3, "X": M}, lambda w, X: (w.unsqueeze(0) * X).sum()),
    ("sum(v.unsqueeze(1) * X)", {"v": W2, "X": M}, lambda v, X: (v.unsqueeze(1) * X).sum()),
    ("sum(D.squeeze()**2 * w)", {"D": ROW, "w": W3}, lambda D, w: (D.squeeze() ** 2 * w).sum()),
    ("sum(D.squeeze(0) * w)", {"D": ROW, "w": W3}, lambda D, w: (D.squeeze(0) * w).sum()),
    (
        "sum(torch.flip(w, [0]) * exp(w))",
        {"w": W3},
        lambda w: (torch.flip(w, [0]) * torch.exp(w)).sum(),
    ),
    ("sum(X.flip(1)**2 * X)", {"X": M}, lambda X: (X.flip(1) ** 2 * X).sum()),
    ("sum(w.roll(1) * w**2)", {"w": W3}, lambda w: (w.roll(1) * w**2).sum()),
    ("sum(torch.roll(X, -1, 0) * X**2)", {"X": M}, lambda X: (torch.roll(X, -1, 0) * X**2).sum()),
    ("sum(v.repeat(3) * x)", {"v": W2, "x": X6}, lambda v, x: (v.repeat(3) * x).sum()),
    ("sum(X.repeat(2, 1)**2)", {"X": M}, lambda X: (X.repeat(2, 1) ** 2).sum()),
    ("sum(D.expand(2, 3) * X)", {"D": ROW, "X": M}, lambda D, X: (D.expand(2, 3) * X).sum()),
    ("sum(torch.triu(X)**2)", {"X": S}, lambda X: (torch.triu(X) ** 2).sum()),
    ("sum(X.tril(-1) * X)", {"X": S}, lambda X: (X.tril(-1) * X).sum()),
    (
        "sum(torch.triu(X, diagonal=1)**2)",
        {"X": M},
        lambda X: (torch.triu(X, diagonal=1) ** 2).sum(),
    ),
    (
        "sum(torch.cat([w, v**2]) * x[:5])",
        {"w": W3, "v": W2, "x": X6},
        lambda w, v, x: (torch.cat([w, v**2]) * x[:5]).sum(),
    ),
    (
        "sum(torch.cat((X, X**2), dim=1)**2)",
        {"X": M},
        lambda X: (torch.cat((X, X**2), dim=1) ** 2).sum(),
    ),
    ("sum(torch.stack([w, w**2])**2)", {"w": W3}, lambda w: (torch.stack([w, w**2]) ** 2).sum()),
    (
        "sum(torch.stack([v, 2*v], dim=1) @ w[:2])",
        {"v": W2, "w": W3},
        lambda v, w: (torch.stack([v, 2 * v], dim=1) @ w[:2]).sum(),
    ),
]


@pytest.mark.parametrize(
    ("expression", "values", "reference"), CASES, ids=[case[0] for case in CASES]
)
def test_shape_ops_match_torch_and_finite_differences(
    expression: str, values: dict[str, object], reference: Reference
) -> None:
    assert_matches_torch(expression, values, reference)


def test_t_stays_a_variable_name() -> None:
    """x.t() and torch.t(X) are spellings; `t` alone is a variable (a target, often)."""
    result = explain("sum(x.t() * t)", {"x": W3, "t": W3})
    assert result.status is ExitStatus.AGREE


@pytest.mark.parametrize(
    ("expression", "values", "fragment"),
    [
        ("sum(x.reshape(4, 2))", {"x": X6}, "shape 4x2 is invalid for 6 (6 elements)"),
        ("sum(x.reshape(-1, -1))", {"x": X6}, "at most one -1"),
        ("sum(x.unsqueeze(0).unsqueeze(0))", {"x": X6}, "at most 2 dimensions"),
        ("sum(X.unsqueeze(0))", {"X": M}, "at most 2 dimensions"),
        ("sum(x.unsqueeze(2))", {"x": X6}, "dim 2 is out of range"),
        ("sum(X.transpose(0, 2))", {"X": M}, "dim 2 is out of range"),
        ("sum(X.permute(0, 0))", {"X": M}, "permute() needs each of the 2 dims once"),
        ("sum(X.roll(1))", {"X": M}, "roll() of a matrix needs a dim"),
        ("sum(X.expand(2, 4))", {"X": M}, "size 3 cannot be stretched to 4"),
        ("sum(torch.triu(x))", {"x": X6}, "triu() takes a matrix"),
        ("sum(torch.cat([x, X]))", {"x": X6, "X": M}, "do not fit together"),
        ("sum(torch.stack([x, w]))", {"x": X6, "w": W3}, "do not fit together"),
    ],
)
def test_bad_shape_ops_are_input_errors(
    expression: str, values: dict[str, object], fragment: str
) -> None:
    with pytest.raises(ExpressionError) as caught:
        explain(expression, values)
    assert fragment in caught.value.message
    assert caught.value.exit_status is ExitStatus.INVALID


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("t(x)", "t() alone is not a spelling; write x.t()"),
        ("torch.cat(x)", "cat() takes a list of tensors"),
        ("x.reshape(2.5)", "an argument of reshape() must be an integer"),
        ("x.flip(dims=x)", "an argument of flip() must be an integer"),
        ("x.squeeze(dims=0)", "keyword argument dims= of squeeze() is not supported (only dim=)"),
        ("x.reshape(dim=0)", "keyword argument dim= of reshape() is not supported"),
    ],
)
def test_bad_shape_op_spellings_are_refused(expression: str, fragment: str) -> None:
    from gradexplain.ir.parser import parse

    with pytest.raises(ExpressionError) as caught:
        parse(expression)
    assert fragment in caught.value.message
