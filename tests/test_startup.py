"""Start-up stays light: help, version and input errors import neither torch nor SymPy,
and an input error found while reading the expression and values imports none of our
modules that only a run or an option needs.

Each case runs the real entry point (`python -m gradexplain`) in a fresh interpreter and
lists the heavy modules it imported. The shortcut that keeps typer's pydantic coercion
away (`argv.py`) is checked against typer's own parsing, argument for argument.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import typer
from typer.core import TyperCommand

from gradexplain.cli import app

HEAVY = ("torch", "sympy", "numpy", "pydantic")
PROBE = (
    "import runpy, sys\n"
    "sys.argv = ['gradexplain', *sys.argv[1:]]\n"
    "try:\n"
    "    runpy.run_module('gradexplain', run_name='__main__')\n"
    "except SystemExit as exc:\n"
    "    code = exc.code\n"
    "else:\n"
    "    code = 0\n"
    f"loaded = sorted(m for m in {HEAVY!r} if m in sys.modules)\n"
    "sys.__stderr__.write('\\nLOADED ' + __import__('json').dumps([code, loaded]))\n"
)


def _imports(*args: str, probe: str = PROBE) -> tuple[object, list[str]]:
    """Run the CLI in a fresh interpreter; its exit code and which of the probe's modules
    (the heavy ones by default) it loaded."""
    done = subprocess.run(
        [sys.executable, "-c", probe, *args],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    code, loaded = json.loads(done.stderr.rpartition("\nLOADED ")[2])
    return code, loaded


@pytest.mark.parametrize(
    "args, code",
    [
        (["--help"], 0),
        (["--version"], 0),
        (["--schema"], 0),
        (["sum(x**2"], 2),  # syntax error
        (["sum(x**2)", "--x", "3,4,10", "--y", "1"], 2),  # a variable the expression lacks
        (["sum(x**2)"], 2),  # no values
        (["sum(x**2)", "--x", "3,oops"], 2),  # not a number
        (["sum(x*y)", "--x", "1,2", "--y", "1,2,3"], 2),  # lengths differ
        (["__import__('os')", "--x", "1"], 2),  # refused by the allowlist
        (["sum(x**2", "--format", "json"], 2),  # JSON mode
        (["sum(x**2)", "--x", "1", "--dtype", "float16"], 2),  # a bad option value
        (["sum(x**2)", "--x", "1", "--format", "yaml"], 2),
        (["sum(x**2)", "--x", "1", "--format", "json", "--rtol"], 2),  # click's, as JSON
        (["sum(x**2)", "--x", "1", "--all=yes", "--format=json"], 2),
        (["sum(x**2)", "--x", "1", "--quiet", "--format", "json"], 2),
        (["-sum(x**2)", "--x", "-1,2", "--y", "1"], 2),
    ],
)
def test_no_heavy_import(args: list[str], code: int) -> None:
    assert _imports(*args) == (code, [])


def test_a_run_does_import_them() -> None:
    """The probe itself works: a real run loads torch and SymPy."""
    code, loaded = _imports("sum(x**2)", "--x", "3,4,10")
    assert code == 0 and {"torch", "sympy"} <= set(loaded)


def test_a_scalar_loss_calls_backward_without_a_gradient() -> None:
    """L.backward(), not L.backward(ones_like(L)): the same gradient, but torch imports
    its symbolic-shapes module (0.04 s, on every seed run) for a gradient argument."""
    probe = PROBE.replace(repr(HEAVY), repr(("torch.fx.experimental.symbolic_shapes",)))
    assert _imports("sum(x**2)", "--x", "3,4,10", probe=probe) == (0, [])


# --expect's, the extras', the special forms' (`x[...]`, losses, einsum...), the API's
# tensors' and the index letters' modules: each is compiled on every run of a checkout without .pyc files (README,
# Performance: "input error, our modules compiled from source"), and none of them is
# needed to read and check these inputs.
LAZY = (
    "gradexplain.witnesses.expect",
    "gradexplain.teach.extras",
    "gradexplain.ir.forms",
    "gradexplain.ir.held",
    "gradexplain.ir.notation",
)
LAZY_PROBE = PROBE.replace(f"{HEAVY!r}", f"{LAZY!r}")


def _lazy_loaded(*args: str) -> tuple[object, list[str]]:
    return _imports(*args, probe=LAZY_PROBE)


@pytest.mark.parametrize(
    "args, code",
    [
        (["--help"], 0),
        (["--version"], 0),
        (["sum(x**2"], 2),
        (["sum(x**2)", "--x", "3,4,10", "--y", "1"], 2),  # the benchmark's
        (["sum(x**2)"], 2),
        (["sum(x**2)", "--x", "3,oops"], 2),
        (["sum(x*y)", "--x", "1,2", "--y", "1,2,3"], 2),
        (["sum(x**2", "--format", "json"], 2),
        (["sum(x**2)", "--x", "1", "--format", "yaml"], 2),
    ],
)
def test_an_input_error_imports_none_of_the_run_s_modules(args: list[str], code: int) -> None:
    assert _lazy_loaded(*args) == (code, [])


def test_the_lazy_modules_load_when_used() -> None:
    """The probe works: a run loads the index letters, --expect, --steps and x[...] theirs
    (the API's tensor reader stays out: the command line's numbers are text)."""
    code, loaded = _lazy_loaded("sum(x[:2]**2)", "--x", "3,4,10", "--expect", "x=6,8,0", "--steps")
    assert (code, loaded) == (0, sorted(set(LAZY) - {"gradexplain.ir.held"}))


def _parse(args: list[str], full: bool) -> tuple[dict[str, object], list[str]]:
    command = typer.main.get_command(app)
    ctx = command.context_class(command, info_name="gradexplain", **command.context_settings)
    try:
        with ctx.scope(cleanup=False):
            if full:
                TyperCommand.parse_args(command, ctx, list(args))
            else:
                command.parse_args_raising(ctx, list(args))
    except Exception as error:  # noqa: BLE001 - click's errors: both paths must match
        return {"error": type(error).__name__}, [str(error)]
    return dict(ctx.params), list(ctx.args)


@pytest.mark.parametrize(
    "args",
    [
        ["sum(x**2)", "--x", "3,4,10"],
        ["--x=3,4", "sum(x**2)"],
        ["sum(x*y)", "--x", "1,2", "--y", "@values.txt"],
        ["sum(x)", "--x", "-"],
        ["sum(x)", "--x", "1", "--format", "json"],
        ["sum(x)", "--format=json", "--x", "1", "--all", "--debug"],
        ["sum(x)", "--x", "1", "--no-debug", "--dtype", "float32", "--device", "cpu"],
        ["sum(x)", "--var", "device=1", "--var", "x=2", "--rtol", "1e-3", "--atol=0"],
        ["sum(x)", "--x", "--y"],
        ["sum(x)", "--x"],
        ["sum(x)", "--x", "-1,2", "--w=-3"],
        ["-sum(x)", "--x", "1", "-h", "-x=3", "--=x"],
        # not plain: typer parses these itself, with the same result by construction
        ["sum(x)", "--", "--x", "1"],
        ["sum(x)", "--device", "-1"],
        ["sum(x)", "--var", "-", "--var", "x=1"],
        ["sum(x)", "--format", "json", "--format", "table"],
        ["sum(x)", "--all=yes"],
        ["sum(x)", "--device"],
        ["-x", "sum(x)"],
        ["sum(x)", "--x", "1", "-q"],
    ],
)
def test_shortcut_parses_like_typer(args: list[str]) -> None:
    assert _parse(args, full=False) == _parse(args, full=True)


def test_an_expression_starting_with_minus_is_not_read_as_short_options() -> None:
    # click alone reads "-sum(q)" as -s -u -m -( -q -): --quiet, silently; ours keeps it whole
    params, rest = _parse(["-sum(q)", "--q", "1"], full=False)
    assert params["quiet"] is False
    assert rest == ["-sum(q)", "--q", "1"]
    assert _parse(["-sum(q)", "--q", "1"], full=True)[0]["quiet"] is True  # what we avoid


FAMILY_PROBE = PROBE.replace(
    f"loaded = sorted(m for m in {HEAVY!r} if m in sys.modules)",
    "from gradexplain.ops import FAMILIES\n"
    "loaded = sorted(m[16:] for m in sys.modules if m[16:] in FAMILIES"
    " and m.startswith('gradexplain.ops.'))",
)


@pytest.mark.parametrize(
    "args, families",
    [
        (["foo(x)", "--x", "1"], []),  # an unknown function: the name index alone
        (["torch.linalg.foo(X)", "--X", "1"], []),
        (["sum(x**", "--x", "1"], []),  # a syntax error
        (["x.nosuch()", "--x", "1"], []),
        (["sum(x, dimm=0)", "--x", "1"], []),  # a bad keyword: the index's argument rules
        (["F.relu(x, inplace=True)", "--x", "1"], []),
        (["max(x, keepdim=True)", "--x", "1"], []),
        (["sum(x**2)", "--x", "3,4,10", "--y", "1"], []),  # the benchmark's
        # its own check (Variance is a Reduction: statistics imports reductions)
        (["var(x, unbiased=True, correction=0)", "--x", "1"], ["reductions", "statistics"]),
        (["sum(x*range(n))", "--x", "1", "--n", "0"], ["indexing"]),  # range's count
        (["sum(x**2", "--format", "json"], []),
    ],
)
def test_an_input_error_imports_only_the_families_it_names(
    args: list[str], families: list[str]
) -> None:
    """The parser reads names and calls from `ops.index`; a family module is imported when
    one of its rules runs (each costs start-up time: README, Performance)."""
    done = subprocess.run(
        [sys.executable, "-c", FAMILY_PROBE, *args],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    code, loaded = json.loads(done.stderr.rpartition("\nLOADED ")[2])
    assert (code, loaded) == (2, families)
