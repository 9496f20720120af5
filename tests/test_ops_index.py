"""The name index (`gradexplain/ops/index.py`) is the registry's, generated from it.

The parser checks names against the index so that an input error imports no family
module; these tests keep the index equal to what the entries say, and check that the
registry still hands out every entry, loading its family on first use.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import gradexplain.ops as ops
from gradexplain.ops.base import MADE
from gradexplain.ops.index import NAMES

ROOT = Path(__file__).resolve().parent.parent


def _entries() -> dict[str, tuple[str, bool, tuple[str, ...], tuple[str, ...]]]:
    """What the family modules themselves hold, in the registry's order."""
    return {
        op.name: ops.index_facts(op, family)
        for family in ops.FAMILIES
        for op in importlib.import_module(f"gradexplain.ops.{family}").ENTRIES
    }


def test_the_index_holds_what_the_entries_say() -> None:
    assert _entries() == NAMES, "run python scripts/update_ops_index.py"
    assert list(NAMES) == list(_entries())  # the registry's order (README table, messages)


def test_the_index_file_is_the_generated_text() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "update_ops_index.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_every_name_gives_its_entry_from_its_family() -> None:
    for name, (family, *_) in NAMES.items():
        op = ops.OPS[name]
        assert op.name == name
        assert op in importlib.import_module(f"gradexplain.ops.{family}").ENTRIES
    assert len(ops.OPS) == len(NAMES) and list(ops.OPS) == list(NAMES)
    assert "nosuch" not in ops.OPS and ops.OPS.get("nosuch") is None
    with pytest.raises(KeyError):
        ops.OPS["nosuch"]


def test_a_stale_index_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    stale = {**NAMES, "newfunc": ("softmax", True, ("torch",), ())}
    monkeypatch.setattr(ops, "NAMES", stale)
    with pytest.raises(RuntimeError, match=r"index.py is stale for ops/softmax.py: run python"):
        ops.Registry()["newfunc"]


def test_each_kept_whole_function_finds_its_numpy_rule_once_made() -> None:
    """The evaluator reads a kept-whole function's numpy rule from MADE, filled when its
    SymPy class is made (a formula can hold no function whose class was never made)."""
    functions = ops.named_functions()
    assert functions
    for function in functions:
        assert MADE[function.cls] is function
