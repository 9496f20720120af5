"""Writes `index.py` from the entries themselves (scripts/update_ops_index.py), the one
writer of the table that `reading.read_table` reads; tests compare the two."""

from __future__ import annotations

import importlib

from gradexplain.ops import FAMILIES
from gradexplain.ops.reading import Keyword, Reading

HEADER = '''\
"""Every entry's name, family and spellings, and how the parser reads a call of it, so
the parser reads a call without importing its family. Generated from the entries by
scripts/update_ops_index.py; tests/test_ops_index.py fails when it differs from them.
Do not edit by hand."""

# A line per entry, in the registry's order: name, family, bare (or -), spellings,
# aliases, signature, operands, dim, pairwise, outputs, index_data, rules (ops.reading's
# Reading); then an indented line per keyword: name, kind, default, choices, aliases,
# positional (or -), nonzero (or -). "-" is empty; lists are joined by commas.
TABLE = """\\
'''


def line(row: Reading) -> str:
    """One entry's lines of the table."""
    cells = [
        row.name,
        row.family,
        "bare" if row.bare else "-",
        _items(row.spellings),
        _items(row.aliases),
        row.signature,
        str(row.operands),
        row.dim,
        row.pairwise or "-",
        _items(row.outputs),
        row.index_data or "-",
        _items(row.rules),
    ]
    return "\n".join([" ".join(cells), *(_keyword(spec) for spec in row.keywords)])


def _keyword(spec: Keyword) -> str:
    cells = [
        spec.name,
        spec.kind,
        _constant(spec.default),
        _items(spec.choices),
        _items(spec.aliases),
        "positional" if spec.positional else "-",
        "nonzero" if spec.nonzero else "-",
    ]
    return "    " + " ".join(cells)


def _constant(value: object) -> str:
    text = repr(value)
    if " " in text:  # the table's separator
        raise ValueError(f"{text} cannot be written in ops/index.py's table")
    return text


def _items(items: tuple[str, ...]) -> str:
    for item in items:
        if not item or any(c in item for c in " ,-'\n"):  # the table's own separators
            raise ValueError(f"{item!r} cannot be written in ops/index.py's table")
    return ",".join(items) or "-"


def source() -> str:
    """The text of index.py, from the family modules themselves (never from the index)."""
    lines = [
        line(op.reading(family))
        for family in FAMILIES
        for op in importlib.import_module(f"gradexplain.ops.{family}").ENTRIES
    ]
    return HEADER + "\n".join(lines) + '\n"""\n'
