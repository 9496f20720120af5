"""Sums of products are contractions: right at small sizes, O(output) memory at 1000x1000.

Each pattern's symbolic gradient is checked against torch (the run's own autograd
witness) and against float64 central differences of a numpy function written here, by
hand, independently of both witnesses.
"""

from __future__ import annotations

import tracemalloc
from array import array
from collections.abc import Callable

import numpy as np
import pytest

from gradexplain import explain
from gradexplain.api import explain_values
from gradexplain.ir.values import Values
from gradexplain.witnesses.contract import contract

RNG = np.random.default_rng(15)


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _log_softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


A, B, C = (RNG.standard_normal((4, 3)), RNG.standard_normal((3, 5)), RNG.standard_normal((5, 2)))
S = RNG.standard_normal((4, 4))
X, W, Y = RNG.standard_normal((6, 4)), RNG.standard_normal((4, 3)), np.eye(3)[RNG.integers(0, 3, 6)]
x, w, y = RNG.standard_normal(4), RNG.standard_normal(4), RNG.uniform(size=6)
b = np.array(0.3)

CASES: list[tuple[str, dict[str, np.ndarray], Callable[..., float]]] = [
    ("sum(S@S)", {"S": S}, lambda S: (S @ S).sum()),
    ("sum(A.T@A)", {"A": A}, lambda A: (A.T @ A).sum()),
    ("sum((A.T@A)**2)", {"A": A}, lambda A: ((A.T @ A) ** 2).sum()),
    ("x@S@x", {"x": x, "S": S}, lambda x, S: x @ S @ x),
    ("sum(A@B@C)", {"A": A, "B": B, "C": C}, lambda A, B, C: (A @ B @ C).sum()),
    ("sum(tanh(A@B)@C)", {"A": A, "B": B, "C": C}, lambda A, B, C: (np.tanh(A @ B) @ C).sum()),
    ("sum(sum(A*A, dim=1)**2)", {"A": A}, lambda A: ((A * A).sum(axis=1) ** 2).sum()),
    ("sum(S*S.T)", {"S": S}, lambda S: (S * S.T).sum()),
    (
        "sum(softmax(X@W, dim=1)*Y)",
        {"X": X, "W": W, "Y": Y},
        lambda X, W, Y: (_softmax(X @ W) * Y).sum(),
    ),
    (
        "mean((sigmoid(X@w + b) - y)**2)",
        {"X": X, "w": w, "b": b, "y": y},
        lambda X, w, b, y: ((_sigmoid(X @ w + b) - y) ** 2).mean(),
    ),
    (
        "-mean(sum(log_softmax(X@W + c, dim=1) * Y, dim=1))",
        {"X": X, "W": W, "c": RNG.standard_normal(3), "Y": Y},
        lambda X, W, c, Y: -(_log_softmax(X @ W + c) * Y).sum(axis=1).mean(),
    ),
]


def _central(
    function: Callable[..., float], values: dict[str, np.ndarray], name: str, eps: float = 1e-6
) -> np.ndarray:
    """dL/d(name) by central differences, each element nudged by ±eps, float64."""
    found = np.zeros_like(values[name], dtype=np.float64)
    for index in np.ndindex(values[name].shape):
        nudged = {key: value.astype(np.float64).copy() for key, value in values.items()}
        nudged[name][index] += eps
        plus = function(**nudged)
        nudged[name][index] -= 2 * eps
        found[index] = (plus - function(**nudged)) / (2 * eps)
    return found


def _given(values: dict[str, np.ndarray]) -> dict[str, object]:
    return {name: float(v) if v.ndim == 0 else v.tolist() for name, v in values.items()}


@pytest.mark.parametrize(
    ("expression", "values", "function"), CASES, ids=[case[0] for case in CASES]
)
def test_contraction_agrees_with_torch_and_central_differences(
    expression: str, values: dict[str, np.ndarray], function: Callable[..., float]
) -> None:
    result = explain(expression, values=_given(values))
    assert result.value_symbolic == pytest.approx(function(**values), rel=1e-12)
    for name, gradient in result.gradients.items():
        assert gradient.agree, (name, gradient.formula)
        symbolic = np.asarray(gradient.symbolic, dtype=np.float64).reshape(values[name].shape)
        np.testing.assert_allclose(symbolic, _central(function, values, name), rtol=1e-6, atol=1e-7)


