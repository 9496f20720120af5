"""The op registry: every function gradexplain knows, one entry each, in family modules.

`OPS["relu"]` is the entry; the parser, the shape pass, both witnesses, the steps, the
story and the graph all read it. Adding a function is adding an entry to one family
module (README, "Adding a function"). Importing this stays light: no SymPy, torch or
numpy until a rule runs.
"""

from __future__ import annotations

from gradexplain.ops import (
    activations,
    clamp,
    cumulative,
    diagonals,
    einsum,
    elementwise,
    indexing,
    linalg,
    losses,
    matrices,
    matrixnorms,
    pointwise,
    reductions,
    shape,
    softmax,
    statistics,
)
from gradexplain.ops.base import NAMESPACES, Hazard, Keyword, NamedFunction, Op

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
    "WITH_DIM",
    "OPERATORS",
    "named_functions",
    "spellings_of",
]

FAMILIES = (
    reductions,
    statistics,
    matrixnorms,
    cumulative,
    elementwise,
    activations,
    pointwise,
    softmax,
    clamp,
    indexing,
    losses,
    shape,
    linalg,
    diagonals,
    matrices,
    einsum,
)
OPS: dict[str, Op] = {op.name: op for family in FAMILIES for op in family.ENTRIES}

# Ops the parser builds from syntax (`x[1:3]` is getitem): no user spelling, no reserved name.
INTERNAL: frozenset[str] = frozenset(
    name for name, op in OPS.items() if not op.spellings and not op.aliases
)

# Calls the parser reads itself, outside the registry: pow(a, b) is a ** b, and
# where(cond, a, b); with the namespaces where PyTorch has them.
OPERATORS: dict[str, tuple[str, ...]] = {"pow": ("torch", "method"), "where": ("torch",)}


def _spelled() -> dict[str, dict[str, str]]:
    """For each namespace ("bare", "torch", "method", ...), spelling -> canonical name."""
    found: dict[str, dict[str, str]] = {space: {} for space in ("bare", *NAMESPACES)}
    for name, op in OPS.items():
        if op.bare and op.spellings:  # x.t() and torch.t(X), never t(X): t stays a name
            found["bare"][name] = name
        for space in op.spellings:
            found[space][name] = name
        for alias in op.aliases:
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

# Functions that take dim=, in the registry's order, for the parser's messages.
WITH_DIM: tuple[str, ...] = tuple(name for name, op in OPS.items() if op.dim != "none")

CONSTANTS: frozenset[str] = frozenset({"pi", "e"})

# Names called alone (`exp(x)`) are no variable's names; a method (`x.t()`) leaves `t` free.
RESERVED_NAMES: frozenset[str] = frozenset(SPELLED["bare"]) | CONSTANTS | {"torch"}

_PREFIXES = {
    "torch": "torch.",
    "method": "x.",
    "functional": "F.",
    "special": "torch.special.",
    "linalg": "torch.linalg.",
}


def spellings_of(name: str) -> list[str]:
    """Every way to write the function `name`, as PyTorch spells it: `torch.exp(x)`,
    `x.exp()`, `F.relu(x)`... (the README's table and the parser's hints)."""
    tensors = ("x", "y", "z")[: OPS[name].operands] if name in OPS else ("x",)
    leading, trailing = OPS[name].written if name in OPS else ((), "")
    found = (
        [f"{name}({', '.join((*leading, *tensors))}){trailing}"] if name in SPELLED["bare"] else []
    )
    for space, prefix in _PREFIXES.items():
        for spelling, canonical in SPELLED[space].items():
            if canonical == name:
                found.append(
                    f"{prefix}{spelling}({', '.join(tensors[1:])}){trailing}"
                    if space == "method"
                    else f"{prefix}{spelling}({', '.join((*leading, *tensors))}){trailing}"
                )
    return found


def named_functions() -> list[NamedFunction]:
    """Every SymPy function an op keeps whole (sigmoid, relu, is_max, clamp...)."""
    return [function for op in OPS.values() for function in op.named()]
