"""A `--cases` case gets exactly what the command line gives for the same options (issue 11).

Both go through `request.answer()`; these tables hold the two to it from the outside: the
same exit status, the same JSON document (gradients, verdict, expect, finite differences,
Hessian), for each option set.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gradexplain.batch import CASE_KEYS
from gradexplain.cli import app

ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}
README = Path(__file__).resolve().parent.parent / "README.md"
LINE = {"t": [0, 1, 2, 3], "speed": [1.2, 2.1, 5.3, 9.8], "a": 1, "b": 0.5}
LINE_EXPRESSION = "mean((a*t**2 + b*t - speed)**2)"


def run(*args: str, stdin: str | None = None):
    return CliRunner().invoke(app, list(args), env=ENV, input=stdin)


def _text(value: object) -> str:
    """A case's numbers as the command line writes them: 3,4,10 and 1,2;3,4."""
    if isinstance(value, list) and value and isinstance(value[0], list):
        return ";".join(_text(row) for row in value)
    if isinstance(value, list):
        return ",".join(map(repr, value))
    return repr(value)


def _command_line(case: dict) -> list[str]:
    args = [case["expression"]]
    for name, value in case["values"].items():
        args += [f"--{name}", _text(value)]
    wrt = case.get("wrt")
    if wrt is not None:
        args += ["--wrt", wrt if isinstance(wrt, str) else ",".join(wrt)]
    expect = case.get("expect", {})
    specs = (
        expect
        if isinstance(expect, list)
        else [f"{name}={_text(value)}" for name, value in expect.items()]
    )
    for spec in specs:
        args += ["--expect", spec]
    for key in ("device", "dtype", "rtol", "atol"):
        if key in case:
            args += [f"--{key}", str(case[key])]
    for key in ("check_fd", "hessian"):
        if case.get(key):
            args.append("--" + key.replace("_", "-"))
    return args


# (id, the case's fields, the exit status); the command line is built from the same fields
SAME_OPTIONS = [
    ("plain", {"expression": "sum(x**2)", "values": {"x": [3, 4, 10]}}, 0),
    ("wrt as a string", {"expression": LINE_EXPRESSION, "values": LINE, "wrt": "a,b"}, 0),
    ("wrt as a list", {"expression": LINE_EXPRESSION, "values": LINE, "wrt": ["b"]}, 0),
    (
        "expect passes",
        {"expression": "sum(x**2)", "values": {"x": [3, 4, 10]}, "expect": {"x": [6, 8, 20]}},
        0,
    ),
    (
        "expect fails",
        {"expression": "sum(x**2)", "values": {"x": [3, 4, 10]}, "expect": {"x": [6, 8, 21]}},
        1,
    ),
    (
        "expect as --expect takes it",
        {
            "expression": "sum(W@w)",
            "values": {"W": [[1, 2], [3, 4]], "w": [1, -1]},
            "expect": ["W=1,-1;1,-1", "w=4,6"],
        },
        0,
    ),
    (
        "expect with wrt",
        {"expression": LINE_EXPRESSION, "values": LINE, "wrt": "a", "expect": {"a": 1}},
        1,
    ),
    (
        "expect on data is refused",
        {"expression": LINE_EXPRESSION, "values": LINE, "wrt": "a", "expect": {"b": 1}},
        2,
    ),
    (
        "check_fd",
        {"expression": "sum(w*x)", "values": {"w": [1, 2], "x": [3, 4]}, "check_fd": True},
        0,
    ),
    (
        "check_fd at a kink",
        {"expression": "sum(relu(w))", "values": {"w": [0, 1, -2]}, "check_fd": True},
        3,
    ),
    ("hessian", {"expression": "sum(x**3)", "values": {"x": [1, 2]}, "hessian": True}, 0),
    (
        "hessian, wrt, float32",
        {
            "expression": LINE_EXPRESSION,
            "values": LINE,
            "wrt": ["a", "b"],
            "dtype": "float32",
            "hessian": True,
            "check_fd": True,
        },
        0,
    ),
    (
        "tolerances too tight for float32",
        {
            "expression": "sum(x**3)",
            "values": {"x": [1.1, 2.3]},
            "dtype": "float32",
            "rtol": 0,
            "atol": 0,
            "hessian": True,
        },
        1,
    ),
    ("wrt misspelt", {"expression": LINE_EXPRESSION, "values": LINE, "wrt": "a,bb"}, 2),
    ("device cpu", {"expression": "sum(x**2)", "values": {"x": [3, 4]}, "device": "cpu"}, 0),
    ("device auto", {"expression": "sum(x**2)", "values": {"x": [3, 4]}, "device": "auto"}, 0),
    (
        "device not here",
        {"expression": "sum(x**2)", "values": {"x": [3, 4]}, "device": "cuda:99"},
        2,
    ),
    (
        "rtol alone loosens float32",
        {
            "expression": "sum(exp(x))",
            "values": {"x": [0.1, 2.3]},
            "dtype": "float32",
            "rtol": 0.01,
        },
        0,
    ),
    (
        "atol alone, 0",
        {"expression": "sum(x**3)", "values": {"x": [1.1, 2.3]}, "dtype": "float32", "atol": 0},
        0,
    ),
    (
        "hessian too large",
        {"expression": "sum(x**2)", "values": {"x": list(range(1001))}, "hessian": True},
        2,
    ),
]


