"""Scripts and CI (issue 4): formats, --quiet, colour, values from files, --expect, --cases."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from gradexplain.cli import app
from gradexplain.output.jsonout import schema_text

ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}
SCHEMA = json.loads(schema_text())  # the copy the package ships
ESC = "\x1b["


def run(*args: str, stdin: str | None = None, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, list(args), env=env or ENV, input=stdin)


def validate(payload: object) -> None:
    jsonschema.Draft202012Validator(SCHEMA).validate(payload)


# --- formats -------------------------------------------------------------------------

MARKDOWN = """\
## gradexplain `sum(x**2)` (n = 3)

`L = sum_i y_i with y_i = x_i**2`

### dL/dx

| i | `x_i` | `y_i = x_i**2` | `dL/dx_j = 2*x_j` (SymPy) | autograd |  |
| ---: | ---: | ---: | ---: | ---: | :--- |
| 0 | 3 | 9 | 6 | 6 | ok |
| 1 | 4 | 16 | 8 | 8 | ok |
| 2 | 10 | 100 | 20 | 20 | ok |
| **L** |  | 125 |  |  |  |

Sum rule: only the term i = j contains x_j, so dL/dx_j = d(x_j\\*\\*2)/dx_j = 2\\*x_j.

Why one number: training lowers a loss, and "lower" needs a single number to compare, so backward() starts from L itself, with dL/dL = 1. L is already a scalar, so L.backward() needs no argument; L.backward(torch.ones_like(x)) is an error in PyTorch ("Mismatch in shape": ones_like(x) has 3 elements, L has none), and L.backward(torch.ones_like(L)) is the same as L.backward().

