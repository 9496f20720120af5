"""--check-fd: float64 central differences agree on smooth functions and flag kinks."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from gradexplain import explain, finitediff
from gradexplain.cli import app
from gradexplain.errors import ValuesError
from gradexplain.parser import parse
from gradexplain.values import from_numbers
from tests.test_core import CASES

ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}


def _values(values):
    return {name: from_numbers(name, np.asarray(v).tolist()) for name, v in values.items()}


@pytest.mark.parametrize(("expression", "values", "expected"), CASES,
                         ids=[case[0] for case in CASES])
def test_fd_agrees_with_autograd_on_smooth_functions(expression, values, expected):
    result = explain(expression, values)
    found = finitediff.compare(parse(expression), _values(values), result)
    for name, fd in found.items():
        assert fd.agree, (name, fd.values, fd.autograd)


@pytest.mark.parametrize(("expression", "marks"), [
    ("sum(relu(w))", [False, True, True]),  # FD sees the mean slope 1/2, torch uses 0
    ("sum(abs(w))", [True, True, True]),  # symmetric: FD's 0 equals torch's abs'(0) = 0
])
def test_fd_at_kinks(expression, marks):
    result = explain(expression, w=[0.0, 1.0, -2.0])
    assert result.status == 3  # the kink itself is always reported
    fd = finitediff.compare(parse(expression), _values({"w": [0.0, 1.0, -2.0]}),
                            result)["w"]
    assert fd.close.tolist() == marks


def test_float32_autograd_against_float64_fd():
    result = explain("sum(x**2)", x=[3.0, 4.0, 10.0], dtype="float32")
    fd = finitediff.compare(parse("sum(x**2)"), _values({"x": [3.0, 4.0, 10.0]}),
                            result)["x"]
    np.testing.assert_allclose(fd.values, [6, 8, 20], rtol=1e-8)
    assert fd.agree


def test_cap_refuses_large_n():
    n = finitediff.MAX_FD_ELEMENTS + 1
    with pytest.raises(ValuesError, match="MAX_FD_ELEMENTS"):
        finitediff.gradient(parse("sum(x)"), {"x": from_numbers("x", [1.0] * n)})


def test_cli_json_has_finite_differences_and_exit_codes():
    ok = CliRunner().invoke(app, ["sum(x**2)", "--x", "3,4,10", "--check-fd", "--format",
                                  "json"], env=ENV)
    assert ok.exit_code == 0
    fd = json.loads(ok.output)["gradients"]["x"]["finite_differences"]
    assert fd["agree"] is True and fd["eps"] == 1e-6
    np.testing.assert_allclose(fd["values"], [6, 8, 20], rtol=1e-8)
    kink = CliRunner().invoke(app, ["sum(relu(w))", "--w", "0,1,-2", "--check-fd"], env=ENV)
    assert kink.exit_code == 3
    assert "│        0 │ UNDEFINED │          0.5 │ DIFFERS │" in kink.output
    assert "Finite differences of dL/dw (float64, central, eps 1e-06) DIFFER" in kink.output


def test_output_without_check_fd_has_no_fd_column():
    plain = CliRunner().invoke(app, ["sum(relu(w))", "--w", "0,1,-2"], env=ENV)
    assert "finite diff." not in plain.output


def test_cli_refuses_large_n_before_computing():
    values = ",".join(["1"] * (finitediff.MAX_FD_ELEMENTS + 1))
    result = CliRunner().invoke(app, ["sum(x**2)", "--x", values, "--check-fd"], env=ENV)
    assert result.exit_code == 2
    assert result.stderr == ("gradexplain: error: --check-fd nudges each element twice: "
                             "10,001 elements exceed MAX_FD_ELEMENTS = 10,000\n")
