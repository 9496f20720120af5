"""README cannot drift: its output blocks are the real program's, its commands CI's."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _script():
    spec = importlib.util.spec_from_file_location("update_readme",
                                                  ROOT / "scripts" / "update_readme.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_output_blocks_are_the_real_output():
    script = _script()
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = list(script.BLOCK.finditer(text))
    assert len(blocks) >= 3 and len(blocks) == text.count(script.MARKER)
    for block in blocks:
        assert block.group("output") == script.output_of(block.group("command")), \
            f"stale README block for {block.group('command')}: run scripts/update_readme.py"


def test_ci_runs_the_test_command_that_readme_gives():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    setup = "torch==2.13.0 -e \".[dev]\""
    assert setup in readme and setup in ci
    assert "python -m pytest -q" in readme and "python -m pytest -q" in ci
    # a lint or type finding fails CI as a failing test does
    assert all(f"\n{check}" in ci for check in ("ruff check .", "mypy", "vermin --target=3.10-"))
    assert 'gradexplain "sum(x**2)" --x 3,4,10' in readme


def test_readme_function_table_is_generated_from_the_registry():
    from gradexplain.ops import OPS
    from gradexplain.ops.table import markdown_table

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert _script().functions_table(text) == text, \
        "stale README function table: run scripts/update_readme.py"
    table = markdown_table()
    assert all(f"| {name} |" in table for name in OPS)


def test_pre_commit_runs_the_checks_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    hooks = (ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8")
    vermin = "vermin --target=3.10- --violations --eval-annotations --no-tips"
    assert f"\n{vermin} " in ci and f"entry: {vermin}\n" in hooks
    assert "\nruff check .\n" in ci and "entry: ruff check " in hooks
    assert "\nmypy\n" in ci and "entry: mypy\n" in hooks
