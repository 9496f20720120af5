"""`--hessian`: SymPy's explicit second derivatives against torch.func.hessian (issue 7)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from gradexplain import ExitStatus, explain
from gradexplain.cli import app
from gradexplain.errors import UsageError
from gradexplain.ir import limits

ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}


def sigmoid(u):
    return 1 / (1 + np.exp(-u))


def second_differences(loss, flat: np.ndarray, h: float = 1e-4) -> np.ndarray:
    """float64 central second differences of a numpy loss of the flat elements."""
    size = len(flat)
    out = np.zeros((size, size))
    for a in range(size):
        for b in range(size):

            def at(da: float, db: float, a: int = a, b: int = b) -> float:
                point = flat.copy()
                point[a] += da
                point[b] += db
                return loss(point)

            out[a, b] = (at(h, h) - at(h, -h) - at(-h, h) + at(-h, -h)) / (4 * h * h)
    return out


X = np.array([[1.0, 2.0], [3.0, 4.0], [0.5, -1.0]])
T = np.array([1.0, 0.0, 1.0])

# (expression, values, wrt, numpy loss of the flat differentiated elements, in wrt order)
CASES = [
    ("sum(x**3)", {"x": [1.0, 2.0, 3.0]}, None, lambda p: (p**3).sum()),
    (
        "sum(x*y) * sum(x)",
        {"x": [1.0, -2.0], "y": [0.5, 3.0]},
        None,
        lambda p: (p[:2] * p[2:]).sum() * p[:2].sum(),
    ),
    (
        "mean(sigmoid(X@w + b))",
        {"X": X.tolist(), "w": [0.1, -0.2], "b": 0.3},
        "w,b",
        lambda p: sigmoid(X @ p[:2] + p[2]).mean(),
    ),
    (
        "where(t==1, 1-sigmoid(X@w + b), sigmoid(X@w + b)).mean()",
        {"X": X.tolist(), "w": [0.1, -0.2], "b": 0.3, "t": T.tolist()},
        "w,b",
        lambda p: np.where(T == 1, 1 - sigmoid(X @ p[:2] + p[2]), sigmoid(X @ p[:2] + p[2])).mean(),
    ),
    (
        "sum((W@v)**2)",
        {"W": [[1.0, 2.0], [0.0, -1.0]], "v": [0.5, 1.5]},
        "W",
        lambda p: ((p.reshape(2, 2) @ np.array([0.5, 1.5])) ** 2).sum(),
    ),
    # cumprod: the second derivative multiplies u_m for j < m < d, between two indices
    ("sum(torch.cumprod(x, 0))", {"x": [1.0, 2.0, 3.0]}, None, lambda p: np.cumprod(p).sum()),
    (
        "sum(torch.cumprod(x, 0)**2)",
        {"x": [0.5, 0.0, -1.5, 2.0]},
        None,
        lambda p: (np.cumprod(p) ** 2).sum(),
    ),
    (
        "sum(X.cumprod(1) * X)",
        {"X": [[0.5, -1.25, 2.0], [1.5, 0.25, -0.75]]},
        None,
        lambda p: (np.cumprod(p.reshape(2, 3), axis=1) * p.reshape(2, 3)).sum(),
    ),
    (
        "sum(torch.cumprod(X, dim=0) * W)",
        {"X": [[0.5, -1.25], [1.5, 0.25], [2.0, -0.5]], "W": [[1.0, 2.0], [0.5, -1.0], [3.0, 1.0]]},
        "X",
        lambda p: (
            np.cumprod(p.reshape(3, 2), axis=0) * np.array([[1.0, 2.0], [0.5, -1.0], [3.0, 1.0]])
        ).sum(),
    ),
]


@pytest.mark.parametrize(
    ("expression", "values", "wrt", "loss"), CASES, ids=[case[0] for case in CASES]
)
def test_hessian_agrees_with_torch_func_and_second_differences(expression, values, wrt, loss):
    result = explain(expression, values=values, wrt=wrt, hessian=True)
    assert result.status is ExitStatus.AGREE, result.verdict()
    hessian = result.hessian
    assert hessian.agree
    flat = np.concatenate([np.ravel(values[name]) for name in result.gradients])
    expected = second_differences(loss, flat)
    np.testing.assert_allclose(hessian.symbolic, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(hessian.autograd, hessian.symbolic, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(hessian.symbolic, hessian.symbolic.T)


def test_hessian_in_json_and_table():
    code = CliRunner().invoke(
        app, ["sum(x**3)", "--x", "1,2", "--hessian", "--format", "json"], env=ENV
    )
    assert code.exit_code == 0
    document = json.loads(code.output)
    assert document["hessian"] == {
        "elements": ["x[0]", "x[1]"],
        "symbolic": [[6.0, 0.0], [0.0, 12.0]],
        "autograd": [[6.0, 0.0], [0.0, 12.0]],
        "max_abs_diff": 0.0,
        "agree": True,
    }
    table = CliRunner().invoke(app, ["sum(x**3)", "--x", "1,2", "--hessian"], env=ENV)
    assert "Hessian d2L/(da db), symmetric: pairs a <= b" in table.output
    assert "│ x[0] │ x[1] │     0 │                  0 │ ok │" in table.output


def test_hessian_size_is_limited():
    too_many = limits.MAX_HESSIAN_ELEMENTS + 1
    with pytest.raises(UsageError, match="MAX_HESSIAN_ELEMENTS = 1,000"):
        explain("sum(x**2)", x=list(range(too_many)), hessian=True)
    result = CliRunner().invoke(
        app, ["sum(x**2)", "--x", ",".join(["1"] * too_many), "--hessian"], env=ENV
    )
    assert result.exit_code == 2
    assert (
        "gradexplain: error: --hessian: 1,001 differentiated elements exceed "
        "MAX_HESSIAN_ELEMENTS = 1,000; choose fewer with --wrt" in result.output
    )


# softmax, log_softmax, max and min (issue 7): each case carries its Hessian in closed form,
# written in numpy from the textbook formulas, a witness independent of SymPy and torch.


def softmax(u: np.ndarray) -> np.ndarray:
    e = np.exp(u - u.max())
    return e / e.sum()


def softmax_weighted(u: np.ndarray, t: np.ndarray) -> np.ndarray:
    """d2/du2 of sum_i t_i s_i: ds_i/du = s_i (e_i - s), so each term adds
    t_i s_i ((e_i - s)(e_i - s)^T - (diag(s) - s s^T))."""
    s = softmax(u)
    jacobian = np.diag(s) - np.outer(s, s)
    eye = np.eye(len(u))
    return sum(t[i] * s[i] * (np.outer(eye[i] - s, eye[i] - s) - jacobian) for i in range(len(u)))


def cross_entropy(u: np.ndarray, t: np.ndarray) -> np.ndarray:
    """d2/du2 of -sum_i t_i log_softmax(u)_i = sum(t) (diag(s) - s s^T)."""
    s = softmax(u)
    return t.sum() * (np.diag(s) - np.outer(s, s))


def rows(block, U: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Along dim=1 the rows do not interact: one block per row, flat row-major."""
    size = U.size
    out = np.zeros((size, size))
    width = U.shape[1]
    for r in range(U.shape[0]):
        out[r * width : (r + 1) * width, r * width : (r + 1) * width] = block(U[r], T[r])
    return out


