"""One form for each derivative in one run (issue 14): --steps ends in the table's formula.

The steps' last line `dL/dx_j = ...` is the same text, from the same printer, as the
gradient the table shows, over the core cases (losses, matrices, shape ops), the
chapter-4 programs and every README example run with --steps; in the terminal the names
--steps gives long elements hold for the table's header and sentence too.
"""

from __future__ import annotations

import importlib.util
import re
import shlex
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from gradexplain import explain
from gradexplain.cli import app
from gradexplain.teach.extras import Options, add
from tests.test_core import CASES

ROOT = Path(__file__).resolve().parent.parent
ENV = {"COLUMNS": "400", "NO_COLOR": "1", "TERM": "dumb"}  # wide: no formula moves or wraps
XB = [[0.5, -1.0, 2.0], [1.5, 0.0, -0.5], [-1.0, 1.0, 1.0], [0.2, 0.3, -0.4]]

MORE = [  # the chapter-4 programs and matrices the core table lacks
    ("mean((sigmoid(X@w + b) - y)**2)", {"X": XB, "w": [0.1, -0.2, 0.3], "b": 0.05, "y": [1, 0, 1, 0]}),
    ("mean((a*t**2 + b*t + c - s)**2)", {"t": [0, 1, 2, 3], "s": [1.2, 2.1, 5.3, 9.8], "a": 1.0, "b": 0.5, "c": 0.2}),
    ("sum((X@w - y)**2)", {"X": [[1, 2], [3, 4], [5, 6]], "w": [0.5, -1], "y": [1, 0, 2]}),
    ("mean(X**2)", {"X": [[1, 2], [3, 4]]}),
    ("x@A@x", {"x": [1.0, -2.0], "A": [[2.0, 1.0], [0.5, 3.0]]}),
    ("-sum(log_softmax(Z, dim=1) * Y)", {"Z": [[2, 1, 0.1], [0.5, 2.5, 1]], "Y": [[1, 0, 0], [0, 1, 0]]}),
    ("F.cross_entropy(z, t)", {"z": [[0.6, -0.2], [1.5, 0.3], [-0.4, 1.1]], "t": [0, 1, 0]}),
    ("F.mse_loss(X@w, y)", {"X": [[1, 2], [3, 4], [5, 6]], "w": [0.5, -1], "y": [1, 0, 2]}),
    ("det(A)", {"A": [[2.0, 1.0], [0.5, 3.0]]}),
    ("sum(tanh(W@x + b))", {"W": [[1.0, -0.5], [0.25, 2.0]], "x": [0.3, -0.7], "b": [0.1, 0.2]}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("expression", "values"),
    [case[:2] for case in CASES] + MORE,
    ids=[case[0] for case in CASES] + [case[0] for case in MORE],
)
def test_the_steps_end_in_the_tables_formula(expression, values):
    result = explain(expression, values)
    add(result, Options(steps=True))
    for name, derivation in result.extras["steps"].items():
        table = result.gradients[name].formula
        assert derivation.formula == table
        assert derivation.lines[-1].endswith(f": dL/d{derivation.parts.target} = {table}")


def _readme_commands() -> list[str]:
    spec = importlib.util.spec_from_file_location(
        "update_readme", ROOT / "scripts" / "update_readme.py"
    )
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = [m.group("command") for m in script.BLOCK.finditer(text)]
    return [c for c in found if not re.search(r"--(format|expect|cases|quiet)|\"sum\(x\*\*2\"", c)]


def _last_lines(out: str) -> dict[str, str]:
    """Each variable's gradient as its steps' last line writes it."""
    found: dict[str, str] = {}
    for block in out.split("Steps for dL/d")[1:]:
        name = re.match(r"\w+", block).group()
        lines = block.splitlines()[1:]
        listed = lines[: next((n for n, line in enumerate(lines) if line[:2] != "  "), len(lines))]
        last = listed[-1] if listed else ""
        match = re.search(rf": dL/d{name}\w* = (.+)$", last)
        found[name] = match.group(1) if match else ""
    return found


@pytest.mark.parametrize("command", _readme_commands())
def test_readme_examples_write_each_gradient_once(command):
    """Run with --steps: the table (header or sentence) shows the steps' last formula."""
    args = [*shlex.split(command)[1:], "--steps"]
    result = CliRunner().invoke(app, args, env=ENV)
    out = result.stdout
    if result.exit_code == 2:  # an input error README shows: nothing derived
        return
    finals = _last_lines(out)
    assert finals, out
    above = out.split("Steps for dL/d")[0]
    for name, formula in finals.items():
        assert formula and f" = {formula}" in above, (name, formula)


def test_one_sigmoid_derivative_in_the_linear_model():
    """sigmoid' is (1 - s)*s wherever the run writes it: no 2*s - 2*y, no other order."""
    values = dict(MORE[0][1])
    result = CliRunner().invoke(
        app,
        [MORE[0][0], *(f"--{k}={_cli(v)}" for k, v in values.items()), "--wrt", "w,b", "--steps"],
        env=ENV,
    )
    out = result.stdout
    assert "2*s_i - 2*y_i" not in out and "sigmoid(b + sum_m" not in out.split("Names:")[1]
    assert out.count("(1 - s_i)*s_i") >= 3


def _cli(value: object) -> str:
    array = np.asarray(value, dtype=float)
    if array.ndim == 2:
        return ";".join(",".join(f"{v:g}" for v in row) for row in array)
    return ",".join(f"{v:g}" for v in np.atleast_1d(array))


def _run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), env=ENV)
    assert result.exit_code == 0, result.stdout
    return result.stdout


