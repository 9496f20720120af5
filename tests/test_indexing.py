"""Indexing: constants, slices, negative indices and integer arrays (`x[idx]`,
`sm[range(len(t)), t]`), against torch autograd written out here and float64 central
differences, with their input errors (exit 2, with the column)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch

from gradexplain import ExitStatus, explain
from gradexplain.errors import ExpressionError, ValuesError

X4 = np.array([1.5, -2.0, 3.0, 0.5])
M = np.array([[1.0, 2.0, -1.0], [0.5, -3.0, 2.0]])
W3 = np.array([0.3, -1.2, 2.0])
Z = np.array([[1.0, 2.0, 0.5], [-1.0, 0.0, 3.0], [0.2, 0.1, -0.4]])
T = np.array([2.0, 0.0, 1.0])  # class indices: integer data
IDX = np.array([0.0, 3.0, 0.0, 2.0])  # repeats accumulate, as in torch

Reference = Callable[..., torch.Tensor]

CASES: list[tuple[str, dict[str, object], Reference]] = [
    ("x[0]*x[-1]", {"x": X4}, lambda x: x[0] * x[-1]),
    ("sum(x[1:3]**2)", {"x": X4}, lambda x: (x[1:3] ** 2).sum()),
    ("sum(x[::2]**3)", {"x": X4}, lambda x: (x[::2] ** 3).sum()),
    ("sum(x[1::2]*x[:2])", {"x": X4}, lambda x: (x[1::2] * x[:2]).sum()),
    ("sum(exp(x[-3:-1]))", {"x": X4}, lambda x: torch.exp(x[-3:-1]).sum()),
    ("x[1:3]", {"x": X4}, lambda x: x[1:3]),  # a vector result: backward(ones)
    ("sum(X[:, 1]**2)", {"X": M}, lambda X: (X[:, 1] ** 2).sum()),
    ("X[1, -2]**2", {"X": M}, lambda X: X[1, -2] ** 2),
    ("sum(X[0]*w)", {"X": M, "w": W3}, lambda X, w: (X[0] * w).sum()),
    ("sum(X[1:, :2]*3)", {"X": M}, lambda X: (X[1:, :2] * 3).sum()),
    ("sum(X[-1]**2) + X[0, 0]", {"X": M}, lambda X: (X[-1] ** 2).sum() + X[0, 0]),
    ("sum((X @ w)[1:])", {"X": M, "w": W3}, lambda X, w: (X @ w)[1:].sum()),
    ("sum(X.T[1])", {"X": M}, lambda X: X.T[1].sum()),
    ("sum(softmax(X, dim=1)[:, 0])", {"X": M}, lambda X: torch.softmax(X, 1)[:, 0].sum()),
]

LITERAL_CASES: list[tuple[str, dict[str, object], Reference]] = [
    (
        "sum(x * torch.tensor([1., 2., 3., -1]))",
        {"x": X4},
        lambda x: (x * torch.tensor([1.0, 2.0, 3.0, -1.0])).sum(),
    ),
    (
        "sum(X @ torch.tensor([[1, 0], [0.5, 2], [-1, 3]]))",
        {"X": M},
        lambda X: (X @ torch.tensor([[1.0, 0], [0.5, 2], [-1, 3]], dtype=torch.float64)).sum(),
    ),
    ("sum(x[[0, 3, 3]]**2)", {"x": X4}, lambda x: (x[[0, 3, 3]] ** 2).sum()),
    ("sum(X[[1, 0], 2])", {"X": M}, lambda X: X[[1, 0], 2].sum()),
    ("sum(x[[-1, 0, -1]]**2)", {"x": X4}, lambda x: (x[[-1, 0, -1]] ** 2).sum()),
    ("sum(X[[0, -1], :]**3)", {"X": Z}, lambda X: (X[[0, -1], :] ** 3).sum()),
    ("sum(X[:, [-2]]*2)", {"X": M}, lambda X: (X[:, [-2]] * 2).sum()),
    ("x[0]*torch.tensor(2.5)", {"x": X4}, lambda x: x[0] * torch.tensor(2.5)),
]

DATA_CASES: list[tuple[str, dict[str, object], Reference]] = [
    ("sum(x[idx]**2)", {"x": X4, "idx": IDX}, lambda x, idx: (x[idx.long()] ** 2).sum()),
    ("sum(X[t[:2]]**2)", {"X": Z, "t": T}, lambda X, t: (X[t[:2].long()] ** 2).sum()),
    ("sum(X[:, t])", {"X": Z, "t": T}, lambda X, t: X[:, t.long()].sum()),
    (
        "-log_softmax(z, dim=1)[range(len(t)), t].mean()",
        {"z": Z, "t": T},
        lambda z, t: -torch.log_softmax(z, 1)[range(len(t)), t.long()].mean(),
    ),
    (
        "-log_softmax(z, dim=1)[torch.arange(3), t].mean()",
        {"z": Z, "t": T},
        lambda z, t: -torch.log_softmax(z, 1)[torch.arange(3), t.long()].mean(),
    ),
    (
        "-softmax(z, dim=1)[range(3), t].log().mean()",
        {"z": Z, "t": T},
        lambda z, t: -torch.softmax(z, 1)[range(3), t.long()].log().mean(),
    ),
    ("sum(x[k]*x)", {"x": X4, "k": 2.0}, lambda x, k: (x[k.long()] * x).sum()),
    (  # negative values count from the end, as torch reads them
        "sum(x[idx]**3)",
        {"x": X4, "idx": [-1.0, 0.0, -4.0, -1.0]},
        lambda x, idx: (x[idx.long()] ** 3).sum(),
    ),
    (
        "sum(z[range(len(t)), t]**2)",
        {"z": Z, "t": [-1.0, 0.0, -2.0]},
        lambda z, t: (z[range(3), t.long()] ** 2).sum(),
    ),
    ("sum(z[range(len(t)), t])", {"z": Z, "t": T[:2]}, lambda z, t: z[range(2), t.long()].sum()),
    ("sum(x[range(len(x))]**2)", {"x": X4}, lambda x: (x[range(4)] ** 2).sum()),
]


def _torch_gradients(
    reference: Reference, values: dict[str, object], data: tuple[str, ...] = ()
) -> dict[str, np.ndarray]:
    leaves = {
        name: torch.tensor(np.asarray(value, dtype=np.float64), requires_grad=name not in data)
        for name, value in values.items()
    }
    output = reference(*leaves.values())
    output.backward(torch.ones_like(output))
    return {name: leaf.grad.numpy() for name, leaf in leaves.items() if name not in data}


def _central_differences(
    reference: Reference, values: dict[str, object], name: str, eps: float = 1e-6
) -> np.ndarray:
    base = {key: np.asarray(value, dtype=np.float64) for key, value in values.items()}
    point = base[name]
    found = np.zeros_like(point)
    for flat in range(point.size):
        total = []
        for sign in (1, -1):
            moved = point.copy()
            moved.flat[flat] += sign * eps
            args = [torch.tensor(moved if key == name else value) for key, value in base.items()]
            total.append(float(reference(*args).sum()))
        found.flat[flat] = (total[0] - total[1]) / (2 * eps)
    return found


def _check(
    expression: str, values: dict[str, object], reference: Reference, data: tuple[str, ...] = ()
) -> None:
    result = explain(expression, values)
    assert result.status is ExitStatus.AGREE, result.verdict()
    assert set(result.gradients) == set(values) - set(data)
    expected = _torch_gradients(reference, values, data)
    for name, gradient in result.gradients.items():
        np.testing.assert_allclose(gradient.symbolic, expected[name], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(gradient.autograd, expected[name], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(
            gradient.symbolic, _central_differences(reference, values, name), rtol=1e-6, atol=1e-6
        )


@pytest.mark.parametrize(
    ("expression", "values", "reference"), CASES, ids=[case[0] for case in CASES]
)
def test_constant_indices_and_slices(
    expression: str, values: dict[str, object], reference: Reference
) -> None:
    _check(expression, values, reference)


@pytest.mark.parametrize(
    ("expression", "values", "reference"), LITERAL_CASES, ids=[case[0] for case in LITERAL_CASES]
)
def test_literal_tensors_and_index_lists(
    expression: str, values: dict[str, object], reference: Reference
) -> None:
    _check(expression, values, reference)


@pytest.mark.parametrize(
    ("expression", "values", "reference"), DATA_CASES, ids=[case[0] for case in DATA_CASES]
)
def test_integer_arrays_are_data(
    expression: str, values: dict[str, object], reference: Reference
) -> None:
    data = tuple(name for name in ("idx", "t", "k") if name in values)
    _check(expression, values, reference, data)


@pytest.mark.parametrize(
    ("expression", "formula"),
    [
        ("sum(x[1:3]**2)", "where(1 <= j <= 2, 2*x_j, 0)"),
        ("sum(x[:2])", "where(j <= 1, 1, 0)"),
        ("x[0]*x[-1]", "delta_0j*x_3 + delta_3j*x_0"),
        ("sum(x[idx])", "sum_i(delta(j, idx_i))"),
    ],
)
def test_the_gradient_reads_as_a_reindexing(expression: str, formula: str) -> None:
    values: dict[str, object] = {"x": X4, "idx": IDX}
    result = explain(expression, {k: v for k, v in values.items() if k in expression})
    assert result.gradients["x"].formula == formula


def test_an_unselected_pole_is_not_undefined() -> None:
    """log(x[1:3]) never reads x_0 = 0: torch's gradient there is 0, and so is ours."""
    result = explain("sum(log(x[1:3]))", {"x": [0.0, 2.0, 3.0, 4.0]})
    assert result.status is ExitStatus.AGREE
    np.testing.assert_allclose(result.gradients["x"].symbolic, [0, 0.5, 1 / 3, 0])


