"""The program is built once per run: one parse of the expression, whatever is asked."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import gradexplain.parser
from gradexplain import explain
from gradexplain.cli import app
from gradexplain.tree import Node

ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}


@pytest.fixture
def parses(monkeypatch):
    """How many times Python's parser saw an expression (every parse goes through it)."""
    seen: list[str] = []
    real = gradexplain.parser._ast_parse

    def counting(text: str):
        seen.append(text)
        return real(text)

    monkeypatch.setattr(gradexplain.parser, "_ast_parse", counting)
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
