"""Hostile and malformed input (issue 3): refused with a named error, nothing runs.

Library cases assert the error class and, for the expression, the column; CLI cases assert
the exit code, the message, and that a canary file a successful code execution would create
is absent. They run the command in-process (typer's runner); a few run the real entry point
in a subprocess, where the behaviour is the process's: its exit status, its streams, stdin.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gradexplain import explain
from gradexplain.cli import app
from gradexplain.errors import (
    DeviceError,
    ExpressionError,
    GradexplainError,
    LimitError,
    UsageError,
    ValuesError,
)
from gradexplain.ir import limits
from gradexplain.ir.parser import parse
from gradexplain.ir.values import from_numbers, from_spec, from_text

CANARY = "/tmp/gradexplain-canary"  # inside payloads; the CLI tests use tmp_path


# (expression, error class, 0-based column, a fragment of the message)
EXPRESSIONS = [
    # code execution attempts
    (
        "__import__('os').system('touch /tmp/gradexplain-canary')",
        ExpressionError,
        11,
        "strings are not allowed",
    ),
    ("__import__(os).system(x)", ExpressionError, 15, "method .system() is not supported"),
    ("().__class__.__bases__", ExpressionError, 13, "attribute access .__bases__"),
    ("x.__class__.__mro__", ExpressionError, 12, "attribute access"),
    ("x.__class__", ExpressionError, 2, "attribute access .__class__"),
    ("x.real", ExpressionError, 2, "attribute access .real"),
    ("(x).__len__()", ExpressionError, 4, "method .__len__() is not supported"),
    ("x.numpy()", ExpressionError, 2, "method .numpy() is not supported"),
    ("(lambda: 7)()", ExpressionError, 7, "lambda"),
    ("[i for i in x]", ExpressionError, 0, "comprehensions"),
    ("sum(i for i in x)", ExpressionError, 3, "generator expressions"),
    ("(y := x)", ExpressionError, 3, "walrus"),
    ("f'{6*7}'", ExpressionError, 1, "strings are not allowed"),
    ("'abc'", ExpressionError, 0, "strings are not allowed"),
    ('"x" * x', ExpressionError, 0, "strings are not allowed"),
    ("exec(x)", ExpressionError, 0, "unknown function 'exec'"),
    ("eval(x)", ExpressionError, 0, "unknown function 'eval'"),
    ("open(x)", ExpressionError, 0, "unknown function 'open'"),
    ("getattr(x, x)", ExpressionError, 0, "unknown function 'getattr'"),
    ("globals()", ExpressionError, 0, "unknown function 'globals'"),
    ("__builtins__", ExpressionError, 0, "names starting with '_'"),
    ("torch.load(x)", ExpressionError, 0, "torch.load is not supported"),
    (
        "torch.nn.functional.dropout(x)",
        ExpressionError,
        0,
        "torch.nn.functional.dropout is not supported",
    ),
    ("torch", ExpressionError, 0, "'torch' alone"),
    ("sum(x, dtype=0)", ExpressionError, 7, "keyword dtype= of sum() is not supported"),
    (
        "exp(x, dim=0)",
        ExpressionError,
        7,
        "keyword dim= of exp() is not supported: exp() takes no keywords",
    ),
    ("sum(x, dim=y)", ExpressionError, 11, "dim of sum() must be an integer"),
    ("x.sum(*x)", ExpressionError, 6, "unpacking not allowed"),
    ("x.__getitem__(0)", ExpressionError, 2, "__getitem__"),
    ("x[0:1:0:2]", ExpressionError, 7, "syntax"),
    ("x[(lambda: 0)()]", ExpressionError, 3, "lambda"),
    ("x[x.__class__]", ExpressionError, 4, "__class__"),
    ("import os", ExpressionError, 0, "syntax error"),
    ("x; y", ExpressionError, 1, "statements are not allowed"),
    ("x\ny", ExpressionError, 1, "one line"),
    ("x if x else y", ExpressionError, 0, "conditional expressions"),
    ("x and y", ExpressionError, 0, "and/or"),
    ("not x", ExpressionError, 0, "not, ~"),
    ("x < y", ExpressionError, 2, "'<' is not allowed"),
    ("x, y", ExpressionError, 0, "tuples"),
    ("x // y", ExpressionError, 2, "//"),
    ("x ^ y", ExpressionError, 2, "use ** for powers"),
    ("x * 1j", ExpressionError, 4, "complex numbers"),
    ("x * True", ExpressionError, 4, "only real numbers"),
    ("x * None", ExpressionError, 4, "only real numbers"),
    ("await x", ExpressionError, 0, "await"),
    ("#x", ExpressionError, 0, "'#' is not allowed"),
    ("x \\\n+ 1", ExpressionError, 2, "'\\\\' is not allowed"),
    ("1if x else x", ExpressionError, 0, "invalid decimal literal"),
    ("0x1for x in y", ExpressionError, 3, "invalid hexadecimal literal"),
    ("", ExpressionError, 0, "expression is empty"),
    ("   ", ExpressionError, 0, "expression is empty"),
    # Unicode tricks
    ("\uff45\uff58\uff45\uff43(x)", ExpressionError, 0, "FULLWIDTH LATIN SMALL LETTER E"),
    ("x \uff0b y", ExpressionError, 2, "FULLWIDTH PLUS SIGN"),
    ("x\u202e+y", ExpressionError, 1, "RIGHT-TO-LEFT OVERRIDE"),
    ("x + y\u2066", ExpressionError, 5, "LEFT-TO-RIGHT ISOLATE"),
    ("sum(x**2)\u200b", ExpressionError, 9, "ZERO WIDTH SPACE"),
    ("x\x00", ExpressionError, 1, "'\\x00' is not allowed"),
    ("x + \u0661", ExpressionError, 4, "ARABIC-INDIC DIGIT ONE"),
    ("x * \u0968", ExpressionError, 4, "DEVANAGARI DIGIT TWO"),
    ("\u03c0 * x", ExpressionError, 0, "GREEK SMALL LETTER PI"),
    # resource exhaustion
    ("9**9**9**9", LimitError, 6, "MAX_EXPONENT"),
    ("x**9**9**9", LimitError, 6, "MAX_EXPONENT"),
    ("((9**9)**9999)**9999", LimitError, 9, "MAX_EXPONENT"),
    ("x**(9**9)", LimitError, 4, "MAX_EXPONENT"),
    ("pow(x, 9**9)", LimitError, 7, "MAX_EXPONENT"),
    ("x.pow(1e9)", LimitError, 6, "MAX_EXPONENT"),
    ("x**(500*3)", LimitError, 4, "MAX_EXPONENT"),
    ("1e999 * x", ExpressionError, 0, "MAX_CONSTANT"),
    ("exp(exp(10)) * x", ExpressionError, 0, "too large"),
    ("x / (1 - 1)", ExpressionError, 5, "division by a constant that is zero"),
    ("log(0) * x", ExpressionError, 0, "undefined"),
    ("x * " + "9" * 5000, LimitError, limits.MAX_EXPRESSION_CHARS, "MAX_EXPRESSION_CHARS"),
    ("x * " + "9" * 100, LimitError, 4, "MAX_NUMBER_CHARS"),
    ("(" * 300 + "x" + ")" * 300, LimitError, limits.MAX_DEPTH, "MAX_DEPTH"),
    ("x+" * 50_000 + "x", LimitError, limits.MAX_EXPRESSION_CHARS, "MAX_EXPRESSION_CHARS"),
    ("+".join(["x"] * 500), LimitError, None, "MAX_DEPTH"),
    ("-" * 500 + "x", LimitError, limits.MAX_DEPTH, "MAX_DEPTH"),
    ("x" + "**x" * 200, LimitError, None, "MAX_DEPTH"),
    ("+".join(["(x+x)*(x+x)"] * 60), LimitError, None, "MAX_NODES"),
    ("x" * 40, LimitError, 0, "MAX_NAME_CHARS"),
    # SymPy constructions that blow up: exact numbers and derivative swell
    ("((2*x)**1000)**1000", LimitError, 0, "MAX_EXACT_DIGITS"),
    ("(1e300*x)**1000", LimitError, 0, "MAX_EXACT_DIGITS"),
    ("x" + "*1e300" * 5, LimitError, 0, "MAX_EXACT_DIGITS"),
    ("sum(x" + "**x" * 40 + ")", LimitError, None, "MAX_DERIVATIVE_WORK"),
    ("sum(" + "sigmoid(x*" * 20 + "x" + ")" * 21, LimitError, None, "MAX_DERIVATIVE_WORK"),
]


@pytest.mark.parametrize(
    ("expression", "error", "column", "fragment"),
    EXPRESSIONS,
    ids=[repr(case[0][:30]) for case in EXPRESSIONS],
)
def test_hostile_expression_is_refused_with_column(
    expression: str, error: type, column: int | None, fragment: str
) -> None:
    with pytest.raises(error) as caught:
        parse(expression)
    assert fragment in caught.value.message
    assert caught.value.expression is not None
    assert caught.value.column is not None
    assert 0 <= caught.value.offset <= len(caught.value.expression)
    assert caught.value.column == caught.value.offset + 1  # as the message counts
    if column is not None:
        assert caught.value.offset == column
    assert not os.path.exists(CANARY)


def test_error_columns_point_into_the_expression_with_a_caret() -> None:
    with pytest.raises(ExpressionError) as caught:
        parse("sum(x) + x.__class__")
    assert caught.value.caret_lines() == ["  sum(x) + x.__class__", "             ^"]
    assert caught.value.to_json()["column"] == 12


def test_each_named_limit_is_a_module_constant() -> None:
    for name in (
        "MAX_EXPRESSION_CHARS",
        "MAX_DEPTH",
        "MAX_NODES",
        "MAX_NUMBER_CHARS",
        "MAX_EXPONENT",
        "MAX_CONSTANT",
        "MAX_EXACT_DIGITS",
        "MAX_DERIVATIVE_WORK",
        "MAX_NAME_CHARS",
        "MAX_VARIABLES",
        "MAX_VECTOR_LENGTH",
        "MAX_VALUE_TEXT_CHARS",
    ):
        assert getattr(limits, name) > 0


@pytest.mark.parametrize(
    "expression",
    [
        "sum(x" + "**x" * 12 + ")",
        "sum(" + "sigmoid(x*" * 8 + "x" + ")" * 9,
        "sum(" + "*".join(["x"] * 60) + ")",
        "(9*x)**1000",
        "(x**1000)**1000",
        "sum((tanh(w*tanh(v*x+b)+c)-x)**2)",
    ],
)
def test_heavy_but_bounded_expressions_still_parse(expression: str) -> None:
    parse(expression)


def test_too_many_variables() -> None:
    names = [f"v{index}" for index in range(limits.MAX_VARIABLES + 1)]
    with pytest.raises(ValuesError, match="MAX_VARIABLES"):
        explain("+".join(names), {name: 1.0 for name in names})


# Values: (text given for --x, a fragment of the message)
VALUE_TEXTS = [
    ("3,,4", "element 2 is empty"),
    ("", "no values given"),
    ("  ", "no values given"),
    (",", "element 1 is empty"),
    ("1,2,", "element 3 is empty"),
    ("abc", "'abc' is not a plain decimal number"),
    ("3;4,5", "row 2 has 2 values, row 1 has 1"),
    ("1 2", "'1 2' is not a plain decimal number"),
    ("1_000", "'1_000' is not a plain decimal number"),
    ("\u0661,2", "is not a plain decimal number"),
    ("\uff11", "is not a plain decimal number"),
    ("0x10", "is not a plain decimal number"),
    ("nan", "'nan' is not a plain decimal number"),
    ("inf", "'inf' is not a plain decimal number"),
    ("-Infinity", "is not a plain decimal number"),
    ("1e999", "not finite"),
    ("-1e999", "not finite"),
    ("--1", "is not a plain decimal number"),
    ("1e", "is not a plain decimal number"),
    ("1\x00", "is not a plain decimal number"),
]


@pytest.mark.parametrize(("text", "fragment"), VALUE_TEXTS)
def test_malformed_values_are_refused(text: str, fragment: str) -> None:
    with pytest.raises(ValuesError) as caught:
        from_text("x", text)
    assert fragment in caught.value.message
    assert caught.value.message.startswith("--x:")


@pytest.mark.parametrize(
    "numbers", [float("nan"), [1.0, float("inf")], [], "3,4", [[1, 2], [3]], [1, "2"], [True]]
)
def test_malformed_api_values_are_refused(numbers: object) -> None:
    with pytest.raises(ValuesError):
        explain("sum(x)", x=numbers)


def test_mismatched_vector_lengths() -> None:
    with pytest.raises(ValuesError, match="x has 2, y has 3"):
        explain("sum(x*y)", x=[1, 2], y=[1, 2, 3])


def test_vector_longer_than_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check reads the limit when it runs: a small one keeps 10**7 floats out of the suite."""
    from array import array

    monkeypatch.setattr(limits, "MAX_VECTOR_LENGTH", 1000)
    from_numbers("x", array("d", bytes(8 * 1000)))
    with pytest.raises(ValuesError, match="1,001 values exceed MAX_VECTOR_LENGTH = 1,000"):
        from_numbers("x", array("d", bytes(8 * 1001)))


