"""Issue 14, the learner's desk: the graph of Python's built-in sum, why a scalar, and
output that fits the terminal it is printed in."""

from __future__ import annotations

import builtins
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from gradexplain.cli import app
from gradexplain.ir.program import build
from gradexplain.ir.values import from_numbers
from gradexplain.teach import graph, pysum, story
from tests.helpers import cli_at_width

ROOT = Path(__file__).resolve().parent.parent
ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}
README_COMMANDS = re.findall(
    r"<!-- run: gradexplain ([^\n]+?) -->", (ROOT / "README.md").read_text(encoding="utf-8")
)


def _program(expression: str, **values: object):
    return build(expression, {n: from_numbers(n, v) for n, v in values.items()})


def _names(fn) -> list[str]:
    return [type(node).__name__ for node in graph.backward_order(fn)]


# ---- the seed's own graph -----------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "values", "by_hand"),
    [
        ("sum(x**2)", {"x": [3.0, 4.0, 10.0]}, lambda t: t["x"] ** 2),
        ("sum(x*w)", {"x": [1.0, 2.0], "w": [0.5, -1.0]}, lambda t: t["x"] * t["w"]),
        (
            "sum(sigmoid(x) + x)",
            {"x": [0.0, 1.0, 2.0, 3.0]},
            lambda t: torch.sigmoid(t["x"]) + t["x"],
        ),
    ],
)
def test_builtin_sum_graph_is_the_one_pythons_sum_builds(expression, values, by_hand):
    program = _program(expression, **values)
    assert pysum.applies(program)
    found = pysum.build(program, "float64", list(values))
    leaves = {
        n: torch.tensor(v, dtype=torch.float64, requires_grad=True) for n, v in values.items()
    }
    real = builtins.sum(by_hand(leaves))  # Python's own sum, as the learner's notebook
    assert [node.name for node in found.graph.nodes] == _names(real.grad_fn)
    assert found.graph.nodes[0].name == "AddBackward0"
    real.backward()
    for name, leaf in leaves.items():
        np.testing.assert_allclose(found.gradients[name], leaf.grad.numpy())


def test_the_printed_line_is_what_pytorch_prints_for_the_learners_code():
    found = pysum.build(_program("sum(x**2)", x=[3, 4, 10]), "float64", ["x"])
    x = torch.tensor([3.0, 4.0, 10.0]).requires_grad_()

    def f(q):
        return sum(q**2)

    assert found.printed == repr(f(x)) == "tensor(125., grad_fn=<AddBackward0>)"


def test_torch_sum_builds_one_sumbackward_with_the_same_gradient():
    result = CliRunner().invoke(app, ["sum(x**2)", "--x", "3,4,10", "--graph"], env=ENV)
    assert result.exit_code == 0
    x = torch.tensor([3.0, 4.0, 10.0], dtype=torch.float64, requires_grad=True)
    assert _names((x**2).sum().grad_fn)[0] == _names(torch.sum(x**2).grad_fn)[0]
    top = _names((x**2).sum().grad_fn)[0]
    out = result.stdout
    assert f"[0] {top}  sum(x**2) = 125" in out  # torch.sum's graph first
    assert "tensor(125., grad_fn=<AddBackward0>)" in out
    assert "grad_fn is the backward function of the last operation" in out
    assert "[0] AddBackward0  0 + (x**2)[0] + ... + (x**2)[2] = 125  grad in: 1" in out
    assert "UnbindBackward0" in out
    assert "It gives the same gradient (x.grad = [6, 8, 20]) as torch.sum" in out


@pytest.mark.parametrize(
    "expression", ["torch.sum(x**2)", "(x**2).sum()", "x.sum()", "mean(x)", "sum(x, dim=0)"]
)
def test_other_spellings_get_no_builtin_sum_graph(expression):
    assert not pysum.applies(_program(expression, x=[1, 2, 3]))


# ---- why a scalar, and backward(ones_like(...)) -------------------------------------


