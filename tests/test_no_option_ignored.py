"""No option is ever silently ignored (issue 13, Required 7): the audit, as a test.

Every option, in every format (table, json, markdown), with and without --quiet, on one run
and with --cases: the option either does what it says (its effect shows where it should: on
stdout, in the exit code or as a file) or the run exits 2 with a message that names it.

Each option is tried against a base run chosen so that its effect is visible even under
--quiet: --rtol 0 and --atol 0 turn float32's round-off into a disagreement, float32
overflows exp(100), --wrt w steps around a kink in x, --check-fd meets a point within eps of
|x|'s kink, --hessian meets its element limit. A few cells are meant to change nothing and
say so in --help and README (ACCEPTED); the test checks they really change nothing.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gradexplain.cli import app

TWELVE = ",".join(str(i) for i in range(1, 13))  # more rows than a table shows (5 + 5)
BASES = {
    "long": ("sum(w*x**2)", {"w": TWELVE, "x": TWELVE}, []),
    "vector": ("w*x**2", {"w": "1,2", "x": "3,4"}, []),
    "rtol": ("sum(exp(x))", {"x": "0.3,0.7"}, ["--dtype", "float32", "--atol", "0"]),
    "atol": ("sum(exp(x))", {"x": "0.3,0.7"}, ["--dtype", "float32", "--rtol", "0"]),
    "overflow": ("sum(exp(x))", {"x": "100"}, []),
    "kink": ("sum(relu(x)*w)", {"x": "0", "w": "1"}, []),
    "near-kink": ("sum(abs(x))", {"x": "1e-7"}, []),
    "hessian-limit": ("sum(x*x)", {"x": ",".join(["1"] * 1001)}, []),
}


@dataclass(frozen=True)
class Row:
    args: tuple[str, ...]
    base: str
    shows: str  # where its effect must show: "stdout", "exit" or "file"

    @property
    def option(self) -> str:
        return self.args[0]


ROWS = [
    Row(("--wrt", "w"), "kink", "exit"),
    Row(("--dtype", "float32"), "overflow", "exit"),
    Row(("--rtol", "0"), "rtol", "exit"),
    Row(("--atol", "0"), "atol", "exit"),
    Row(("--device", "cuda:99"), "long", "exit"),  # no machine has it: exit 2
    Row(("--expect", "x=5"), "near-kink", "exit"),
    Row(("--check-fd",), "near-kink", "exit"),
    Row(("--hessian",), "hessian-limit", "exit"),
    Row(("--all",), "long", "stdout"),
    Row(("--graph",), "long", "stdout"),
    Row(("--mermaid",), "long", "stdout"),
    Row(("--steps",), "long", "stdout"),
    Row(("--v", "1,1"), "vector", "stdout"),
    Row(("--jacobian",), "vector", "stdout"),
    Row(("--no-color",), "long", "stdout"),
    Row(("--debug",), "long", "stdout"),
    Row(("--dot", "g.dot"), "long", "file"),
    Row(("--graph-svg", "g.svg"), "long", "file"),
    Row(("--terminal-svg", "t.svg"), "long", "file"),
    Row(("--svg", "t.svg"), "long", "file"),
    Row(("--junit-xml", "r.xml"), "long", "file"),
    Row(("--jacobian-out", "j.json"), "vector", "file"),
]


def accepted(option: str, output: str, quiet: bool, cases: bool) -> str | None:
    """Cells where the option rightly changes nothing: why (README and --help say so)."""
    if option == "--debug":
        return "--debug only adds the traceback of an internal error"
    if option == "--no-color" and (quiet or output != "table"):
        return "--no-color: JSON, Markdown and --quiet never hold colour"
    if option == "--all" and output == "json" and not cases:
        return "JSON always holds every row"
    return None


# FORCE_COLOR: the table has colour to take away, so --no-color shows
ENV = {"COLUMNS": "100", "FORCE_COLOR": "1", "TERM": "xterm-256color", "NO_COLOR": ""}
RUNNER = CliRunner()


@dataclass(frozen=True)
class Seen:
    exit_code: int
    stdout: str
    stderr: str
    files: tuple[str, ...]


def command(base: str, output: str, quiet: bool, cases: bool, folder: Path) -> list[str]:
    expression, values, options = BASES[base]
    if cases:
        listed = ", ".join(f"{name} = [{numbers}]" for name, numbers in values.items())
        (folder / "c.toml").write_text(
            f'[[case]]\nname = "audit"\nexpression = "{expression}"\nvalues = {{ {listed} }}\n'
        )
        line = ["--cases", "c.toml"]
    else:
        line = [expression, *(part for name, v in values.items() for part in (f"--{name}", v))]
    return [*line, *options, "--format", output, *(["--quiet"] if quiet else [])]


def invoke(args: list[str], folder: Path) -> Seen:
    here = os.getcwd()
    os.chdir(folder)
    try:
        result = RUNNER.invoke(app, args, env=ENV)
    finally:
        os.chdir(here)
    files = tuple(sorted(p.name for p in folder.iterdir() if p.name != "c.toml"))
    return Seen(result.exit_code, result.stdout, result.stderr, files)


_BASE_RUNS: dict[tuple[str, str, bool, bool], Seen] = {}


def base_run(base: str, output: str, quiet: bool, cases: bool, folder: Path) -> Seen:
    key = (base, output, quiet, cases)
    if key not in _BASE_RUNS:
        folder.mkdir()
        _BASE_RUNS[key] = invoke(command(base, output, quiet, cases, folder), folder)
    return _BASE_RUNS[key]


def names(option: str, message: str) -> bool:
    return re.search(re.escape(option) + r"(?![\w-])", message) is not None


@pytest.mark.parametrize("cases", [False, True], ids=["one-run", "cases"])
@pytest.mark.parametrize("quiet", [False, True], ids=["loud", "quiet"])
@pytest.mark.parametrize("output", ["table", "json", "markdown"])
@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.option)
def test_an_option_works_or_is_refused_by_name(tmp_path, row, output, quiet, cases):
    base = base_run(row.base, output, quiet, cases, tmp_path / "base")
    folder = tmp_path / "with"
    folder.mkdir()
    seen = invoke([*command(row.base, output, quiet, cases, folder), *row.args], folder)
    if quiet and output != "table":  # the whole line is refused (see the next test)
        assert base.exit_code == seen.exit_code == 2
        return
    refused = seen.exit_code == 2 and names(row.option, seen.stderr)
    reason = accepted(row.option, output, quiet, cases)
    if reason is not None:
        assert seen == base, reason
        return
    if row.shows == "exit":
        assert refused or seen.exit_code != base.exit_code, (base, seen)
    elif row.shows == "stdout":
        assert refused or (seen.exit_code == base.exit_code and seen.stdout != base.stdout), (
            base,
            seen,
        )
    else:
        assert refused or (seen.exit_code == base.exit_code and row.args[1] in seen.files), (
            base,
            seen,
        )


@pytest.mark.parametrize("cases", [False, True], ids=["one-run", "cases"])
@pytest.mark.parametrize("output", ["json", "markdown"])
def test_quiet_with_a_document_format_is_refused_naming_both(tmp_path, output, cases):
    seen = base_run("long", output, True, cases, tmp_path / "base")
    assert seen.exit_code == 2 and seen.files == ()
    assert f"--quiet prints nothing, so --format {output} would do nothing" in seen.stderr
    if output == "json":  # --format json: stdout is the JSON error document, even so
        import json

        assert json.loads(seen.stdout)["error"]["type"] == "usage"
    else:
        assert seen.stdout == ""


@pytest.mark.parametrize("cases", [False, True], ids=["one-run", "cases"])
def test_var_gives_a_variable_as_its_own_option_does(tmp_path, cases):
    """--var has no effect of its own to show: it is another spelling of --NAME."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    own = invoke(["sum(w*x)", "--w", "1,2", "--x", "3,4"], tmp_path / "a")
    spelled = invoke(["sum(w*x)", "--var", "w=1,2", "--x", "3,4"], tmp_path / "b")
    assert own == spelled and own.exit_code == 0
    if cases:
        (tmp_path / "a" / "c.toml").write_text('[[case]]\nexpression = "sum(x)"\n')
        seen = invoke(["--cases", "c.toml", "--var", "w=1,2"], tmp_path / "a")
        assert seen.exit_code == 2 and "give no EXPRESSION, values or --expect" in seen.stderr


# Options the audit's axes are made of, or that print and exit before anything runs.
NOT_ROWS = {
    "--format": "an axis of the audit",
    "--quiet": "an axis of the audit",
    "--cases": "an axis of the audit",
    "--var": "test_var_gives_a_variable_as_its_own_option_does",
    "--schema": "prints and exits, as --version does (README, Options)",
    "--version": "prints and exits (README, Options)",
    "--help": "prints and exits (README, Options)",
    "--install-completion": "typer's completion: installs and exits",
    "--show-completion": "typer's completion: prints and exits",
}


def test_the_audit_tries_every_option_of_the_command():
    """A new option fails here until it has a row (or a reason not to)."""
    import typer.main

    command = typer.main.get_command(app)
    options = {name for param in command.params for name in param.opts if name.startswith("--")}
    assert options | {"--help"} == {row.option for row in ROWS} | set(NOT_ROWS)
