"""Exit codes under faults (issue 13, Required 2): the real entry point in a subprocess.

A closed pipe, a full or closed stdout, a full stderr, a closed or undecodable stdin,
Ctrl-C and a stream that cannot encode Unicode each end with the status README's table
documents, never 0/1/3 by accident, never 70 and never a traceback.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gradexplain.errors import ExitStatus

SEED = ["sum(x**2)", "--x", "3,4,10"]
INVALID = ["sum(x**2", "--x", "1"]  # refused before torch loads: a fast run
LONG = ["sum(x**2)", "--x", ",".join(str(i) for i in range(1, 13))]  # an elided table
ENV = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}
BROKEN = int(ExitStatus.BROKEN_PIPE)


def gradexplain(*args: str | bytes, **kwargs) -> subprocess.CompletedProcess:
    kwargs.setdefault("capture_output", "stdout" not in kwargs)
    kwargs.setdefault("stdin", subprocess.DEVNULL)
    kwargs.setdefault("env", ENV)
    return subprocess.run([sys.executable, "-m", "gradexplain", *args], timeout=300, **kwargs)


def no_traceback(stderr: bytes) -> bool:
    return b"Traceback" not in stderr and b"Exception ignored" not in stderr


@pytest.mark.parametrize(
    "args",
    [
        SEED,
        ["--help"],
        [*INVALID, "--format", "json"],
    ],
)
def test_a_closed_pipe_exits_141_quietly(args):
    """`| head -1`: the reader is gone before anything is written (no race)."""
    read, write = os.pipe()
    os.close(read)
    try:
        done = gradexplain(*args, stdout=write, stderr=subprocess.PIPE)
    finally:
        os.close(write)
    assert done.returncode == BROKEN
    assert done.stderr == b"" or (b"error" in done.stderr and no_traceback(done.stderr))


@pytest.mark.parametrize(
    "args",
    [
        [*SEED, "--format", "markdown"],
        ["--help"],
        ["--version"],
        [*INVALID, "--format", "json"],
        ["--cases", "missing.toml", "--format", "json"],
    ],
)
def test_a_full_disk_on_stdout_exits_74(args):
    with open("/dev/full", "w") as full:
        done = gradexplain(*args, stdout=full, stderr=subprocess.PIPE)
    assert done.returncode == ExitStatus.OUTPUT
    assert done.stderr.endswith(
        b"gradexplain: error: cannot write the output to stdout: No space left on device\n"
    )
    assert no_traceback(done.stderr)


def test_quiet_writes_nothing_so_a_full_disk_changes_nothing():
    with open("/dev/full", "w") as full:
        done = gradexplain(*SEED, "--quiet", stdout=full, stderr=subprocess.PIPE)
    assert (done.returncode, done.stderr) == (0, b"")


@pytest.mark.parametrize(
    "args, code",
    [
        (INVALID, 2),
        ([*INVALID, "--format", "json"], 2),
        (["--bogus"], 2),
        (["sum(x**2)", "--x", "1", "--expect", "x=5"], 1),
    ],
)
def test_a_full_stderr_keeps_the_status(args, code):
    with open("/dev/full", "w") as full:
        done = gradexplain(*args, stdout=subprocess.PIPE, stderr=full)
    assert done.returncode == code


def test_a_closed_stdin_is_exit_2():
    done = gradexplain("sum(x**2)", "--x", "-", stdin=None, preexec_fn=lambda: os.close(0))
    assert done.returncode == 2
    assert b"<stdin>: stdin is closed" in done.stderr and no_traceback(done.stderr)


def test_a_closed_stdout_is_exit_74_but_quiet_needs_none():
    done = gradexplain(*SEED, stdout=None, preexec_fn=lambda: os.close(1), stderr=subprocess.PIPE)
    assert done.returncode == ExitStatus.OUTPUT and no_traceback(done.stderr)
    done = gradexplain(
        *SEED, "-q", stdout=None, preexec_fn=lambda: os.close(1), stderr=subprocess.PIPE
    )
    assert (done.returncode, done.stderr) == (0, b"")


@pytest.mark.parametrize("data", [b"\xff\xfe1,2", b"1,2\xc3", b"\x00\x81"])
def test_undecodable_stdin_is_exit_2(data):
    done = gradexplain("sum(x**2)", "--x", "-", stdin=None, input=data)
    assert done.returncode == 2
    assert b"<stdin>: not UTF-8 text: byte 0x" in done.stderr and no_traceback(done.stderr)


HOOK = """
import runpy, sys
class Interrupt:
    def find_spec(self, name, path=None, target=None):
        if name == {module!r}:
            raise KeyboardInterrupt