def test_the_mean_factor_is_one_fact_in_one_wording():
    """mean's 1/n: the sentence and the steps say the count the formula divides by, in
    the notation's letter (N where a variable is called n)."""
    out = _run("mean(X**2)", "--X", "1,2;3,4", "--steps")
    assert "Sum rule with the factor 1/n: L = (1/4) sum_i,k y_ik averages the n = 4" in out
    assert "sum rule with the factor 1/n, n = 4: d/dX_jk [sum_m(sum_i(X_im**2))/4]" in out
    assert "1/N" not in out and "constant factor" not in out
    out = _run("mean(X*n)", "--X", "1,2;3,4", "--n", "5", "--wrt", "X", "--steps")
    assert "Sum rule with the factor 1/N: L = (1/4) sum_i,k y_ik averages the N = 4" in out
    assert "sum rule with the factor 1/N, N = 4: d/dX_jk" in out
    assert "1/n" not in out
    out = _run("mean(x**2)", "--x", "1,2,3", "--jacobian")
    assert "sum / 3" in out and "sum / n" not in out  # the Jacobian's column sums


# ---- the rules of reductions, losses, linalg and matrices are formulas (issue 14) -------

FORMULA_FAMILIES = (
    "reductions",
    "statistics",
    "cumulative",
    "matrixnorms",
    "losses",
    "linalg",
    "einsum",
    "matrices",
    "shape",
    "diagonals",
)


def test_every_family_with_a_formula_prints_its_rule():
    """Each entry of these families has a RuleForm, printed by the table's printer, with
    its words (if any) after the formula; README's table shows that text."""
    from gradexplain.ops import OPS
    from gradexplain.witnesses.symbolic import formula

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    checked = []
    for name in OPS:
        op = OPS[name]
        family = type(op).__module__.rsplit(".", 1)[1]
        if family not in FORMULA_FAMILIES or name == "probability":  # an identity: words
            continue
        form = op.rule_form()
        assert form is not None, name
        printed = op.printed_rule(formula)
        assert printed == form.printed(formula)
        if op.rule:
            assert f"; {op.rule}" in printed, name  # words only after the formula
        assert printed.replace("|", "\\|") in readme, name
        checked.append(name)
    assert {"sum", "mean", "logsumexp", "max", "cross_entropy", "det", "inverse"} <= set(checked)


def _value(expr, values):
    """A printed rule's expression at numbers: each Symbol (n, beta), then each Indexed,
    by name."""
    import sympy as sp

    named = {s: values[str(s)] for s in expr.free_symbols if np.isscalar(values.get(str(s), ()))}
    expr = expr.xreplace(named).doit()
    table = {
        atom: values[str(atom.base)][tuple(int(i) for i in atom.indices)]
        for atom in expr.atoms(sp.Indexed)
    }
    return float(expr.xreplace(table).doit())


LOSSES = [  # (loss, input, target, keywords): the printed rule against autograd
    ("mse_loss", [0.3, -1.2, 2.0], [1.0, 0.5, -0.5], {}),
    ("l1_loss", [0.3, -1.2, 2.0], [1.0, 0.5, -0.5], {}),
    ("smooth_l1_loss", [0.3, -1.2, 2.0], [1.0, 0.5, -0.5], {}),
    ("huber_loss", [0.3, -1.2, 2.0], [1.0, 0.5, -0.5], {}),
    ("binary_cross_entropy", [0.2, 0.7, 0.9], [0.0, 1.0, 1.0], {}),
    ("binary_cross_entropy_with_logits", [0.3, -1.2, 2.0], [0.0, 1.0, 1.0], {}),
    ("kl_div", [0.3, -1.2, 2.0], [0.2, 0.5, 0.3], {"reduction": "batchmean"}),  # /3 as mean
]