def _matrix(name: str, value: np.ndarray) -> Values:
    return Values(name, array("d", value.astype(np.float64).tobytes()), value.shape)


def test_sum_x_at_x_at_1000_by_1000_stays_within_a_few_copies_of_x() -> None:
    """The inner sum of X@X over a 1000x1000 X is a contraction, not an n**3 array: the
    numpy side of the whole run (tracemalloc sees numpy's arrays) peaks at a few copies
    of X (8 MB each), where broadcasting it would need 8 GB."""
    X = RNG.standard_normal((1000, 1000))
    values = {"X": _matrix("X", X)}
    explain_values("sum(X@X)", {"X": _matrix("X", X[:3, :3])})  # imports, outside
    tracemalloc.start()
    try:
        result = explain_values("sum(X@X)", values)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.gradients["X"].agree
    assert result.value_symbolic == pytest.approx((X @ X).sum(), rel=1e-9)
    assert peak < 16 * X.nbytes, f"peak {peak / 1e6:.0f} MB"


def test_contract_sums_an_index_no_factor_uses_as_a_count() -> None:
    """An index that no factor uses counts each term `length` times (size 1 in layout)."""
    u = np.arange(3.0).reshape(3, 1)
    assert contract([u], {1: 5}).tolist() == [[0.0], [5.0], [10.0]]


def test_contract_keeps_the_evaluator_layout() -> None:
    """sum_m(X_im W_mk) with axes (i, k, m): the result has size 1 on m's axis."""
    X_, W_ = RNG.standard_normal((3, 4)), RNG.standard_normal((4, 2))
    layout_x = X_.reshape(3, 1, 4)  # i, k, m
    layout_w = W_.T.reshape(1, 2, 4)
    found = contract([layout_x, layout_w], {2: 4})
    assert found.shape == (3, 2, 1)
    np.testing.assert_allclose(found[:, :, 0], X_ @ W_)


def test_the_largest_array_estimate_counts_a_contraction_by_its_output() -> None:
    """What a memory limit checks before work starts: sum(X@X) at 1000x1000 holds at most
    one 1000x1000 array, where broadcasting its inner sum would hold 10**9 numbers; a
    summand that is not a product (here a square of a sum) is evaluated whole."""
    import sympy as sp

    from gradexplain.ir.program import build
    from gradexplain.witnesses.evaluate import Evaluator
    from gradexplain.witnesses.symbolic import build as model_of
    from gradexplain.witnesses.symbolic import gradient, target_indices

    n = 1000
    program = build("sum(X@X)", {"X": _matrix("X", np.zeros((n, n)))}, None)
    model = model_of(program.tree, program.shapes, program.node_shapes)
    evaluator = Evaluator({"X": np.zeros((n, n))}, {}, model.sizes)
    assert evaluator.largest(model.loss) == n * n
    derivative = gradient(model, "X")
    assert evaluator.largest(derivative, target_indices(model, "X"), (n, n)) == n * n
    i, m, p = (sp.Symbol(name, integer=True, nonnegative=True) for name in "imp")
    X, size = sp.IndexedBase("X", real=True), sp.Symbol("n1000", integer=True, positive=True)
    whole = sp.Sum((X[i, m] + X[m, p]) ** 2, (m, 0, size - 1))
    assert Evaluator({}, {}, {i: n, m: n, p: n}).largest(whole) == n**3


def test_a_chain_longer_than_einsums_alphabet_is_contracted_two_at_a_time() -> None:
    """60 factors A_{m0 m1} A_{m1 m2} ... over 61 axes: more than einsum's 52 letters,
    so the factors are contracted pairwise; the result is the matrix product's sum."""
    count, rank = 60, 61
    matrices = [RNG.standard_normal((2, 2)) * 0.5 for _ in range(count)]
    layout = []
    for position, matrix in enumerate(matrices):
        shape = [1] * rank
        shape[position], shape[position + 1] = 2, 2
        layout.append(matrix.reshape(shape))
    found = contract(layout, {axis: 2 for axis in range(rank)})
    assert found.shape == (1,) * rank
    assert float(found.reshape(())) == pytest.approx(np.linalg.multi_dot(matrices).sum(), rel=1e-12)
