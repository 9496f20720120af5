"""Evaluate a SymPy formula in a generic element over whole vectors, with numpy.

This is how the symbolic witness gets its numbers: `2*x[j]` becomes `2*x` on the array,
`Sum(f(x[k]), (k, 0, n-1))` becomes `np.sum(f(x))`, and the products that `prod` leaves
(`prod_{k<j}`, `prod_{k>j}`) become exclusive cumulative products. Each step is O(n); no
autograd and no code generation are involved.
"""

from __future__ import annotations

from typing import Callable, Union

import numpy as np
import sympy as sp

from gradexplain.symbolic import J, N, relu, sigmoid

Array = Union[float, np.ndarray]


def _stable_sigmoid(u: Array) -> Array:
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(u, dtype=np.float64)))


def _heaviside(u: Array, h0: Array = 0.5) -> Array:
    return np.heaviside(u, h0)


_FUNCTIONS: dict[type, Callable[..., Array]] = {
    sp.exp: np.exp, sp.log: np.log, sp.sin: np.sin, sp.cos: np.cos, sp.tan: np.tan,
    sp.tanh: np.tanh, sp.Abs: np.abs, sp.sign: np.sign, sp.Heaviside: _heaviside,
    sigmoid: _stable_sigmoid, relu: lambda u: np.maximum(u, 0.0),
    sp.cosh: np.cosh, sp.sinh: np.sinh,
}


class UnsupportedFormula(Exception):
    """SymPy produced a form this evaluator does not know: a bug to report, not user error."""


class Evaluator:
    """Numbers for formulas, given each variable's values and the common length n."""

    def __init__(self, arrays: dict[str, np.ndarray], scalars: dict[str, float],
                 n: int) -> None:
        self.arrays = arrays
        self.scalars = scalars
        self.n = n

    def vector(self, expr: sp.Expr) -> np.ndarray:
        """Evaluate and broadcast to length n (a constant gradient is still a vector)."""
        with np.errstate(all="ignore"):
            value = self.value(expr)
        return np.broadcast_to(np.asarray(value, dtype=np.float64), (self.n,)).copy()

    def scalar(self, expr: sp.Expr) -> float:
        with np.errstate(all="ignore"):
            return float(np.asarray(self.value(expr), dtype=np.float64))

    def value(self, expr: sp.Expr) -> Array:
        if expr.is_Number or isinstance(expr, sp.NumberSymbol):
            return self._number(expr)
        if isinstance(expr, sp.Indexed):
            return self.arrays[str(expr.base)]
        if isinstance(expr, sp.Symbol):
            if expr == N:
                return float(self.n)
            return self.scalars[expr.name]
        if isinstance(expr, sp.Add):
            return sum((self.value(arg) for arg in expr.args), start=0.0)  # type: ignore
        if isinstance(expr, sp.Mul):
            result: Array = 1.0
            for arg in expr.args:
                result = result * self.value(arg)
            return result
        if isinstance(expr, sp.Pow):
            return np.power(self.value(expr.base), self.value(expr.exp))
        if isinstance(expr, sp.Sum):
            return self._sum(expr)
        if isinstance(expr, sp.Product):
            return self._product(expr)
        function = _FUNCTIONS.get(type(expr)) or _FUNCTIONS.get(expr.func)
        if function is not None:
            return function(*(self.value(arg) for arg in expr.args))
        raise UnsupportedFormula(f"cannot evaluate {expr.func.__name__}: {expr}")

    @staticmethod
    def _number(expr: sp.Expr) -> float:
        if expr is sp.zoo or expr is sp.nan:
            return float("nan")
        return float(expr)

    def _sum(self, expr: sp.Sum) -> Array:
        (index, low, high), = expr.limits
        self._require_full_range(expr, low, high)
        summand = np.asarray(self.value(expr.function), dtype=np.float64)
        return float(summand.sum()) if summand.ndim else float(summand) * self.n

    def _product(self, expr: sp.Product) -> Array:
        (index, low, high), = expr.limits
        factor = np.broadcast_to(np.asarray(self.value(expr.function), dtype=np.float64),
                                 (self.n,))
        if low == 0 and high == N - 1:
            return float(np.prod(factor))
        if low == 0 and high == J - 1:  # prod over k < j, for every j at once
            return np.concatenate(([1.0], np.cumprod(factor)[:-1]))
        if low == J + 1 and high == N - 1:  # prod over k > j
            return np.concatenate((np.cumprod(factor[::-1])[:-1][::-1], [1.0]))
        raise UnsupportedFormula(f"cannot evaluate a product over {low}..{high}")

    def _require_full_range(self, expr: sp.Expr, low: sp.Expr, high: sp.Expr) -> None:
        if low != 0 or high != N - 1 or J in expr.function.free_symbols:
            raise UnsupportedFormula(f"cannot evaluate {expr} in O(n)")
