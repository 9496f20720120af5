"""The op registry: every function gradexplain knows, one entry each, in family modules.

`OPS["relu"]` is the entry; the parser, the shape pass, both witnesses, the steps, the
story and the graph all read it. Adding a function is adding an entry to one family
module (README, "Adding a function"). Importing this stays light: no SymPy, torch or
numpy until a rule runs, and no family module until one of its rules runs. The parser
reads names and calls from the index (`NAMES`: each entry's spellings and argument rules,
`reading.Reading`, generated from the entries by scripts/update_ops_index.py), so an
input error loads no family unless the entry has a check of its own.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from gradexplain.ops.index import TABLE
from gradexplain.ops.reading import NAMESPACES, Keyword, Reading, read_table

if TYPE_CHECKING:
    from gradexplain.ops.base import NamedFunction, Op

__all__ = [
    "OPS",
    "NAMES",
    "Keyword",
    "Reading",
    "SPELLED",
    "CONSTANTS",
    "INTERNAL",
    "RESERVED_NAMES",
    "OPERATORS",
    "named_functions",
    "spellings_of",
    "PREFIXES",
]

# The family modules, each with its ENTRIES, in the registry's order.
FAMILIES = (
    "reductions",
    "statistics",
    "matrixnorms",
    "cumulative",
    "elementwise",
    "activations",
    "pointwise",
    "softmax",
    "clamp",
    "indexing",
    "losses",
    "shape",
    "linalg",
    "diagonals",
    "matrices",
    "einsum",
)


# name -> how the parser reads it (and its family), in the registry's order
NAMES: dict[str, Reading] = read_table(TABLE)


class Registry(Mapping[str, "Op"]):
    """name -> entry. The names come from the index; a family module is imported the
    first time one of its entries is asked for."""

    def __init__(self) -> None:
        self._loaded: dict[str, Op] = {}

    def __getitem__(self, name: str) -> Op:
        found = self._loaded.get(name)
        if found is None:
            self._load(NAMES[name].family)  # KeyError for a name the registry lacks
            found = self._loaded[name]
        return found

    def __contains__(self, name: object) -> bool:
        return name in NAMES

    def __iter__(self) -> Iterator[str]:
        return iter(NAMES)

    def __len__(self) -> int:
        return len(NAMES)

    def _load(self, family: str) -> None:
        entries = importlib.import_module(f"gradexplain.ops.{family}").ENTRIES
        found = [op.reading(family) for op in entries]
        if found != [row for row in NAMES.values() if row.family == family]:
            raise RuntimeError(
                f"gradexplain/ops/index.py is stale for ops/{family}.py: run "
                "python scripts/update_ops_index.py"
            )
        self._loaded.update((op.name, op) for op in entries)


OPS: Mapping[str, Op] = Registry()

# Ops the parser builds from syntax (`x[1:3]` is getitem): no user spelling, no reserved name.
INTERNAL: frozenset[str] = frozenset(
    name for name, row in NAMES.items() if not row.spellings and not row.aliases
)

# Calls the parser reads itself, outside the registry: pow(a, b) is a ** b; with the
# namespaces where PyTorch has them.
OPERATORS: dict[str, tuple[str, ...]] = {"pow": ("torch", "method")}


def _spelled() -> dict[str, dict[str, str]]:
    """For each namespace ("bare", "torch", "method", ...), spelling -> canonical name."""
    found: dict[str, dict[str, str]] = {space: {} for space in ("bare", *NAMESPACES)}
    for name, row in NAMES.items():
        if row.bare and row.spellings:  # x.t() and torch.t(X), never t(X): t stays a name
            found["bare"][name] = name
        for space in row.spellings:
            found[space][name] = name
        for alias in row.aliases:
            space, _, spelling = alias.partition(":")
            found[space][spelling] = name
    for name, spaces in OPERATORS.items():
        found["bare"][name] = name
        for space in spaces:
            found[space][name] = name
    return found


SPELLED: dict[str, dict[str, str]] = _spelled()

CONSTANTS: frozenset[str] = frozenset({"pi", "e"})

# Names called alone (`exp(x)`) are no variable's names; a method (`x.t()`) leaves `t` free.
RESERVED_NAMES: frozenset[str] = frozenset(SPELLED["bare"]) | CONSTANTS | {"torch"}

# how each namespace's spellings are written (`F.relu`, `x.exp()`)
PREFIXES = {
    "torch": "torch.",
    "method": "x.",
    "functional": "F.",
    "special": "torch.special.",
    "linalg": "torch.linalg.",
    "attribute": "x.",
}


def spellings_of(name: str) -> list[str]:
    """Every way to write the function `name`, as PyTorch spells it: `torch.exp(x)`,
    `x.exp()`, `F.relu(x)`, `x.T`... (the README's table)."""
    tensors = ("x", "y", "z")[: OPS[name].operands]
    leading, trailing = OPS[name].written
    found = (
        [f"{name}({', '.join((*leading, *tensors))}){trailing}"] if name in SPELLED["bare"] else []
    )
    for space, prefix in PREFIXES.items():
        for spelling, canonical in SPELLED[space].items():
            if canonical == name:
                given = tensors[1:] if space in ("method", "attribute") else (*leading, *tensors)
                called = "" if space == "attribute" else f"({', '.join(given)})"
                found.append(f"{prefix}{spelling}{called}{trailing}")
    return found


def named_functions() -> list[NamedFunction]:
    """Every SymPy function an op keeps whole (sigmoid, relu, is_max, clamp...)."""
    return [function for op in OPS.values() for function in op.named()]
