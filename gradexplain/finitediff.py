"""The third witness: float64 central finite differences, from our tree, no autograd.

Each element is nudged by ±eps (eps = 1e-6, `torch.autograd.gradcheck`'s) and the whole
expression is evaluated forward in float64 (torch with gradients off); a vector result is
summed, as backward(ones) does. That is 2 evaluations per element, so O(n**2) in all:
`MAX_FD_ELEMENTS` caps it. Agreement uses gradcheck's own tolerances.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from gradexplain import autograd, closeness
from gradexplain.errors import ValuesError
from gradexplain.limits import MAX_FD_ELEMENTS
from gradexplain.result import Tolerance
from gradexplain.tree import Node, variables

if TYPE_CHECKING:
    from gradexplain.result import Explanation
    from gradexplain.values import Values

EPS = 1e-6  # gradcheck's eps
RTOL = 1e-3  # gradcheck's rtol
ATOL = 1e-5  # gradcheck's atol
GRADCHECK = Tolerance(RTOL, ATOL)
MAX_LISTED = 20  # matrix path: FD values printed in full up to this many elements


@dataclass(frozen=True)
class FiniteDifferences:
    """dL/d(name) by central differences, and whether autograd lies within tolerance."""

    name: str
    values: np.ndarray  # float64, shaped like the variable
    autograd: np.ndarray  # the run's autograd gradient (float32 stays float32's values)
    close: np.ndarray  # bool per element
    max_abs_diff: float
    eps: float = EPS
    rtol: float = RTOL
    atol: float = ATOL

    @property
    def agree(self) -> bool:
        return bool(self.close.all())


def gradient(tree: Node, values: Mapping[str, Values],
             names: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """Central differences of L for every element of each differentiated variable (`names`,
    default all): data (`--wrt` left it out) has no gradient, so it is never nudged."""
    chosen = variables(tree) if names is None else list(names)
    total = sum(values[name].size for name in chosen)
    if total > MAX_FD_ELEMENTS:
        raise ValuesError(f"--check-fd nudges each element twice: {total:,} elements exceed "
                          f"MAX_FD_ELEMENTS = {MAX_FD_ELEMENTS:,}")
    leaves = {name: autograd.leaf(values[name], torch.float64, torch.device("cpu"))
              .detach() for name in variables(tree)}
    builder = autograd.TorchBuilder(leaves, torch.float64, torch.device("cpu"))
    result: dict[str, np.ndarray] = {}
    with torch.no_grad():
        for name in chosen:
            leaf = leaves[name]
            flat = leaf.view(-1)
            out = np.empty(flat.numel(), dtype=np.float64)
            for j in range(flat.numel()):
                original = float(flat[j])
                flat[j] = original + EPS
                plus = _loss(builder, tree)
                flat[j] = original - EPS
                minus = _loss(builder, tree)
                flat[j] = original
                out[j] = (plus - minus) / (2 * EPS)
            result[name] = out.reshape(tuple(leaf.shape))
    return result


def _loss(builder: autograd.TorchBuilder, tree: Node) -> float:
    output = builder.build(tree)
    return float(torch.as_tensor(output, dtype=torch.float64).sum())


def compare(tree: Node, values: Mapping[str, Values],
            result: Explanation) -> dict[str, FiniteDifferences]:
    """FD against the run's autograd gradient, with gradcheck's rule per element, for the
    variables that have one (`result.gradients`)."""
    found = gradient(tree, values, list(result.gradients))
    compared = {}
    for name, fd in found.items():
        grad = np.asarray(result.gradients[name].autograd, dtype=np.float64).reshape(fd.shape)
        found = closeness.compare(grad, fd, GRADCHECK)
        compared[name] = FiniteDifferences(name, fd, grad, found.close, found.max_abs_diff)
    return compared



def listing(fd: FiniteDifferences) -> str:
    from gradexplain.vjp import listing as nested

    shown = nested(fd.values) if fd.values.size <= MAX_LISTED else \
        f"{fd.values.size} elements, each in --format json"
    line = f"  dL/d{fd.name} by finite differences: {shown}"
    wrong = [index for index in np.ndindex(fd.close.shape) if not fd.close[index]]
    if wrong:
        named = ", ".join(f"{fd.name}[{','.join(map(str, i))}]" for i in wrong[:MAX_LISTED])
        line += f"; differs at {named}" + (" ..." if len(wrong) > MAX_LISTED else "")
    return line