def test_a_kink_inside_the_slice_is_undefined() -> None:
    result = explain("sum(abs(x[1:]))", {"x": [1.0, 0.0, 3.0]})
    assert result.status is ExitStatus.UNDEFINED


@pytest.mark.parametrize(
    ("expression", "values", "fragment", "column"),
    [
        ("x[3]", {"x": W3}, "index 3 is out of range for dimension 0 with size 3", 2),
        ("x[-4]", {"x": W3}, "index -4 is out of range", 2),
        ("X[1, 3]", {"X": M}, "index 3 is out of range for dimension 1 with size 3", 5),
        ("X[0, 0, 0]", {"X": M}, "too many indices: 2x3 has 2 dimensions", 0),
        ("c[0]", {"c": 2.0}, "too many indices: scalar has 0 dimensions", 0),
        ("sum(x[::-1])", {"x": W3}, "slice step must be positive", 6),
        ("sum(x[5:])", {"x": W3}, "the slice selects no element", 6),
        (
            "sum(x[idx])",
            {"x": W3, "idx": [0.0, 3.0]},
            "idx_1 = 3 is out of range for dimension 0 with size 3",
            6,
        ),
        ("sum(x[idx])", {"x": W3, "idx": [0.0, 1.5]}, "must hold integers; idx_1 = 1.5", 6),
        (
            "sum(x[idx])",
            {"x": W3, "idx": [-4.0]},
            "idx = -4 is out of range for dimension 0 with size 3 (an index array takes -3 to 2",
            6,
        ),
        ("sum(x[[0, -4]])", {"x": W3}, "index -4 is out of range for dimension 0 with size 3", 6),
        ("sum(X[idx])", {"X": M, "idx": M}, "an index array must be a vector", 6),
        ("sum(x[[0, 3]])", {"x": W3}, "index 3 is out of range for dimension 0 with size 3", 6),
        ("sum(x[[0.5]])", {"x": W3}, "an index list must hold integers, got 0.5", 6),
        ("sum(z[range(3), t])", {"z": Z, "t": [0.0, 1.0]}, "shapes 3 and 2 cannot be broadcast", 4),
    ],
)
def test_bad_indices_are_input_errors(
    expression: str, values: dict[str, object], fragment: str, column: int
) -> None:
    with pytest.raises(ExpressionError) as caught:
        explain(expression, values)
    assert fragment in caught.value.message
    assert caught.value.offset == column  # 0-based (.column is the 1-based one)
    assert caught.value.exit_status is ExitStatus.INVALID


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("x[1.5]", "an index must be an integer"),
        ("x[None]", "None in an index is not supported"),
        ("x[...]", "... in an index is not supported"),
        ("x[x + 1]", "an index must be an integer"),
        ("x[range(0)]", "range() takes one count"),
        ("x[range(1, 3)]", "range() takes one count"),
        ("x * torch.tensor([x, 2])", "a literal tensor holds numbers only"),
        ("x * torch.tensor([[1, 2], [3]])", "equal, nonzero lengths"),
        ("x * torch.tensor([])", "at least one number"),
        ("x * torch.tensor([" + ", ".join(["1"] * 65) + "])", "MAX_LITERAL"),
        ("x * tensor([1])", "tensor() alone is not a spelling"),
    ],
)
def test_unsupported_indices_are_refused_by_the_parser(expression: str, fragment: str) -> None:
    from gradexplain.ir.parser import parse

    with pytest.raises(ExpressionError) as caught:
        parse(expression)
    assert fragment in caught.value.message


