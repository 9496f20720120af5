"""Evaluate a matrix formula in generic elements over whole arrays, with numpy.

Every index symbol (the gradient's j and k, and each bound index of a Sum) gets its own
array axis; an `Indexed` such as `W[p, k]` places W's axes on p's and k's, and a Sum over
p adds along p's axis. Broadcasting does the rest, so `sum_p(W_pk*X_ip)` costs what the
matrix product costs, and no per-element symbol or autograd is involved.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import sympy as sp

from gradexplain.evaluate import NOT_MINE, Array, Elementwise, UnsupportedFormula


class TensorEvaluator(Elementwise):
    """Numbers for formulas, given each variable's array and each index symbol's length."""

    def __init__(self, arrays: Mapping[str, np.ndarray], scalars: Mapping[str, float],
                 sizes: Mapping[sp.Symbol, int]) -> None:
        self.arrays = arrays
        self.scalars = scalars
        self.sizes = dict(sizes)
        self.axes: dict[sp.Symbol, int] = {}

    def tensor(self, expr: sp.Expr, targets: tuple[sp.Symbol, ...],
               shape: tuple[int, ...]) -> np.ndarray:
        """The formula at every element of a variable of `shape` (targets are its axes)."""
        self.sizes.update(zip(targets, shape))
        others = sorted((s for s in expr.free_symbols | _bound(expr) if _is_index(s)
                         and s not in targets), key=str)
        self.axes = {symbol: axis for axis, symbol in enumerate((*targets, *others))}
        with np.errstate(all="ignore"):
            value = np.asarray(self.value(expr), dtype=np.float64)
        value = value.reshape(value.shape + (1,) * (len(self.axes) - value.ndim))
        full = np.broadcast_to(value, shape + value.shape[len(shape):])
        return full.reshape(shape).copy() if full.size == int(np.prod(shape)) else \
            _unsupported(expr)

    def _special(self, expr: sp.Expr) -> Array | object:
        """Variables and indices on their own axes; sums add along an axis."""
        if isinstance(expr, sp.Indexed):
            return self._indexed(expr)
        if isinstance(expr, sp.Symbol):
            if _is_index(expr):
                return self._place(np.arange(self.sizes[expr], dtype=np.float64), [expr])
            if expr.name.startswith("n") and expr.is_integer:
                return float(expr.name[1:])
            if expr.name not in self.scalars:  # SymPy's own Dummy, as diff of a Product
                _unsupported(expr)
            return self.scalars[expr.name]
        if isinstance(expr, (sp.Sum, sp.Product)):
            return self._reduce(expr)
        return NOT_MINE

    def _indexed(self, expr: sp.Indexed) -> np.ndarray:
        """`W[p, k]` on p's and k's axes; `a[i, 0]` (a stretched size-1 axis) drops it."""
        array = self.arrays[str(expr.base)]
        fixed = tuple(0 if index == 0 else slice(None) for index in expr.indices)
        indices = [index for index in expr.indices if index != 0]
        if len(set(indices)) != len(indices) or not all(map(_is_index, indices)):
            _unsupported(expr)
        return self._place(array[fixed], indices)

    def _place(self, array: np.ndarray, indices: list[sp.Symbol]) -> np.ndarray:
        """Move each axis of `array` to the axis of its index symbol; size 1 elsewhere."""
        axes = [self.axes[index] for index in indices]
        order = sorted(range(len(axes)), key=axes.__getitem__)
        moved = np.transpose(array, order)
        shape = [1] * (max(self.axes.values(), default=-1) + 1)
        for position in order:
            shape[axes[position]] = array.shape[position]
        return moved.reshape(shape)

    def _reduce(self, expr: sp.Expr) -> Array:
        """A Sum adds, a Product multiplies, along each bound index's axis."""
        is_sum = isinstance(expr, sp.Sum)
        value = np.asarray(self.value(expr.function), dtype=np.float64)
        for index, low, high in expr.limits:
            self._full_range(expr, index, low, high)
            axis = self.axes[index]
            if value.ndim <= axis or value.shape[axis] == 1:  # independent of index
                size = self.sizes[index]
                value = value * size if is_sum else np.power(value, size)
            else:
                value = (np.sum if is_sum else np.prod)(value, axis=axis, keepdims=True)
        return value

    def _full_range(self, expr: sp.Expr, index: sp.Symbol, low: sp.Expr,
                    high: sp.Expr) -> None:
        if low != 0 or not isinstance(high + 1, sp.Symbol) or _is_index(high + 1):
            _unsupported(expr)


def _is_index(symbol: object) -> bool:
    return isinstance(symbol, sp.Symbol) and bool(symbol.is_integer) \
        and not bool(symbol.is_positive)


def _bound(expr: sp.Expr) -> set[sp.Symbol]:
    return {limit[0] for e in expr.atoms(sp.Sum, sp.Product) for limit in e.limits}


def _unsupported(expr: sp.Expr) -> np.ndarray:
    raise UnsupportedFormula(f"cannot evaluate {expr} over whole arrays")
