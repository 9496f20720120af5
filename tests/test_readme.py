"""README cannot drift: its output blocks are the real program's, its commands CI's."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _script():
    spec = importlib.util.spec_from_file_location(
        "update_readme", ROOT / "scripts" / "update_readme.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The blocks that are meant to show an input error; any other block that exits 2 (or 70)
# shows an error README did not mean to show (a mistyped option, a broken example).
MEANT_ERRORS = {
    'gradexplain "sum(x**2" --x 3,4,10',
    'gradexplain "X@w" --X "1,2,3;4,5,6" --w 1,2',
}


def test_readme_output_blocks_are_the_real_output():
    """Equal up to round-off: a number below the round-off floor differs between CPUs."""
    script = _script()
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = list(script.BLOCK.finditer(text))
    assert len(blocks) >= 3 and len(blocks) == text.count(script.MARKER)
    for block in blocks:
        command = block.group("command")
        status, output = script.run(command)
        assert script.stable(block.group("output")) == script.stable(output), (
            f"stale README block for {command}: run scripts/update_readme.py"
        )
        meant = command in MEANT_ERRORS
        assert (status in (2, 70)) == meant, f"README block {command} exits {status}: " + (
            "it was meant to show an error" if meant else "an error README does not mean to show"
        )
        assert output.strip(), f"README block {command} shows nothing"


def test_round_off_is_not_golden_text():
    script = _script()
    here = "largest |difference| 2.78e-17 (rtol 1e-07)\n│ 0 │ -1.39e-17 │ ok │"
    there = "largest |difference| 3.47e-18 (rtol 1e-07)\n│ 0 │   -6.9e-18 │ ok │"
    assert script.stable(here) == script.stable(there)
    assert script.stable("largest |difference| 2e-08") != script.stable(
        "largest |difference| 3e-08"
    )
    assert script.stable("6e-08") == "6e-08" and script.stable("1.5e-12") == "1.5e-12"


def test_ci_runs_the_test_command_that_readme_gives():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    setup = 'torch==2.13.0 -e ".[dev]"'
    assert setup in readme and setup in ci
    assert "python -m pytest -q" in readme and "python -m pytest -q" in ci
    # a lint or type finding fails CI as a failing test does
    assert all(f"\n{check}" in ci for check in ("ruff check .", "mypy", "vermin --target=3.10-"))
    assert 'gradexplain "sum(x**2)" --x 3,4,10' in readme


def test_readme_function_table_is_generated_from_the_registry():
    from gradexplain.ops import OPS
    from gradexplain.ops.table import markdown_table

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert _script().functions_table(text) == text, (
        "stale README function table: run scripts/update_readme.py"
    )
    table = markdown_table()
    assert all(f"| {name} |" in table for name in OPS)


def test_pre_commit_runs_the_checks_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    hooks = (ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8")
    vermin = "vermin --target=3.10- --violations --eval-annotations --no-tips"
    assert f"\n{vermin} " in ci and f"entry: {vermin}\n" in hooks
    assert "\nruff check .\n" in ci and "entry: ruff check " in hooks
    assert "\nmypy\n" in ci and "entry: mypy\n" in hooks