def test_range_n_takes_n_as_a_count() -> None:
    """fastai's `sm_acts[range(n), targ]` with n the batch size, given as a value."""
    result = explain("-log_softmax(z, dim=1)[range(n), t].mean()", {"z": Z, "t": T, "n": 3})
    expected = _torch_gradients(
        lambda z, t: -torch.log_softmax(z, 1)[range(3), t.long()].mean(), {"z": Z, "t": T}, ("t",)
    )
    assert result.status is ExitStatus.AGREE
    assert set(result.gradients) == {"z"}
    np.testing.assert_allclose(
        result.gradients["z"].symbolic, expected["z"], rtol=1e-12, atol=1e-12
    )


@pytest.mark.parametrize(
    ("values", "fragment"),
    [
        ({"x": W3, "n": 2.5}, "--n counts range(n): it must be one positive integer"),
        ({"x": W3, "n": [1.0, 2.0]}, "--n counts range(n)"),
        ({"x": W3, "n": 4.0}, "range(4) indexes dimension 0 with size 3"),
    ],
)
def test_range_n_needs_a_count_in_range(values: dict[str, object], fragment: str) -> None:
    from gradexplain.errors import GradexplainError

    with pytest.raises(GradexplainError) as caught:
        explain("sum(x[range(n)])", values)
    assert fragment in caught.value.message
    assert caught.value.exit_status is ExitStatus.INVALID