@pytest.mark.parametrize(("name", "u", "y", "keywords"), LOSSES, ids=[c[0] for c in LOSSES])
def test_a_losss_printed_rule_is_its_gradient(name, u, y, keywords):
    import sympy as sp
    import torch

    from gradexplain.ops import OPS

    form = OPS[name].rule_form()
    (_, slope), *_ = form.parts
    u_t = torch.tensor(u, dtype=torch.float64, requires_grad=True)
    loss = getattr(torch.nn.functional, name)(u_t, torch.tensor(y, dtype=torch.float64), **keywords)
    (grad,) = torch.autograd.grad(loss, u_t)
    letters = OPS[name].letters
    for j in range(len(u)):
        at = slope.xreplace({sp.Symbol("j", integer=True, nonnegative=True): j})
        named = {letters[0]: np.array(u), letters[1]: np.array(y), "n": len(u)}
        named |= {"beta": 1.0, "delta": 1.0}
        assert _value(at, named) == pytest.approx(float(grad[j]), rel=1e-12), (name, j)


def test_logsumexp_and_cross_entropy_rules_are_softmax():
    """logsumexp' = softmax; cross_entropy' = (softmax - onehot)/n, against autograd."""
    import sympy as sp
    import torch

    from gradexplain.ops import OPS

    u = np.array([0.5, -1.0, 2.0])
    (_, _), (_, slope) = OPS["logsumexp"].rule_form().parts
    ut = torch.tensor(u, requires_grad=True)
    (grad,) = torch.autograd.grad(torch.logsumexp(ut, 0), ut)
    k = sp.Symbol("k", integer=True, nonnegative=True)
    for at in range(3):
        found = _value(slope.xreplace({k: at}), {"u": u, "n": 3})
        assert found == pytest.approx(float(grad[at]), rel=1e-12)
    z = np.array([[0.6, -0.2, 1.0], [1.5, 0.3, -0.4]])
    t = [2, 0]
    zt = torch.tensor(z, requires_grad=True)
    (grad,) = torch.autograd.grad(torch.nn.functional.cross_entropy(zt, torch.tensor(t)), zt)
    ((_, slope),) = OPS["cross_entropy"].rule_form().parts
    softmax = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    j, c = sp.symbols("j c", integer=True, nonnegative=True)
    for row in range(2):
        for col in range(3):
            at = slope.xreplace({j: row, c: col})
            named = {"s": softmax, "t": np.array(t), "n": 2}
            assert _value(at, named) == pytest.approx(float(grad[row, col]), rel=1e-12)


SHAPE_RULES = [  # (entry, the torch call on a 4-vector, its settings by the rule's letters)
    ("flip", lambda torch, x: torch.flip(x, (0,)), {"n": 4}),
    ("roll", lambda torch, x: torch.roll(x, 1, 0), {"n": 4, "s": 1}),
    ("repeat", lambda torch, x: x.repeat(2), {"n": 4}),
    ("reshape", lambda torch, x: x.reshape(2, 2).reshape(4), {}),
]


@pytest.mark.parametrize(("name", "call", "settings"), SHAPE_RULES, ids=[c[0] for c in SHAPE_RULES])
def test_a_shape_ops_printed_rule_is_its_jacobian(name, call, settings):
    """d y_i/dx_j as printed (a delta of the index each element comes from) is torch's
    Jacobian of the call, entry by entry."""
    import torch

    from gradexplain.ops import OPS

    ((_, slope),) = OPS[name].rule_form().parts
    x = torch.tensor([0.5, -1.0, 2.0, 3.0], dtype=torch.float64)
    jacobian = torch.autograd.functional.jacobian(lambda t: call(torch, t), x)
    named = {str(s): s for s in slope.free_symbols}
    for i in range(jacobian.shape[0]):
        for j in range(4):
            found = slope.xreplace({named["i"]: i, named["j"]: j})
            found = found.xreplace({named[k]: v for k, v in settings.items() if k in named})
            assert float(found.doit()) == float(jacobian[i, j]), (name, i, j)


def test_the_table_keeps_its_formula_where_the_steps_end_elsewhere():
    """The table takes the steps' named text only where the steps end in its own text
    (stepend.py): a derivation ending in another formula leaves the table's alone."""
    import dataclasses

    from gradexplain.output import view

    expression, values = MORE[0]
    result = explain(expression, values, wrt="w,b")
    add(result, Options(steps=True))
    shown = repr(view.build(result))
    assert "sum_i(2*(1 - s_i)*(s_i - y_i)*X_ij*s_i)/4" in shown  # named, as the steps
    steps = result.extras["steps"]
    steps["w"] = dataclasses.replace(steps["w"], formula="something else")
    shown = repr(view.build(result))
    assert "sum_i(2*(1 - s_i)*(s_i - y_i)*X_ij*s_i)/4" not in shown
    assert result.gradients["w"].formula in shown  # written out, as SymPy's
