"""x[idx] differentiates to sum_i(delta(j, idx_i)*f_i): a scatter-add onto j's axis.

Right at small sizes (against torch, the run's own witness, and against central
differences of a numpy function written here), and O(n + len(idx)) memory at a size
where the idx-by-x array of deltas would exceed MAX_EVALUATION_ELEMENTS many times over.
"""

from __future__ import annotations

import tracemalloc
from array import array
from collections.abc import Callable

import numpy as np
import pytest
import sympy as sp

from gradexplain import explain
from gradexplain.api import explain_values
from gradexplain.ir import limits
from gradexplain.ir.values import Values
from gradexplain.witnesses.contract import largest_array, scatter_add

RNG = np.random.default_rng(151)
x = RNG.standard_normal(5)
X = RNG.standard_normal((4, 3))
idx = np.array([0, 3, 3, 1, 4, 0, 0])  # repeats: their gradients add up
rows = np.array([2, 0, 2, 3, 1])


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


CASES: list[tuple[str, dict[str, np.ndarray], Callable[..., float]]] = [
    ("sum(x[idx]*x[idx])", {"x": x, "idx": idx}, lambda x, idx: (x[idx] ** 2).sum()),
    ("sum(exp(x[idx]))", {"x": x, "idx": idx}, lambda x, idx: np.exp(x[idx]).sum()),
    ("sum(x[idx])**2", {"x": x, "idx": idx}, lambda x, idx: x[idx].sum() ** 2),
    (
        "mean(softmax(x)[idx] * x[idx])",
        {"x": x, "idx": idx},
        lambda x, idx: (_softmax(x)[idx] * x[idx]).mean(),
    ),
    (
        "sum(tanh(X[rows, 1]) * X[rows, 2])",
        {"X": X, "rows": rows},
        lambda X, rows: (np.tanh(X[rows, 1]) * X[rows, 2]).sum(),
    ),
    ("sum(X[rows] ** 2)", {"X": X, "rows": rows}, lambda X, rows: (X[rows] ** 2).sum()),
]


def _central(
    function: Callable[..., float], values: dict[str, np.ndarray], name: str
) -> np.ndarray:
    """dL/d(name) by central differences, each element nudged by ±1e-6, float64."""
    found = np.zeros_like(values[name], dtype=np.float64)
    for index in np.ndindex(values[name].shape):
        plus, minus = dict(values), dict(values)
        plus[name], minus[name] = values[name].copy(), values[name].copy()
        plus[name][index] += 1e-6
        minus[name][index] -= 1e-6
        found[index] = (function(**plus) - function(**minus)) / 2e-6
    return found


@pytest.mark.parametrize(("expression", "values", "function"), CASES, ids=[c[0] for c in CASES])
def test_index_arrays_agree_with_torch_and_central_differences(
    expression: str, values: dict[str, np.ndarray], function: Callable[..., float]
) -> None:
    result = explain(expression, values={name: v.tolist() for name, v in values.items()})
    assert result.value_symbolic == pytest.approx(function(**values), rel=1e-12)
    name = next(iter(values))
    gradient = result.gradients[name]
    assert gradient.agree, gradient.formula
    assert "delta" in gradient.formula  # the scattered form, not a resolved one
    symbolic = np.asarray(gradient.symbolic, dtype=np.float64).reshape(values[name].shape)
    np.testing.assert_allclose(symbolic, _central(function, values, name), rtol=1e-6, atol=1e-8)


def test_scatter_add_drops_positions_off_the_axis_and_sums_the_rest() -> None:
    """Layout arrays: axis 0 is j (length 4), axis 1 the bound i; a position that is not
    an integer in 0..3 matches no j, as delta(j, 2.5) and delta(j, 7) are 0 for every j."""
    values = np.array([[1.0, 2.0, 4.0, 8.0, 16.0]])
    position = np.array([[1.0, 1.0, 2.5, 7.0, 0.0]])
    assert scatter_add(values, position, 0, 4, [1]).tolist() == [[16.0], [3.0], [0.0], [0.0]]


def test_the_estimate_of_a_scattered_sum_is_its_terms_not_the_delta_array() -> None:
    """sum_i(delta(j, idx_i) * x_{idx_i}): len(idx) terms and n outputs, not n*len(idx)."""
    j, i = sp.Symbol("j", integer=True), sp.Symbol("i", integer=True)
    size = sp.Symbol("n7", integer=True, positive=True)
    xs, ids = sp.IndexedBase("x"), sp.IndexedBase("idx")
    total = sp.Sum(sp.KroneckerDelta(j, ids[i]) * xs[ids[i]], (i, 0, size - 1))
    assert largest_array(total, {j: 10**6, i: 10**6}) == 10**6


def test_x_idx_at_200_000_elements_stays_within_a_few_copies_of_x() -> None:
    """n = len(idx) = 200,000: the idx-by-x array of deltas would hold 4*10**10 numbers (320 GB,
    800 times MAX_EVALUATION_ELEMENTS, refused before this change); the scatter keeps
    the numpy side of the run (what tracemalloc sees) within a few copies of x."""
    n = 200_000
    assert n * n > limits.MAX_EVALUATION_ELEMENTS
    values = RNG.standard_normal(n)
    positions = RNG.integers(0, n, n).astype(np.float64)
    given = {
        "x": Values("x", array("d", values.tobytes()), (n,)),
        "idx": Values("idx", array("d", positions.tobytes()), (n,)),
    }
    small = {
        "x": Values("x", array("d", [1.0, 2.0]), (2,)),
        "idx": Values("idx", array("d", [1.0]), (1,)),
    }
    explain_values("sum(exp(x[idx]))", small)  # imports and first-use caches, outside
    tracemalloc.start()
    try:
        result = explain_values("sum(exp(x[idx]))", given)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    gradient = result.gradients["x"]
    assert gradient.agree
    expected = np.bincount(
        positions.astype(np.intp), weights=np.exp(values[positions.astype(np.intp)]), minlength=n
    )
    np.testing.assert_allclose(np.asarray(gradient.symbolic), expected, rtol=1e-12)
    assert peak < 40 * values.nbytes, f"peak {peak / 1e6:.0f} MB"
