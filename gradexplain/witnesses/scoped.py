"""A SymPy Sum that keeps a where() inside the scope of its bound index.

Every `sp.Sum(f, limit)` runs `piecewise_fold(f)`, and piecewise_fold walks into inner
Sums as if they were plain functions: `Sum(Sum(Piecewise((a, Y[m, i] > 0), (b, True)),
m)/2, i)` becomes `Sum(Piecewise((Sum(a, m)/2, Y[m, i] > 0), ...), i)`, where the
condition has left the Sum over m that binds m (so the formula is wrong, and m is free).
On the vector path no inner Sum holds a where() in an outer index, so the fold is
harmless there; on the matrix path it is common (`mean(where(Y > 0, X, Y), dim=0)`).
"""

from __future__ import annotations

from typing import Any

import sympy as sp


def _unfolded(
    cls: type[Any],
    base: type[Any],
    function: Any,
    limits: tuple[Any, ...],
    assumptions: dict[str, Any],
) -> sp.Expr:
    """`base.__new__` with every where() masked, so there is nothing for it to fold."""
    if not isinstance(function, sp.Basic):  # a plain number: nothing to mask
        return base.__new__(cls, function, *limits, **assumptions)
    masks = {piece: sp.Dummy() for piece in function.atoms(sp.Piecewise)}
    total: Any = base.__new__(cls, function.xreplace(masks), *limits, **assumptions)
    if not masks or not isinstance(total, cls):
        return total
    unmasked = total.function.xreplace({dummy: piece for piece, dummy in masks.items()})
    total._args = (unmasked, *total.limits)
    return total


class ScopedSum(sp.Sum):
    """`sp.Sum` without the fold; SymPy's diff, subs and xreplace rebuild it as itself.

    It prints and evaluates as a Sum (printers and `isinstance` follow the class's MRO).
    """

    def __new__(cls, function: Any, *limits: Any, **assumptions: Any) -> sp.Expr:
        return _unfolded(cls, sp.Sum, function, limits, assumptions)


class ScopedProduct(sp.Product):
    """`sp.Product` without the fold, and a derivative built of scoped reductions too."""

    def __new__(cls, function: Any, *limits: Any, **assumptions: Any) -> sp.Expr:
        return _unfolded(cls, sp.Product, function, limits, assumptions)

    def _eval_derivative(self, x: Any) -> sp.Expr | None:
        """The product rule, sum_h f_h' prod_{i<h} f_i prod_{i>h} f_i, as SymPy writes it.

        SymPy's own builds it of plain Sum and Product, whose fold pulls a where() of the
        summand out of an inner Sum over m (`prod(where(Y > 0, Y, X) @ (Y.T @ v))`).
        """
        if isinstance(x, sp.Symbol) and x not in self.free_symbols:
            return sp.S.Zero
        *inner, (index, low, high) = self.limits
        if x in low.free_symbols or x in high.free_symbols:
            return None
        term = ScopedProduct(self.function, *inner) if inner else self.function
        h = sp.Dummy()
        before = ScopedProduct(term, (index, low, h - 1))
        after = ScopedProduct(term, (index, h + 1, high))
        slope = sp.Derivative(term, x, evaluate=True).subs(index, h)
        return ScopedSum(before * after * slope, (h, low, high))