@pytest.mark.parametrize(
    "case, status", [(c, s) for _, c, s in SAME_OPTIONS], ids=[name for name, _, _ in SAME_OPTIONS]
)
def test_a_case_gets_what_the_command_line_gives(tmp_path, case, status):
    alone = run(*_command_line(case), "--format", "json")
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps(case) + "\n", encoding="utf-8")
    batch = run("--cases", str(path), "--format", "json")
    assert alone.exit_code == batch.exit_code == status, (alone.output, batch.output)
    document = json.loads(batch.stdout)[0]
    assert (document.pop("case"), document.pop("line")) == ("case 1", 1)
    assert document == json.loads(alone.stdout)
    if alone.exit_code == 2:  # the same message, named by the case on stderr
        message = json.loads(alone.stdout)["error"]["message"]
        assert batch.stderr == f"gradexplain: error: case 'case 1' (line 1): {message}\n"


def test_the_table_covers_every_exit_status_and_option():
    assert {status for _, _, status in SAME_OPTIONS} == {0, 1, 2, 3}
    keys = {key for _, case, _ in SAME_OPTIONS for key in case}
    assert keys == CASE_KEYS - {"name"}  # a new key fails here until a row tries it


# --- the command line's options are the cases' defaults ----------------------------------


def test_command_line_options_are_the_cases_defaults(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text(
        json.dumps({"expression": LINE_EXPRESSION, "values": LINE})
        + "\n"
        + json.dumps(
            {
                "expression": LINE_EXPRESSION,
                "values": LINE,
                "wrt": "a",
                "hessian": False,
                "check_fd": False,
            }
        )
        + "\n",
        encoding="utf-8",
    )
    result = run(
        "--cases", str(path), "--format", "json", "--wrt", "a,b", "--hessian", "--check-fd"
    )
    assert result.exit_code == 0, result.output
    defaulted, overridden = json.loads(result.stdout)
    assert list(defaulted["gradients"]) == ["a", "b"]
    assert defaulted["hessian"]["elements"] == ["a", "b"]
    assert "finite_differences" in defaulted["gradients"]["a"]
    assert list(overridden["gradients"]) == ["a"]
    assert "hessian" not in overridden
    assert "finite_differences" not in overridden["gradients"]["a"]


@pytest.mark.parametrize(
    "option",
    [
        ("--graph",),
        ("--steps",),
        ("--jacobian",),
        ("--mermaid",),
        ("--all",),
        ("--dot", "g.dot"),
        ("--v", "1"),
        ("--terminal-svg", "o.svg"),
        ("--graph-svg", "o.svg"),
        ("--jacobian-out", "j.json"),
    ],
)
def test_display_options_are_refused_with_cases(tmp_path, monkeypatch, option):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.jsonl").write_text(
        '{"expression": "sum(x)", "values": {"x": [1]}}\n', encoding="utf-8"
    )
    result = run("--cases", "c.jsonl", *option)
    assert result.exit_code == 2
    assert result.stderr == (
        "gradexplain: error: --cases prints one line per case: --all, --graph, --dot, "
        "--mermaid, --steps, --v, --jacobian, --jacobian-out, --terminal-svg and "
        "--graph-svg do not apply; run the case on its own to see them\n"
    )


