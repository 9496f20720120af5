"""`--hessian`: second derivatives from SymPy and from `torch.func.hessian`, compared.

The symbolic side differentiates once more, as the gradient does: dL/da_j in generic
elements (`symbolic.gradient`) by b at fresh indices d (and e), Kronecker deltas resolved
by `deltas.py`, then one numpy evaluation of that formula over the whole block, the
delta left over as an identity array. So a 1,000-element Hessian is one formula per pair
of variables, never a million derivatives. The autograd side is `torch.func.hessian` of
L over the same elements. max/min need nothing special: is_max is piecewise constant,
its derivative 0, away from ties.
Where the gradient is undefined (a tie, a kink, a pole) no second derivative exists, so
neither Hessian is computed and the reason is said instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import sympy as sp
import torch

from gradexplain.ir import limits
from gradexplain.ir.tree import Node
from gradexplain.ir.values import Values, arrays_and_scalars
from gradexplain.result import Singularity, Tolerance
from gradexplain.witnesses import autograd, closeness, symbolic
from gradexplain.witnesses.builder import pinned
from gradexplain.witnesses.deadline import deadline
from gradexplain.witnesses.deltas import derivative
from gradexplain.witnesses.evaluate import Evaluator

if TYPE_CHECKING:
    from gradexplain.ir.program import Program
    from gradexplain.witnesses.symbolic import Model

# the second element's indices: d2L/(dW_jk dV_de); the first are the gradient's j and k
SECOND = tuple(sp.Symbol(name, integer=True, nonnegative=True) for name in ("d", "e"))


@dataclass(frozen=True)
class Hessian:
    """d2L/(da db) over the differentiated elements a, b, from both witnesses."""

    labels: tuple[str, ...]  # "w[0]", "W[1,2]", "b"
    symbolic: np.ndarray  # (m, m) float64
    autograd: np.ndarray
    close: np.ndarray  # bool (m, m)
    max_abs_diff: float
    undefined: str | None = None  # why no second derivative exists here; then nothing is compared

    @property
    def agree(self) -> bool:
        return self.undefined is None and bool(self.close.all())


def compute(
    program: Program,
    device: torch.device,
    dtype: str,
    tolerance: Tolerance,
    singularities: Sequence[Singularity] = (),
) -> Hessian:
    """Both Hessians, compared per entry with the gradients' rule."""
    values, wrt = program.values, list(program.wrt)
    elements = [(name, index) for name in wrt for index in np.ndindex(values[name].shape)]
    labels = tuple(
        name + (f"[{','.join(map(str, index))}]" if index else "") for name, index in elements
    )
    if singularities:
        return _not_compared(labels, singularities)
    with deadline(limits.MAX_SYMBOLIC_SECONDS, "the symbolic Hessian", "MAX_SYMBOLIC_SECONDS"):
        symbolic = _symbolic(program.model, values, wrt)
    numeric = _autograd(program.tree, values, wrt, device, dtype)
    found = closeness.compare(numeric, symbolic, tolerance)
    return Hessian(labels, symbolic, numeric, found.close, found.max_abs_diff)


def _symbolic(model: Model, values: Mapping[str, Values], wrt: list[str]) -> np.ndarray:
    """Every block d2L/(da db) from one formula in generic elements, as a whole array.

    dL/da_j (the gradient's own formula, from the program's one model) differentiated by
    b at fresh indices, deltas resolved as for the gradient; what is left of a delta
    (`delta_jd` of `sum(x**3)`) is evaluated as the identity, over the block's axes.
    Blocks below the diagonal are the transposes of those above: the Hessian is symmetric.
    """
    shapes = model.shapes
    arrays, scalars = arrays_and_scalars(values)
    evaluator = Evaluator(arrays, scalars, model.sizes)
    sizes = [values[name].size for name in wrt]
    blocks: dict[tuple[int, int], np.ndarray] = {}
    for a, first in enumerate(wrt):
        gradient = symbolic.gradient(model, first)
        for b in range(a, len(wrt)):
            second = wrt[b]
            targets = SECOND[: len(shapes[second])]
            base, at = model.bases[second], pinned(targets, shapes[second])
            formula = derivative(gradient, base[at] if at else base)
            block = evaluator.tensor(
                formula,
                (*symbolic.target_indices(model, first), *targets),
                shapes[first] + shapes[second],
            )
            blocks[a, b] = block.reshape(sizes[a], sizes[b])
            blocks[b, a] = blocks[a, b].T
    return np.block([[blocks[a, b] for b in range(len(wrt))] for a in range(len(wrt))])


def _not_compared(labels: tuple[str, ...], singularities: Sequence[Singularity]) -> Hessian:
    """No Hessian where the gradient itself is undefined: say so, compare nothing."""
    where = {"kink": "at a kink", "pole": "at a pole", "domain": "outside the domain"}
    causes = "; ".join(
        f"{where.get(s.kind, s.kind)} of {s.function} at column {s.column + 1}"
        for s in singularities
    )
    size = len(labels)
    empty = np.full((size, size), np.nan)
    reason = f"Hessian not compared: second derivatives do not exist {causes}"
    return Hessian(
        labels, empty, empty.copy(), np.zeros((size, size), dtype=bool), float("nan"), reason
    )


def _autograd(
    tree: Node, values: Mapping[str, Values], wrt: list[str], device: torch.device, dtype: str
) -> np.ndarray:
    torch_dtype = autograd.DTYPES[dtype]
    leaves = {name: autograd.leaf(v, torch_dtype, device, False) for name, v in values.items()}
    sizes = [values[name].size for name in wrt]

    def loss(flat: torch.Tensor) -> torch.Tensor:
        given = dict(leaves)
        for name, part in zip(wrt, torch.split(flat, sizes)):
            given[name] = part.reshape(values[name].shape)
        builder = autograd.TorchBuilder(given, torch_dtype, device)
        builder.watching = False
        output = builder.build(tree)
        assert isinstance(output, torch.Tensor)
        return output.sum()

    flat = torch.cat([leaves[name].reshape(-1) for name in wrt])
    matrix = torch.func.hessian(loss)(flat)
    return autograd.to_numpy(matrix)
