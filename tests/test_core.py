"""The core property: both witnesses give the gradient we derive independently here.

Each row is (expression, values, expected gradient per variable). The expectations are
hand-written derivatives in numpy, never produced by SymPy or torch; a second table
checks generated expressions against float64 central differences.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from gradexplain import ExitStatus, explain

X = np.array([3.0, 4.0, 10.0])
P = np.array([0.5, 1.5, 2.0])  # positive, for log/sqrt
W = np.array([1.0, -2.0, 0.5])
B = 0.25


T = np.array([0.0, 1.0, 0.0])  # a one-hot target
A2 = np.array([[2.0, 1.0], [0.5, 3.0]])  # square, invertible
S2 = np.array([[1.0, -1.0], [2.0, 0.25]])
W2 = np.array([0.5, -2.0])
A3 = np.array([[1.0, 2.0, 0.5], [-1.0, 3.0, 2.0], [0.25, 1.0, 4.0]])
Q = np.array([0.2, 0.5, 0.9])  # probabilities


def softmax(u):
    return np.exp(u) / np.exp(u).sum()


def sig(u):
    return 1.0 / (1.0 + np.exp(-u))


CASES = [
    # (expression, values, {variable: expected gradient})
    ("sum(x**2)", {"x": X}, {"x": 2 * X}),
    ("torch.sum(x**2)", {"x": X}, {"x": 2 * X}),
    ("(x**2).sum()", {"x": X}, {"x": 2 * X}),
    ("x.pow(2).sum()", {"x": X}, {"x": 2 * X}),
    ("torch.pow(x, 3).sum()", {"x": X}, {"x": 3 * X**2}),
    ("x**2", {"x": X}, {"x": 2 * X}),  # a vector result: backward(ones_like(y))
    ("x**2", {"x": 3.0}, {"x": 6.0}),
    ("x.mean()", {"x": X}, {"x": np.full(3, 1 / 3)}),
    ("mean(x**2)", {"x": X}, {"x": 2 * X / 3}),
    ("sum(x)**2", {"x": X}, {"x": np.full(3, 2 * X.sum())}),
    ("log(sum(exp(x)))", {"x": P}, {"x": np.exp(P) / np.exp(P).sum()}),
    ("prod(x)", {"x": X}, {"x": np.array([40.0, 30.0, 12.0])}),
    ("x.exp().sum()", {"x": P}, {"x": np.exp(P)}),
    ("torch.exp(x)", {"x": P}, {"x": np.exp(P)}),
    ("sum(log(x))", {"x": P}, {"x": 1 / P}),
    ("sum(sqrt(x))", {"x": P}, {"x": 0.5 / np.sqrt(P)}),
    ("sum(abs(w))", {"w": W}, {"w": np.sign(W)}),
    ("sum(sin(x))", {"x": P}, {"x": np.cos(P)}),
    ("sum(cos(x))", {"x": P}, {"x": -np.sin(P)}),
    (
        "sum(tan(x))",
        {"x": np.array([0.1, 0.2, -0.3])},
        {"x": 1 / np.cos(np.array([0.1, 0.2, -0.3])) ** 2},
    ),
    ("sum(tanh(x))", {"x": P}, {"x": 1 - np.tanh(P) ** 2}),
    ("sum(sigmoid(x))", {"x": W}, {"x": sig(W) * (1 - sig(W))}),
    ("sum(relu(w))", {"w": W}, {"w": (W > 0).astype(float)}),
    ("sum(softplus(w))", {"w": W}, {"w": sig(W)}),
    ("w.logsumexp(0)", {"w": W}, {"w": softmax(W)}),
    ("sum(w*x)", {"w": W, "x": X}, {"w": X, "x": W}),
    ("sum(w*x + b)", {"w": W, "x": X, "b": B}, {"w": X, "x": W, "b": 3.0}),
    (
        "mean(sigmoid(w*x+b))",
        {"w": W, "x": X, "b": B},
        {
            "w": sig(W * X + B) * (1 - sig(W * X + B)) * X / 3,
            "x": sig(W * X + B) * (1 - sig(W * X + B)) * W / 3,
            "b": float(np.sum(sig(W * X + B) * (1 - sig(W * X + B))) / 3),
        },
    ),
    ("sum((x - 2)/(x + 1))", {"x": X}, {"x": 3 / (X + 1) ** 2}),
    ("sum(-x + 3*pi)", {"x": X}, {"x": -np.ones(3)}),
    ("sum(e**x)", {"x": P}, {"x": np.exp(P)}),
    ("sum(2**x)", {"x": P}, {"x": math.log(2) * 2**P}),
    ("sum(x**0.5)", {"x": P}, {"x": 0.5 * P**-0.5}),
    ("sum(x*sum(x))", {"x": X}, {"x": np.full(3, 2 * X.sum())}),
    ("c*sum(x**2)", {"c": 2.0, "x": X}, {"c": float((X**2).sum()), "x": 4 * X}),
    ("sin(c)*c", {"c": 0.7}, {"c": math.cos(0.7) * 0.7 + math.sin(0.7)}),
    ("sum(x**2)/sum(x)", {"x": X}, {"x": (2 * X * X.sum() - (X**2).sum()) / X.sum() ** 2}),
    (
        "sum(log_softmax(x) * t)",
        {"x": W, "t": T},
        {"x": T - softmax(W), "t": W - np.log(np.exp(W).sum())},
    ),
    (
        "sum(softmax(x) * t)",
        {"x": W, "t": T},
        {"x": softmax(W) * (T - softmax(W) @ T), "t": softmax(W)},
    ),
    ("sum(clamp(x, 3.5, 5)**2)", {"x": X}, {"x": np.array([0.0, 8.0, 0.0])}),
    ("max(x**2)", {"x": W}, {"x": np.array([0.0, -4.0, 0.0])}),
    ("x.min() * 2", {"x": X}, {"x": np.array([2.0, 0.0, 0.0])}),
    # linear algebra (tests/test_linalg.py has more): G = ones, so dA = G @ B.T and so on
    (
        "sum(torch.mm(A, S))",
        {"A": A2, "S": S2},
        {"A": np.ones((2, 2)) @ S2.T, "S": A2.T @ np.ones((2, 2))},
    ),
    (
        "A.matmul(w2).sum()",
        {"A": A2, "w2": W2},
        {"A": np.outer(np.ones(2), W2), "w2": A2.sum(axis=0)},
    ),
    (
        "torch.mv(A, w2).sum()",
        {"A": A2, "w2": W2},
        {"A": np.outer(np.ones(2), W2), "w2": A2.sum(axis=0)},
    ),
    ("torch.dot(w, x)", {"w": W, "x": X}, {"w": X, "x": W}),
    ("w.inner(x)", {"w": W, "x": X}, {"w": X, "x": W}),
    (
        "sum(torch.outer(w, x)**2)",
        {"w": W, "x": X},
        {"w": 2 * W * (X**2).sum(), "x": 2 * X * (W**2).sum()},
    ),
    ("torch.trace(A)", {"A": A2}, {"A": np.eye(2)}),
    ("sum(A.diagonal()**2)", {"A": A2}, {"A": 2 * np.diag(np.diag(A2))}),
    ("sum(torch.diag(w)*A3)", {"w": W, "A3": A3}, {"w": np.diag(A3), "A3": np.diag(W)}),
    ("torch.linalg.det(A2)", {"A2": A2}, {"A2": np.linalg.det(A2) * np.linalg.inv(A2).T}),
    ("A2.logdet()", {"A2": A2}, {"A2": np.linalg.inv(A2).T}),
    ("torch.linalg.slogdet(A2)[1]", {"A2": A2}, {"A2": np.linalg.inv(A2).T}),
    ("trace(torch.inverse(A2))", {"A2": A2}, {"A2": -(np.linalg.inv(A2) @ np.linalg.inv(A2)).T}),
    (
        "torch.einsum('ij,j->i', A2, w2).sum()",
        {"A2": A2, "w2": W2},
        {"A2": np.outer(np.ones(2), W2), "w2": A2.sum(axis=0)},
    ),
    (
        "sum(torch.linalg.solve(A2, w2))",
        {"A2": A2, "w2": W2},
        {
            "A2": -np.outer(np.linalg.inv(A2).T @ np.ones(2), np.linalg.solve(A2, W2)),
            "w2": np.linalg.inv(A2).T @ np.ones(2),
        },
    ),
    ("x[0]*x[-1]", {"x": X}, {"x": np.array([10.0, 0.0, 3.0])}),  # getitem
    ("sum(x[1:]**2)", {"x": X}, {"x": np.array([0.0, 8.0, 20.0])}),
    ("sum(x[torch.arange(2)]**2)", {"x": X}, {"x": np.array([6.0, 8.0, 0.0])}),
    # losses: x - w = [2, 6, 9.5]; class 1 is data (an index), so it has no gradient
    ("F.mse_loss(x, w)", {"x": X, "w": W}, {"x": 2 * (X - W) / 3, "w": -2 * (X - W) / 3}),
    ("F.l1_loss(x, w)", {"x": X, "w": W}, {"x": np.full(3, 1 / 3), "w": np.full(3, -1 / 3)}),
    (
        "F.smooth_l1_loss(x, w, reduction='sum')",
        {"x": X, "w": W},
        {"x": np.ones(3), "w": -np.ones(3)},
    ),
    ("F.huber_loss(x, w, delta=20)", {"x": X, "w": W}, {"x": (X - W) / 3, "w": (W - X) / 3}),
    (
        "F.binary_cross_entropy(q, t)",
        {"q": Q, "t": T},
        {"q": (Q - T) / (Q * (1 - Q)) / 3, "t": -np.log(Q / (1 - Q)) / 3},
    ),
    (
        "F.binary_cross_entropy_with_logits(w, t)",
        {"w": W, "t": T},
        {"w": (sig(W) - T) / 3, "t": -W / 3},
    ),
    ("F.cross_entropy(w, c)", {"w": W, "c": 1.0}, {"w": softmax(W) - T}),
    ("F.nll_loss(w, c, reduction='sum')", {"w": W, "c": 1.0}, {"w": -T}),
    ("F.kl_div(w, q)", {"w": W, "q": Q}, {"w": -Q / 3, "q": (np.log(Q) + 1 - W) / 3}),
    # shape ops move elements: the gradient is moved back
    ("sum(x.reshape(1, 3) * w)", {"x": X, "w": W}, {"x": W, "w": X}),
    ("sum(x.view(3, 1).t() * w)", {"x": X, "w": W}, {"x": W, "w": X}),
    ("sum(torch.flatten(x) * w)", {"x": X, "w": W}, {"x": W, "w": X}),
    ("sum(x.unsqueeze(0).transpose(0, 1).squeeze() * w)", {"x": X, "w": W}, {"x": W, "w": X}),
    ("sum(x.unsqueeze(1).permute(1, 0) * w)", {"x": X, "w": W}, {"x": W, "w": X}),
    ("sum(torch.flip(x, [0]) * w)", {"x": X, "w": W}, {"x": W[::-1], "w": X[::-1]}),
    ("sum(x.roll(1) * w)", {"x": X, "w": W}, {"x": np.roll(W, -1), "w": np.roll(X, 1)}),
    ("sum(x.repeat(2))", {"x": X}, {"x": np.full(3, 2.0)}),
    ("sum(x.unsqueeze(0).expand(2, 3) * w)", {"x": X, "w": W}, {"x": 2 * W, "w": 2 * X}),
    ("sum(torch.triu(x.unsqueeze(0).expand(3, 3)))", {"x": X}, {"x": np.array([1.0, 2.0, 3.0])}),
    ("sum(torch.tril(x.unsqueeze(1).expand(3, 3)))", {"x": X}, {"x": np.array([1.0, 2.0, 3.0])}),
    ("sum(torch.cat([x, x**2]))", {"x": X}, {"x": 1 + 2 * X}),
    ("sum(torch.stack([x, w])**2)", {"x": X, "w": W}, {"x": 2 * X, "w": 2 * W}),
    ("sum(x * torch.tensor([1., -2, 0.5]))", {"x": X}, {"x": W}),
]


@pytest.mark.parametrize(
    ("expression", "values", "expected"), CASES, ids=[case[0] for case in CASES]
)
def test_both_witnesses_match_the_hand_derivation(expression, values, expected):
    result = explain(expression, values)
    assert result.status is ExitStatus.AGREE, result.verdict()
    assert set(result.gradients) == set(expected)
    for name, want in expected.items():
        gradient = result.gradients[name]
        np.testing.assert_allclose(gradient.symbolic, want, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(gradient.autograd, want, rtol=1e-12, atol=1e-12)
        assert gradient.agree


def test_the_tables_cover_every_function():
    """This table, and the tables of issue 12's functions, where() and matrices (`.T`)
    beside it, test every entry."""
    from gradexplain.ops import INTERNAL, spellings_of
    from gradexplain.ops import OPS as FUNCTIONS
    from tests.test_elementwise_more import BINARY, UNARY
    from tests.test_matrices import CASES as MATRICES
    from tests.test_reductions_more import CASES as REDUCTIONS
    from tests.test_where import CASES as WHERE

    tables = [*CASES, *UNARY, *BINARY, *REDUCTIONS, *WHERE, *MATRICES]
    text = " ".join(case[0] for case in tables)
    spelled = {
        name: [s.split("(")[0].removeprefix("x") + "(" * ("(" in s) for s in spellings_of(name)]
        for name in FUNCTIONS
    }  # a method on any operand: `.t(`; an attribute: `.T`
    missing = [
        name
        for name in FUNCTIONS
        if name not in INTERNAL and not any(spelling in text for spelling in spelled[name])
    ]
    assert missing == []
    assert "getitem" in INTERNAL and "[" in text  # x[...] is the spelling of getitem
    assert len(CASES) >= 25


@pytest.mark.parametrize(
    ("expression", "formula"),
    [
        ("sum(x**2)", "2*x_j"),
        ("x**2", "2*x_j"),
        ("mean(x**2)", "2*x_j/n"),
        ("sum(x)**2", "2*sum_k(x_k)"),
        ("prod(x)", "prod_{k<j}(x_k)*prod_{k>j}(x_k)"),
        ("sum(relu(x))", "Heaviside(x_j)"),
        ("sum(abs(x))", "sign(x_j)"),
        ("sum(0.1*x)", "1/10"),
    ],
)
def test_formula_is_a_function_of_a_generic_element(expression, formula):
    assert explain(expression, x=[1.0, 2.0, 3.0]).gradients["x"].formula == formula


def _central_differences(expression: str, x: np.ndarray) -> np.ndarray:
    """float64 central differences, element by element, of a `sum(...)` or `mean(...)`.

    The generated expressions are elementwise inside one reduction, so differencing each
    term keeps the large terms from drowning the small ones in rounding error.
    """
    from gradexplain.ir.parser import parse
    from gradexplain.ir.tree import BinOp, Call, Const, Neg, Num, Var

    tree = parse(expression)
    funcs = {
        "exp": np.exp,
        "log": np.log,
        "sin": np.sin,
        "cos": np.cos,
        "tanh": np.tanh,
        "sqrt": np.sqrt,
        "sum": np.sum,
        "mean": np.mean,
        "sigmoid": sig,
    }

    def ev(node, v):
        if isinstance(node, Num):
            return node.value
        if isinstance(node, Const):
            return math.pi if node.name == "pi" else math.e
        if isinstance(node, Var):
            return v
        if isinstance(node, Neg):
            return -ev(node.operand, v)
        if isinstance(node, BinOp):
            a, b = ev(node.left, v), ev(node.right, v)
            ops = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "**": np.power}
            return ops[node.op](a, b)
        assert isinstance(node, Call)
        return funcs[node.func](ev(node.args[0], v))

    assert isinstance(tree, Call) and tree.func in ("sum", "mean")
    term = tree.args[0]
    eps = 1e-6
    grad = (ev(term, x + eps) - ev(term, x - eps)) / (2 * eps)
    return grad / len(x) if tree.func == "mean" else grad


SMOOTH_UNARY = ["exp", "sin", "cos", "tanh", "sigmoid"]
SMOOTH_BINARY = ["+", "-", "*"]


def _generated(seed: int) -> str:
    rng = np.random.default_rng(seed)
    expr = "x"
    for _ in range(3):
        choice = rng.integers(3)
        if choice == 0:
            expr = f"{SMOOTH_UNARY[rng.integers(len(SMOOTH_UNARY))]}({expr})"
        elif choice == 1:
            expr = f"({expr} {SMOOTH_BINARY[rng.integers(3)]} {rng.integers(1, 4)}*x)"
        else:
            expr = f"({expr})**2"
    return f"{['sum', 'mean'][rng.integers(2)]}({expr})"


@pytest.mark.parametrize("seed", range(20))
def test_generated_expressions_match_central_differences(seed):
    expression = _generated(seed)
    x = np.array([0.3, -0.7, 1.1, 0.05])
    result = explain(expression, x=x)
    assert result.status is ExitStatus.AGREE, (expression, result.verdict())
    want = _central_differences(expression, x)
    scale = 1 + np.abs(want)
    assert np.all(np.abs(result.gradients["x"].symbolic - want) <= 1e-5 * scale), expression
    assert np.all(np.abs(result.gradients["x"].autograd - want) <= 1e-5 * scale), expression


def test_float32_uses_torch_testing_tolerances():
    result = explain("sum(x**2)", x=[0.1, 0.2, 0.3], dtype="float32")
    assert (result.tolerance.rtol, result.tolerance.atol) == (1.3e-6, 1e-5)
    assert result.dtype == "float32"
    assert result.status is ExitStatus.AGREE
    assert 0 < result.gradients["x"].max_abs_diff < 1e-6  # float32 rounding is visible


def test_tight_tolerance_turns_float32_rounding_into_disagreement():
    result = explain("sum(x**2)", x=[0.1, 0.2, 0.3], dtype="float32", rtol=0, atol=0)
    assert result.status is ExitStatus.DISAGREE
    assert not result.agree


@pytest.mark.parametrize(
    ("expression", "x", "function", "elements"),
    [
        ("sum(relu(x))", [-1.0, 0.0, 2.0], "relu", (1,)),
        ("sum(abs(x))", [0.0, 1.0], "abs", (0,)),
        ("sum(sqrt(x))", [0.0, 1.0, 0.0], "sqrt", (0, 2)),
        ("sum(log(x))", [-1.0, 1.0], "log", (0,)),
        ("sum(1/x)", [2.0, 0.0], "/", (1,)),
        ("sum(x**0.5)", [0.0, 4.0], "**", (0,)),
    ],
)
def test_kinks_and_poles_are_undefined_not_disagreement(expression, x, function, elements):
    result = explain(expression, x=x)
    assert result.status is ExitStatus.UNDEFINED
    assert [s.function for s in result.singularities] == [function]
    assert result.singularities[0].elements == elements


def test_relu_kink_names_both_conventions():
    result = explain("sum(relu(x))", x=[0.0])
    reason = result.singularities[0].reason
    assert "relu'(0) = 0" in reason and "Heaviside(0) = 1/2" in reason
    assert result.gradients["x"].autograd[0] == 0.0
    assert result.gradients["x"].symbolic[0] == 0.5


def test_overflow_is_not_finite_and_undefined():
    result = explain("sum(exp(x))", x=[1.0, 1000.0])
    assert result.status is ExitStatus.UNDEFINED
    assert not result.gradients["x"].finite
    assert not result.agree


def test_kink_inside_a_reduction_affects_every_element():
    result = explain("relu(sum(x))", x=[1.0, -1.0])
    assert result.status is ExitStatus.UNDEFINED
    assert result.singularities[0].elements is None


def test_decomposition_names_the_rule():
    assert explain("sum(x**2)", x=[1, 2]).decomposition.rule == "sum"
    assert explain("mean(x)", x=[1, 2]).decomposition.rule == "mean"
    assert explain("prod(x)", x=[1, 2]).decomposition.rule == "prod"
    chain = explain("log(sum(exp(x)))", x=[1, 2]).decomposition
    assert chain.rule == "chain" and "g'(s) = 1/s" in chain.notes[0]
    implicit = explain("x**2", x=[1, 2]).decomposition
    assert implicit.implicit_ones and "torch.ones_like(y)" in implicit.notes[0]
    assert explain("x**2", x=3).decomposition.rule == "derivative"


def test_seed_example_terms_and_total():
    result = explain("sum(x**2)", x=[3, 4, 10])
    assert result.decomposition.term == "x_i**2"
    assert list(result.decomposition.term_values) == [9.0, 16.0, 100.0]
    assert result.value == result.value_symbolic == 125.0
    assert "only the term i = j contains x_j" in result.gradients["x"].sentence
    assert result.gradients["x"].sentence.endswith("= 2*x_j.")


@pytest.mark.parametrize(
    ("expression", "values", "expected"),
    [
        # SymPy's .doit() crashed in Gosper's algorithm on this nesting
        ("sum(x*sum(x*sum(x)))", {"x": X}, {"x": np.full(3, 3 * X.sum() ** 2)}),
        # a product inside an implicit sum: SymPy denests the sums into one double Sum
        ("prod(x) + log(y)", {"x": X, "y": P}, {"x": 3 * np.array([40.0, 30.0, 12.0]), "y": 1 / P}),
        # SymPy rewrites tan(u + pi/2) as -cot(u)
        ("mean(tan(x + 0.5*pi))", {"x": P}, {"x": 1 / np.sin(P) ** 2 / 3}),
    ],
)
def test_forms_found_by_fuzzing_the_symbolic_side(expression, values, expected):
    result = explain(expression, values)
    assert result.status is ExitStatus.AGREE, result.verdict()
    for name, want in expected.items():
        np.testing.assert_allclose(result.gradients[name].symbolic, want, rtol=1e-10)
        np.testing.assert_allclose(result.gradients[name].autograd, want, rtol=1e-10)
