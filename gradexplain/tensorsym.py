"""The symbolic witness for matrices: SymPy in generic elements, one index per axis.

A matrix `W` becomes a 2-D `IndexedBase`; every node is built for a tuple of index
symbols, one per axis of its shape. `X@w` at row i is `Sum(X[i, m]*w[m], (m, 0, K-1))`,
`.T` swaps the indices, and a bias vector added to a matrix takes the column index, as
PyTorch broadcasts it; a variable's size-1 axis is always element 0 (`a[i, 0]`), so it
stretches over the other operand's axis. `diff(L, W[j, k])` with its Kronecker deltas
resolved (`deltas.py`, never SymPy's `.doit()`) then gives one formula in j and k;
`evaluate.py` evaluates it over whole arrays. Each axis size is a symbol (`n3` for a
size of 3), so no formula ever grows with the number of elements.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import sympy as sp

from gradexplain.builder import SHAPED, TARGETS, Builder, pinned, size_symbol
from gradexplain.deltas import derivative
from gradexplain.scoped import ScopedSum
from gradexplain.shapes import Shape
from gradexplain.symbolic import FormulaPrinter
from gradexplain.tree import Node

__all__ = ["TARGETS", "TensorModel", "build", "gradient", "formula", "size_symbol",
           "drop_unit_ranges", "TensorPrinter"]


@dataclass(frozen=True)
class TensorModel:
    """L in generic elements, the variables' bases and shapes, and the index sizes."""

    loss: sp.Expr
    bases: dict[str, Any]
    shapes: dict[str, Shape]
    sizes: dict[sp.Symbol, int]  # every index symbol -> the length it runs over


def build(tree: Node, shapes: Mapping[str, Shape], node_shapes: dict[int, Shape]) -> TensorModel:
    """L from our tree; a non-scalar result is summed over all of its elements (ones as v)."""
    builder = Builder(SHAPED, shapes, node_shapes)
    top = node_shapes[id(tree)]
    indices = builder.top(top)
    expr = builder.build(tree, indices)
    for index, size in zip(indices, top):
        expr = ScopedSum(expr, builder.limit(index, size))
    return TensorModel(drop_unit_ranges(expr), builder.bases, dict(shapes), builder.sizes)


def drop_unit_ranges(expr: sp.Expr) -> sp.Expr:
    """A sum or product over a size-1 axis is its one term, at index 0.

    Broadcasting makes such axes (a 3x1 column); without this, `sum(a)` would read
    `sum_p(sum_i(a_i0))` and its gradient `n1`, true but puzzling.
    """
    unit = size_symbol(1) - 1

    def drop(reduction: sp.Expr) -> sp.Expr:
        kept = [limit for limit in reduction.limits if limit[2] != unit]
        function = reduction.function.xreplace(
            {limit[0]: sp.S.Zero for limit in reduction.limits if limit[2] == unit})
        return type(reduction)(function, *kept) if kept else function

    return expr.replace(lambda e: isinstance(e, (sp.Sum, sp.Product)) and any(
        limit[2] == unit for limit in e.limits), drop)


def gradient(model: TensorModel, name: str) -> tuple[sp.Expr, tuple[sp.Symbol, ...]]:
    """dL/dW_jk (or dL/dx_j, dL/dc) and the target indices it is written in."""
    base = model.bases[name]
    targets = TARGETS[:len(model.shapes[name])]
    target = base[pinned(targets, model.shapes[name])] if targets else base
    return derivative(model.loss, target), targets


class TensorPrinter(FormulaPrinter):
    """`W[j, k]` as `W_jk`; sums print as FormulaPrinter's, `sum_m(...)` one index each."""

    def _print_Indexed(self, expr: sp.Indexed) -> str:
        names = [self._print(index) for index in expr.indices]
        joined = "".join(names) if all(len(n) == 1 for n in names) else ",".join(names)
        return f"{expr.base}_{joined}" if len(names) == 1 or len(joined) == len(names) \
            else f"{expr.base}_{{{joined}}}"

    def _range(self, index: sp.Symbol, low: sp.Expr, high: sp.Expr) -> str:
        """`m` for the whole axis, `{m<k}` and `{m>k}` for the product rule's parts."""
        whole = _is_size(high + 1)
        if low == 0 and whole:
            return str(index)
        if low == 0:
            return f"{{{index}<{self._print(high + 1)}}}"
        if whole:
            return f"{{{index}>{self._print(low - 1)}}}"
        return f"{{{index}={self._print(low)}..{self._print(high)}}}"

    def _print_is_max(self, expr: sp.Expr) -> str:
        """`is_max_m(X_jm)`: the subscript names the axes compared over, as in sum_m."""
        return self._extreme("is_max", expr)

    def _print_is_min(self, expr: sp.Expr) -> str:
        return self._extreme("is_min", expr)

    def _extreme(self, name: str, expr: sp.Expr) -> str:
        over = "".join(self._print(index) for index in expr.args[1:])
        return f"{name}_{over}({self._print(expr.args[0])})" if over else \
            f"{name}({self._print(expr.args[0])})"


def _is_size(expr: sp.Expr) -> bool:
    return isinstance(expr, sp.Symbol) and bool(expr.is_positive) and expr.name[1:].isdigit()


def formula(expr: sp.Expr) -> str:
    return str(TensorPrinter().doprint(expr))
