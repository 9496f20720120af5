"""--steps: the derivation ends in SymPy's own gradient for every core case."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from typer.testing import CliRunner

from gradexplain.cli import app
from gradexplain.ir.parser import parse
from gradexplain.ir.program import build, differentiated
from gradexplain.ir.shapes import infer
from gradexplain.ir.tree import variables
from gradexplain.teach import steps
from gradexplain.witnesses import symbolic
from gradexplain.witnesses.evaluate import Evaluator
from tests.test_core import CASES

ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}


@pytest.mark.parametrize(
    ("expression", "values", "expected"), CASES, ids=[case[0] for case in CASES]
)
def test_steps_end_in_sympys_gradient(expression, values, expected):
    """One path for every rank: the derivation's last formula and SymPy's gradient give
    the same numbers at the case's values."""
    tree = parse(expression)
    shapes = {name: np.shape(values[name]) for name in variables(tree)}
    node_shapes = infer(tree, shapes, expression)
    model = symbolic.build(tree, shapes, node_shapes)
    arrays = {
        name: np.asarray(value, dtype=float) for name, value in values.items() if np.ndim(value)
    }
    scalars = {name: float(value) for name, value in values.items() if not np.ndim(value)}
    for name in differentiated(tree, None, node_shapes):
        derivation = steps.derive(tree, name, shapes, node_shapes)
        assert derivation.lines[0].startswith("L = ")
        targets = symbolic.target_indices(model, name)
        found = [
            Evaluator(arrays, scalars, {**model.sizes, **(derivation.sizes or {})}).tensor(
                expr, targets, shapes[name]
            )
            for expr in (derivation.expr, symbolic.gradient(model, name))
        ]
        np.testing.assert_allclose(
            *found, rtol=1e-12, atol=1e-12, err_msg=f"{name}: {derivation.formula}"
        )


def test_cli_seed_steps():
    result = CliRunner().invoke(app, ["sum(x**2)", "--x", "3,4,10", "--steps"], env=ENV)
    assert result.exit_code == 0
    tail = result.output.split("Steps for dL/dx:\n", 1)[1]
    assert tail == (
        "  L = sum_k(x_k**2)\n"
        "  sum rule: the derivative of a sum is the sum of derivatives: d/dx_j "
        "[sum_k(x_k**2)] = sum_k(2*delta_jk*x_k)\n"
        "    power rule (u**p)' = p u**(p-1) u': d/dx_j [x_k**2] = 2*delta_jk*x_k\n"
        "  sum rule, only the term k = j survives (the delta): dL/dx_j = 2*x_j\n"
    )


# ---- matrices: the rules in generic elements, the deltas resolved at the end ------------


def _matrix_cases():
    from tests.test_matmul_spellings import CASES as SPELLINGS
    from tests.test_matrices import CASES as MATRIX_CASES

    spellings = [
        (expression, {name: np.shape(value) for name, value in values.items()})
        for expression, values, *_ in SPELLINGS
    ]
    return (
        [(expression, shapes) for expression, shapes, _ in MATRIX_CASES]
        + spellings
        + [
            ("sum(X@W.T + b)", {"X": (3, 2), "W": (4, 2), "b": (4,)}),
            ("sum((X - Y)**2/c)", {"X": (2, 3), "Y": (2, 3), "c": ()}),
            ("sum(clamp(X@w, -0.5, 0.5) * exp(-X.T@w))", {"X": (3, 3), "w": (3,)}),
        ]
    )


