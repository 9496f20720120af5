"""cumsum and cumprod along a dim: y_i = sum (prod) over k <= i of u_k, over the whole axis.

`upto(k, i)` is 1 where k <= i, so cumsum(u)_i = sum_k u_k upto(k, i) and its derivative
in a generic element is sum_i upto(j, i) g_i: the deltas resolve as for any sum (a
partial range would not tell them where it ends). The evaluator places k and i on their
own axes, so this costs (length along dim)**2 numbers, not a loop in SymPy. cumprod is a
Product over the whole axis of where(k <= i, u_k, 1): SymPy's product rule leaves the
partial products prod_{m<j} and prod_{m>j}, which the evaluator computes without dividing
(a zero element is no pole).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from gradexplain.ir.axes import Shape, check_dims, reduced_axis
from gradexplain.ir.tree import Call
from gradexplain.ops.base import Keyword, NamedFunction, Op, RuleForm, equation

UPTO = NamedFunction(
    "upto",
    derivative=lambda sp, k, i, argindex: sp.Integer(0),
    nargs=2,
    real=False,
    numpy=lambda np, k, i: np.less_equal(k, i).astype(np.float64),
    explicit=lambda sp, k, i: sp.Piecewise((1, sp.Le(k, i)), (0, True)),
)


@dataclass(frozen=True)
class Cumulative(Op):
    """cumsum/cumprod(u, dim): the shape stays; element i along dim sums (multiplies) the
    elements up to i."""

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

    product: bool = False

    def element(self, b: Any, node: Call, idx: tuple[Any, ...]) -> Any:
        import sympy as sp

        shape = b.shape(node.args[0])
        if not shape:  # the cumsum (cumprod) of a scalar is the scalar, as in torch
            return b.build(node.args[0], ())
        axis = reduced_axis(node, shape)
        (bound,) = b.fresh(shape[axis : axis + 1])
        term = b.build(node.args[0], (*idx[:axis], bound, *idx[axis + 1 :]))
        limit = b.limit(bound, shape[axis])
        if self.product:  # the factors after i are 1
            return b.Product(sp.Piecewise((term, sp.Le(bound, idx[axis])), (1, True)), limit)
        return b.Sum(term * UPTO(bound, idx[axis]), limit)

    def torch(self, torch: Any, tensor: Any, node: Call) -> Any:
        from gradexplain.ir.axes import dim_of

        return getattr(torch, self.name)(tensor, dim=dim_of(node))

    def rule_form(self, node: Call | None = None) -> RuleForm:
        """d cumsum(u)_i/du_k = where(k <= i, 1, 0); cumprod's, the other factors up to i."""
        import sympy as sp

        i, k, m = sp.symbols("i k m", integer=True, nonnegative=True)
        u = sp.IndexedBase("u")
        slope: Any = sp.Integer(1)
        if self.product:
            slope = sp.Product(u[m], (m, 0, k - 1)) * sp.Product(u[m], (m, k + 1, i))
        rule = sp.Piecewise((slope, sp.Le(k, i)), (0, True))
        return equation(f"{self.name} rule: ", f"d {self.name}(u)_i/du_k = ", None, rule, self.rule)

    def step(self, w: Any, node: Call, idx: tuple[Any, ...], depth: int) -> tuple[str, Any, Any]:
        """cumsum: sum_k upto(k, i) du_k; cumprod: the product rule over the factors up to
        i, sum_k [k <= i] du_k prod_{m != k, m <= i} u_m (no division: a 0 is no pole)."""
        import sympy as sp

        shape = w.node_shapes[id(node.args[0])]
        if not shape:
            u, du = w.pair(node.args[0], (), depth)
            return f"{self.name} of a scalar is the scalar", u, du
        axis = reduced_axis(node, shape)
        (k,) = w.builder.fresh(shape[axis : axis + 1])
        u, du = w.pair(node.args[0], (*idx[:axis], k, *idx[axis + 1 :]), depth)
        limit = w.builder.limit(k, shape[axis])
        if not self.product:
            return (
                "cumsum rule: element i sums u_k for k <= i, so the sum rule over those",
                w.builder.Sum(u * UPTO(k, idx[axis]), limit),
                w.sum(du * UPTO(k, idx[axis]), limit),
            )
        (m,) = w.builder.fresh(shape[axis : axis + 1])  # k's partner in the other factors
        factor = sp.Piecewise((u.xreplace({k: m}), sp.Le(m, idx[axis])), (1, True))
        others = w.builder.Product(factor, (m, 0, k - 1)) * w.builder.Product(
            factor, (m, k + 1, limit[2])
        )
        return (
            "cumprod rule: element i multiplies u_k for k <= i, so the product rule over those",
            w.builder.Product(sp.Piecewise((u, sp.Le(k, idx[axis])), (1, True)), limit),
            w.sum(sp.Piecewise((du, sp.Le(k, idx[axis])), (0, True)) * others, limit),
        )


ENTRIES: tuple[Op, ...] = (
    Cumulative("cumsum", "along dim"),
    Cumulative(
        "cumprod",
        "along dim: the product of the other factors up to i, no division (a 0 is no pole)",
        product=True,
    ),
)
