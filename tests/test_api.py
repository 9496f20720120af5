"""The Python API: the same result the CLI renders, named errors, no heavy import."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from gradexplain import ExitStatus, Explanation, explain
from gradexplain.errors import ExpressionError, UsageError, ValuesError
from gradexplain.output.jsonout import document, dumps


def test_explain_returns_a_typed_result():
    result = explain("sum(x**2)", x=[3, 4, 10])
    assert isinstance(result, Explanation)
    assert result.status is ExitStatus.AGREE and result.agree
    assert result.value == 125.0
    grad = result.gradients["x"]
    assert grad.formula == "2*x_j"
    assert grad.symbolic.tolist() == grad.autograd.tolist() == [6.0, 8.0, 20.0]
    assert "float64" in result.verdict() and "cpu" in result.verdict()


def test_print_of_a_result_is_the_same_every_run():
    """print(explain(...)) shows what was found; the Program it ran (its node shapes
    keyed by id(), its tree) stays out, so two runs print the same text."""
    shown = [repr(explain("sum(where(x > 0, x, 0*x))", x=[-1.0, 2.0, 3.0])) for _ in range(2)]
    assert shown[0] == shown[1]
    assert "Program(" not in shown[0] and "node_shapes" not in shown[0]
    assert "formula='where(x_j > 0, 1, 0)'" in shown[0]


def test_the_cli_json_is_the_document_of_the_api_result():
    from typer.testing import CliRunner

    from gradexplain.cli import app

    cli = CliRunner().invoke(
        app, ["mean(sigmoid(w*x+b))", "--w", "1,2", "--x", "3,4", "--b", "0.5", "--format", "json"]
    )
    api = explain("mean(sigmoid(w*x+b))", w=[1, 2], x=[3, 4], b=0.5)
    assert json.loads(cli.stdout) == json.loads(dumps(document(api)))


def test_names_that_clash_with_keywords_go_in_values():
    result = explain("sum(device*x)", {"device": [1.0, 2.0]}, x=[3.0, 4.0])
    assert result.gradients["device"].autograd.tolist() == [3.0, 4.0]
    assert result.device == "cpu"
    with pytest.raises(UsageError, match="given twice"):
        explain("sum(x)", {"x": [1]}, x=[2])


def test_numpy_arrays_and_scalars_are_accepted():
    result = explain("sum(c*x**2)", x=np.array([1.0, 2.0]), c=np.float64(3.0))
    assert result.gradients["c"].shape == ()
    assert float(result.gradients["c"].symbolic) == 5.0


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: explain("sum(x**", x=[1]), ExpressionError),
        (lambda: explain("sum(x)", y=[1]), ValuesError),
        (lambda: explain("sum(x)", x=[]), ValuesError),
        (lambda: explain("sum(x)", x=["1"]), ValuesError),
        (lambda: explain("sum(x)", x=[float("nan")]), ValuesError),
        (lambda: explain("sum(x)", x=[1], rtol=-1), UsageError),
    ],
)
def test_errors_are_named_exceptions(call, error):
    with pytest.raises(error):
        call()


def test_importing_the_package_imports_neither_torch_nor_sympy():
    code = (
        "import sys, gradexplain; from gradexplain import explain; "
        "print(sorted(m for m in ('torch', 'sympy', 'rich', 'typer') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_symbolic_derivation_has_a_wall_clock_backstop(monkeypatch):
    from gradexplain.errors import SymbolicTimeout
    from gradexplain.ir import limits

    monkeypatch.setattr(limits, "MAX_SYMBOLIC_SECONDS", 1e-6)
    with pytest.raises(SymbolicTimeout, match="MAX_SYMBOLIC_SECONDS"):
        explain("log(sum(exp(sin(x)*cos(x))))", x=[1.0, 2.0])
    monkeypatch.undo()
    assert explain("sum(x**2)", x=[1.0]).agree  # the alarm is cleared afterwards