def test_the_quoted_errors_are_pytorchs_own():
    x = torch.tensor([3.0, 4.0, 10.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=re.escape(story.NOT_SCALAR_ERROR)):
        (x**2).backward()
    with pytest.raises(RuntimeError, match=re.escape(story.SHAPE_ERROR)):
        sum(x**2).backward(torch.ones_like(x))
    y = x**2
    y.backward(torch.ones_like(y))
    ones = x.grad.clone()
    x.grad = None
    (x**2).sum().backward()
    assert torch.equal(ones, x.grad)
    x.grad = None
    scalar = sum(x**2)
    scalar.backward(torch.ones_like(scalar))
    assert torch.equal(ones, x.grad)


@pytest.mark.parametrize(
    ("command", "build"),
    [
        (["sum(x**2)", "--x", "3,4,10"], lambda: _leaf([3.0, 4.0, 10.0], lambda x: (x**2).sum())),
        (
            ["mean((a*t - y)**2)", "--a", "1", "--t", "0,1,2", "--y", "1,2,2", "--wrt", "a"],
            lambda: _leaf(1.0, lambda a: ((a * torch.tensor([0.0, 1, 2]) - 2) ** 2).mean()),
        ),
    ],
    ids=["vector x", "scalar parameters"],
)
def test_the_ones_like_claim_is_what_pytorch_does(command, build):
    """`L.backward(torch.ones_like(x))` is called an error only where PyTorch raises one:
    of a scalar parameter, ones_like is 0-d like L and backward runs (the note said
    "ones_like(x) has 0 elements" of an x the expression did not have)."""
    out = CliRunner().invoke(app, command, env=ENV).stdout
    leaf, loss = build()
    try:
        loss.backward(torch.ones_like(leaf))
        raised = False
    except RuntimeError as error:
        raised = "Mismatch in shape" in str(error)
    assert ("is an error in PyTorch" in out) == raised
    assert "L.backward(torch.ones_like(L)) is the same as L.backward()." in out


def _leaf(values, loss):
    leaf = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    return leaf, loss(leaf)


def test_scalar_and_vector_results_say_why_one_number():
    scalar = CliRunner().invoke(app, ["sum(x**2)", "--x", "3,4,10"], env=ENV).stdout
    assert "Why one number: training lowers a loss" in scalar
    assert "L.backward(torch.ones_like(x)) is an error in PyTorch" in scalar
    vector = CliRunner().invoke(app, ["x**2", "--x", "3,4,10"], env=ENV).stdout
    assert "y.backward() alone is an error in PyTorch" in vector
    assert "y.backward(torch.ones_like(y)) and y.sum().backward() give the same" in vector


# ---- fit the terminal ---------------------------------------------------------------


def _at_width(monkeypatch, command: str, width: int) -> str:
    return cli_at_width(monkeypatch, command, width)  # the pty test below checks stderr


@pytest.mark.parametrize("width", [80, 60])
@pytest.mark.parametrize("command", [c for c in README_COMMANDS if "--format json" not in c])
def test_every_readme_example_fits(monkeypatch, command, width):
    out = _at_width(monkeypatch, command, width)
    too_wide = [line for line in out.splitlines() if len(line) > width]
    assert not too_wide, too_wide
    assert "…" not in out  # nothing cut


def test_the_linear_model_moves_its_formulas_below_the_table(monkeypatch):
    command = next(c for c in README_COMMANDS if "xb@weights" in c)
    out = _at_width(monkeypatch, command, 80)
    assert (
        "┃ j ┃ weights_j ┃" in out.replace("  ", " ").replace("  ", " ") or "dL/dweights_j" in out
    )
    assert "0.1429271096" in out  # numbers keep every digit while they fit


@pytest.mark.parametrize("columns", ["20", "0"])
def test_narrow_and_zero_columns_still_say_everything(columns):
    result = CliRunner().invoke(
        app, ["sum(x**2)", "--x", "3,4,10"], env={"COLUMNS": columns, "NO_COLOR": "1"}
    )
    out = result.stdout
    assert result.exit_code == 0
    for needle in ("2*x_j", "6", "8", "20", "ok", "SymPy and autograd agree"):
        assert needle in out
    if columns == "20":
        assert "0: x_i 3, y_i 9, dL/dx_j (SymPy) 6, autograd 6, ok" in out


@pytest.mark.skipif(shutil.which("script") is None, reason="util-linux script(1) needed")
@pytest.mark.parametrize("width", [80, 60])
@pytest.mark.parametrize("example", ["xb@weights", '"X@w"'])
def test_a_real_terminal_of_80_and_60_columns(width, example):
    """In a pseudo-terminal (script -qec), prose wraps at words and tables fit."""
    command = next(c for c in README_COMMANDS if example in c)
    line = " ".join(
        shlex.quote(a) for a in [sys.executable, "-m", "gradexplain", *shlex.split(command)]
    )
    env = {**os.environ, "NO_COLOR": "1", "TERM": "xterm", "PYTHONPATH": str(ROOT)}
    env.pop("COLUMNS", None)
    done = subprocess.run(
        ["script", "-qec", f"stty cols {width}; {line}", "/dev/null"],
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
    )
    out = done.stdout.decode("utf-8").replace("\r", "")
    lines = [line for line in out.splitlines() if line]
    assert "SymPy and autograd agree" in out.replace("\n", " ") or "error: @" in out
    assert max(len(line) for line in lines) <= width
    words = re.findall(r"[A-Za-z]+$", out, re.MULTILINE)
    assert "Hea" not in words and "sig" not in words  # no word cut at the edge


# ---- the API takes what PyTorch users hold --------------------------------------------

HELD = [
    ("torch float32 requires_grad", lambda: torch.tensor([3.0, 4.0, 10.0], requires_grad=True)),
    ("torch int64", lambda: torch.tensor([3, 4, 10])),
    ("torch float16", lambda: torch.tensor([3.0, 4.0, 10.0], dtype=torch.float16)),
    ("torch bfloat16", lambda: torch.tensor([3.0, 4.0, 10.0], dtype=torch.bfloat16)),
    ("torch non-leaf", lambda: torch.tensor([1.5, 2.0, 5.0], requires_grad=True) * 2),
    ("numpy int", lambda: np.array([3, 4, 10])),
    ("numpy float32", lambda: np.array([3.0, 4.0, 10.0], dtype=np.float32)),
    ("numpy numbers in a list", lambda: [np.float64(3), np.int64(4), np.float32(10)]),
]


@pytest.mark.parametrize(("label", "make"), HELD, ids=[h[0] for h in HELD])
def test_tensors_and_arrays_give_the_same_result_as_lists(label, make):
    from gradexplain import explain

    listed = explain("sum(x**2)", x=[3, 4, 10])
    held = explain("sum(x**2)", x=make())
    assert held.status == listed.status
    np.testing.assert_array_equal(held.gradients["x"].autograd, listed.gradients["x"].autograd)
    np.testing.assert_array_equal(held.gradients["x"].symbolic, listed.gradients["x"].symbolic)


@pytest.mark.parametrize(
    "scalar",
    [0.5, torch.tensor(0.5), torch.tensor(0.5, requires_grad=True), np.float64(0.5), np.array(0.5)],
    ids=["float", "0-d tensor", "0-d requires_grad", "np.float64", "0-d array"],
)
def test_zero_d_tensors_and_numpy_scalars_are_scalars(scalar):
    from gradexplain import explain

    result = explain("sum(w*x) + b", w=torch.tensor([1.0, 2.0]), x=np.array([3.0, 4.0]), b=scalar)
    assert result.gradients["b"].shape == () and float(result.gradients["b"].autograd) == 1.0
    np.testing.assert_array_equal(result.gradients["w"].autograd, [3.0, 4.0])


def test_matrices_from_tensors_and_arrays():
    from gradexplain import explain

    result = explain("sum(X@w)", X=torch.ones(2, 3), w=np.arange(3.0))
    np.testing.assert_array_equal(result.gradients["w"].autograd, [2.0, 2.0, 2.0])


def test_unsupported_arrays_are_named_errors():
    from gradexplain import explain
    from gradexplain.errors import ValuesError

    with pytest.raises(ValuesError, match="3-D"):
        explain("sum(x)", x=torch.ones(2, 2, 2))
    with pytest.raises(ValuesError, match="complex"):
        explain("sum(x)", x=torch.ones(2, dtype=torch.complex64))


@pytest.mark.parametrize(("expression", "column"), [("sum(x**2", 4), ("sum(x) + $", 10)])
def test_an_errors_column_is_the_one_its_message_names(expression, column):
    from gradexplain import explain
    from gradexplain.errors import GradexplainError

    with pytest.raises(GradexplainError) as caught:
        explain(expression, x=[1.0, 2.0])
    assert f"(column {caught.value.column})" in caught.value.message
    assert caught.value.column == column and caught.value.offset == column - 1


# ---- a drawn graph --------------------------------------------------------------------


def test_the_seed_drawings_in_docs_are_fresh():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "make_graph_svg", ROOT / "scripts" / "make_graph_svg.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, text in module.drawings().items():
        assert (ROOT / "docs" / name).read_text(encoding="utf-8") == text, (
            f"docs/{name} is stale: run python scripts/make_graph_svg.py"
        )


def test_graph_svg_draws_every_node_and_edge(tmp_path):
    import xml.etree.ElementTree as ET

    target = tmp_path / "g.svg"
    result = CliRunner().invoke(
        app,
        [
            "mean(sigmoid(w*x+b))",
            "--w",
            "1,2",
            "--x",
            "3,4",
            "--b",
            "0.5",
            "--wrt",
            "w,b",
            "--graph-svg",
            str(target),
        ],
        env=ENV,
    )
    assert result.exit_code == 0, result.output
    root = ET.fromstring(target.read_text(encoding="utf-8"))
    ns = "{http://www.w3.org/2000/svg}"
    texts = [t.text for t in root.iter(f"{ns}text")]
    built = graph.build(
        build(
            "mean(sigmoid(w*x+b))",
            {
                "w": from_numbers("w", [1, 2]),
                "x": from_numbers("x", [3, 4]),
                "b": from_numbers("b", 0.5),
            },
        ).tree,
        {
            "w": from_numbers("w", [1, 2]),
            "x": from_numbers("x", [3, 4]),
            "b": from_numbers("b", 0.5),
        },
        wrt=["w", "b"],
    )
    assert [t for t in texts if t.endswith("Backward0") or t in ("AccumulateGrad", "data")] == [
        node.name for node in built.nodes
    ]
    assert len(list(root.iter(f"{ns}rect"))) == len(built.nodes) + 1  # + the background
    assert len(list(root.iter(f"{ns}line"))) == len(built.edges)
    assert "grad in: [0.04517665973, 0.0177627472]" in texts or any(
        t.startswith("grad in:") for t in texts
    )


def test_svg_is_a_deprecated_name_of_terminal_svg(tmp_path):
    target = tmp_path / "t.svg"
    result = CliRunner().invoke(app, ["sum(x**2)", "--x", "3,4", "--svg", str(target)], env=ENV)
    assert result.exit_code == 0
    assert "--svg is deprecated" in result.stderr and "--terminal-svg" in result.stderr
    assert target.read_text(encoding="utf-8").startswith("<svg")


@pytest.mark.parametrize("columns", ["80", "60"])
def test_the_terminal_screenshot_holds_every_word(tmp_path, columns):
    """Piped, each sentence is one line (scripts grep them); the screenshot is the terminal
    of that width, prose wrapped at words: it cropped every long line at the edge."""
    import xml.etree.ElementTree as ET

    target = tmp_path / "t.svg"
    result = CliRunner().invoke(
        app,
        ["sum(x**2)", "--x", "3,4,10", "--graph", "--terminal-svg", str(target)],
        env={**ENV, "COLUMNS": columns},
    )
    assert result.exit_code == 0
    why = next(line for line in result.stdout.splitlines() if line.startswith("Why one number"))
    assert why.endswith("is the same as L.backward().")  # stdout: one line, as before
    root = ET.fromstring(target.read_text(encoding="utf-8"))
    rows: dict[str, list[str]] = {}
    for element in root.iter("{http://www.w3.org/2000/svg}text"):
        rows.setdefault(element.get("y"), []).append(element.text or "")
    shown = " ".join(" ".join("".join(parts).split()) for parts in rows.values())
    for words in (
        "so backward() starts from L itself",
        "L.backward(torch.ones_like(L)) is the same as L.backward().",
        "whose one SumBackward0 is drawn above.",
    ):
        assert words in shown, words


# ---- the smaller points ---------------------------------------------------------------


def test_one_product_written_twice_gets_one_index_name():
    from gradexplain import explain

    result = explain(
        "where(t==1, 1-sigmoid(xb@w + b), sigmoid(xb@w + b)).mean()",
        xb=[[0.5, -1], [1.5, 0]],
        w=[0.1, -0.2],
        b=0.05,
        t=[1, 0],
        wrt="w,b",
    )
    formula = result.gradients["w"].formula
    assert "sum_m(w_m*xb_im)" in formula and "sum_p" not in formula
    assert result.agree  # the values come from the expression as built


def test_round_off_in_graph_values_is_shown_as_such():
    described = graph.describe(np.array([0.0, -5.55e-17, 2.7e-17]))
    assert described == "[0, ~0, ~0] (~0: round-off, |v| <= 5.55e-17)"
    assert graph.describe(np.array([1e-20, 1e-20])) == "[~0, ~0] (~0: round-off, |v| <= 1e-20)"
    assert graph.describe(np.array([1e-3, 2.0])) == "[0.001, 2]"


def test_steps_of_a_softmax_along_rows_follow_the_full_result():
    """softmax along dim= of a matrix is derived too (it was refused beside the result)."""
    result = CliRunner().invoke(
        app, ["sum(softmax(X, dim=1)*Y)", "--X", "1,2;3,4", "--Y", "1,0;0,1", "--steps"], env=ENV
    )
    assert result.exit_code == 0
    assert "SymPy and autograd agree" in result.stdout
    assert "Steps for dL/dX:" in result.stdout
    assert result.stdout.rstrip().endswith("dL/dY_jk = exp(X_jk)/sum_m(exp(X_jm))")


def test_each_derivative_rule_is_written_as_sympy_writes_it():
    """One form per derivative in a run: every elementwise and pointwise rule that --steps,
    the graph and README's table quote is SymPy's derivative of the entry, printed by the
    printer that prints the table's formulas (log2' once read 1/(u log(2)) there and
    1/(u*log(2)) here); words, where an entry has them, come after the formula."""
    import sympy as sp

    from gradexplain.ir.tree import Call, Var
    from gradexplain.ops import OPS
    from gradexplain.ops.elementwise import Elementwise
    from gradexplain.ops.pointwise import Pointwise
    from gradexplain.witnesses.symbolic import formula

    u = sp.Symbol("u", real=True)
    checked = set()
    for op in OPS.values():
        if op.name in checked:
            continue
        checked.add(op.name)
        call = Call(op.name, (Var("x", 0),), 0)  # its settings at their defaults
        if isinstance(op, Elementwise):
            head = f"{op.name}'(u) = {formula(op.derivative(u, call))}"
        elif isinstance(op, Pointwise):
            points = [sp.Symbol(letter, real=True) for letter in op.letters]
            form = op.sympy(sp, *points)
            partials = ", ".join(f"d/d{p} = {formula(sp.diff(form, p))}" for p in points)
            head = f"{op.name}({', '.join(op.letters)}): {partials}"
        else:
            continue
        assert op.printed_rule(formula, call) in (head, f"{head}; {op.rule}"), op.name
    assert len(checked & {"log2", "gelu", "atan2", "clamp", "maximum", "relu6"}) == 6
    # README's table, without a call, names a setting where its value would be
    assert (
        OPS["leaky_relu"]
        .printed_rule(formula)
        .startswith("leaky_relu'(u) = negative_slope*Heaviside(-u) + Heaviside(u); ")
    )


# ---- matrix form beside the element form ----------------------------------------------


def test_the_linear_model_gets_its_matrix_form():
    from gradexplain import explain

    result = explain(
        "mean(-y*log(sigmoid(X@w + b)) - (1-y)*log(1-sigmoid(X@w + b)))",
        X=[[1, 2], [3, 4], [5, 6]],
        w=[0.5, -1],
        y=[1, 0, 1],
        b=0.1,
        wrt="w,b",
    )
    assert result.matrix_forms["w"] == (
        "Matrix form, with z = X@w: dL/dw = X.T @ g, where g = dL/dz = (sigmoid(b + z) - y)/n "
        "(elementwise), n = 3 (this gives the table's values)."
    )
    assert "b" not in result.matrix_forms  # b is not inside X@w: no form is claimed


def test_mse_and_mnist_loss_forms_and_the_data_matrix_itself():
    from gradexplain import explain

    mse = explain("sum((X@w - y)**2)", X=[[1, 2], [3, 4], [5, 6]], w=[0.5, -1], y=[1, 0, 2])
    assert "dL/dw = X.T @ g, where g = dL/dz = -2*y + 2*z (elementwise)" in mse.matrix_forms["w"]
    assert "dL/dX = outer(g, w)" in mse.matrix_forms["X"]
    assert set(mse.matrix_forms) == {"w", "X"}  # y is not inside X@w
    command = next(c for c in README_COMMANDS if "xb@weights" in c)
    out = CliRunner().invoke(app, shlex.split(command), env=ENV).stdout
    assert "Matrix form, with z = xb@weights: dL/dweights = xb.T @ g" in out


def test_a_one_row_product_reads_g_as_a_vector_formula():
    """z = A@w of one row is a vector of one element, as y is: g is written as for any
    length, as the table writes x_j of length-1 vectors (it read -2*y_0 + 2*z_0)."""
    from gradexplain import explain

    forms = explain("sum((A@w - y)**2)", A=[[1, 2]], w=[1, 2], y=[3], wrt="w").matrix_forms
    assert "where g = dL/dz = -2*y + 2*z (elementwise)" in forms["w"]


@pytest.mark.parametrize(
    ("expression", "values"),
    [
        ("sum(x**2)", {"x": [1.0, 2.0]}),
        ("sum(X@w) + sum(w)", {"X": [[1.0, 2.0]], "w": [1.0, 2.0]}),  # w outside X@w
        ("sum(X@X.T)", {"X": [[1.0, 2.0]]}),
    ],
)
def test_no_matrix_form_where_the_shape_does_not_fit(expression, values):
    from gradexplain import explain

    forms = explain(expression, **values).matrix_forms
    assert "w" not in forms and "x" not in forms
    assert "X" not in forms or forms["X"].startswith("Matrix form, with z = X@w: dL/dX = ")


@pytest.mark.parametrize(
    ("expression", "values", "forms"),
    [
        (
            "x@A@x",
            {"x": [1.0, 2.0], "A": [[1.0, 2.0], [3.0, 4.0]]},
            {"x": "(A + A.T) @ x", "A": "outer(x, x)"},
        ),
        (
            "x@(A@x)",
            {"x": [1.0, -2.0], "A": [[1.0, 2.0], [3.0, 4.0]]},
            {"x": "(A + A.T) @ x", "A": "outer(x, x)"},
        ),
        (
            "-sum(log_softmax(Z, dim=1) * Y)",
            {"Z": [[2, 1, 0.1], [0.5, 2.5, 1]], "Y": [[1, 0, 0], [0, 1, 0]]},
            {
                "Z": "softmax(Z, dim=1) * Y.sum(1, keepdim=True) - Y, which is softmax(Z, dim=1) - Y "
                "here (each row of Y sums to 1)",
                "Y": "-log_softmax(Z, dim=1)",
            },
        ),
        (
            "-(Y*Z.log_softmax(1)).sum()",
            {"Z": [[2, 1, 0.1], [0.5, 2.5, 1]], "Y": [[1, 0, 0], [0, 2, 0]]},
            {"Z": "softmax(Z, dim=1) * Y.sum(1, keepdim=True) - Y", "Y": "-log_softmax(Z, dim=1)"},
        ),
    ],
)
def test_quadratic_form_and_softmax_cross_entropy(expression, values, forms):
    from gradexplain import explain

    result = explain(expression, **values)
    assert result.matrix_forms == {
        name: f"Matrix form: dL/d{name} = {text} (this gives the table's values)."
        for name, text in forms.items()
    }


def test_a_form_that_does_not_give_the_tables_values_is_not_shown():
    from gradexplain import explain

    # + sum(...): the sign is not cross-entropy's, so the pattern claims nothing
    assert (
        explain(
            "sum(log_softmax(Z, dim=0) * Y)", Z=[[2.0, 1.0], [0.5, 2.5]], Y=[[1.0, 0.0], [0.0, 1.0]]
        ).matrix_forms
        == {}
    )


ACCELERATORS = (["cuda"] if torch.cuda.is_available() else []) + (
    ["mps"]
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    else []
)


@pytest.mark.gpu
@pytest.mark.skipif(not ACCELERATORS, reason="needs CUDA or MPS")
@pytest.mark.parametrize("device", ACCELERATORS or ["none"])
def test_tensors_on_an_accelerator_give_the_same_result_as_lists(device):
    from gradexplain import explain

    held = torch.tensor([3.0, 4.0, 10.0], device=device, requires_grad=True)
    listed = explain("sum(x**2)", x=[3, 4, 10])
    np.testing.assert_array_equal(
        explain("sum(x**2)", x=held).gradients["x"].autograd, listed.gradients["x"].autograd
    )