sys.meta_path.insert(0, Interrupt())
sys.argv = ['gradexplain', *sys.argv[1:]]
runpy.run_module('gradexplain', run_name='__main__')
"""


@pytest.mark.parametrize(
    "module, output",
    [
        ("typer", []),
        ("gradexplain.cli", []),
        ("gradexplain.output.streams", []),
        ("rich.console", ["--format", "json"]),
        ("torch", []),
        ("sympy", ["--format", "json"]),
    ],
)
def test_ctrl_c_while_a_module_imports_is_130_without_a_traceback(module, output):
    done = subprocess.run(
        [sys.executable, "-c", HOOK.format(module=module), *SEED, *output],
        capture_output=True,
        timeout=300,
        env=ENV,
    )
    assert done.returncode == ExitStatus.INTERRUPTED
    assert done.stdout == b"" and no_traceback(done.stderr)


SHUTDOWN = """
import atexit, os, runpy, signal, sys
atexit.register(lambda: os.kill(os.getpid(), signal.SIGINT))  # registered first: runs last
sys.argv = ['gradexplain', *sys.argv[1:]]
runpy.run_module('gradexplain', run_name='__main__')
"""


def test_ctrl_c_while_python_shuts_down_ends_by_sigint_without_a_traceback():
    """After the result is out, a Ctrl-C in an atexit handler (Python's shutdown) used to
    print "Exception ignored in atexit callback" and a traceback, then exit 0."""
    done = subprocess.run(
        [sys.executable, "-c", SHUTDOWN, *SEED],
        capture_output=True,
        timeout=300,
        env=ENV,
    )
    assert done.returncode == -signal.SIGINT  # shells show 130
    assert done.stdout.rstrip().endswith(b"(rtol 1e-07, atol 1e-07)")  # the whole result
    assert done.stderr == b""


def test_a_real_sigint_during_the_run_is_130():
    """SIGINT once torch is loading. CPython's `-m` may report it as death by SIGINT
    (shells show 130 for both; see __main__'s docstring)."""
    child = subprocess.Popen(
        [sys.executable, "-m", "gradexplain", *SEED, "--check-fd", "--steps"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=ENV,
    )
    maps = Path(f"/proc/{child.pid}/maps")
    deadline = time.monotonic() + 120
    while child.poll() is None and time.monotonic() < deadline:
        try:
            if "torch" in maps.read_text(errors="replace"):
                break
        except OSError:  # the process ended between poll() and the read
            break
        time.sleep(0.01)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=120)
    assert child.returncode in (ExitStatus.INTERRUPTED, -signal.SIGINT)
    assert no_traceback(err)


@pytest.mark.parametrize(
    "encoding, output",
    [
        ("ascii", "table"),
        ("ascii", "markdown"),
        ("cp1252", "markdown"),
    ],
)
def test_a_stream_that_cannot_encode_unicode_falls_back_to_ascii(encoding, output):
    done = gradexplain(*LONG, "--format", output, env={**ENV, "PYTHONIOENCODING": encoding})
    assert done.returncode == 0, done.stderr
    text = done.stdout.decode(encoding)
    assert "..." in text or "…" in text  # the elided rows (cp1252 has …)
    if output == "markdown":
        assert "**[ok] SymPy and autograd agree" in text


@pytest.mark.parametrize(
    "encoding, output",
    [
        ("ascii", "table"),
        ("ascii", "markdown"),
        ("ascii", "json"),
        ("latin-1", "markdown"),
        ("cp1252", "markdown"),
        ("cp1252", "json"),
    ],
)
def test_cases_with_unicode_names_under_ascii(tmp_path, encoding, output):
    """Invalid cases (no torch: fast) with names no code page holds, and 🚫 marks."""
    cases = tmp_path / "cases.jsonl"
    names = ["\u03b1…✅ \u03b2₂", "日本", "🚫"]
    cases.write_text(
        "\n".join(json.dumps({"name": n, "expression": "sum("}) for n in names), encoding="utf-8"
    )
    done = gradexplain(
        "--cases", str(cases), "--format", output, env={**ENV, "PYTHONIOENCODING": encoding}
    )
    assert done.returncode == 2, done.stderr
    text = done.stdout.decode(encoding)
    if output == "json":
        assert [c["case"] for c in json.loads(text)] == names
    else:
        assert "alpha" in text and "[ok] beta2" in text and "[-]" in text
    assert no_traceback(done.stderr)


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS file names must be UTF-8")
def test_non_utf8_file_names(tmp_path):
    cases = os.fsencode(tmp_path) + b"/\xff\xfe.toml"
    with open(cases, "wb") as handle:  # an invalid case: no torch, a fast run
        handle.write(b'[[case]]\nexpression = "sum(x"\nvalues = { x = [1, 2] }\n')
    for output in ("table", "markdown", "json"):
        done = gradexplain(b"--cases", cases, b"--format", output.encode())
        assert done.returncode == 2 and no_traceback(done.stderr)
        shown = {"table": b"\\xff\\xfe", "markdown": b"\\\\xff\\\\xfe", "json": b""}
        assert shown[output] in done.stdout
    dot = os.fsencode(tmp_path) + b"/\xff.dot"
    done = gradexplain(*SEED, b"--dot", dot)
    assert done.returncode == 0, done.stderr
    assert b"DOT graph written to " in done.stdout and b"\\xff.dot" in done.stdout
    with open(dot, "rb") as handle:
        assert handle.read().startswith(b"digraph")
