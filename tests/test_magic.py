"""`%gradexplain EXPRESSION [--wrt NAMES]` (issue 14, item 5): the options after the
expression are read as options, and one of the command line's is named as such (it was
read into the expression: `sum(x) --steps` said "the notebook has no variable steps")."""

from __future__ import annotations

import pytest
import torch

from gradexplain import magic
from gradexplain.errors import UsageError


@pytest.mark.parametrize(
    ("line", "expression", "wrt"),
    [
        ("sum(x**2)", "sum(x**2)", None),
        ("  sum(w*x)  --wrt w ", "sum(w*x)", "w"),
        ("sum(w*x+b) --wrt=w,b", "sum(w*x+b)", "w,b"),
        ("sum(x - 2)", "sum(x - 2)", None),
    ],
)
def test_the_expression_and_wrt(line, expression, wrt):
    assert magic.split(line) == (expression, wrt)


@pytest.mark.parametrize("option", ["--steps", "--graph", "--check-fd", "--x"])
def test_a_command_line_option_is_named(option):
    with pytest.raises(UsageError) as caught:
        magic.split(f"sum(x**2) {option}")
    assert caught.value.message == (
        f"%gradexplain takes an expression and --wrt NAMES; {option} is an option "
        "of the command line only"
    )


def test_wrt_without_names():
    with pytest.raises(UsageError, match="--wrt needs the names"):
        magic.split("sum(x**2) --wrt")


class _Shell:
    """The part of IPython's shell the extension uses."""

    def __init__(self, **namespace: object) -> None:
        self.user_ns = namespace
        self.magics: dict[str, object] = {}

    def register_magic_function(self, function, magic_kind, magic_name):
        assert magic_kind == "line"
        self.magics[magic_name] = function


def test_the_magic_explains_over_the_shells_variables_and_prints_errors(capsys):
    shell = _Shell(x=torch.tensor([3.0, 4.0, 10.0], requires_grad=True), t=[1, 0, 1])
    magic.load(shell)
    run = shell.magics["gradexplain"]
    result = run("sum(x**2*t) --wrt x")
    assert list(result.gradients) == ["x"]
    assert result.gradients["x"].autograd.tolist() == [6.0, 0.0, 20.0]
    assert run("sum(x**2) --steps") is None
    assert "--steps is an option of the command line only" in capsys.readouterr().out
    assert run("sum(q)") is None
    assert "the notebook has no variable q" in capsys.readouterr().out