**✅ SymPy and autograd agree on cpu, float64: largest |difference| 0 (rtol 1e-07, atol 1e-07)**
"""


def test_markdown_exact():
    result = run("sum(x**2)", "--x", "3,4,10", "--format", "markdown")
    assert result.exit_code == 0
    assert result.stdout == MARKDOWN


def test_markdown_undefined_scalar_and_table_shape():
    result = run("relu(x)", "--x", "0", "--format", "markdown")
    assert result.exit_code == 3
    assert "**UNDEFINED**" in result.stdout
    assert "> **Undefined:** `relu` at column 1" in result.stdout
    for line in result.stdout.splitlines():
        if line.startswith("|"):
            assert line.endswith("|")


@pytest.mark.parametrize("output_format", ["table", "json", "markdown"])
def test_every_format_agrees_on_the_exit_code(output_format):
    assert run("sum(x**2)", "--x", "3,4,10", "--format", output_format).exit_code == 0
    assert run("sum(relu(x))", "--x", "-1,0,2", "--format", output_format).exit_code == 3


@pytest.mark.parametrize(
    "args, code",
    [
        (("sum(x**2)", "--x", "3,4,10"), 0),
        (("sum(sqrt(x))", "--x", "0,1"), 3),  # non-finite numbers become strings
        (("relu(x)", "--x", "0"), 3),
        (("sum(w*x)", "--w", "1,2", "--x", "3,4", "--expect", "w=3,4", "--expect", "x=1,2"), 0),
        (("sum(x**2)", "--x", "3,4,10", "--expect", "x=6,8,21"), 1),
        (("sum(x", "--x", "1"), 2),
        (("sum(x)", "--x", "1", "--device", "tpu"), 2),
        # matrices: nested lists, shapes, the Hessian, a matrix --expect, every extra
        (("sum(sigmoid(X@w + b))", "--X", "1,2;3,4;5,6", "--w", "1,-1", "--b", "0.5"), 0),
        (("X@W", "--X", "1,2;3,4", "--W", "1,0;0,1", "--expect", "W=4,4;6,6"), 0),
        (("sum(relu(X))", "--X", "0,1;2,3"), 3),
        (("sum((a - b)**2)", "--a", "1;2;3", "--b", "1,2,3,4", "--hessian"), 0),
        (("sum(log_softmax(X, dim=1)*Y)", "--X", "1,2;3,4", "--Y", "1,0;0,1", "--wrt", "X"), 0),
        (("sum(tanh(X@w))", "--X", "1,2;3,4", "--w", "1,-1", "--check-fd", "--steps"), 0),
        (("tanh(X@w)", "--X", "1,2;3,4", "--w", "1,-1", "--v", "1,2", "--jacobian"), 0),
    ],
)
def test_json_output_matches_the_schema(args, code):
    result = run(*args, "--format", "json")
    assert result.exit_code == code
    payload = json.loads(result.stdout)
    validate(payload)
    assert payload["exit_code"] == code


def test_schema_refuses_a_renamed_field():
    payload = json.loads(run("sum(x**2)", "--x", "3,4,10", "--format", "json").stdout)
    payload["grads"] = payload.pop("gradients")
    with pytest.raises(jsonschema.ValidationError):
        validate(payload)


def test_json_non_finite_values_are_strings():
    payload = json.loads(run("sum(sqrt(x))", "--x", "0,1", "--format", "json").stdout)
    assert payload["gradients"]["x"]["symbolic"][0] == "inf"


# --- quiet and colour ----------------------------------------------------------------


@pytest.mark.parametrize(
    "args, code",
    [
        (("sum(x**2)", "--x", "3,4,10"), 0),
        (("sum(x**2)", "--x", "3,4,10", "--expect", "x=1,2,3"), 1),
        (("sum(relu(x))", "--x", "-1,0,2"), 3),
    ],
)
def test_quiet_prints_nothing_and_sets_the_exit_code(args, code):
    result = run(*args, "--quiet")
    assert result.exit_code == code
    assert result.stdout == "" and result.stderr == ""


def test_quiet_still_prints_errors():
    result = run("sum(x", "--x", "1", "-q")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("gradexplain: error: syntax error")


@pytest.mark.parametrize("output", ["json", "markdown"])
def test_quiet_with_a_document_format_is_a_usage_error(output):
    """Asking for a document and for nothing at once: exit 2 naming both (issue 13, 7),
    never a silent winner; with --format json the refusal is itself JSON on stdout."""
    result = run("sum(x**2)", "--x", "3,4,10", "-q", "--format", output)
    assert result.exit_code == 2
    assert result.stderr == (
        f"gradexplain: error: --quiet prints nothing, so --format {output} would do "
        "nothing; drop --quiet (the exit code is the same)\n"
    )
    if output == "json":
        assert json.loads(result.stdout)["error"]["type"] == "usage"
    else:
        assert result.stdout == ""


@pytest.mark.parametrize(
    "env, flags",
    [
        ({"COLUMNS": "100", "NO_COLOR": "1"}, ()),
        ({"COLUMNS": "100", "FORCE_COLOR": "1"}, ("--no-color",)),
        ({"COLUMNS": "100", "FORCE_COLOR": "1", "NO_COLOR": "1"}, ()),
        ({"COLUMNS": "100"}, ()),  # piped: CliRunner's stdout is not a terminal
    ],
)
def test_no_escape_codes(env, flags):
    for args in (
        ("sum(x**2)", "--x", "3,4,10", "--expect", "x=6,8,21"),
        ("sum(relu(x))", "--x", "-1,0,2"),
    ):
        result = run(*args, *flags, env=env)
        assert ESC not in result.stdout + result.stderr


def test_force_color_without_no_color_does_colour():
    """The check above is not vacuous: the same run with colour forced has escapes."""
    result = run("sum(x**2)", "--x", "3,4,10", env={"COLUMNS": "100", "FORCE_COLOR": "1"})
    assert ESC in result.stdout


def test_piped_table_fits_80_columns():
    result = run(
        "mean(sigmoid(w*x+b))",
        "--w",
        "1,2",
        "--x",
        "3,4",
        "--b",
        "0.5",
        env={"NO_COLOR": "1", "COLUMNS": "80"},
    )
    assert result.exit_code == 0
    table_lines = [line for line in result.stdout.splitlines() if line[:1] in "┏┃┡│├└"]
    assert table_lines and all(len(line) <= 80 for line in table_lines)


# --- values from files and stdin -----------------------------------------------------


def test_values_from_file_and_stdin(tmp_path):
    text = tmp_path / "x.txt"
    text.write_text("3 4\n10\n", encoding="utf-8")
    listed = tmp_path / "w.json"
    listed.write_text("[1, 2, 3]", encoding="utf-8")
    result = run("sum(w*x)", "--x", f"@{text}", "--w", f"@{listed}", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["gradients"]["w"]["autograd"] == [3.0, 4.0, 10.0]
    piped = run("sum(x**2)", "--x", "-", "--format", "json", stdin="3\n4\n10\n")
    assert piped.exit_code == 0
    assert json.loads(piped.stdout)["gradients"]["x"]["autograd"] == [6.0, 8.0, 20.0]


def test_bad_value_file_names_file_and_line(tmp_path):
    path = tmp_path / "x.txt"
    path.write_text("3,4\n1e\n", encoding="utf-8")
    result = run("sum(x)", "--x", f"@{path}")
    assert result.exit_code == 2
    assert result.stderr == (
        f"gradexplain: error: {path}: line 2, element 3 '1e' is not a plain decimal number\n"
    )


# --- --expect ------------------------------------------------------------------------


def test_expect_pass():
    result = run("sum(x**2)", "--x", "3,4,10", "--expect", "x=6,8,20")
    assert result.exit_code == 0
    assert result.stdout.endswith("The expected gradient matches both witnesses.\n")


def test_expect_fail_shows_expected_against_computed():
    result = run("sum(x**2)", "--x", "3,4,10", "--expect", "x=6,8,21")
    assert result.exit_code == 1
    assert "│ dL/dx    │ 2 │       21 │    20 │       20 │ MISMATCH │" in result.stdout
    assert "│ dL/dx    │ 0 │        6 │     6 │        6 │ ok       │" in result.stdout
    assert result.stdout.endswith("The expected gradient does NOT match: dL/dx (1 of 3).\n")


def test_expect_fail_markdown_and_json():
    markdown = run("sum(x**2)", "--x", "3,4,10", "--expect", "x=6,8,21", "--format", "markdown")
    assert markdown.exit_code == 1
    assert "| `dL/dx` | 2 | 21 | 20 | 20 | **MISMATCH** |" in markdown.stdout
    payload = json.loads(
        run("sum(x**2)", "--x", "3,4,10", "--expect", "x=6,8,21", "--format", "json").stdout
    )
    assert payload["expect"]["match"] is False
    assert payload["expect"]["gradients"]["x"] == {
        "expected": [6.0, 8.0, 21.0],
        "match": [True, True, False],
        "max_abs_diff": 1.0,
        "mismatches": [2],
    }
    assert payload["agree"] is True  # the witnesses still agree with each other
    assert (payload["status"], payload["exit_code"]) == ("disagree", 1)


def test_expect_uses_the_tolerances():
    close = ("sum(x**2)", "--x", "3,4,10", "--expect", "x=6.001,8,20")
    assert run(*close).exit_code == 1
    assert run(*close, "--atol", "0.01").exit_code == 0


def test_expect_scalar_and_file(tmp_path):
    path = tmp_path / "dx.txt"
    path.write_text("6\n8\n20\n", encoding="utf-8")
    assert (
        run(
            "sum(w*x**2)",
            "--x",
            "3,4,10",
            "--w",
            "1",
            "--expect",
            f"x=@{path}",
            "--expect",
            "w=125",
            "-q",
        ).exit_code
        == 0
    )


def test_expect_from_stdin():
    assert run("sum(x**2)", "--x", "3,4,10", "--expect", "x=-", stdin="6 8 20\n").exit_code == 0
    both = run("sum(x**2)", "--x", "-", "--expect", "x=-", stdin="3 4 10\n")
    assert both.exit_code == 2
    assert both.stderr == (
        "gradexplain: error: --expect x=-: stdin is empty (only one "
        "variable or expectation can read stdin)\n"
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (("--expect", "y=1"), "--expect y: not a variable of the expression; its variables are x"),
        (("--expect", "x=1,2"), "--expect x: 2 values given, but x has 3 values"),
        (("--expect", "x=1,2,3", "--expect", "x=1,2,3"), "--expect x is given twice"),
        (("--expect", "x"), "--expect needs NAME=VALUES, as in --expect x=6,8,20; got 'x'"),
        (("--expect", "x=1,a,3"), "--expect x: element 2 'a' is not a plain decimal number"),
    ],
)
def test_expect_invalid_exits_2(args, message):
    result = run("sum(x**2)", "--x", "3,4,10", *args)
    assert result.exit_code == 2
    assert result.stderr == f"gradexplain: error: {message}\n"
    assert result.stdout == ""


# --- --cases -------------------------------------------------------------------------

CASES_TOML = """\
[[case]]
name = "square"
expression = "sum(x**2)"
values = { x = [3, 4, 10] }
expect = { x = [6, 8, 20] }

