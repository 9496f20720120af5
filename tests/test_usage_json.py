"""In JSON mode stdout is JSON, whatever refused the command line (issue 13, Required 2/7).

Through the real entry point (`python -m gradexplain`): click's own usage errors (an option
without its value, a flag given one), ours (an unknown variable option, a bad --format), and
--quiet with a document format all print the JSON error document that `gradexplain --schema`
describes, with exit 2, when the line asks for JSON: `--format json`, `--format=json`, before
or after the bad option, or swallowed as another option's value.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import jsonschema
import pytest

ENV = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1"}
SEED = ["sum(x**2)", "--x", "3,4"]


def gradexplain(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gradexplain", *args],
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
        env=ENV,
    )


@pytest.fixture(scope="module")
def schema() -> dict:
    done = gradexplain("--schema")
    assert done.returncode == 0
    return json.loads(done.stdout)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--format", "json", "--rtol"], "Option '--rtol' requires an argument"),
        (["--format=json", "--var"], "Option '--var' requires an argument"),
        (["--rtol", "--format=json"], "--rtol must be a number, not '--format=json'"),
        (["--rtol", "--format", "json"], "unexpected argument 'json'"),  # --rtol took --format
        (["--quiet=1", "--format", "json"], "Option '--quiet' does not take a value"),
        (["--format=json", "--all=yes"], "Option '--all' does not take a value"),
        (["--format", "json", "--junk"], "--junk needs values"),
        (["--format", "json", "-z"], "unexpected argument '-z'"),
        (["--format", "JSON"], "--format must be one of table, json, markdown, not 'JSON'"),
        (["--format", "json", "--dtype", "float16"], "float16"),
        (["--format", "json", "-q"], "--quiet prints nothing, so --format json would do nothing"),
    ],
)
def test_a_usage_error_under_json_is_the_json_error_document(schema, args, message):
    done = gradexplain(*SEED, *args)
    assert done.returncode == 2
    document = json.loads(done.stdout)  # one document, nothing else on stdout
    jsonschema.validate(document, schema)
    assert document["exit_code"] == 2
    assert message in document["error"]["message"]
    assert done.stderr.startswith("gradexplain: error: ") and message in done.stderr
    assert "Traceback" not in done.stderr and "Usage:" not in done.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--rtol"],  # no --format: a line on stderr only
        ["--format", "json", "--format", "yaml"],  # the last --format decides, as for a run
        ["--format", "markdown", "--rtol"],
    ],
)
def test_without_json_a_usage_error_is_one_line_on_stderr(args):
    done = gradexplain(*SEED, *args)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("gradexplain: error: ") and done.stderr.count("\n") == 1


def test_a_usage_error_in_a_cases_run_under_json_is_json_too(schema, tmp_path):
    done = gradexplain("--cases", str(tmp_path / "c.toml"), "--format=json", "--junit-xml")
    assert done.returncode == 2
    jsonschema.validate(json.loads(done.stdout), schema)
    assert "Option '--junit-xml' requires an argument" in done.stderr


def test_finite_differences_that_differ_fail_the_run_even_quietly():
    """--check-fd is a third witness: where it differs (within eps of |x|'s kink) the
    run exits 1 like any disagreement, so `-q --check-fd` is not a no-op."""
    loud = gradexplain("sum(abs(x))", "--x", "1e-7", "--check-fd")
    assert loud.returncode == 1
    assert "Finite differences DIFFER (--check-fd); SymPy and autograd agree" in loud.stdout
    quiet = gradexplain("sum(abs(x))", "--x", "1e-7", "--check-fd", "-q")
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (1, "", "")
