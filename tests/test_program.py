"""The program is built once per run: one parse of the expression, whatever is asked."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import gradexplain.ir.parser
from gradexplain import explain
from gradexplain.cli import app
from gradexplain.ir.tree import Node

ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}


@pytest.fixture
def parses(monkeypatch):
    """How many times Python's parser saw an expression (every parse goes through it)."""
    seen: list[str] = []
    real = gradexplain.ir.parser._ast_parse

    def counting(text: str):
        seen.append(text)
        return real(text)

    monkeypatch.setattr(gradexplain.ir.parser, "_ast_parse", counting)
    return seen


@pytest.mark.parametrize(
    "args",
    [
        ["sum(x**2)", "--x", "3,4,10"],
        [
            "sum(x**2)",
            "--x",
            "3,4,10",
            "--expect",
            "x=6,8,20",
            "--steps",
            "--graph",
            "--check-fd",
            "--hessian",
            "--mermaid",
        ],
        ["x**2", "--x", "3,4,10", "--v", "1,0,2", "--jacobian", "--format", "json"],
        [
            "sum(W@x)",
            "--W",
            "1,2;3,4",
            "--x",
            "1,1",
            "--steps",
            "--check-fd",
            "--jacobian",
            "--expect",
            "x=4,6",
            "--format",
            "markdown",
        ],
        ["sum(v**2)", "--v", "1,2"],  # v is a variable here, not backward(v)
        [
            "mean(sigmoid(w*x + b))",
            "--w",
            "1,2",
            "--x",
            "3,4",
            "--b",
            "0.5",
            "--wrt",
            "w,b",
            "--graph",
            "--dot",
            "-",
        ],
    ],
)
def test_one_parse_per_run(parses, args, tmp_path):
    args = [str(tmp_path / "g.dot") if a == "-" else a for a in args]
    result = CliRunner().invoke(app, args, env=ENV)
    assert result.exit_code == 0, result.output
    assert parses == [args[0]]


def test_the_result_carries_its_program(parses):
    result = explain("sum(w*x) + b", w=[1.0, 2.0], x=[3.0, 4.0], b=0.5, wrt="w,b")
    assert parses == ["sum(w*x) + b"]
    program = result.program
    assert isinstance(program.tree, Node)
    assert program.wrt == ("w", "b")
    assert program.node_shapes[id(program.tree)] == ()
    assert not program.shaped


def test_a_cases_file_parses_each_case_once(parses, tmp_path):
    cases = tmp_path / "c.toml"
    cases.write_text(
        '[[case]]\nexpression = "sum(x**2)"\nvalues = {x = [3, 4, 10]}\n'
        "expect = {x = [6, 8, 20]}\ncheck_fd = true\n\n"
        '[[case]]\nexpression = "sum(W@x)"\nvalues = {W = [[1, 2], [3, 4]], '
        "x = [1, 1]}\nhessian = true\n"
    )
    result = CliRunner().invoke(app, ["--cases", str(cases)], env=ENV)
    assert result.exit_code == 0, result.output
    assert parses == ["sum(x**2)", "sum(W@x)"]


# Each extra as the command line asks for it; a new field of extras.Options fails
# test_every_extra_is_counted until it is here.
EXTRA_FLAGS = {
    "graph": ["--graph"],
    "dot": ["--dot", "{tmp}/g.dot"],
    "mermaid": ["--mermaid"],
    "check_fd": ["--check-fd"],
    "steps": ["--steps"],
    "v": ["--v", "{v}"],
    "jacobian": ["--jacobian"],
    "svg": ["--terminal-svg", "{tmp}/t.svg"],
    "graph_svg": ["--graph-svg", "{tmp}/g.svg"],
    "jacobian_out": ["--jacobian-out", "{tmp}/J.json"],
}
# The options that are not extras but are computed from the program too.
OTHER_FLAGS = {
    "expect": ["--expect", "{expect}"],
    "hessian": ["--hessian"],
    "all": ["--all"],
}
REFUSED = {  # what a format cannot show is refused by name (test_no_option_ignored.py)
    ("graph", "json"): "--graph",
    ("mermaid", "json"): "--mermaid",
    ("svg", "json"): "--terminal-svg",
    ("svg", "markdown"): "--terminal-svg",
}
POINTS = {  # expression, values, what --v and --expect take there
    "vector": (["x**2", "--x", "3,4,10"], "1,0,2", "x=6,8,20"),
    "matrix": (["W@x", "--W", "1,2;3,4", "--x", "1,1"], "1,0", "x=4,6"),
}


def test_every_extra_is_counted():
    from dataclasses import fields

    from gradexplain.teach.extras import Options

    assert {field.name for field in fields(Options)} == set(EXTRA_FLAGS)


@pytest.fixture
def builds(monkeypatch):
    """How many Programs were built from a string (`program.build`)."""
    import gradexplain.ir.program

    seen: list[str] = []
    real = gradexplain.ir.program.build

    def counting(expression, *args, **kwargs):
        seen.append(expression)
        return real(expression, *args, **kwargs)

    monkeypatch.setattr(gradexplain.ir.program, "build", counting)
    return seen