[[case]]
name = "wrong hand derivation"
expression = "sum(x**2)"
values = { x = [3, 4, 10] }
expect = { x = [6, 8, 21] }

[[case]]
name = "typo"
expression = "sum(x**2"
values = { x = [1] }

[[case]]
name = "scalar"
expression = "w*x"
values = { w = 2, x = 3 }
dtype = "float32"
"""

SUMMARY = """\
gradexplain --cases cases.toml
┏━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┓
┃ case                  ┃ verdict              ┃ largest difference                            ┃
┡━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┩
│ square                │ agree                │ 0                                             │
│ wrong hand derivation │ expect mismatch      │ 1                                             │
│ typo                  │ invalid (expression) │ syntax error: '(' was never closed (column 4) │
│ scalar                │ agree                │ 0                                             │
└───────────────────────┴──────────────────────┴───────────────────────────────────────────────┘
4 cases: 2 agree, 1 disagree, 1 invalid
"""


@pytest.fixture
def cases_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cases.toml").write_text(CASES_TOML, encoding="utf-8")
    return tmp_path


def test_cases_summary_exit_code_and_stderr(cases_dir):
    result = run("--cases", "cases.toml")
    assert result.exit_code == 2  # the worst case: an invalid one
    assert "\n".join(line.rstrip() for line in result.stdout.splitlines()) + "\n" == SUMMARY
    assert result.stderr == (
        "gradexplain: error: case 'typo' (line 13): syntax error: '(' was never closed (column 4)\n"
    )


def test_cases_worst_status_without_invalid(cases_dir):
    text = CASES_TOML.replace(
        '"sum(x**2"\nvalues = { x = [1] }', '"sum(relu(x))"\nvalues = { x = [0] }'
    )
    (cases_dir / "cases.toml").write_text(text, encoding="utf-8")
    assert run("--cases", "cases.toml", "-q").exit_code == 3  # undefined beats disagree
    passing = CASES_TOML.split('[[case]]\nname = "wrong')[0]
    (cases_dir / "cases.toml").write_text(passing, encoding="utf-8")
    assert run("--cases", "cases.toml", "-q").exit_code == 0


def test_cases_junit_xml(cases_dir):
    result = run("--cases", "cases.toml", "--junit-xml", "report.xml", "--quiet")
    assert result.exit_code == 2 and result.stdout == ""
    root = ET.parse(cases_dir / "report.xml").getroot()
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("4", "1", "1")
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert list(cases) == ["square", "wrong hand derivation", "typo", "scalar"]
    assert list(cases["square"]) == [] and list(cases["scalar"]) == []
    failure = cases["wrong hand derivation"].find("failure")
    assert failure is not None
    assert failure.get("message") == "The expected gradient does NOT match: dL/dx (1 of 3)."
    assert "expected dL/dx[2] = 21, SymPy 20, autograd 20" in (failure.text or "")
    error = cases["typo"].find("error")
    assert error is not None and error.get("type") == "expression"
    assert error.get("message") == "syntax error: '(' was never closed (column 4)"


def test_cases_json_array_matches_the_schema(cases_dir):
    result = run("--cases", "cases.toml", "--format", "json")
    payload = json.loads(result.stdout)
    validate(payload)
    assert [(c["case"], c["line"], c["exit_code"]) for c in payload] == [
        ("square", 1, 0),
        ("wrong hand derivation", 7, 1),
        ("typo", 13, 2),
        ("scalar", 18, 0),
    ]
    assert payload[2]["error"]["type"] == "expression"
    assert payload[3]["dtype"] == "float32"


def test_cases_markdown(cases_dir):
    result = run("--cases", "cases.toml", "--format", "markdown")
    assert result.exit_code == 2
    assert result.stdout.startswith("### gradexplain --cases cases\\.toml\n")
    assert "| wrong hand derivation | **expect mismatch** | 1 |" in result.stdout
    assert result.stdout.endswith("**❌ 4 cases: 2 agree, 1 disagree, 1 invalid**\n")


def test_cases_json_lines_with_invalid_cases(tmp_path):
    lines = [
        {"name": "ok", "expression": "sum(x)", "values": {"x": [1, 2]}, "expect": {"x": [1, 1]}},
        {"name": "string values", "expression": "sum(x)", "values": {"x": "1,2"}},
        {"name": "typo in key", "expression": "sum(x)", "values": {"x": [1]}, "rtoll": 1},
        {
            "name": "unknown expect",
            "expression": "sum(x)",
            "values": {"x": [1]},
            "expect": {"y": [1]},
        },
        {
            "name": "wrong length",
            "expression": "sum(x)",
            "values": {"x": [1, 2]},
            "expect": {"x": [1]},
        },
    ]
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    result = run("--cases", str(path), "--format", "json")
    assert result.exit_code == 2
    payload = json.loads(result.stdout)
    validate(payload)
    assert [c["exit_code"] for c in payload] == [0, 2, 2, 2, 2]
    assert payload[1]["error"]["message"] == "x: element 1 is '1', not a number"
    assert payload[2]["error"]["message"].startswith("unknown key 'rtoll'")
    assert payload[4]["error"]["message"] == "--expect x: 1 value given, but x has 2 values"
    assert len(result.stderr.splitlines()) == 4


@pytest.mark.parametrize(
    "name, text, message",
    [
        (
            "bad.jsonl",
            '{"name": "a", "expression": "x", "values": {"x": 1}}\n{"name": oops}\n',
            "line 2: not valid JSON",
        ),
        ("bad.toml", '[[case]]\nname = "a"\nvalues = { x = 1 \n', "(at line 3, column 18)"),
        ("other.toml", 'title = "x"\n', "expected an array of tables [[case]], found 'title'"),
        ("empty.jsonl", "\n", "holds no case"),
    ],
)
def test_unreadable_cases_file_exits_2_naming_the_line(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = run("--cases", str(path), "--format", "json")
    assert result.exit_code == 2
    assert message in result.stderr
    validate(json.loads(result.stdout))


@pytest.mark.parametrize(
    "args, message",
    [
        (("--cases", "c.toml", "sum(x)"), "--cases runs the file's cases"),
        (("--junit-xml", "r.xml", "sum(x)", "--x", "1"), "--junit-xml needs --cases FILE"),
        (("--cases", "missing.toml"), "--cases: cannot read missing.toml"),
    ],
)
def test_cases_usage_errors(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    result = run(*args)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"gradexplain: error: {message}")


# --- help and shell completion -------------------------------------------------------


def test_help_leads_with_examples_of_the_script_options():
    result = run("--help", env={"COLUMNS": "80", "NO_COLOR": "1"})
    assert result.exit_code == 0
    text = result.stdout
    assert text.index("Examples:") < text.index("Give each variable") < text.index("Options:")
    for option in (
        "--expect",
        "--format json",
        "--format markdown",
        "--cases",
        "--junit-xml",
        "--x @x.txt",
        "--x -",
    ):
        assert option in text[: text.index("Options:")], option
    for option in ("--quiet", "--no-color", "--install-completion", "--show-completion"):
        assert option in text
    assert all(len(line) <= 80 for line in text.splitlines())


def test_shell_completion_offers_our_options():
    import subprocess
    import sys

    # A bare environment, but with this checkout on PYTHONPATH: without it `python -m` found
    # gradexplain in the current directory, or, when pytest ran from elsewhere, whichever
    # copy the interpreter had installed (another checkout's, for an editable install).
    root = str(Path(__file__).resolve().parent.parent)
    env = {
        "_GRADEXPLAIN_COMPLETE": "complete_bash",
        "COMP_WORDS": 'gradexplain "sum(x)" --ex',
        "COMP_CWORD": "2",
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": root,
    }
    done = subprocess.run(
        [sys.executable, "-m", "gradexplain"], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0
    assert done.stdout.split() == ["--expect"]
    # typer finds the shell by walking up the process tree, as it does for a user who types
    # this in bash; run it under bash (not exec'd, hence `; exit`) so the test does not depend
    # on whether pytest itself was started from a shell.
    script = subprocess.run(
        ["bash", "-c", '"$0" -m gradexplain --show-completion; exit $?', sys.executable],
        capture_output=True,
        text=True,
        env={"PATH": env["PATH"], "PYTHONPATH": root},
        timeout=60,
    )
    assert script.returncode == 0 and "_GRADEXPLAIN_COMPLETE" in script.stdout


# --- hostile names in the --cases summary -----------------------------------------------


@pytest.mark.parametrize(
    "line, shown",
    [
        ('{"name": "[/]", "expression": "sum(x**2)", "values": {"x": [1, 2]}}', "[/]"),
        (
            '{"name": "[bold]loud", "expression": "sum(x**2)", "values": {"x": [1, 2]}}',
            "[bold]loud",
        ),
        (
            '{"name": "k", "expression": "sum(x)", "values": {"x": [1]}, "[/x]": 1}',
            "unknown key '[/x]'",
        ),
    ],
)
def test_cases_summary_prints_markup_like_text_as_is(tmp_path, monkeypatch, line, shown):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "[red]c1.jsonl").write_text(line + "\n", encoding="utf-8")
    result = run("--cases", "[red]c1.jsonl")
    assert result.exit_code in (0, 2), result.output
    assert shown in result.stdout
    assert "gradexplain --cases [red]c1.jsonl" in result.stdout


# --- integers too large for a float -----------------------------------------------------


def test_huge_integer_in_a_json_values_file_is_a_values_error(tmp_path):
    (tmp_path / "big.json").write_text("[1" + "0" * 400 + "]", encoding="utf-8")
    result = run("sum(x**2)", "--x", f"@{tmp_path / 'big.json'}")
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("gradexplain: error: ")
    assert result.stderr.endswith(
        ": element 1 is too large for a float (an integer of about 401 digits)\n"
    )


def test_huge_integer_in_a_case_fails_that_case_only(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text(
        '{"name": "big", "expression": "sum(x)", "values": {"x": [1'
        + "0" * 400
        + ']}}\n{"name": "ok", "expression": "x", "values": {"x": 1'
        + "0" * 400
        + '}}\n{"name": "fine", "expression": "sum(x)", "values": {"x": [1]}}\n',
        encoding="utf-8",
    )
    result = run("--cases", str(path), "--format", "json")
    assert result.exit_code == 2, result.output
    payload = json.loads(result.stdout)
    assert [c["exit_code"] for c in payload] == [2, 2, 0]
    assert payload[0]["error"]["message"] == (
        "x: element 1 is too large for a float (an integer of about 401 digits)"
    )
    assert payload[1]["error"]["message"] == (
        "x: the value is too large for a float (an integer of about 401 digits)"
    )


# --- values files: a BOM, and JSON that is not numbers ----------------------------------


def test_values_files_may_start_with_a_bom(tmp_path):
    (tmp_path / "x.txt").write_text("\ufeff3,4,10", encoding="utf-8")
    (tmp_path / "x.json").write_text("\ufeff[3, 4, 10]", encoding="utf-8")
    (tmp_path / "c.jsonl").write_text(
        '\ufeff{"name": "a", "expression": "sum(x)", "values": {"x": [1, 2]}}\n', encoding="utf-8"
    )
    for spec in ("x.txt", "x.json"):
        result = run("sum(x**2)", "--x", f"@{tmp_path / spec}", "-q")
        assert result.exit_code == 0, result.output
    assert run("--cases", str(tmp_path / "c.jsonl"), "-q").exit_code == 0


@pytest.mark.parametrize(
    "content, message",
    [
        ('"12"', "expected a number, a list of numbers or a list of rows, not a string"),
        ('{"a": 1}', "expected a number, a list of numbers or a list of rows, not an object"),
        ("true", "expected a number, a list of numbers or a list of rows, not true or false"),
        ("null", "expected a number, a list of numbers or a list of rows, not null"),
        ('[1, "a"]', "element 2 is 'a', not a number"),
        ('[[1, 2], [3, "a"]]', "element 4 is 'a', not a number"),
        (
            "[1" + "0" * 400 + "]",
            "element 1 is too large for a float (an integer of about 401 digits)",
        ),
    ],
)
def test_json_values_file_that_is_not_numbers_names_the_file(tmp_path, content, message):
    path = tmp_path / "x.json"
    path.write_text(content, encoding="utf-8")
    result = run("sum(x**2)", "--x", f"@{path}")
    assert result.exit_code == 2, result.output
    assert result.stderr == f"gradexplain: error: {path}: {message}\n"


# --- one definition each ----------------------------------------------------------------


def test_shared_helpers_are_defined_once():
    from gradexplain import batch, cli
    from gradexplain.ir import values
    from gradexplain.output import report

    assert batch.refuse_constant is values.refuse_constant
    assert not hasattr(cli, "FORMATS") and report.FORMATS == ("table", "json", "markdown")
    assert Path(cli.__file__).read_text(encoding="utf-8").count("--format must be one of") == 1
    assert "json.dumps" not in Path(batch.__file__).read_text(encoding="utf-8")


@pytest.mark.parametrize("args", [("sum(x)", "--x", "1"), ("--cases", "c.toml")])
def test_unknown_format_is_refused_once(args):
    result = run(*args, "--format", "xml")
    assert result.exit_code == 2
    assert result.stderr == (
        "gradexplain: error: --format must be one of table, json, markdown, not 'xml'\n"
    )