def test_values_file_is_read_only_up_to_the_limit(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(limits, "MAX_VALUE_TEXT_CHARS", 100)
    endless = tmp_path / "endless.txt"
    endless.write_text("1," * 1000)
    with pytest.raises(ValuesError, match="more than 100 characters"):
        from_spec("x", f"@{endless}", lambda: "")
    with pytest.raises(ValuesError, match="more than 100 characters"):
        from_spec("x", "@/dev/zero", lambda: "")


def test_values_file_errors_name_the_file() -> None:
    with pytest.raises(ValuesError, match="cannot read"):
        from_spec("x", "@/nonexistent/values.txt", lambda: "")


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"device": "tpu"}, DeviceError, "unknown device 'tpu'"),
        ({"device": "cuda:0; rm -rf /"}, DeviceError, "unknown device"),
        ({"dtype": "float16"}, DeviceError, "unknown dtype 'float16'"),
        ({"dtype": "torch.float64"}, DeviceError, "unknown dtype"),
        ({"rtol": float("nan")}, UsageError, "--rtol must be a finite number"),
        ({"atol": -1.0}, UsageError, "--atol must be a finite number"),
    ],
)
def test_usage_errors_through_the_library(
    kwargs: dict[str, object], error: type, fragment: str
) -> None:
    with pytest.raises(error) as caught:
        explain("sum(x)", x=[1.0], **kwargs)  # type: ignore[arg-type]
    assert fragment in caught.value.message


