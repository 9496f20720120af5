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

from gradexplain.errors import GradexplainError
from gradexplain.builder import N
from gradexplain.ops import named_functions

Array = Union[float, np.ndarray]


def _heaviside(u: Array, h0: Array = 0.5) -> Array:
    return np.heaviside(u, h0)


_FUNCTIONS: dict[type, Callable[..., Array]] = {
    sp.exp: np.exp, sp.log: np.log, sp.sin: np.sin, sp.cos: np.cos, sp.tan: np.tan,
    sp.tanh: np.tanh, sp.Abs: np.abs, sp.sign: np.sign, sp.Heaviside: _heaviside,
    sp.cosh: np.cosh, sp.sinh: np.sinh,
    # SymPy rewrites tan(u + pi/2) as -cot(u) and so on.
    sp.cot: lambda u: 1.0 / np.tan(u), sp.sec: lambda u: 1.0 / np.cos(u),
    sp.csc: lambda u: 1.0 / np.sin(u), sp.coth: lambda u: 1.0 / np.tanh(u),
    sp.sech: lambda u: 1.0 / np.cosh(u), sp.csch: lambda u: 1.0 / np.sinh(u),
    # Our values are real; SymPy keeps re/im/arg when it cannot prove a power real.
    sp.re: lambda u: u, sp.im: lambda u: np.zeros_like(np.asarray(u, dtype=np.float64)),
    sp.arg: lambda u: np.angle(u), sp.atan2: np.arctan2,
    # the functions the registry keeps whole: sigmoid, relu, softplus, clamp, is_max...
    **{named.cls: (lambda f: lambda *args: f(np, *args))(named.numpy)
       for named in named_functions()},
}


_COMPARE: dict[str, Callable[[Array, Array], Array]] = {
    "==": np.equal, "!=": np.not_equal, "<": np.less, "<=": np.less_equal,
    ">": np.greater, ">=": np.greater_equal}


class UnsupportedFormula(GradexplainError):
    """SymPy produced a form this evaluator cannot evaluate in O(n); the message says which.

    The input is valid, so this is a limitation of the tool, reported with exit code 2
    and never as a traceback; please report the expression.
    """

    kind = "symbolic"

    def __init__(self, message: str) -> None:
        super().__init__(f"the symbolic witness cannot evaluate this gradient: {message} "
                         f"(please report the expression)")


NOT_MINE = object()  # what `_special` returns for a node the shared rules handle


class Elementwise:
    """The rules both evaluators share: numbers, + * **, where(), comparisons, functions.

    Subclasses say, in `_special`, where variables live on the array axes and how sums
    and products reduce; everything elementwise is the same for vectors and matrices.
    """

    def value(self, expr: sp.Expr) -> Array:
        if expr.is_Atom and expr.is_number:
            return number(expr)
        special = self._special(expr)
        if special is not NOT_MINE:
            return special  # type: ignore[return-value]
        if isinstance(expr, sp.Add):
            return sum((self.value(arg) for arg in expr.args), start=0.0)  # type: ignore
        if isinstance(expr, sp.Mul):
            result: Array = 1.0
            for arg in expr.args:
                result = result * self.value(arg)
            return result
        if isinstance(expr, sp.Pow):
            return np.power(self.value(expr.base), self.value(expr.exp))
        if isinstance(expr, sp.Piecewise):
            return self._piecewise(expr)
        if isinstance(expr, sp.core.relational.Relational):
            return _COMPARE[expr.rel_op](self.value(expr.lhs), self.value(expr.rhs))
        if expr is sp.true or expr is sp.false:
            return bool(expr)  # type: ignore[return-value]
        function = _FUNCTIONS.get(type(expr)) or _FUNCTIONS.get(expr.func)
        if function is not None:
            return function(*(self.value(arg) for arg in expr.args))
        raise UnsupportedFormula(f"cannot evaluate {expr.func.__name__}: {expr}")

    def _special(self, expr: sp.Expr) -> Array | object:
        return NOT_MINE

    def _piecewise(self, expr: sp.Piecewise) -> Array:
        """`where(cond, a, b)` per element: both branches over the arrays, then np.where."""
        result = self.value(expr.args[-1][0])
        if expr.args[-1][1] is not sp.true:
            result = np.where(self.value(expr.args[-1][1]), result, np.nan)
        for value, condition in reversed(expr.args[:-1]):
            result = np.where(self.value(condition), self.value(value), result)
        return result  # type: ignore[no-any-return]



def number(expr: sp.Expr) -> float:
    """Numbers; SymPy's infinities and complex constants become inf or nan, as in torch."""
    if expr is sp.oo:
        return float("inf")
    if expr is sp.S.NegativeInfinity:
        return float("-inf")
    if expr is sp.zoo or expr is sp.nan or not expr.is_real:
        return float("nan")
    return float(expr)


