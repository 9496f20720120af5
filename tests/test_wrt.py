"""`--wrt`: choose the differentiated variables; the others are data (issue 7)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from gradexplain import ExitStatus, explain
from gradexplain.cli import app
from gradexplain.errors import UsageError, ValuesError

ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}


def run(*args: str):
    return CliRunner().invoke(app, list(args), env=ENV)


def test_wrt_keeps_only_the_chosen_gradients():
    result = explain("sum(w*x + b)", w=[1, 2], x=[3, 4], b=0.5, wrt="w,b")
    assert list(result.gradients) == ["w", "b"]
    assert result.gradients["w"].symbolic.tolist() == [3.0, 4.0]
    assert result.gradients["w"].autograd.tolist() == [3.0, 4.0]
    assert float(result.gradients["b"].autograd) == 2.0
    assert list(result.data) == ["x"]
    assert result.status is ExitStatus.AGREE


def test_wrt_accepts_a_list_and_defaults_to_every_variable():
    assert list(explain("sum(w*x)", w=[1, 2], x=[3, 4], wrt=["x"]).gradients) == ["x"]
    everything = explain("sum(w*x)", w=[1, 2], x=[3, 4])
    assert list(everything.gradients) == ["w", "x"] and everything.data == {}


@pytest.mark.parametrize(
    "wrt, error, message",
    [
        ("q", ValuesError, "--wrt q: not a variable of the expression; its variables are w, x"),
        ("ww", ValuesError, "--wrt ww: not a variable of the expression; did you mean w?"),
        ("w,,x", UsageError, "--wrt needs variable names separated by commas, as in --wrt w,b"),
        ("w,w", UsageError, "--wrt names a variable twice: w,w"),
    ],
)
def test_wrt_refuses_unknown_or_repeated_names(wrt, error, message):
    with pytest.raises(error) as caught:
        explain("sum(w*x)", w=[1, 2], x=[3, 4], wrt=wrt)
    assert caught.value.message == message


def test_data_never_gets_a_hazard():
    # sqrt at 0 only in the data: the gradient of w exists everywhere.
    result = explain("sum(w*sqrt(x))", w=[1, 2], x=[0, 4], wrt="w")
    assert result.status is ExitStatus.AGREE and not result.singularities
    assert result.gradients["w"].symbolic.tolist() == [0.0, 2.0]


def test_cli_table_shows_data_columns_and_names_the_data():
    result = run("sum(w*x)", "--w", "1,2", "--x", "3,4", "--wrt", "w")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[2] == "Data, not differentiated: x"
    assert "dL/dx" not in result.stdout
    assert "│ 0 │   1 │   3 │             3 │             3 │        3 │ ok │" in lines


def test_cli_json_lists_the_data():
    result = run("sum(w*x)", "--w", "1,2", "--x", "3,4", "--wrt", "w", "--format", "json")
    document = json.loads(result.stdout)
    assert result.exit_code == 0
    assert list(document["gradients"]) == ["w"] and document["data"] == ["x"]


def test_cli_markdown_names_the_data():
    result = run("sum(w*x)", "--w", "1,2", "--x", "3,4", "--wrt", "w", "--format", "markdown")
    assert result.exit_code == 0 and "Data, not differentiated: x" in result.stdout


def test_cli_refuses_expect_for_a_data_variable():
    result = run("sum(w*x)", "--w", "1,2", "--x", "3,4", "--wrt", "w", "--expect", "x=1,2")
    assert result.exit_code == 2
    assert "--expect x: x is data (not in --wrt), so it has no gradient to expect" in result.stderr


def test_unknown_wrt_is_refused_before_torch_is_imported():
    import subprocess
    import sys

    code = (
        "import sys\nfrom gradexplain.ir.program import differentiated\nfrom gradexplain.ir.parser "
        "import parse\ntry:\n    differentiated(parse('sum(w*x)'), 'q')\nexcept "
        "Exception:\n    pass\nprint('torch' in sys.modules, 'sympy' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.split() == ["False", "False"]


def test_quadratic_fit_gradients_match_a_hand_derivation():
    t = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    speed = np.array([1.0, 2.5, 5.0, 9.5, 17.0])
    a, b, c = 1.5, -0.5, 0.25
    residual = a * t**2 + b * t + c - speed
    expected = {
        "a": np.mean(2 * residual * t**2),
        "b": np.mean(2 * residual * t),
        "c": np.mean(2 * residual),
    }
    result = explain(
        "mean((a*t**2 + b*t + c - speed)**2)",
        t=t.tolist(),
        speed=speed.tolist(),
        a=a,
        b=b,
        c=c,
        wrt="a,b,c",
    )
    assert result.status is ExitStatus.AGREE and list(result.data) == ["t", "speed"]
    for name, value in expected.items():
        assert float(result.gradients[name].symbolic) == pytest.approx(value, rel=1e-12)
        assert float(result.gradients[name].autograd) == pytest.approx(value, rel=1e-12)