# --- the new keys, checked --------------------------------------------------------------


@pytest.mark.parametrize(
    "fields, message",
    [
        (
            {"hesian": True},
            "unknown key 'hesian' (did you mean 'hessian'?); a case has atol, "
            "check_fd, device, dtype, expect, expression, hessian, name, rtol, "
            "values, wrt",
        ),
        (
            {"colour": "red"},
            "unknown key 'colour'; a case has atol, check_fd, device, dtype, "
            "expect, expression, hessian, name, rtol, values, wrt",
        ),
        ({"check_fd": "yes"}, "'check_fd' must be true or false"),
        ({"hessian": 1}, "'hessian' must be true or false"),
        ({"wrt": 3}, "'wrt' must be a string (\"w,b\") or a list of names"),
        ({"wrt": ["x", 1]}, "'wrt' must be a string (\"w,b\") or a list of names"),
        ({"wrt": []}, "--wrt needs variable names separated by commas, as in --wrt w,b"),
        ({"expect": ["x=-"]}, "a case cannot read stdin: give the numbers or @FILE"),
        ({"expect": ["x"]}, "--expect needs NAME=VALUES, as in --expect x=6,8,20; got 'x'"),
        (
            {"expect": 3},
            "'expect' must be a table of name = numbers or a list of \"NAME=VALUES\" strings",
        ),
    ],
)
def test_a_bad_key_fails_its_case_naming_key_and_case(tmp_path, fields, message):
    path = tmp_path / "c.toml"
    lines = [
        "[[case]]",
        'name = "first"',
        'expression = "sum(x)"',
        "values = { x = [1] }",
        "",
        "[[case]]",
        'name = "second"',
        'expression = "sum(x)"',
        "values = { x = [1, 2] }",
    ] + [f"{key} = {json.dumps(value)}" for key, value in fields.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run("--cases", str(path), "--format", "json")
    assert result.exit_code == 2
    assert result.stderr == f"gradexplain: error: case 'second' (line 6): {message}\n"
    first, second = json.loads(result.stdout)
    assert first["exit_code"] == 0 and second["error"]["message"] == message


def test_expect_from_a_file_as_on_the_command_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "grad.txt").write_text("6 8\n20\n", encoding="utf-8")
    (tmp_path / "c.jsonl").write_text(
        json.dumps(
            {"expression": "sum(x**2)", "values": {"x": [3, 4, 10]}, "expect": ["x=@grad.txt"]}
        )
        + "\n",
        encoding="utf-8",
    )
    assert run("--cases", "c.jsonl", "-q").exit_code == 0
    assert run("sum(x**2)", "--x", "3,4,10", "--expect", "x=@grad.txt", "-q").exit_code == 0


def test_junit_lists_the_hessian_entries_that_differ(tmp_path):
    path = tmp_path / "c.jsonl"
    case = next(c for name, c, _ in SAME_OPTIONS if name.startswith("tolerances"))
    path.write_text(json.dumps(case) + "\n", encoding="utf-8")
    report = tmp_path / "report.xml"
    assert run("--cases", str(path), "--junit-xml", str(report), "-q").exit_code == 1
    failure = ET.parse(report).getroot().find("testsuite/testcase/failure")
    assert failure is not None
    lines = (failure.text or "").splitlines()
    assert lines[1].startswith("dL/dx[0]: SymPy 3.63, autograd 3.63")
    assert any(line.startswith("d2L/dx[1]dx[1]: SymPy 13.8, autograd 13.7") for line in lines)


# --- the README's cases file is a real one -----------------------------------------------


def test_readme_cases_example_runs_and_agrees(tmp_path):
    section = README.read_text(encoding="utf-8").split("A cases file runs many checks")[1]
    toml = re.search(r"```toml\n(.*?)```", section, re.DOTALL)
    assert toml is not None
    (tmp_path / "gradients.toml").write_text(toml.group(1), encoding="utf-8")
    result = run("--cases", str(tmp_path / "gradients.toml"), "--format", "json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    keys = {
        key
        for line in toml.group(1).splitlines()
        for key in [line.partition(" =")[0]]
        if " = " in line
    }
    assert keys >= {"wrt", "expect", "rtol", "atol", "dtype", "check_fd", "hessian"}
    assert all(document["exit_code"] == 0 for document in payload)