class Evaluator(Elementwise):
    """Numbers for formulas, given each variable's values and the common length n."""

    def __init__(self, arrays: dict[str, np.ndarray], scalars: dict[str, float],
                 n: int) -> None:
        self.arrays = arrays
        self.scalars = scalars
        self.n = n
        self.placeholders: dict[sp.Symbol, Array] = {}  # inner sums already evaluated

    def vector(self, expr: sp.Expr) -> np.ndarray:
        """Evaluate and broadcast to length n (a constant gradient is still a vector)."""
        with np.errstate(all="ignore"):
            value = self.value(expr)
        return np.broadcast_to(np.asarray(value, dtype=np.float64), (self.n,)).copy()

    def scalar(self, expr: sp.Expr) -> float:
        with np.errstate(all="ignore"):
            return float(np.asarray(self.value(expr), dtype=np.float64))

    def _special(self, expr: sp.Expr) -> Array | object:
        """Variables on the one vector axis, n, indices as numbers, and reductions."""
        if isinstance(expr, sp.Indexed):
            return self.arrays[str(expr.base)]
        if isinstance(expr, sp.Symbol):
            if expr in self.placeholders:
                return self.placeholders[expr]
            if expr == N:
                return float(self.n)
            if expr.is_integer:  # an index used as a number, as in c**j from prod(c)
                return np.arange(self.n, dtype=np.float64)
            return self.scalars[expr.name]
        if isinstance(expr, (sp.Sum, sp.Product)):
            return self._reduce(expr)
        return NOT_MINE

    def _reduce(self, expr: sp.Expr) -> Array:
        """Sum or Product over the vector axis, a prefix (k < m) or a suffix (k > m) of it."""
        if len(expr.limits) > 1:  # SymPy denests Sum(Sum(f, a), b) into Sum(f, a, b)
            inner = self.value(type(expr)(expr.function, expr.limits[0]))
            placeholder = sp.Dummy("inner")
            self.placeholders[placeholder] = inner
            return self.value(type(expr)(placeholder, *expr.limits[1:]))
        (index, low, high), = expr.limits
        function = expr.function
        is_sum = isinstance(expr, sp.Sum)
        if _other_indices(function, index):
            return self._split(expr, index, low, high)
        factor = np.broadcast_to(np.asarray(self.value(function), dtype=np.float64),
                                 (self.n,))
        ufunc = np.add if is_sum else np.multiply
        identity = 0.0 if is_sum else 1.0
        if low == 0 and high == N - 1:
            return float(ufunc.reduce(factor))
        inclusive = ufunc.accumulate(factor)
        if low == 0 and _is_index(high + 1):  # over k < m, for every m at once
            return np.concatenate(([identity], inclusive[:-1]))
        if _is_index(low - 1) and high == N - 1:  # over k > m
            return np.concatenate((ufunc.accumulate(factor[::-1])[:-1][::-1], [identity]))
        raise UnsupportedFormula(f"cannot evaluate {expr} in O(n)")

    def _split(self, expr: sp.Expr, index: sp.Symbol, low: sp.Expr, high: sp.Expr) -> Array:
        """Pull what does not depend on the bound index out of a full-range Sum/Product."""
        function = expr.function
        kind = type(expr)
        if low != 0 or high != N - 1:
            raise UnsupportedFormula(f"cannot evaluate {expr} in O(n)")
        if kind is sp.Sum and function.is_Add:
            return sum((self.value(sp.Sum(term, (index, low, high)))
                        for term in function.args), start=0.0)  # type: ignore[arg-type]
        parts = function.args if function.is_Mul else (function,)
        inner = [part for part in parts if index in part.free_symbols]
        outer = [part for part in parts if index not in part.free_symbols]
        if not outer or any(_other_indices(part, index) for part in inner):
            raise UnsupportedFormula(f"cannot evaluate {expr} in O(n)")
        rest = self.value(kind(sp.Mul(*inner), (index, low, high)))
        constant = self.value(sp.Mul(*outer))
        if kind is sp.Sum:
            return constant * rest
        return np.power(constant, float(self.n)) * rest


def _index_symbols(expr: sp.Expr) -> set[sp.Symbol]:
    return {s for s in expr.free_symbols
            if isinstance(s, sp.Symbol) and s.is_integer and s != N}


def _other_indices(expr: sp.Expr, index: sp.Symbol) -> bool:
    """True when `expr` depends on an index besides `index` (a 2-D sum if evaluated naively)."""
    return bool(_index_symbols(expr) - {index})


def _is_index(expr: sp.Expr) -> bool:
    return isinstance(expr, sp.Symbol) and bool(expr.is_integer) and expr != N