def unit(size: int, k: int) -> np.ndarray:
    return np.eye(size)[k]


V = np.array([1.0, 2.0, 0.5, -0.3])
TV = np.array([1.0, 0.0, 0.0, 0.0])
TW = np.array([0.2, 0.5, 0.0, 0.3])  # soft labels: weights that are not one-hot
U = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 1.0]])
TU = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
K, KMIN = int(V.argmax()), int(V.argmin())
U16 = np.linspace(-1.5, 2.0, 16).reshape(4, 4) ** 2  # MAX_HESSIAN_ELEMENTS of them
T16 = np.eye(4)[[2, 0, 3, 1]]

# (expression, values, wrt, Hessian in closed form over the flat differentiated elements)
SMOOTH_AND_EXTREMA = [
    ("sum(softmax(x)*t)", {"x": V, "t": TV}, "x", softmax_weighted(V, TV)),
    ("sum(softmax(x)*t)", {"x": V, "t": TW}, "x", softmax_weighted(V, TW)),
    ("-sum(log_softmax(x)*t)", {"x": V, "t": TV}, "x", cross_entropy(V, TV)),
    ("-sum(log_softmax(x)*t)", {"x": V, "t": TW}, "x", cross_entropy(V, TW)),
    ("max(x)", {"x": V}, None, np.zeros((4, 4))),
    ("min(x)", {"x": V}, None, np.zeros((4, 4))),
    ("max(x)**2", {"x": V}, None, 2 * np.outer(unit(4, K), unit(4, K))),
    ("min(x)**2", {"x": V}, None, 2 * np.outer(unit(4, KMIN), unit(4, KMIN))),
    # d/dx_b (delta_ak sum(x) + x_k) = delta_ak + delta_bk
    (
        "max(x)*sum(x)",
        {"x": V},
        None,
        np.outer(unit(4, K), np.ones(4)) + np.outer(np.ones(4), unit(4, K)),
    ),
    # y_i = max(x) x_i summed: the same L as max(x)*sum(x), written as a vector
    (
        "max(x)*x",
        {"x": V},
        None,
        np.outer(unit(4, K), np.ones(4)) + np.outer(np.ones(4), unit(4, K)),
    ),
    ("-sum(log_softmax(X, dim=1)*T)", {"X": U, "T": TU}, "X", rows(cross_entropy, U, TU)),
    ("sum(softmax(X, dim=1)*T)", {"X": U, "T": TU}, "X", rows(softmax_weighted, U, TU)),
    ("-sum(log_softmax(X, dim=1)*T)", {"X": U16, "T": T16}, "X", rows(cross_entropy, U16, T16)),
    (
        "sum(max(X, dim=1)**2)",
        {"X": U},
        None,
        np.diag([2.0 if (r, c) in ((0, 0), (1, 1)) else 0.0 for r in range(2) for c in range(3)]),
    ),
]


