"""How the parser reads a call of an entry, known without importing the entry's family.

`index.py` mirrors, for every entry, what reading its calls takes: its spellings, which
reader, how many tensors, its settings (`Keyword`) in PyTorch's order, and which of its
own rules run before the values are matched (`RULES`). `Reading` is one row of it. So an
input error (`sum(x**2) --y 1`) imports no family module, and a run only the families
whose rules it uses. The index is written from the entries themselves
(`indexfile.py`); the registry refuses a stale one when it loads a family.

This module stays light: a table of text, read with `str.split`, costs less to load than
the same table as Python literals, whose compilation an uncompiled install pays each run.
"""

from __future__ import annotations

from typing import NamedTuple

from gradexplain.ir.tree import Param

# Where a spelling lives in PyTorch: torch.f, x.f(), torch.nn.functional.f (and F.f),
# torch.special.f, torch.linalg.f, and an attribute x.f (`X.T`). A bare f(x) is read too.
NAMESPACES = ("torch", "method", "functional", "special", "linalg", "attribute")

# An entry's own rules that run while its call is read (`check`) or before its values are
# matched (`count`, range's); an entry that defines neither is read from the index alone.
RULES = ("check", "count")


class Keyword(NamedTuple):
    """One constant setting of a call, as PyTorch names it (and, if `positional`, in
    PyTorch's order after the tensors): `kind` says how the parser reads its value.
    (A NamedTuple, not a dataclass: every input error makes this class, and a frozen
    dataclass costs five times as much to make.)

    kinds: "dims" an int, a tuple of ints or None; "dim" one int; "int" one integer
    (an offset); "bool"; "number" a constant; "order" a norm's p (a number, inf, -inf or
    'fro'); "choice" one of `choices` (strings); "false" only False (inplace=).
    """

    name: str
    kind: str
    default: Param = None
    choices: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    positional: bool = True
    nonzero: bool = False  # a number the function divides by (softplus's beta)


class Reading(NamedTuple):
    """One entry as the index holds it: its name, family and spellings (`Op`'s fields of
    the same names), then what the parser reads of it."""

    name: str
    family: str
    bare: bool
    spellings: tuple[str, ...]
    aliases: tuple[str, ...]
    signature: str
    operands: int
    dim: str
    pairwise: str | None
    outputs: tuple[str, ...]
    index_data: str
    rules: tuple[str, ...]  # which of RULES the entry defines itself
    keywords: tuple[Keyword, ...]


def read_table(text: str) -> dict[str, Reading]:
    """The index's table: a line per entry, then an indented line per keyword."""
    rows: list[tuple[list[str], list[Keyword]]] = []
    for line in text.splitlines():
        if line.startswith(" "):
            rows[-1][1].append(_keyword(line.split()))
        else:
            rows.append((line.split(), []))
    return {cells[0]: _entry(cells, tuple(keywords)) for cells, keywords in rows}


def _entry(cells: list[str], keywords: tuple[Keyword, ...]) -> Reading:
    name, family, bare, spellings, aliases, signature, operands, dim, *rest = cells
    pairwise, outputs, index_data, rules = rest
    return Reading(
        name,
        family,
        bare == "bare",
        _items(spellings),
        _items(aliases),
        signature,
        int(operands),
        dim,
        None if pairwise == "-" else pairwise,
        _items(outputs),
        "" if index_data == "-" else index_data,
        _items(rules),
        keywords,
    )


def _keyword(cells: list[str]) -> Keyword:
    name, kind, default, choices, aliases, positional, nonzero = cells
    return Keyword(
        name,
        kind,
        _constant(default),
        _items(choices),
        _items(aliases),
        positional == "positional",
        nonzero == "nonzero",
    )


def _items(cell: str) -> tuple[str, ...]:
    return () if cell == "-" else tuple(cell.split(","))


def _constant(cell: str) -> Param:
    """A default as `repr` wrote it: None, True, False, an int, a float or a 'string'."""
    named: dict[str, Param] = {"None": None, "True": True, "False": False}
    if cell in named:
        return named[cell]
    if cell.startswith("'"):
        return cell[1:-1]
    return float(cell) if any(c in cell for c in ".en") else int(cell)