def test_variable_given_twice_through_the_library() -> None:
    with pytest.raises(UsageError, match="given twice"):
        explain("sum(x)", {"x": [1.0]}, x=[2.0])


def test_unavailable_device_is_a_device_error() -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(DeviceError, match="not available here"):
        explain("sum(x)", x=[1.0], device="cuda")


def test_every_refusal_is_a_gradexplain_error() -> None:
    for case in EXPRESSIONS:
        with pytest.raises(GradexplainError):
            parse(case[0])


# --- the CLI --------------------------------------------------------------------------
# In-process through typer's runner (the same command object `gradexplain` runs), except
# where the behaviour is the process's own: its exit status, what reaches each stream, stdin.

ENV = {"NO_COLOR": "1", "COLUMNS": "100"}


def _cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """The real entry point in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-m", "gradexplain", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **ENV},
    )


def _invoke(*args: str) -> subprocess.CompletedProcess[str]:
    """The same command in this process: exit code, stdout and stderr, no escaped exception."""
    result = CliRunner().invoke(app, list(args), env=ENV)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        args,
        result.exception,
    )
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


def _payloads(canary: Path) -> list[list[str]]:
    """Argument lists that create `canary` if any code in them ever runs."""
    touch = f"touch {canary}"
    return [
        [f"__import__('os').system('{touch}')", "--x", "1"],
        [f"sum(x) + __import__('os').system('{touch}')", "--x", "1"],
        [f"exec(\"open('{canary}', 'w')\")", "--x", "1"],
        [f"eval(\"__import__('os').system('{touch}')\")"],
        [f"(lambda: open('{canary}', 'w'))()", "--x", "1"],
        [f'f\'{{open("{canary}", "w")}}\'', "--x", "1"],
        [f"[open('{canary}', 'w') for x in (1,)]"],
        [f"x if open('{canary}', 'w') else x", "--x", "1"],
        [f"torch.save(x, '{canary}')", "--x", "1"],
        ["().__class__.__base__.__subclasses__()", "--x", "1"],
        [f"import os; os.system('{touch}')"],
        [f'\uff45\uff58\uff45\uff43(\'open("{canary}", "w")\')', "--x", "1"],
        ["sum(x)", "--x", f"__import__('os').system('{touch}')"],
        ["sum(x)", "--x", f"@{canary}"],
        ["sum(x)", f"--var=x=open('{canary}','w')"],
        ["sum(x)", "--x", "1", "--device", f"cuda; touch {canary}"],
        ["sum(x)", "--x", "1", "--dtype", f"__import__('os').system('{touch}')"],
    ]


def test_cli_refuses_code_execution_attempts(tmp_path: Path) -> None:
    canary = tmp_path / "canary"
    for args in _payloads(canary):
        done = _invoke(*args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert done.stderr.startswith("gradexplain: error: "), (args, done.stderr)
        assert not canary.exists(), args


def test_the_real_process_refuses_code_with_exit_2_and_one_line(tmp_path: Path) -> None:
    canary = tmp_path / "canary"
    done = _cli(*_payloads(canary)[0])
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("gradexplain: error: ") and "Traceback" not in done.stderr
    assert not canary.exists()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["x**9**9**9", "--x", "1"], "MAX_EXPONENT"),
        (["((9**9)**9999)**9999*x", "--x", "1"], "MAX_EXPONENT"),
        (["(" * 300 + "x" + ")" * 300, "--x", "1"], "MAX_DEPTH"),
        (["x+" * 50_000 + "x", "--x", "1"], "MAX_EXPRESSION_CHARS"),
        (["((2*x)**1000)**1000", "--x", "1"], "MAX_EXACT_DIGITS"),
        (["sum(x" + "**x" * 40 + ")", "--x", "1,2"], "MAX_DERIVATIVE_WORK"),
        (["x\u202e+y", "--x", "1"], "RIGHT-TO-LEFT OVERRIDE"),
        (["1if x else x", "--x", "1"], "invalid decimal literal"),
        (["sum(x)", "--x", "3,,4"], "element 2 is empty"),
        (["sum(x)", "--x", "nan"], "not a plain decimal number"),
        (["sum(x)", "--x", "1e999"], "not finite"),
        (["sum(x)", "--x", "\u0661"], "not a plain decimal number"),
        (["sum(x*y)", "--x", "1,2", "--y", "1,2,3"], "same length"),
        (["sum(x)", "--x", "1", "--x", "2"], "given twice"),
        (["sum(x)", "--x", "1", "--bogus", "2"], "--bogus is not a variable"),
        (["sum(x)", "--x", "1", "--device", "tpu"], "unknown device"),
        (["sum(x)", "--x", "1", "--dtype", "float16"], "unknown dtype"),
        (["sum(x)", "--x", "@/dev/zero"], "more than"),
    ],
)
def test_cli_refuses_with_one_line_and_exit_2(args: list[str], fragment: str) -> None:
    done = _invoke(*args)
    assert done.returncode == 2
    first = done.stderr.splitlines()[0]
    assert first.startswith("gradexplain: error: ") and fragment in first


def test_cli_shows_the_expression_and_a_caret() -> None:
    done = _invoke("sum(x) + x.__class__", "--x", "1")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "gradexplain: error: attribute access .__class__ not allowed (column 12)",
        "  sum(x) + x.__class__",
        "             ^",
    ]


def test_cli_json_error_object() -> None:
    """The real process: the JSON object alone on stdout, the message on stderr."""
    done = _cli("x**(9**9)", "--x", "1", "--format", "json")
    assert done.returncode == 2
    assert json.loads(done.stdout) == {
        "format_version": 1,
        "exit_code": 2,
        "error": {
            "type": "limit",
            "column": 5,
            "message": "exponent 3.8742e+08 exceeds MAX_EXPONENT = 1000 (column 5)",
        },
    }
    assert done.stderr.startswith("gradexplain: error: exponent") and "Traceback" not in done.stderr


def test_cli_checks_values_from_stdin() -> None:
    done = _cli("sum(x)", "--x", "-", stdin="1,\u0661,2")
    assert done.returncode == 2
    assert "<stdin>" in done.stderr and "Traceback" not in done.stderr


def test_cli_unavailable_device_in_json() -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    done = _invoke("sum(x)", "--x", "1", "--device", "cuda", "--format", "json")
    assert done.returncode == 2
    assert json.loads(done.stdout)["error"]["type"] == "device"
    assert "not available here" in done.stderr


# Valid input whose gradient is undefined at the point: exit 3, elements named.
UNDEFINED = [
    ("sum(log(x))", "-1,2", "log", "domain", [0]),
    ("sum(sqrt(x))", "0,1", "sqrt", "pole", [0]),
    ("sum(relu(x))", "1,0,0", "relu", "kink", [1, 2]),
    ("sum(1/x)", "2,0", "/", "pole", [1]),
]


@pytest.mark.parametrize(("expression", "values", "function", "kind", "elements"), UNDEFINED)
def test_cli_undefined_gradient_exits_3_in_json(
    expression: str, values: str, function: str, kind: str, elements: list[int]
) -> None:
    done = _invoke(expression, "--x", values, "--format", "json")
    assert done.returncode == 3, done.stderr
    document = json.loads(done.stdout)
    assert document["exit_code"] == 3
    (singularity,) = document["singularities"]
    assert singularity["function"] == function
    assert singularity["kind"] == kind
    assert singularity["elements"] == elements
    assert singularity["reason"]


def _undefined_in_the_table(
    done: subprocess.CompletedProcess[str], function: str, elements: list[int]
) -> None:
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    shown = ", ".join(f"[{index}]" for index in elements)
    named = f"element{'s' * (len(elements) > 1)} {shown}: {function}"
    assert f"Undefined: {function} at column" in done.stdout
    assert named.split(":")[0] in " ".join(done.stdout.split())
    assert "UNDEFINED" in done.stdout


@pytest.mark.parametrize(
    ("expression", "values", "function", "kind", "elements"), UNDEFINED[::2]
)  # one element and two; the JSON test has all
def test_cli_undefined_gradient_exits_3_in_the_table(
    expression: str, values: str, function: str, kind: str, elements: list[int]
) -> None:
    _undefined_in_the_table(_invoke(expression, "--x", values), function, elements)


def test_the_real_process_exits_3_for_an_undefined_gradient() -> None:
    expression, values, function, _, elements = UNDEFINED[2]
    _undefined_in_the_table(_cli(expression, "--x", values), function, elements)


def test_library_reports_undefined_elements() -> None:
    result = explain("sum(log(x))", x=[-1.0, 2.0])
    assert int(result.status) == 3
    (singularity,) = result.singularities
    assert singularity.elements == (0,) or list(singularity.elements or ()) == [0]