@pytest.mark.parametrize(
    ("expression", "values", "wrt", "expected"),
    SMOOTH_AND_EXTREMA,
    ids=[f"{case[0]}-{i}" for i, case in enumerate(SMOOTH_AND_EXTREMA)],
)
def test_softmax_and_extrema_hessians_match_the_closed_forms(expression, values, wrt, expected):
    result = explain(expression, values=values, wrt=wrt, hessian=True)
    assert result.status is ExitStatus.AGREE, result.verdict()
    hessian = result.hessian
    assert hessian.agree and hessian.undefined is None
    np.testing.assert_allclose(hessian.autograd, hessian.symbolic, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(hessian.symbolic, expected, rtol=1e-12, atol=1e-12)


def test_max_hessian_matches_second_differences_of_the_loss():
    """A third witness that shares no formula: the loss itself, in numpy, differenced."""
    result = explain("max(x)**2 + max(x)*sum(x)", x=V, hessian=True)
    expected = second_differences(lambda p: p.max() ** 2 + p.max() * p.sum(), V.copy())
    np.testing.assert_allclose(result.hessian.symbolic, expected, rtol=1e-6, atol=1e-6)


TIES = [
    (["max(x)**2", "--x", "1,3,3", "--hessian"], "max", 1),
    (["min(x)*sum(x)", "--x", "0,2,0", "--hessian"], "min", 1),
    (["sum(max(X, dim=1)**2)", "--X", "1,2;3,3", "--hessian"], "max", 5),
    (["sum(relu(x)**2)", "--x", "1,0", "--hessian"], "relu", 5),
]


@pytest.mark.parametrize(("args", "function", "column"), TIES, ids=[t[0][0] for t in TIES])
def test_at_a_kink_the_hessian_is_not_compared_and_says_why(args, function, column):
    result = CliRunner().invoke(app, args, env=ENV)
    assert result.exit_code == 3
    assert (
        f"Hessian not compared: second derivatives do not exist at a kink of "
        f"{function} at column {column}.\n" in result.output
    )
    assert "Hessian d2L/(da db)" not in result.output
    assert "DISAGREE" not in result.output


def test_a_tie_in_json_says_why_and_keeps_the_schema():
    import jsonschema

    result = CliRunner().invoke(
        app, ["max(x)**2", "--x", "1,3,3", "--hessian", "--format", "json"], env=ENV
    )
    assert result.exit_code == 3
    document = json.loads(result.output)
    assert (
        document["hessian"]["undefined"]
        == "Hessian not compared: second derivatives do not exist at a kink of max at column 1"
    )
    assert document["hessian"]["symbolic"][0] == ["nan", "nan", "nan"]
    from gradexplain.output.jsonout import schema_text

    jsonschema.validate(document, json.loads(schema_text()))


def test_a_tie_in_data_alone_is_no_kink():
    """Ties among values that are not differentiated leave max constant: compared as usual."""
    result = explain(
        "max(t)*sum(x**2)", values={"x": [1.0, 2.0], "t": [3.0, 3.0]}, wrt="x", hessian=True
    )
    assert result.status is ExitStatus.AGREE
    np.testing.assert_allclose(result.hessian.symbolic, 6 * np.eye(2), rtol=1e-12)


@pytest.mark.parametrize("expression", ["sum(softmax(x)*x)", "max(x)**2"])
def test_the_size_limit_is_the_same_for_softmax_and_max(expression):
    too_many = limits.MAX_HESSIAN_ELEMENTS + 1
    result = CliRunner().invoke(
        app, [expression, "--x", ",".join(["1"] * too_many), "--hessian"], env=ENV
    )
    assert result.exit_code == 2
    assert (
        "gradexplain: error: --hessian: 1,001 differentiated elements exceed "
        "MAX_HESSIAN_ELEMENTS = 1,000; choose fewer with --wrt" in result.output
    )


def test_a_hessian_of_max_hessian_elements_is_one_formula_evaluated_whole():
    """softmax's n x n Hessian at n = MAX_HESSIAN_ELEMENTS, against torch.func.hessian and
    the closed form of d2/du2 of L = sum_i s_i log s_i."""
    n = limits.MAX_HESSIAN_ELEMENTS
    u = np.random.default_rng(7).standard_normal(n)
    result = explain("sum(softmax(x)*log_softmax(x))", x=u, hessian=True)
    assert result.hessian.agree and result.hessian.symbolic.shape == (n, n)
    s = softmax(u)
    log_s = u - u.max() - np.log(np.exp(u - u.max()).sum())
    # g_j = s_j (log s_j - L); H_jk = s_j (delta_jk - s_k)(log s_j - L + 1) - s_j g_k
    g = s * (log_s - (s * log_s).sum())
    a = s * (log_s - (s * log_s).sum() + 1)
    second = np.diag(a) - np.outer(a, s) - np.outer(s, g)
    np.testing.assert_allclose(result.hessian.symbolic, second, rtol=1e-9, atol=1e-12)


W2 = [[1.0, 2.0], [0.5, -1.0]]


@pytest.mark.parametrize(
    ("expression", "values", "wrt", "function"),
    [
        (
            "sum((X@w)**2)",
            {"X": X.tolist(), "w": [0.1, -0.2]},
            "X,w",
            lambda X, w: ((X @ w) ** 2).sum(),
        ),
        ("sum(W@W)", {"W": W2}, None, lambda W: (W @ W).sum()),
        (
            "sum(tanh(X@W)*X@W)",
            {"X": X.tolist(), "W": W2},
            None,
            lambda X, W: (np.tanh(X @ W) * X @ W).sum(),
        ),
    ],
    ids=["X@w", "W@W", "tanh"],
)
def test_matrix_hessians_with_deltas_left_agree_with_torch(expression, values, wrt, function):
    """Deltas between the first element's j, k and the second's d, e survive the sums
    here (d2(X@w)_i/dX_jk dw_d = delta_ij delta_kd): they are evaluated as identities."""
    result = explain(expression, values=values, wrt=wrt, hessian=True)
    assert result.hessian.agree, result.hessian.max_abs_diff
    names = list(result.gradients)
    shapes = [np.shape(values[name]) for name in names]
    flat = np.concatenate([np.ravel(values[name]) for name in names])
    ends = np.cumsum([int(np.prod(shape)) for shape in shapes])[:-1]

    def loss(point: np.ndarray) -> float:
        given = {name: np.asarray(v, dtype=float) for name, v in values.items()}
        for name, shape, part in zip(names, shapes, np.split(point, ends)):
            given[name] = part.reshape(shape)
        return float(function(**given))

    np.testing.assert_allclose(
        result.hessian.symbolic, second_differences(loss, flat), rtol=1e-5, atol=1e-5
    )
