"""cumsum along a dim: y_i = sum_{k <= i} u_k, written as a full Sum with an indicator.

`upto(k, i)` is 1 where k <= i, so cumsum(u)_i = sum_k u_k upto(k, i) and its derivative
in a generic element is sum_i upto(j, i) g_i: the deltas resolve as for any sum (a
partial range would not tell them where it ends). The evaluator places k and i on their
own axes, so this costs (length along dim)**2 numbers, not a loop in SymPy.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from gradexplain.axes import Shape, check_dims, reduced_axis
from gradexplain.ops.base import Keyword, NamedFunction, Op
from gradexplain.tree import Call

UPTO = NamedFunction("upto", derivative=lambda sp, k, i, argindex: sp.Integer(0), nargs=2,
                     real=False,
                     numpy=lambda np, k, i: np.less_equal(k, i).astype(np.float64),
                     explicit=lambda sp, k, i: sp.Piecewise((1, sp.Le(k, i)), (0, True)))


@dataclass(frozen=True)
class Cumulative(Op):
    """cumsum(u, dim): the shape stays; element i along dim sums the elements up to i."""

    dim: str = "required"
    keywords: tuple[Keyword, ...] = (Keyword("dim", "dim", aliases=("axis",)),)

    def fold(self, *values: float) -> float:
        return values[0]

    def shape(self, node: Call, parts: list[Shape], text: str) -> Shape:
        check_dims(node, parts[0], text)
        return parts[0]

    def needs_axes(self, node: Call) -> bool:
        return True

    def named(self) -> Iterator[NamedFunction]:
        return iter((UPTO,))

    def element(self, b: Any, node: Call, idx: tuple[Any, ...]) -> Any:
        shape = b.shape(node.args[0])
        if not shape:  # the cumsum of a scalar is the scalar, as in torch
            return b.build(node.args[0], ())
        axis = reduced_axis(node, shape)
        (bound,) = b.fresh(shape[axis:axis + 1])
        term = b.build(node.args[0], (*idx[:axis], bound, *idx[axis + 1:]))
        return b.Sum(term * UPTO(bound, idx[axis]), b.limit(bound, shape[axis]))

    def torch(self, torch: Any, tensor: Any, node: Call) -> Any:
        from gradexplain.axes import dim_of

        return torch.cumsum(tensor, dim=dim_of(node))

    shaped_steps = False

    def step(self, w: Any, node: Call, idx: tuple[Any, ...],
             depth: int) -> tuple[str, Any, Any]:
        from gradexplain.errors import UsageError

        raise UsageError("--steps does not derive cumsum() yet; the table's formula is "
                         "SymPy's derivative of it")


ENTRIES: tuple[Op, ...] = (
    Cumulative("cumsum", "cumsum rule: d cumsum(u)_i/du_k = 1 for k <= i, 0 after"),
)
