"""The op registry: every function gradexplain knows, one entry each, in family modules.

`OPS["relu"]` is the entry; the parser, the shape pass, both witnesses, the steps, the
story and the graph all read it. Adding a function is adding an entry to one family
module (README, "Adding a function"). Importing this stays light: no SymPy, torch or
numpy until a rule runs.
"""

from __future__ import annotations

from gradexplain.ops import clamp, einsum, elementwise, linalg, matrices, reductions, softmax
from gradexplain.ops.base import Hazard, NamedFunction, Op

__all__ = ["OPS", "Op", "Hazard", "NamedFunction", "METHODS", "TORCH_FUNCTIONS", "FUNCTIONAL",
           "LINALG", "CONSTANTS", "RESERVED_NAMES", "WITH_DIM", "named_functions"]

OPS: dict[str, Op] = {op.name: op
                      for family in (reductions, elementwise, softmax, clamp, linalg,
                                     matrices, einsum)
                      for op in family.ENTRIES}

# Tensor methods a learner pastes from a notebook: `(x**2).sum()`, `x.exp()`, `x.pow(2)`.
METHODS: frozenset[str] = frozenset(
    name for name, op in OPS.items() if "method" in op.spellings) | {"pow"}

# `torch.NAME(...)` spellings accepted; everything else under `torch.` is refused.
TORCH_FUNCTIONS: frozenset[str] = frozenset(
    name for name, op in OPS.items() if "torch" in op.spellings) | {"pow", "where"}

# `torch.nn.functional.NAME(...)` and `F.NAME(...)` spellings accepted.
FUNCTIONAL: frozenset[str] = frozenset(
    name for name, op in OPS.items() if "functional" in op.spellings)

# `torch.linalg.NAME(...)` spellings accepted, to the entry's name (inv -> inverse).
LINALG: dict[str, str] = {op.linalg_name or name: name for name, op in OPS.items()
                          if "linalg" in op.spellings}

# Functions that take dim=, in the registry's order, for the parser's messages.
WITH_DIM: tuple[str, ...] = tuple(name for name, op in OPS.items() if op.dim != "none")

CONSTANTS: frozenset[str] = frozenset({"pi", "e"})

RESERVED_NAMES: frozenset[str] = frozenset(OPS) | METHODS | CONSTANTS | {"torch"}


def named_functions() -> list[NamedFunction]:
    """Every SymPy function an op keeps whole (sigmoid, relu, is_max, clamp...)."""
    return [function for op in OPS.values() for function in op.named()]