def test_an_index_array_cannot_be_differentiated() -> None:
    with pytest.raises(ValuesError, match=r"idx indexes a tensor .* integer data"):
        explain("sum(x[idx])", {"x": W3, "idx": [0.0]}, wrt="idx")


@pytest.mark.parametrize(
    ("expression", "values", "fragment"),
    [
        (
            "sum(x[idx]*idx)",
            {"x": W3, "idx": [-1.0, 0.0]},
            "idx is used as a number too, where -1 has no single meaning",
        ),
        (
            "sum(x[idx]) + sum(w[idx])",
            {"x": X4, "w": W3, "idx": [-1.0, 0.0]},
            "idx indexes axes of sizes 3 and 4",
        ),
    ],
)
def test_a_negative_index_with_two_meanings_is_refused(
    expression: str, values: dict[str, object], fragment: str
) -> None:
    with pytest.raises(ValuesError) as caught:
        explain(expression, values)
    assert fragment in caught.value.message
    assert caught.value.exit_status is ExitStatus.INVALID


def test_a_negative_index_counts_from_the_end_in_the_formula_of_a_list() -> None:
    result = explain("sum(x[[-1, 0]])", {"x": W3})
    assert result.gradients["x"].formula == "sum_i(delta(j, where(i == 0, 2, 0)))"
    np.testing.assert_array_equal(result.gradients["x"].symbolic, [1.0, 0.0, 1.0])
