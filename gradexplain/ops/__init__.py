"""The op registry: every function gradexplain knows, one entry each, in family modules.

`OPS["relu"]` is the entry; the parser, the shape pass, both witnesses, the steps, the
story and the graph all read it. Adding a function is adding an entry to one family
module (README, "Adding a function"). Importing this stays light: no SymPy, torch or
numpy until a rule runs.
"""

from __future__ import annotations

from gradexplain.ops import (
    clamp,
    elementwise,
    indexing,
    losses,
    reductions,
    shape,
    softmax,
)
from gradexplain.ops.base import Hazard, NamedFunction, Op

__all__ = ["OPS", "Op", "Hazard", "NamedFunction", "METHODS", "TORCH_FUNCTIONS", "FUNCTIONAL",
           "CONSTANTS", "INTERNAL", "RESERVED_NAMES", "WITH_DIM", "named_functions"]

FAMILIES = (reductions, elementwise, softmax, clamp, indexing, losses, shape)
OPS: dict[str, Op] = {op.name: op for family in FAMILIES for op in family.ENTRIES}

# Tensor methods a learner pastes from a notebook: `(x**2).sum()`, `x.exp()`, `x.pow(2)`.
METHODS: frozenset[str] = frozenset(
    name for name, op in OPS.items() if "method" in op.spellings) | {"pow"}

# `torch.NAME(...)` spellings accepted; everything else under `torch.` is refused.
TORCH_FUNCTIONS: frozenset[str] = frozenset(
    name for name, op in OPS.items() if "torch" in op.spellings) | {"pow", "where"}

# `torch.nn.functional.NAME(...)` and `F.NAME(...)` spellings accepted.
FUNCTIONAL: frozenset[str] = frozenset(
    name for name, op in OPS.items() if "functional" in op.spellings)

# Functions that take dim=, in the registry's order, for the parser's messages.
WITH_DIM: tuple[str, ...] = tuple(name for name, op in OPS.items() if op.dim != "none")

CONSTANTS: frozenset[str] = frozenset({"pi", "e"})

# Ops the parser builds from syntax (`x[1:3]` is getitem): no user spelling, no reserved name.
INTERNAL: frozenset[str] = frozenset(name for name, op in OPS.items() if not op.spellings)

# Names called alone (`exp(x)`) are no variable's names; `x.t()` leaves `t` to a variable.
RESERVED_NAMES: frozenset[str] = frozenset(
    name for name, op in OPS.items() if op.bare and op.spellings) | {"pow"} | CONSTANTS | {
    "torch"}


def named_functions() -> list[NamedFunction]:
    """Every SymPy function an op keeps whole (sigmoid, relu, is_max, clamp...)."""
    return [function for op in OPS.values() for function in op.named()]
