"""Hostile values, cases and output paths (issue 13, Required 3 to 6), through the CLI.

Malformed input is exit 2 with a message (a bad case fails that case only), the named
limits stop a cases file before any work, untrusted strings reach no terminal, log,
Markdown or XML raw, and output files are written whole or not at all.
"""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gradexplain.cli import app
from gradexplain.errors import OutputError
from gradexplain.ir import limits
from gradexplain.output import files

ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069]")


def run(*args: str, stdin: str | None = None):
    return CliRunner().invoke(app, list(args), env=ENV, input=stdin)


@pytest.fixture()
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def deep(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


# --- malformed values and cases: exit 2, never 70 -------------------------------------


@pytest.mark.parametrize(
    "text, message",
    [
        ("[[[1, 2]], [[3, 4]]]", "deeper nesting or mixed rows are not supported"),
        ("[[[1]]]", "deeper nesting or mixed rows are not supported"),  # not a 1x1 matrix
        (deep(100_000), "nested too deeply to read"),
        ("[1, [2]]", "deeper nesting or mixed rows are not supported"),
    ],
)
def test_malformed_json_values_are_exit_2(here, text, message):
    (here / "X.json").write_text(text)
    result = run("sum(X)", "--X", "@X.json")
    assert result.exit_code == 2
    assert message in result.stderr


@pytest.mark.parametrize(
    "value, message",
    [
        ([[[1]]], "values with more than 2 dimensions are not supported"),
        ([[[1, 2]], [[3, 4]]], "values with more than 2 dimensions are not supported"),
        ("DEEP", "values with more than 2 dimensions are not supported"),
        ([1, "MIXED"], "element 2 is [[[[[[[...]]]]]]], not a number"),
    ],
)
def test_a_malformed_value_fails_its_case_only(here, value, message):
    raw = json.dumps(value).replace('"DEEP"', deep(800)).replace('"MIXED"', deep(800))
    lines = [
        '{"name": "good", "expression": "sum(x)", "values": {"x": [1, 2]}}',
        '{"name": "bad", "expression": "sum(x)", "values": {"x": ' + raw + "}}",
        '{"name": "bad expect", "expression": "sum(x)", "values": {"x": [1]}, '
        '"expect": {"x": ' + raw + "}}",
    ]
    (here / "c.jsonl").write_text("\n".join(lines) + "\n")
    result = run("--cases", "c.jsonl", "--format", "json")
    assert result.exit_code == 2
    documents = json.loads(result.stdout)
    assert [d["exit_code"] for d in documents] == [0, 2, 2]
    assert message in documents[1]["error"]["message"]
    assert message in documents[2]["error"]["message"]


@pytest.mark.parametrize(
    "name, text",
    [
        ("c.jsonl", '{"expression": "sum(x)", "values": {"x": ' + deep(100_000) + "}}\n"),
        ("c.toml", '[[case]]\nexpression = "sum(x)"\nvalues = { x = ' + deep(5_000) + " }\n"),
        (
            "d.toml",
            '[[case]]\nexpression = "sum(x)"\nvalues = ' + "{a=" * 5_000 + "1" + "}" * 5_000 + "\n",
        ),
    ],
)
def test_nesting_too_deep_to_parse_is_exit_2(here, name, text):
    (here / name).write_text(text)
    result = run("--cases", name)
    assert result.exit_code == 2
    assert "nested too deeply to read" in result.stderr


def test_a_cases_file_that_is_not_utf8_is_exit_2(here):
    (here / "c.jsonl").write_bytes(b'{"name": "\xff"}\n')
    result = run("--cases", "c.jsonl")
    assert result.exit_code == 2
    assert "not UTF-8 text: byte 0xff at offset 10" in result.stderr


# --- limits on a batch ---------------------------------------------------------------


def test_cases_from_dev_zero_stop_at_the_named_limit():
    result = run("--cases", "/dev/zero")
    assert result.exit_code == 2
    assert f"MAX_CASES_FILE_BYTES = {limits.MAX_CASES_FILE_BYTES:,}" in result.stderr


@pytest.mark.parametrize(
    "limit, value, cases",
    [
        ("MAX_BATCH_ELEMENTS", 5, 2),  # 2 cases of 3 numbers each
        ("MAX_CASES", 1, 2),
        ("MAX_CASES_FILE_BYTES", 100, 2),
    ],
)
def test_a_batch_over_a_limit_is_refused_before_any_work(here, monkeypatch, limit, value, cases):
    monkeypatch.setattr(limits, limit, value)
    line = '{"expression": "sum(x)", "values": {"x": [1, 2]}, "expect": {"x": [1, 1]}}'
    (here / "c.jsonl").write_text("\n".join([line] * cases) + "\n")
    (here / "old.xml").write_text("old report")
    result = run("--cases", "c.jsonl", "--junit-xml", "old.xml")
    assert result.exit_code == 2
    assert f"{limit} = {value:,}" in result.stderr
    assert (here / "old.xml").read_text() == "old report"


# --- untrusted strings are neutralised -----------------------------------------------

HOSTILE = [
    "\x1b[2J\x1b[31mFAKE all ok",
    "bell\x07",
    "over\rwrite",
    "\u202eevil",
    "osc \x1b]8;;http://x.y\x07link\x1b]8;;\x07",
    "a\r\n# Heading [l](http://x.y)",
    "![i](http://x.y/i.png) <img src=x onerror=alert(1)> | www.e.com &amp;",
    "nul\x00 vt\x0b ff\x0c del\x7f c1\x85 \u2028 \ufeff \ufffe",
]


@pytest.fixture()
def hostile_cases(here):
    lines = [
        json.dumps(
            {
                "name": name,
                "expression": "sum(x)",
                "values": {"x": [1, 2]},
                **({"expect": {"x": [9, 9]}} if i % 2 else {}),
            }
        )
        for i, name in enumerate(HOSTILE)
    ]
    lines.append(
        json.dumps({"name": "key", "expression": "sum(x)", "values": {"x": [1], HOSTILE[0]: [2]}})
    )
    (here / "c.jsonl").write_text("\n".join(lines) + "\n")
    return here


def test_terminal_output_and_stderr_hold_no_raw_control_character(hostile_cases):
    result = run("--cases", "c.jsonl")
    assert result.exit_code == 2
    assert not RAW.search(result.stdout) and not RAW.search(result.stderr)
    assert "\\x1b[2J\\x1b[31mFAKE" in result.stdout
    assert "--\\x1b[2J\\x1b[31mFAKE all ok is not a variable" in result.stderr  # the key


def test_junit_xml_is_well_formed_whatever_the_names(hostile_cases):
    result = run("--cases", "c.jsonl", "--junit-xml", "r.xml", "-q")
    assert result.exit_code == 2
    root = ET.parse(hostile_cases / "r.xml").getroot()
    names = [case.get("name") for case in root.iter("testcase")]
    assert names[0] == "\\x1b[2J\\x1b[31mFAKE all ok"
    assert names[7] == "nul\\x00 vt\\x0b ff\\x0c del\\x7f c1\\x85 \\u2028 \\ufeff \\ufffe"
    assert not any(RAW.search(ET.tostring(root, encoding="unicode")) for _ in [0])


def test_markdown_rows_cannot_break_or_link(hostile_cases):
    result = run("--cases", "c.jsonl", "--format", "markdown")
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    assert len(rows) == 2 + len(HOSTILE) + 1  # header, rule, one per case
    assert not RAW.search(result.stdout)
    for row in rows[2:]:  # every character that could start markup is escaped
        assert not re.search(r"(?<!\\)[<>\[\]()!&#:]", row.split(" | ")[0]), row
    assert all(line.count(" | ") == 2 for line in rows)  # no cell split by a pipe


@pytest.mark.parametrize(
    "expression, shown, column",
    [
        ("sum(x)\x1b[2J", "sum(x)\\x1b[2J", 7),
        ("sum(\u202ex)", "sum(\\u202ex)", 5),
        ("sum(x)\r+evil", "sum(x)\\r+evil", 7),
    ],
)
def test_the_caret_line_shows_control_characters_escaped(expression, shown, column):
    result = run(expression, "--x", "1")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert not RAW.search(result.stderr)
    assert lines[1] == "  " + shown
    assert lines[2].index("^") == 2 + column - 1


# --- output files ----------------------------------------------------------------------

CASES = '[[case]]\nexpression = "sum(x**2)"\nvalues = { x = [1, 2] }\n'


@pytest.mark.parametrize(
    "args, message",
    [
        (["--cases", "c.toml", "--junit-xml", "c.toml"], "--junit-xml c.toml is also an input"),
        (["--cases", "c.toml", "--junit-xml", "./c.toml"], "is also an input (c.toml)"),
        (["sum(x)", "--x", "@x.txt", "--dot", "x.txt"], "--dot x.txt is also an input"),
        (
            ["sum(x)", "--x", "1", "--expect", "x=@x.txt", "--terminal-svg", "x.txt"],
            "is also an input",
        ),
        (
            ["sum(x)", "--x", "1", "--dot", "g.dot", "--terminal-svg", "g.dot"],
            "--dot and --terminal-svg both write g.dot",
        ),
        (["sum(x)", "--x", "1", "--graph-svg", "c.toml", "--cases", "c.toml"], "is also an input"),
        (
            ["sum(x)", "--x", "1", "--svg", "a.svg", "--terminal-svg", "b.svg"],
            "--svg is the old name of --terminal-svg: give one of them",
        ),
        (["sum(x)", "--x", "1", "--dot", ""], "--dot needs a file name, not ''"),
        (["sum(x)", "--x", "1", "--dot", "-"], "--dot needs a file name, not '-'"),
        (["sum(x)", "--x", "1", "--graph-svg", "no/such/folder/g.svg"], "does not exist"),
        (["sum(x)", "--x", "1", "--dot", "."], "--dot .: is a folder"),
    ],
)
def test_unusable_output_paths_are_refused_before_any_work(here, args, message):
    (here / "c.toml").write_text(CASES)
    (here / "x.txt").write_text("1\n")
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert (here / "c.toml").read_text() == CASES and (here / "x.txt").read_text() == "1\n"


@pytest.mark.parametrize(
    "args",
    [
        ["sum(x**2", "--x", "1", "--dot", "old"],  # fails before any work
        ["sum(x**2)", "--x", "1", "--y", "2", "--dot", "old"],
        ["sum(x**2)", "--x", "1", "--terminal-svg", "old", "--format", "markdown"],
    ],
)
def test_a_run_that_fails_before_writing_leaves_the_old_file(here, args):
    (here / "old").write_text("previous report")
    assert run(*args).exit_code == 2
    assert (here / "old").read_text() == "previous report"
    assert os.listdir(here) == ["old"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(here, monkeypatch):
    (here / "r.xml").write_text("previous report")

    def fail(source, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OutputError, match=r"--junit-xml: cannot write r\.xml: No space"):
        files.write("r.xml", "<new/>", "--junit-xml")
    assert (here / "r.xml").read_text() == "previous report"
    assert os.listdir(here) == ["r.xml"]


def test_an_interrupted_write_keeps_the_old_file(here, monkeypatch):
    (here / "g.dot").write_text("old")

    def interrupt(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "chmod", interrupt)
    with pytest.raises(KeyboardInterrupt):
        files.write("g.dot", "digraph {}", "--dot")
    assert (here / "g.dot").read_text() == "old" and os.listdir(here) == ["g.dot"]


def test_outputs_are_replaced_whole_with_the_old_permissions(here):
    (here / "c.toml").write_text(CASES)
    (here / "r.xml").write_text("x" * 100_000)
    os.chmod(here / "r.xml", 0o640)
    result = run("--cases", "c.toml", "--junit-xml", "r.xml", "-q")
    assert result.exit_code == 0
    ET.parse(here / "r.xml")
    assert os.stat(here / "r.xml").st_mode & 0o777 == 0o640
    assert sorted(os.listdir(here)) == ["c.toml", "r.xml"]


def test_a_full_disk_for_an_output_file_is_exit_74(here):
    (here / "c.toml").write_text(CASES)
    result = run("--cases", "c.toml", "--junit-xml", "/dev/full", "-q")
    assert result.exit_code == 74
    assert "--junit-xml: cannot write /dev/full: No space left on device" in result.stderr
    assert Path("/dev/full").is_char_device()  # written in place, never replaced


# --- no option silently ignored (Required 7) -----------------------------------------


@pytest.mark.parametrize(
    "option",
    [
        ["--all"],
        ["--graph"],
        ["--mermaid"],
        ["--steps"],
        ["--jacobian"],
        ["--v", "1,1"],
        ["--terminal-svg", "o.svg"],
    ],
)
@pytest.mark.parametrize("output", ["table", "markdown", "json"])
def test_quiet_refuses_an_option_that_only_changes_what_is_printed(here, option, output):
    result = run("exp(x)", "--x", "1,2", "--quiet", "--format", output, *option)
    assert result.exit_code == 2
    named = re.search(r"--quiet prints nothing, so (.*) would do nothing", result.stderr)
    assert named is not None
    wanted = {option[0]} | (set() if output == "table" else {f"--format {output}"})
    assert set(named[1].split(", ")) == wanted
    assert os.listdir(here) == []


@pytest.mark.parametrize(
    "option",
    [
        ["--check-fd"],
        ["--hessian"],
        ["--expect", "x=2,4"],
        ["--dot", "g.out"],
        ["--graph-svg", "g.out"],
    ],
)
def test_quiet_keeps_the_options_that_decide_the_status_or_write_a_file(here, option):
    result = run("sum(x**2)", "--x", "1,2", "--quiet", *option)
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    assert os.listdir(here) == (["g.out"] if "g.out" in option else [])
