"""softmax and log_softmax along one axis: each element depends on the whole slice.

softmax_i = exp(u_i)/sum_k exp(u_k) and log_softmax_i = u_i - log(sum_k exp(u_k)), with
k bound over the axis (the last one, or `dim=`); SymPy differentiates that quotient.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gradexplain.ir.axes import Shape, ShapeError, along, check_dims, describe, dim_of, reduced_axis
from gradexplain.ir.tree import Call
from gradexplain.ops.base import Keyword, Op, RuleForm


@dataclass(frozen=True)
class Softmax(Op):
    dim: str = "optional"
    keywords: tuple[Keyword, ...] = (Keyword("dim", "dim", aliases=("axis",)),)
    spellings: tuple[str, ...] = ("torch", "method", "functional", "special")
    log: bool = False

    def fold(self, *values: float) -> float:
        return 0.0 if self.log else 1.0  # of one element

    def shape(self, node: Call, parts: list[Shape], text: str) -> Shape:
        """softmax keeps the shape; dim= must name an axis of it (0 or -1 for a vector).

        Without dim= a vector is normalised as a whole; on a matrix torch.softmax refuses
        (and F.softmax guesses, with a deprecation warning), so we ask which axis.
        """
        shape = parts[0]
        if along(node):
            check_dims(node, shape, text)  # a scalar takes dim 0 or -1, as in torch
        elif len(shape) > 1:
            raise ShapeError(
                f"{node.func}() of a {describe(shape)} matrix needs dim=: "
                f"dim=1 normalises each row, dim=0 each column, as in "
                f"{node.func}(X, dim=1)",
                text,
                node.col,
            )
        return shape

    def torch(self, torch: Any, tensor: Any, node: Call) -> Any:
        dim = dim_of(node) if along(node) else -1
        return getattr(torch, self.name)(tensor, dim=dim)

    def element(self, b: Any, node: Call, idx: tuple[Any, ...]) -> Any:
        """Element idx: exp(u_idx)/sum_m exp(u_idx with m on the axis), or its log."""
        import sympy as sp

        shape = b.shape(node.args[0])
        if not shape:  # softmax of one element is 1, log_softmax 0, as in torch
            return sp.Integer(0 if self.log else 1)
        axis = reduced_axis(node, shape) if along(node) else len(shape) - 1
        (bound,) = b.fresh(shape[axis : axis + 1])
        summand = b.build(node.args[0], (*idx[:axis], bound, *idx[axis + 1 :]))
        element = b.build(node.args[0], idx)
        total = b.Sum(sp.exp(summand), b.limit(bound, shape[axis]))
        return element - sp.log(total) if self.log else sp.exp(element) / total

    def step(self, w: Any, node: Call, idx: tuple[Any, ...], depth: int) -> tuple[str, Any, Any]:
        """d s_i = s_i (du_i - sum_k s_k du_k); d log_softmax_i = du_i - sum_k s_k du_k,
        with i and k along the normalised axis (the other indices stay idx's)."""
        import sympy as sp

        shape = w.node_shapes[id(node.args[0])]
        if not shape:
            return (
                f"{self.name} of one element is a constant",
                w.builder.build(node, idx),
                sp.Integer(0),
            )
        axis = reduced_axis(node, shape) if along(node) else len(shape) - 1
        k, m = w.fresh_pair(shape[axis])

        def at(index: Any) -> tuple[Any, ...]:
            return (*idx[:axis], index, *idx[axis + 1 :])

        total = w.builder.Sum(
            sp.exp(w.builder.build(node.args[0], at(m))), w.builder.limit(m, shape[axis])
        )
        u_i, du_i = w.pair(node.args[0], idx, depth)
        u_k, du_k = w.pair(node.args[0], at(k), depth)
        inner = du_i - w.sum(sp.exp(u_k) / total * du_k, w.builder.limit(k, shape[axis]))
        value = w.builder.build(node, idx)
        along_dim = f" along dim {axis}" if len(shape) > 1 else ""
        return (
            f"{self.name} rule{along_dim}: {self._differential().printed(w.show)}",
            value,
            (inner if self.log else sp.exp(u_i) / total * inner),
        )

    def rule_form(self, node: Call | None = None) -> RuleForm:
        """d s_i/du_k = s_i*(delta_ik - s_k), with the Kronecker delta the table's
        formulas print as delta_ik."""
        import sympy as sp

        i, k = sp.symbols("i k", integer=True, nonnegative=True)
        s = sp.IndexedBase("s")
        slope = sp.KroneckerDelta(i, k) - s[k]
        return RuleForm(
            f"{self.name}'(u): ",
            ((f"d {self._letter}_i/d u_k = ", slope if self.log else s[i] * slope),),
            ", s = softmax(u)",
        )

    def _differential(self) -> RuleForm:
        """The same rule as the differential --steps applies:
        d s_i = s_i*(du_i - sum_k(s_k*du_k))."""
        import sympy as sp

        i, k = sp.symbols("i k", integer=True, nonnegative=True)
        s, du = sp.IndexedBase("s"), sp.IndexedBase("du")
        weighted = du[i] - sp.Sum(s[k] * du[k], (k, 0, sp.Symbol("n") - 1))
        return RuleForm(
            "",
            ((f"d {self._letter}_i = ", weighted if self.log else s[i] * weighted),),
            ", s = softmax(u)",
        )

    @property
    def _letter(self) -> str:
        return "l" if self.log else "s"


ENTRIES: tuple[Op, ...] = (
    Softmax(
        "softmax",
        "",
        ones_note="softmax(x) always sums to 1, so L = sum_i softmax(x)_i = 1 whatever x is, "
        "and its gradient is zero: backward(ones) through a softmax gives zeros (up to "
        "rounding). To see a softmax gradient, weight the outputs, as in sum(softmax(x) * t).",
    ),
    Softmax("log_softmax", "", log=True),
)
