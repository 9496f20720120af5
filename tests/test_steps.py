"""--steps: the derivation ends in SymPy's own gradient for every core case."""

from __future__ import annotations

import pytest
import sympy as sp
from typer.testing import CliRunner

from gradexplain import steps, symbolic
from gradexplain.cli import app
from gradexplain.parser import parse
from gradexplain.tree import variables
from tests.test_core import CASES

ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}


@pytest.mark.parametrize(("expression", "values", "expected"), CASES,
                         ids=[case[0] for case in CASES])
def test_steps_end_in_sympys_gradient(expression, values, expected):
    tree = parse(expression)
    vectors = {name for name in variables(tree) if getattr(values[name], "ndim", 0)}
    scalars = set(variables(tree)) - vectors
    model = symbolic.build(tree, vectors, scalars)
    for name in variables(tree):
        derivation = steps.derive(tree, name, vectors, scalars)
        difference = derivation.expr - symbolic.gradient(model, name)
        assert sp.simplify(difference.doit()) == 0, (name, derivation.formula)
        assert derivation.lines[0].startswith("L = ")


def test_cli_seed_steps():
    result = CliRunner().invoke(app, ["sum(x**2)", "--x", "3,4,10", "--steps"], env=ENV)
    assert result.exit_code == 0
    tail = result.output.split("Steps for dL/dx:\n", 1)[1]
    assert tail == (
        "  L = sum_k(x_k**2)\n"
        "  sum rule: the derivative of a sum is the sum of derivatives: d/dx_j "
        "[sum_k(x_k**2)] = sum_k(2*delta_jk*x_k)\n"
        "    power rule (u**p)' = p u**(p-1) u': d/dx_j [x_k**2] = 2*delta_jk*x_k\n"
        "  sum rule, only the term k = j survives (the delta): dL/dx_j = 2*x_j\n")
