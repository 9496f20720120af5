"""The index (`gradexplain/ops/index.py`) is the registry's, generated from it.

The parser reads names and calls from the index so that an input error imports no family
module; these tests keep the index equal to what the entries say (read back through
`ops.reading`, the table's one reader), and check that the registry still hands out every
entry, loading its family on first use.
"""

from __future__ import annotations

import importlib
import math
import subprocess
import sys
from pathlib import Path

import pytest

import gradexplain.ops as ops
from gradexplain.ops import NAMES
from gradexplain.ops.base import MADE, Op
from gradexplain.ops.index import TABLE
from gradexplain.ops.indexfile import line
from gradexplain.ops.reading import Keyword, Reading, read_table

ROOT = Path(__file__).resolve().parent.parent


def _entries() -> dict[str, Reading]:
    """What the family modules themselves hold, in the registry's order."""
    return {
        op.name: op.reading(family)
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
    for name, row in NAMES.items():
        op = ops.OPS[name]
        assert op.name == name
        assert op in importlib.import_module(f"gradexplain.ops.{row.family}").ENTRIES
    assert len(ops.OPS) == len(NAMES) and list(ops.OPS) == list(NAMES)
    assert "nosuch" not in ops.OPS and ops.OPS.get("nosuch") is None
    with pytest.raises(KeyError):
        ops.OPS["nosuch"]


def test_a_stale_index_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    stale = {**NAMES, "newfunc": NAMES["softmax"]._replace(name="newfunc")}
    monkeypatch.setattr(ops, "NAMES", stale)
    with pytest.raises(RuntimeError, match=r"index.py is stale for ops/softmax.py: run python"):
        ops.Registry()["newfunc"]


def test_a_stale_argument_rule_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A family whose entry reads its arguments otherwise than the index says is refused
    when it loads, so a parser that read the index never runs against other rules."""
    changed = NAMES["softmax"]._replace(keywords=(Keyword("dim", "dims"),))
    monkeypatch.setattr(ops, "NAMES", {**NAMES, "softmax": changed})
    with pytest.raises(RuntimeError, match=r"index.py is stale for ops/softmax.py: run python"):
        ops.Registry()["softmax"]


def test_the_table_reads_back_every_kind_of_cell() -> None:
    """Every value a keyword's default takes (None, a bool, an int, a float, inf, a
    string) and every list survives the table's text."""
    row = Reading(
        "f",
        "fam",
        False,
        ("torch", "method"),
        ("torch:g",),
        "unary",
        2,
        "required",
        "maximum",
        ("sign", "logabsdet"),
        "source",
        ("check", "count"),
        tuple(
            Keyword(f"k{i}", "number", default, ("a", "b"), ("alias",), i % 2 == 0, i > 2)
            for i, default in enumerate((None, True, False, 0, -1, 0.01, -1.0, math.inf, "fro"))
        ),
    )
    assert read_table(line(row)) == {"f": row}


def test_the_rules_column_names_what_the_entry_defines() -> None:
    """An entry whose class defines `check` or `count` loads its family for them; the
    others are read from the index alone (sum, the benchmark's input error)."""
    for name, row in NAMES.items():
        kind = type(ops.OPS[name])
        for rule in ("check", "count"):
            assert (rule in row.rules) == (getattr(kind, rule) is not getattr(Op, rule)), name
    assert NAMES["sum"].rules == () and NAMES["arange"].rules == ("count",)
    assert read_table(TABLE) == NAMES


def test_each_kept_whole_function_finds_its_numpy_rule_once_made() -> None:
    """The evaluator reads a kept-whole function's numpy rule from MADE, filled when its
    SymPy class is made (a formula can hold no function whose class was never made)."""
    functions = ops.named_functions()
    assert functions
    for function in functions:
        assert MADE[function.cls] is function
