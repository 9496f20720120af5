"""The CLI through its real entry point: exact output, stderr messages, exit codes."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from gradexplain.cli import app

ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}

SEED_TABLE = """\
gradexplain sum(x**2)  (n = 3)
L = sum_i y_i with y_i = x_i**2
dL/dx
┏━━━┳━━━━━┳━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━┳━━━━━━━━━━┳━━━━┓
┃   ┃     ┃              ┃ dL/dx_j = 2*x_j ┃          ┃    ┃
┃ i ┃ x_i ┃ y_i = x_i**2 ┃         (SymPy) ┃ autograd ┃    ┃
┡━━━╇━━━━━╇━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━╇━━━━━━━━━━╇━━━━┩
│ 0 │   3 │            9 │               6 │        6 │ ok │
│ 1 │   4 │           16 │               8 │        8 │ ok │
│ 2 │  10 │          100 │              20 │       20 │ ok │
├───┼─────┼──────────────┼─────────────────┼──────────┼────┤
│ L │     │          125 │                 │          │    │
└───┴─────┴──────────────┴─────────────────┴──────────┴────┘
Sum rule: only the term i = j contains x_j, so dL/dx_j = d(x_j**2)/dx_j = 2*x_j.
Why one number: training lowers a loss, and "lower" needs a single number to compare, so backward() starts from L itself, with dL/dL = 1. L is already a scalar, so L.backward() needs no argument; L.backward(torch.ones_like(x)) is an error in PyTorch ("Mismatch in shape": ones_like(x) has 3 elements, L has none), and L.backward(torch.ones_like(L)) is the same as L.backward().
SymPy and autograd agree on cpu, float64: largest |difference| 0 (rtol 1e-07, atol 1e-07)
"""


def run(*args: str, stdin: str | None = None):
    return CliRunner().invoke(app, list(args), env=ENV, input=stdin)


def test_seed_table_exact():
    result = run("sum(x**2)", "--x", "3,4,10")
    assert result.exit_code == 0
    assert result.stdout == SEED_TABLE
    assert result.stderr == ""


def test_options_may_come_before_the_expression_and_values_may_be_negative():
    result = run("--x", "-3,4", "sum(x**2)", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["gradients"]["x"]["symbolic"] == [-6.0, 8.0]


def test_equals_form_and_var_for_clashing_names():
    result = run("sum(device*x)", "--x=1,2", "--var", "device=3,4", "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["gradients"]["device"]["autograd"] == [1.0, 2.0]
    assert doc["device"] == "cpu"


def test_json_document_fields():
    result = run("sum(x**2)", "--x", "3,4,10", "--format", "json")
    doc = json.loads(result.stdout)
    assert doc["format_version"] == 1
    assert doc["expression"] == "sum(x**2)"
    assert (doc["device"], doc["dtype"], doc["value"], doc["agree"]) == (
        "cpu",
        "float64",
        125.0,
        True,
    )
    assert doc["tolerance"] == {"rtol": 1e-7, "atol": 1e-7, "floor": 128 * 2.0**-52}
    grad = doc["gradients"]["x"]
    assert grad["formula"] == "2*x_j"
    assert grad["symbolic"] == grad["autograd"] == [6.0, 8.0, 20.0]
    assert grad["max_abs_diff"] == 0.0 and grad["agree"] is True


def test_json_scalar_is_a_number_not_a_list():
    doc = json.loads(run("x**2", "--x", "3", "--format", "json").stdout)
    assert doc["gradients"]["x"]["symbolic"] == 6.0
    assert doc["gradients"]["x"]["shape"] == []


def test_json_non_finite_numbers_are_strings():
    result = run("sum(sqrt(x))", "--x", "0,1", "--format", "json")
    assert result.exit_code == 3
    doc = json.loads(result.stdout, parse_constant=pytest.fail)  # strict RFC 8259
    assert doc["gradients"]["x"]["autograd"] == ["inf", 0.5]
    assert doc["singularities"][0]["elements"] == [0]
    assert doc["singularities"][0]["column"] == 5


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ("sum(x**2", "--x", "1"),
            2,
            "gradexplain: error: syntax error: '(' was never closed (column 4)\n"
            "  sum(x**2\n     ^\n",
        ),
        (
            ("sum(y)", "--x", "1"),
            2,
            "gradexplain: error: --x is not a variable of the expression; its variables are y\n",
        ),
        (
            ("sum(xx)", "--x", "1"),
            2,
            "gradexplain: error: --x is not a variable of the expression; did you mean --xx?\n",
        ),
        (
            ("sum(x*y)", "--x", "1"),
            2,
            "gradexplain: error: no values for variable 'y' (column 7); give --y 1,2,3 or "
            "--var y=1,2,3\n",
        ),
        (
            ("sum(x)", "--x", "1,a"),
            2,
            "gradexplain: error: --x: element 2 'a' is not a plain decimal number\n",
        ),
        (
            ("sum(x*y)", "--x", "1,2", "--y", "1,2,3"),
            2,
            "gradexplain: error: vectors must have the same length: x has 2, y has 3\n",
        ),
        (
            ("sum(x)", "--x", "1", "--device", "tpu"),
            2,
            "gradexplain: error: unknown device 'tpu'; use cpu, cuda, cuda:N, mps or auto\n",
        ),
        (
            ("sum(x)", "--x", "1", "--dtype", "float16"),
            2,
            "gradexplain: error: unknown dtype 'float16'; use one of float64, float32\n",
        ),
        (
            ("sum(x)", "--x", "1", "--x", "2"),
            2,
            "gradexplain: error: variable 'x' is given twice\n",
        ),
        (("sum(x)", "--x"), 2, "gradexplain: error: --x needs values, as in --x 1,2,3\n"),
        (
            ("sum(x)", "--x", "1", "--no-such-thing", "1"),
            2,
            "gradexplain: error: unknown option '--no-such-thing'\n",
        ),
        (
            ("sum(x)", "--x", "1", "--format", "xml"),
            2,
            "gradexplain: error: --format must be one of table, json, markdown, not 'xml'\n",
        ),
        (
            ("sum(x)", "--x", "1", "--rtol", "tight"),
            2,
            "gradexplain: error: --rtol must be a number, not 'tight'\n",
        ),
        (
            ("--x", "1"),
            2,
            'gradexplain: error: missing EXPRESSION, as in: gradexplain "sum(x**2)" --x 3,4,10\n',
        ),
    ],
)
def test_input_errors_exit_2_with_one_message(args, code, message):
    result = run(*args)
    assert result.exit_code == code
    assert result.stderr == message
    assert result.stdout == ""


def test_json_mode_errors_are_json_on_stdout_too():
    result = run("sum(x**2", "--x", "1", "--format", "json")
    assert result.exit_code == 2
    doc = json.loads(result.stdout)
    assert doc["error"]["type"] == "expression"
    assert doc["error"]["column"] == 4
    assert doc["exit_code"] == 2
    assert result.stderr.startswith("gradexplain: error: syntax error")


def test_exit_1_when_the_witnesses_disagree():
    result = run(
        "sum(x**2)", "--x", "0.1,0.2,0.3", "--dtype", "float32", "--rtol", "0", "--atol", "0"
    )
    assert result.exit_code == 1
    assert "SymPy and autograd DISAGREE on cpu, float32" in result.stdout
    assert "DIFFERS" in result.stdout


def test_exit_3_names_the_element_and_the_reason():
    result = run("sum(relu(x))", "--x", "-1,0,2")
    assert result.exit_code == 3
    assert "Undefined: relu at column 5, element [1]: relu has a kink at 0" in result.stdout
    assert "UNDEFINED" in result.stdout


def test_unavailable_device_exits_2_naming_available_ones():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA; the unavailable-device path cannot happen")
    result = run("sum(x)", "--x", "1", "--device", "cuda:7")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "gradexplain: error: device 'cuda:7' is not available here; available: cpu"
    )


def test_long_vectors_are_elided_unless_all():
    values = ",".join(str(v) for v in range(30))
    short = run("sum(x**2)", "--x", values)
    assert short.exit_code == 0

    def row(i):
        return re.compile(rf"^│\s+{i} │", re.MULTILINE)

    assert "..." in short.stdout and row(29).search(short.stdout)
    assert not row(15).search(short.stdout)
    full = run("sum(x**2)", "--x", values, "--all")
    assert "..." not in full.stdout and row(15).search(full.stdout)


def test_several_variables_get_a_section_each():
    result = run("sum(w*x)", "--w", "1,2", "--x", "3,4")
    assert "dL/dw_j = x_j" in result.stdout and "dL/dx_j = w_j" in result.stdout


def test_chain_rule_and_backward_ones_are_named():
    chain = run("log(sum(exp(x)))", "--x", "1,2")
    assert "Chain rule: L = g(s) with s = sum_i y_i, g(s) = log(s) and g'(s) = 1/s" in chain.stdout
    ones = run("x**2", "--x", "3,4,10")
    assert "y.backward(torch.ones_like(y))" in ones.stdout
    scalar = run("x**2", "--x", "3")
    assert "Ordinary derivative: dL/dx = 2*x." in scalar.stdout


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_leads_with_examples_and_exit_codes(flag):
    result = run(flag)
    assert result.exit_code == 0
    assert 'gradexplain "sum(x**2)" --x 3,4,10' in result.stdout
    assert "Exit codes: 0" in result.stdout


def test_version():
    from gradexplain import __version__

    result = run("--version")
    assert result.exit_code == 0 and result.stdout == f"gradexplain {__version__}\n"


# `python -m gradexplain` in a real process, with nothing on stderr: tests/test_packaging.py
# runs it from the installed wheel.


def test_a_bug_exits_70_with_one_line_and_json(monkeypatch):
    import gradexplain.api

    def broken(*args, **kwargs):
        raise ZeroDivisionError("simulated bug")

    monkeypatch.setattr(gradexplain.api, "explain_program", broken)
    result = run("sum(x)", "--x", "1")
    assert result.exit_code == 70
    assert result.stderr == (
        "gradexplain: internal error (a bug in gradexplain): "
        "ZeroDivisionError: simulated bug; rerun with --debug for the "
        "traceback\n"
    )
    doc = json.loads(run("sum(x)", "--x", "1", "--format", "json").stdout)
    assert doc["exit_code"] == 70 and doc["error"]["type"] == "internal"
    import jsonschema

    from gradexplain.output.jsonout import schema_text

    jsonschema.validate(doc, json.loads(schema_text()))
    debug = run("sum(x)", "--x", "1", "--debug")
    assert debug.exit_code == 70 and "Traceback" in debug.stderr


# --- an expression that starts with '-' -------------------------------------------------


def test_an_expression_starting_with_minus_and_holding_an_h_is_the_expression():
    # click would split "-log_softmax(...)" into -l -o -g ... -h and print the help, exit 0
    result = run("-log_softmax(z, dim=1)[range(len(t)), t].mean()", "--z", "1,2;3,4", "--t", "0,1")
    assert result.exit_code == 0, result.output
    assert "agree" in result.stdout
    assert "Usage:" not in result.stdout


def test_where_click_must_parse_a_minus_expression_is_refused_by_name():
    # a repeated option sends the command line to click, which would read -h inside it
    result = run("-sum(h*x)", "--x", "1,2", "--h", "1,2", "--format", "table", "--format", "table")
    assert result.exit_code == 2
    assert "'-sum(h*x)' starts with '-'" in result.output
    assert "Usage:" not in result.stdout
