"""The op registry: every function gradexplain knows, one entry each, in family modules.

`OPS["relu"]` is the entry; the parser, the shape pass, both witnesses, the steps, the
story and the graph all read it. Adding a function is adding an entry to one family
module (README, "Adding a function"). Importing this stays light: no SymPy, torch or
numpy until a rule runs, and no family module until one of its functions is used. The
parser checks names against `index.NAMES` (the entries' names and spellings, generated
from them by scripts/update_ops_index.py), so an unknown function or a syntax error
loads no family at all.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping

from gradexplain.ops.base import NAMESPACES, Hazard, Keyword, NamedFunction, Op
from gradexplain.ops.index import NAMES

__all__ = [
    "OPS",
    "Op",
    "Hazard",
    "Keyword",
    "NamedFunction",
    "SPELLED",
    "METHODS",
    "TORCH_FUNCTIONS",
    "FUNCTIONAL",
    "CONSTANTS",
    "INTERNAL",
    "RESERVED_NAMES",
    "OPERATORS",
    "named_functions",
    "spellings_of",
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


class Registry(Mapping[str, Op]):
    """name -> entry. The names come from the index; a family module is imported the
    first time one of its entries is asked for."""

    def __init__(self) -> None:
        self._loaded: dict[str, Op] = {}

    def __getitem__(self, name: str) -> Op:
        found = self._loaded.get(name)
        if found is None:
            self._load(NAMES[name][0])  # KeyError for a name the registry lacks
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
        names = [op.name for op in entries]
        if names != [name for name, facts in NAMES.items() if facts[0] == family]:
            raise RuntimeError(
                f"gradexplain/ops/index.py is stale for ops/{family}.py: run "
                "python scripts/update_ops_index.py"
            )
        self._loaded.update((op.name, op) for op in entries)


OPS: Mapping[str, Op] = Registry()

# Ops the parser builds from syntax (`x[1:3]` is getitem): no user spelling, no reserved name.
INTERNAL: frozenset[str] = frozenset(
    name for name, facts in NAMES.items() if not facts[2] and not facts[3]
)

# Calls the parser reads itself, outside the registry: pow(a, b) is a ** b; with the
# namespaces where PyTorch has them.
OPERATORS: dict[str, tuple[str, ...]] = {"pow": ("torch", "method")}


def _spelled() -> dict[str, dict[str, str]]:
    """For each namespace ("bare", "torch", "method", ...), spelling -> canonical name."""
    found: dict[str, dict[str, str]] = {space: {} for space in ("bare", *NAMESPACES)}
    for name, (_, bare, spellings, aliases) in NAMES.items():
        if bare and spellings:  # x.t() and torch.t(X), never t(X): t stays a name
            found["bare"][name] = name
        for space in spellings:
            found[space][name] = name
        for alias in aliases:
            space, _, spelling = alias.partition(":")
            found[space][spelling] = name
    for name, spaces in OPERATORS.items():
        found["bare"][name] = name
        for space in spaces:
            found[space][name] = name
    return found


SPELLED: dict[str, dict[str, str]] = _spelled()

# Tensor methods a learner pastes from a notebook: `(x**2).sum()`, `x.exp()`, `x.pow(2)`.
METHODS: frozenset[str] = frozenset(SPELLED["method"])

# `torch.NAME(...)` spellings accepted; everything else under `torch.` is refused.
TORCH_FUNCTIONS: frozenset[str] = frozenset(SPELLED["torch"])

# `torch.nn.functional.NAME(...)` and `F.NAME(...)` spellings accepted.
FUNCTIONAL: frozenset[str] = frozenset(SPELLED["functional"])

CONSTANTS: frozenset[str] = frozenset({"pi", "e"})

# Names called alone (`exp(x)`) are no variable's names; a method (`x.t()`) leaves `t` free.
RESERVED_NAMES: frozenset[str] = frozenset(SPELLED["bare"]) | CONSTANTS | {"torch"}

_PREFIXES = {
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
    for space, prefix in _PREFIXES.items():
        for spelling, canonical in SPELLED[space].items():
            if canonical == name:
                given = tensors[1:] if space in ("method", "attribute") else (*leading, *tensors)
                called = "" if space == "attribute" else f"({', '.join(given)})"
                found.append(f"{prefix}{spelling}{called}{trailing}")
    return found


def named_functions() -> list[NamedFunction]:
    """Every SymPy function an op keeps whole (sigmoid, relu, is_max, clamp...)."""
    return [function for op in OPS.values() for function in op.named()]


def index_facts(op: Op, family: str) -> tuple[str, bool, tuple[str, ...], tuple[str, ...]]:
    """What `index.NAMES` holds of an entry: its family and how it is spelled."""
    return (family, op.bare, op.spellings, op.aliases)


def _literal(value: object) -> str:
    """`value` (str, bool or a tuple of them) as ruff format writes it: double quotes."""
    if isinstance(value, str):
        return f'"{value}"'  # names and namespaces: identifiers, nothing to escape
    if isinstance(value, tuple):
        items = ", ".join(_literal(item) for item in value)
        return f"({items},)" if len(value) == 1 else f"({items})"
    return repr(value)


def index_source() -> str:
    """The text of index.py, from the family modules themselves (never from the index)."""
    lines = [
        '"""The registry\'s names and spellings, so the parser can check a name without',
        "importing every family module. Generated from the entries by",
        "scripts/update_ops_index.py; tests/test_ops_index.py fails when it differs from them.",
        'Do not edit by hand."""',
        "",
        "from __future__ import annotations",
        "",
        "# name: (family module, bare, spellings, aliases), in the registry's order",
        "NAMES: dict[str, tuple[str, bool, tuple[str, ...], tuple[str, ...]]] = {",
    ]
    for family in FAMILIES:
        for op in importlib.import_module(f"gradexplain.ops.{family}").ENTRIES:
            lines.append(f"    {_literal(op.name)}: {_literal(index_facts(op, family))},")
    return "\n".join([*lines, "}", ""])