@pytest.mark.parametrize(
    ("expression", "shapes"), _matrix_cases(), ids=[case[0] for case in _matrix_cases()]
)
def test_matrix_steps_end_in_the_gradient(expression, shapes):
    import numpy as np

    from gradexplain import explain
    from gradexplain.ir.values import from_numbers
    from gradexplain.teach import steps
    from gradexplain.witnesses.builder import TARGETS
    from gradexplain.witnesses.evaluate import Evaluator

    rng = np.random.default_rng(len(expression))
    arrays = {name: rng.uniform(-1, 1, size=shape) for name, shape in shapes.items()}
    result = explain(expression, values={n: a.tolist() for n, a in arrays.items()})
    found = steps.derive_all(
        build(expression, {n: from_numbers(n, a.tolist()) for n, a in arrays.items()})
    )
    for name, derivation in found.items():
        evaluator = Evaluator(
            {n: a for n, a in arrays.items() if a.shape},
            {n: float(a) for n, a in arrays.items() if not a.shape},
            derivation.sizes,
        )
        value = evaluator.tensor(derivation.expr, TARGETS[: len(shapes[name])], shapes[name])
        np.testing.assert_allclose(value, result.gradients[name].autograd, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(value, result.gradients[name].symbolic, rtol=1e-10, atol=1e-12)
        assert derivation.lines[0].startswith("L = ")
        # every delta of a bound index is resolved; a diagonal leaves delta_jk (trace: I),
        # or delta(k, j + 1) at an offset
        assert all(
            delta.free_symbols <= set(TARGETS) for delta in derivation.expr.atoms(sp.KroneckerDelta)
        )


def test_cli_matrix_steps_through_matmul():
    result = CliRunner().invoke(
        app, ["sum(X@w)", "--X", "1,2;3,4", "--w", "1,-1", "--steps"], env={**ENV, "COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    tail = result.output.split("Steps for dL/dX:\n", 1)[1]
    assert tail == (
        "  L = sum_i(sum_m(X_im*w_m))\n"
        "  sum rule: the derivative of a sum is the sum of derivatives: d/dX_jk "
        "[sum_i(sum_m(X_im*w_m))] = sum_i(sum_m(delta_ij*delta_km*w_m))\n"
        "    matrix product: an element is sum_m of products, so the product rule inside the "
        "sum: d/dX_jk [sum_m(X_im*w_m)] = sum_m(delta_ij*delta_km*w_m)\n"
        "  each delta keeps only the terms whose indices meet: dL/dX_jk = w_k\n"
        "Steps for dL/dw: the rules of dL/dX above, line by line, with d/dw_j:\n"
        "  d/dw_j [sum_i(sum_m(X_im*w_m))] = sum_i(sum_m(delta_jm*X_im))\n"
        "    d/dw_j [sum_m(X_im*w_m)] = sum_m(delta_jm*X_im)\n"
        "  each delta keeps only the terms whose indices meet: dL/dw_j = sum_i(X_ij)\n"
    )


def test_cli_matrix_steps_json_and_a_matrix_result():
    import json

    result = CliRunner().invoke(
        app, ["X*X", "--X", "1,2;3,4", "--steps", "--format", "json"], env=ENV
    )
    assert result.exit_code == 0, result.output
    lines = json.loads(result.output)["steps"]["X"]["lines"]
    assert lines == [
        "L = sum_m(sum_i(X_im**2))",
        "y has shape 2x2: backward(ones) differentiates L = the sum of its elements: "
        "sum_m(sum_i(2*delta_ij*delta_km*X_im))",
        "product rule (u v)' = u' v + u v': d/dX_jk [X_im**2] = 2*delta_ij*delta_km*X_im",
        "each delta keeps only the terms whose indices meet: dL/dX_jk = 2*X_jk",
    ]


M = [[1.0, 5.0], [3.0, 4.0]]
MATRIX_STEPS = [  # each of the 16 entries that --steps refused on the shaped path before
    ("prod(W@x)", {"W": [[1, 2], [3, 4]], "x": [1, 2]}),
    ("prod(X)", {"X": M}),
    ("sum(prod(X, dim=1, keepdim=True))", {"X": M}),
    ("max(W@x)", {"W": [[1, 2], [3, 4]], "x": [1, 2]}),
    ("sum(max(X, dim=0))", {"X": M}),
    ("sum(X.min(1))", {"X": M}),
    ("min(X.T@X)", {"X": M}),
    ("sum(amax(X, dim=1)*w)", {"X": M, "w": [1, 2]}),
    ("amax(X)", {"X": M}),
    ("amin(X)", {"X": M}),
    ("sum(amin(X@X, dim=(0, 1)))", {"X": M}),
    ("sum(softmax(X, dim=1)*T)", {"X": M, "T": [[1, 0], [0, 1]]}),
    ("sum(softmax(W@x)*x)", {"W": [[1, 2], [3, 4]], "x": [1, 2]}),
    ("sum(log_softmax(X@X, dim=0)*T)", {"X": M, "T": [[1, 0], [0.5, 1]]}),
    ("F.mse_loss(W@x, y)", {"W": [[1, 2], [3, 4]], "x": [1, 2], "y": [0, 1]}),
    ("F.l1_loss(X, Y)", {"X": M, "Y": [[0, 1], [5, 1]]}),
    ("F.smooth_l1_loss(X, Y)", {"X": M, "Y": [[0, 4.5], [5, 1]]}),
    ("F.huber_loss(X.T, Y, delta=0.5)", {"X": M, "Y": [[0, 3.2], [5, 1]]}),
    ("F.binary_cross_entropy(P, Y)", {"P": [[0.2, 0.7], [0.4, 0.9]], "Y": [[0, 1], [1, 1]]}),
    ("F.binary_cross_entropy_with_logits(W@x, y)", {"W": [[1, 2], [3, 4]], "x": [0.1, -0.2], "y": [0, 1]}),
    ("F.cross_entropy(X, t)", {"X": M, "t": [0, 1]}),
    ("F.cross_entropy(X@X, P)", {"X": [[0.1, 0.5], [0.3, -0.4]], "P": [[0.3, 0.7], [1, 0]]}),
    ("F.nll_loss(X.T, t)", {"X": [[-1, -2], [-3, -0.4]], "t": [1, 0]}),
    ("F.kl_div(X, Y, reduction='batchmean')", {"X": [[-1, -2], [-3, -0.4]], "Y": [[0.3, 0.7], [0.5, 0.5]]}),
]  # fmt: skip


@pytest.mark.parametrize(("expression", "values"), MATRIX_STEPS, ids=[c[0] for c in MATRIX_STEPS])
def test_steps_of_matrices_end_in_the_gradient(expression, values):
    """--steps derives every entry on every rank: the last line is the table's formula,
    and the derivation's own formula, evaluated, is autograd's gradient."""
    from gradexplain import explain
    from gradexplain.ir.values import from_numbers
    from gradexplain.teach.extras import Options, add
    from gradexplain.witnesses.builder import TARGETS

    result = explain(expression, values=values)
    add(result, Options(steps=True))
    program = build(expression, {n: from_numbers(n, v) for n, v in values.items()})
    arrays = {n: np.asarray(v, dtype=float) for n, v in values.items()}
    for name, derivation in steps.derive_all(program).items():
        table = result.gradients[name].formula
        assert result.extras["steps"][name].formula == table
        assert result.extras["steps"][name].lines[-1].endswith(f" = {table}")
        shape = arrays[name].shape
        value = Evaluator(arrays, {}, derivation.sizes).tensor(
            derivation.expr, TARGETS[: len(shape)], shape
        )
        np.testing.assert_allclose(value, result.gradients[name].autograd, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    ("expression", "rule"),
    [
        ("prod(X)", "  product rule over the factors, one axis at a time: sum_k u_k' prod_{m!=k} u_m: "),
        ("sum(max(X, dim=0))", "    max rule: in each slice along dim, only the arg-max element's derivative passes (ties share it): "),
        ("amin(X)", "  amin rule: only the arg-min element's derivative passes (ties share it): "),
        ("sum(softmax(X, dim=1)**2)", "      softmax rule along dim 1: d s_i = (du_i - sum_k(du_k*s_k))*s_i, s = softmax(u): d/dX_jk [exp(X_im)/sum_p(exp(X_ip))] = "),
    ],
)  # fmt: skip
def test_cli_matrix_steps_say_each_rule(expression, rule):
    """Through the real command: exit 0, the rule's words, and no refusal."""
    result = CliRunner().invoke(app, [expression, "--X", "1,5;3,4", "--steps"], env=ENV)
    assert result.exit_code == 0, result.output
    assert any(line.startswith(rule) for line in result.stdout.splitlines()), result.stdout
    assert "does not derive" not in result.stdout


def test_max_steps_of_a_matrix_end_in_the_arg_max():
    """max(X) passes the gradient to its largest element, ties shared as torch shares them
    (a tie is a kink: exit 3, and the steps still say the rule)."""
    result = CliRunner().invoke(app, ["max(X)", "--X", "1,5;5,4", "--steps"], env=ENV)
    assert result.exit_code == 3, result.output
    assert result.stdout.splitlines()[-1] == (
        "  each delta keeps only the terms whose indices meet: "
        "dL/dX_jk = is_max_jk(X_jk)/sum_m(sum_i(is_max_im(X_im)))"
    )
    assert "max has a kink where elements tie for the largest value" in result.stdout


def _statistics_cases():
    """var, std, the vector and matrix norms, cumsum and cumprod of test_reductions_more's
    table."""
    from tests.test_reductions_more import CASES as REDUCTIONS

    names = ("var(", "std(", "norm(", "cumsum(", "cumprod(")
    return [
        (expression, values)
        for expression, values, _ in REDUCTIONS
        if any(name in expression for name in names)
    ]


@pytest.mark.parametrize(
    ("expression", "values"), _statistics_cases(), ids=[case[0] for case in _statistics_cases()]
)
def test_statistics_steps_end_in_the_gradient(expression, values):
    """--steps derives var, std, the norms, cumsum and cumprod by their rules (exit 2 before):
    the derivation's formula, evaluated, is autograd's and SymPy's gradient."""
    from gradexplain import explain
    from gradexplain.ir.values import from_numbers
    from gradexplain.witnesses.builder import TARGETS

    arrays = {name: np.asarray(value, dtype=float) for name, value in values.items()}
    shapes = {name: array.shape for name, array in arrays.items()}
    result = explain(f"sum({expression})", values={n: a.tolist() for n, a in arrays.items()})
    found = steps.derive_all(
        build(f"sum({expression})", {n: from_numbers(n, a.tolist()) for n, a in arrays.items()})
    )
    for name, derivation in found.items():
        evaluator = Evaluator(
            {n: a for n, a in arrays.items() if a.shape},
            {n: float(a) for n, a in arrays.items() if not a.shape},
            derivation.sizes,
        )
        targets = TARGETS[: len(shapes[name])]
        value = evaluator.tensor(derivation.expr, targets if shapes[name] else (), shapes[name])
        np.testing.assert_allclose(value, result.gradients[name].autograd, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(value, result.gradients[name].symbolic, rtol=1e-10, atol=1e-12)
        assert derivation.lines[0].startswith("L = ")


def test_shaped_steps_never_shadow_an_index():
    """A sum inside a line's element reads its own letter: `X_im*sum_p(X_ip)`, never
    `X_im*sum_m(X_im)` (which reads as one index m)."""
    result = CliRunner().invoke(
        app, ["sum(X*sum(X, dim=1, keepdim=True))", "--X", "1,5;3,4", "--steps"], env=ENV
    )
    assert result.exit_code == 0, result.output
    tail = result.stdout.split("Steps for dL/dX:\n", 1)[1].splitlines()
    assert tail[0] == "  L = sum_m(sum_i(X_im*sum_p(X_ip)))"
    assert tail[2].startswith(
        "    product rule (u v)' = u' v + u v': d/dX_jk [X_im*sum_p(X_ip)] = "
    )


def test_a_step_that_passes_its_element_through_keeps_the_steps_below():
    """The mean of one sample's loss prints as the loss: that is no repeat ("as above"),
    and log_softmax's rule below it is shown."""
    result = CliRunner().invoke(
        app, ["F.cross_entropy(z, t)", "--z", "1,2,0.5", "--t", "1", "--steps"], env=ENV
    )
    assert result.exit_code == 0, result.output
    tail = result.stdout.split("Steps for dL/dz:\n", 1)[1]
    assert "as above" not in tail
    assert "\n      log_softmax rule: d l_i = du_i - sum_k(du_k*s_k), s = softmax(u): " in tail


def test_a_named_element_never_takes_a_variables_letter_in_the_other_case():
    """xlogy's element beside a matrix X is z, not x (x_mi would read as X's element)."""
    args = [
        "F.kl_div(X, Y, reduction='batchmean')",
        "--X",
        "-1,-2;-3,-0.4",
        "--Y",
        "0.3,0.7;0.5,0.5",
    ]
    result = CliRunner().invoke(app, [*args, "--steps"], env=ENV)
    assert result.exit_code == 0, result.output
    assert "Names: z_mi = xlogy(Y_mi, Y_mi)." in result.stdout