# One run per group: --v and the Jacobian need a vector y, --expect and --hessian a scalar L.
GROUPS = {
    "scalar L": (
        "expect",
        "hessian",
        "all",
        "check_fd",
        "steps",
        "graph",
        "dot",
        "mermaid",
        "svg",
        "graph_svg",
    ),
    "vector y": ("v", "jacobian", "jacobian_out", "graph", "dot", "graph_svg"),
}


def test_the_groups_hold_every_option():
    assert {o for group in GROUPS.values() for o in group} == {*EXTRA_FLAGS, *OTHER_FLAGS}


@pytest.fixture
def models(monkeypatch):
    """Every SymPy model built (`symbolic.build`), by its tree, and the Programs built
    from a string, so each model can be told apart: the program's, or another tree's."""
    import gradexplain.ir.program
    import gradexplain.witnesses.symbolic

    trees: list[Node] = []
    programs: list[object] = []
    real_model, real_program = gradexplain.witnesses.symbolic.build, gradexplain.ir.program.build

    def model(tree, *args, **kwargs):
        trees.append(tree)
        return real_model(tree, *args, **kwargs)

    def program(*args, **kwargs):
        programs.append(built := real_program(*args, **kwargs))
        return built

    monkeypatch.setattr(gradexplain.witnesses.symbolic, "build", model)
    monkeypatch.setattr(gradexplain.ir.program, "build", program)
    return trees, programs


def derived(trees, programs):
    """The trees modelled besides the programs': matrixform's `A@w` replaced by z."""
    from gradexplain.ir.unparse import source

    own = {id(program.tree) for program in programs}
    return [source(tree) for tree in trees if id(tree) not in own]


@pytest.mark.parametrize("point", sorted(POINTS))
@pytest.mark.parametrize("group", sorted(GROUPS))
@pytest.mark.parametrize("output_format", ["table", "json", "markdown"])
def test_every_extra_in_every_format_parses_once(
    parses, builds, models, point, group, output_format, tmp_path
):
    """issue 11 item 3: one parse, one Program and one SymPy model of it per run,
    whichever extras are shown (those a format cannot show are refused by name:
    test_no_option_ignored.py). The Hessian, --v, --jacobian, the story's table and the
    matrix form read the program's model; the matrix form's g = dL/dz is the model of
    another tree (the expression with z for W@x), built once."""
    head, v, expect = POINTS[point]
    args = list(head)
    if group == "scalar L":
        args[0] = f"sum({args[0]})"
    for option in GROUPS[group]:
        if (option, output_format) not in REFUSED:
            flags = {**EXTRA_FLAGS, **OTHER_FLAGS}[option]
            args += [flag.format(tmp=tmp_path, v=v, expect=expect) for flag in flags]
    result = CliRunner().invoke(app, [*args, "--format", output_format], env=ENV)
    assert result.exit_code == 0, result.output
    assert parses == [args[0]]
    assert builds == [args[0]]
    trees, programs = models
    (program,) = programs
    assert [tree for tree in trees if tree is program.tree] == [program.tree]
    z = {"scalar L": ["sum(z)"], "vector y": ["z"]}[group] if point == "matrix" else []
    assert derived(trees, programs) == z


@pytest.mark.parametrize("option, output_format", sorted(REFUSED))
def test_a_refused_extra_builds_nothing(parses, builds, option, output_format, tmp_path):
    head, _, _ = POINTS["vector"]
    flags = [flag.format(tmp=tmp_path) for flag in EXTRA_FLAGS[option]]
    result = CliRunner().invoke(app, [*head, *flags, "--format", output_format], env=ENV)
    assert result.exit_code == 2 and REFUSED[option, output_format] in result.output
    assert parses in ([], [head[0]]) and builds == []


def test_the_notebook_display_parses_nothing(parses, models):
    """A result drawn in Jupyter (table, formulas, the graph) reuses its program and
    its model."""
    trees, _ = models
    result = explain("sum(W@x)", W=[[1.0, 2.0], [3.0, 4.0]], x=[1.0, 1.0], hessian=True)
    assert parses == ["sum(W@x)"]
    built = len(trees)
    shown = result._repr_markdown_()
    assert shown is not None and "W" in shown
    assert parses == ["sum(W@x)"] and len(trees) == built


@pytest.mark.parametrize(
    "expression, values",
    [
        ("sum(x**3)", {"x": [1.0, 2.0]}),
        ("mean(sigmoid(w*x + b))", {"w": [1.0, 2.0], "x": [3.0, 4.0], "b": 0.5}),
        ("sum(sigmoid(X@w))", {"X": [[1.0, 2.0], [3.0, 4.0]], "w": [1.0, -1.0]}),
    ],
)
def test_the_hessian_reads_the_programs_model(models, expression, values):
    """--hessian differentiates the gradient's own formula once more: it builds no model."""
    trees, _ = models
    result = explain(expression, values, hessian=True)
    assert result.hessian is not None and result.hessian.agree
    assert [tree for tree in trees if tree is result.program.tree] == [result.program.tree]
