"""The symbolic witness: SymPy derives the gradient once, in a generic element.

A vector variable `x` becomes `IndexedBase('x')`; `sum(f(x))` becomes
`Sum(f(x[i]), (i, 0, n-1))`. Differentiating by `x[j]` and calling `.doit()` resolves the
Kronecker deltas, so `sum(x**2)` gives `2*x[j]`: one formula, whatever n is. That formula
is then evaluated over the whole vector with numpy (`evaluate.py`), never with autograd.
Differentiating n separate symbols instead would cost O(n**2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import sympy as sp
from sympy.printing.str import StrPrinter

from gradexplain.builder import I, J, N, VECTOR, Builder, Reduction
from gradexplain.deltas import derivative
from gradexplain.shapes import Shape, infer
from gradexplain.tree import Node, variables

__all__ = ["I", "J", "N", "Reduction", "SymbolicModel", "build", "gradient", "formula",
           "FormulaPrinter"]


@dataclass(frozen=True)
class SymbolicModel:
    """L as a SymPy expression, plus what the explanation needs to show it."""

    loss: sp.Expr  # scalar; a vector result is already wrapped in Sum (ones as v)
    bases: dict[str, Any]  # variable name -> IndexedBase (vector) or Symbol (scalar)
    implicit_sum: bool  # True when the expression itself was a vector
    implicit_term: sp.Expr | None  # y_i of that implicit sum (SymPy may fold the Sum away)
    reductions: dict[Node, Reduction]  # each sum/mean/prod of a vector, by tree node


def vector_builder(tree: Node, vector_names: set[str], scalar_names: set[str],
                   node_shapes: Mapping[int, Shape] | None = None) -> Builder:
    """The builder of the 1-D path: every vector has the common length n.

    Only ranks matter here (the dialect bounds every index by n): without the program's
    node shapes, a stand-in length gives them.
    """
    shapes: dict[str, Shape] = {name: (2,) if name in vector_names else ()
                                for name in variables(tree)}
    shapes.update({name: () for name in scalar_names if name not in shapes})
    found = dict(node_shapes) if node_shapes is not None else infer(tree, shapes, "")
    return Builder(VECTOR, shapes, found)


def build(tree: Node, vector_names: set[str], scalar_names: set[str],
          node_shapes: Mapping[int, Shape] | None = None) -> SymbolicModel:
    """Build L from our tree; vectors are indexed by a generic element."""
    builder = vector_builder(tree, vector_names, scalar_names, node_shapes)
    is_vector = bool(builder.shape(tree))
    expr = builder.build(tree, builder.top(builder.shape(tree)))
    term = expr if is_vector else None
    if is_vector:
        expr = sp.Sum(expr, (I, 0, N - 1))
    return SymbolicModel(expr, builder.bases, is_vector, term, builder.reductions)


def gradient(model: SymbolicModel, name: str) -> sp.Expr:
    """dL/dx_j (vector x) or dL/dc (scalar c): the shaped path's derivative
    (`tensorsym.derivative`), its bound indices named k where that is safe."""
    base = model.bases[name]
    target = base[J] if isinstance(base, sp.IndexedBase) else base
    return canonical_indices(derivative(model.loss, target))


def canonical_indices(expr: sp.Expr) -> sp.Expr:
    """Name bound indices k where that is safe, so equal sums combine and read alike.

    `sum_k(x_k) + sum_k2(x_k2)` becomes `2*sum_k(x_k)`. A reduction whose limits or
    summand involve another index (SymPy writes prefix sums such as `sum_{k2<k}`) keeps
    its own name, so no index is ever captured.
    """
    k = sp.Symbol("k", integer=True, nonnegative=True)

    def rename(reduction: sp.Expr) -> sp.Expr:
        if len(reduction.limits) != 1:  # a denested double sum keeps its own names
            return reduction
        (index, low, high), = reduction.limits
        others = {s for s in (reduction.function.free_symbols | low.free_symbols
                              | high.free_symbols)
                  if isinstance(s, sp.Symbol) and s.is_integer and s not in (index, N, J)}
        if others or index == k:
            return reduction
        return type(reduction)(reduction.function.subs(index, k), (k, low, high))

    return expr.replace(lambda e: isinstance(e, (sp.Sum, sp.Product)), rename)


class FormulaPrinter(StrPrinter):
    """Prints `x[j]` as `x_j` and sums as `sum_k(...)`, the way the table shows them."""

    printmethod = "_gradexplain_str"  # no object defines it: our _print_* methods win

    def _print_Abs(self, expr: sp.Abs) -> str:
        return f"abs({self._print(expr.args[0])})"

    def _print_Piecewise(self, expr: sp.Piecewise) -> str:
        """`where(cond, a, b)`, as the user wrote it (nested for more pieces)."""
        (value, condition), *rest = expr.args
        if not rest:
            return self._print(value)
        otherwise = rest[0][0] if len(rest) == 1 and rest[0][1] is sp.true else \
            sp.Piecewise(*rest)
        return f"where({self._print(condition)}, {self._print(value)}, " \
            f"{self._print(otherwise)})"

    def _print_Relational(self, expr: sp.Expr) -> str:
        return f"{self._print(expr.lhs)} {expr.rel_op} {self._print(expr.rhs)}"

    def _print_Indexed(self, expr: sp.Indexed) -> str:
        return f"{expr.base}_{expr.indices[0]}"

    def _print_Sum(self, expr: sp.Sum) -> str:
        text = self._print(expr.function)
        for index, _, _ in expr.limits:  # the first limit is the innermost sum
            text = f"sum_{index}({text})"
        return text

    def _print_Product(self, expr: sp.Product) -> str:
        text = self._print(expr.function)
        for index, low, high in expr.limits:
            text = f"prod_{self._range(index, low, high)}({text})"
        return text

    def _range(self, index: sp.Symbol, low: sp.Expr, high: sp.Expr) -> str:
        if low == 0 and high == N - 1:
            return str(index)
        if low == 0 and high == J - 1:
            return f"{{{index}<j}}"
        if low == J + 1 and high == N - 1:
            return f"{{{index}>j}}"
        return f"{{{index}={self._print(low)}..{self._print(high)}}}"


def formula(expr: sp.Expr) -> str:
    """A readable one-line formula, e.g. `2*x_j`."""
    return str(FormulaPrinter().doprint(canonical_indices(expr)))
