"""Evaluate a SymPy formula in generic elements over whole arrays, with numpy: one
evaluator for every rank.

This is how the symbolic witness gets its numbers. Every index symbol (the gradient's j
and k, and each bound index of a Sum) gets its own array axis; an `Indexed` such as
`W[p, k]` places W's axes on p's and k's, and a Sum over p adds along p's axis. So
`2*x[j]` becomes `2*x`, `sum_p(W_pk*X_ip)` costs what the matrix product costs, and the
products that `prod` leaves (`prod_{k<j}`, `prod_{k>j}`) are exclusive cumulative
products: O(size), with no per-element symbol, autograd or code generation.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np
import sympy as sp

from gradexplain.errors import GradexplainError, ValuesError
from gradexplain.ir import limits
from gradexplain.ir.tree import COMPARISONS
from gradexplain.ops.base import MADE
from gradexplain.ops.reductions import IS_MAX, IS_MIN
from gradexplain.witnesses.builder import is_size_symbol, size_symbol
from gradexplain.witnesses.contract import (
    Scatter,
    TooManyIndices,
    bound_indices,
    contract,
    factors,
    is_index,
    largest_array,
    scatter,
    scatter_add,
)
from gradexplain.witnesses.matfun import MatrixFunction, det, inv, logabsdet
from gradexplain.witnesses.scoped import ScopedSum

Array = float | np.ndarray
# A float type with a wider exponent range than float64, where the platform has one.
WIDE = np.longdouble if np.finfo(np.longdouble).max > np.finfo(np.float64).max else None


_FUNCTIONS: dict[type, Callable[..., Array]] = {
    sp.exp: np.exp,
    sp.log: np.log,
    sp.sin: np.sin,
    sp.cos: np.cos,
    sp.tan: np.tan,
    sp.tanh: np.tanh,
    sp.Abs: np.abs,
    sp.sign: np.sign,
    sp.Heaviside: lambda u, h0=0.5: np.heaviside(u, h0),
    sp.cosh: np.cosh,
    sp.sinh: np.sinh,
    sp.asinh: np.arcsinh,
    sp.acosh: np.arccosh,
    sp.atanh: np.arctanh,
    sp.asin: np.arcsin,
    sp.acos: np.arccos,
    sp.atan: np.arctan,
    # SymPy rewrites tan(u + pi/2) as -cot(u) and so on.
    sp.cot: lambda u: 1.0 / np.tan(u),
    sp.sec: lambda u: 1.0 / np.cos(u),
    sp.csc: lambda u: 1.0 / np.sin(u),
    sp.coth: lambda u: 1.0 / np.tanh(u),
    sp.sech: lambda u: 1.0 / np.cosh(u),
    sp.csch: lambda u: 1.0 / np.sinh(u),
    # Our values are real; SymPy keeps re/im/arg when it cannot prove a power real.
    sp.re: lambda u: u,
    sp.im: lambda u: np.zeros_like(np.asarray(u, dtype=np.float64)),
    sp.arg: lambda u: np.angle(u),
    sp.atan2: np.arctan2,
    # delta_jk: the identity over j's and k's axes (a diagonal's gradient, d trace(X)/dX_jk;
    # second derivatives); the derivative of a step (relu', clamp') is 0 away from its kink
    # and undefined at it; indexing: delta(i + 1, j) and the guards of sliced sums
    # (where(1 <= j <= 2, ...))
    sp.KroneckerDelta: lambda a, b: np.equal(a, b).astype(np.float64),
    sp.DiracDelta: lambda u, *order: np.where(np.equal(u, 0), np.nan, 0.0),
    # SymPy splits `scale*elu(u) > 0` into And/Or of comparisons
    sp.And: lambda *parts: np.logical_and.reduce(np.broadcast_arrays(*parts)),
    sp.Or: lambda *parts: np.logical_or.reduce(np.broadcast_arrays(*parts)),
    sp.Mod: np.mod,
    sp.floor: np.floor,
}


class UnsupportedFormula(GradexplainError):
    """SymPy produced a form this evaluator cannot evaluate in O(size); the message says which.

    The input is valid, so this is a limitation of the tool, reported with exit code 2
    and never as a traceback; please report the expression.
    """

    kind = "symbolic"

    def __init__(self, message: str) -> None:
        super().__init__(
            f"the symbolic witness cannot evaluate this gradient: {message} "
            f"(please report the expression)"
        )


_NOT_MINE = object()  # what `_special` returns for a node the shared rules handle


class Evaluator:
    """Numbers for formulas, given each variable's array and each index symbol's length
    (a size symbol, `n3`, is its number)."""

    def __init__(
        self,
        arrays: Mapping[str, np.ndarray],
        scalars: Mapping[str, float],
        sizes: Mapping[sp.Symbol, int] | None = None,
    ) -> None:
        self.arrays = arrays
        self.scalars = scalars
        self.sizes = dict(sizes or {})
        self.axes: dict[sp.Symbol, int] = {}
        self.matrices: dict[sp.Lambda, np.ndarray] = {}
        self.reduced: dict[sp.Expr, Array] = {}  # each Sum's value, for one tensor() call

    def tensor(
        self, expr: sp.Expr, targets: tuple[sp.Symbol, ...] = (), shape: tuple[int, ...] = ()
    ) -> np.ndarray:
        """The formula at every element of a variable of `shape` (targets are its axes)."""
        self.sizes.update(zip(targets, shape))
        others = sorted(
            (
                s
                for s in expr.free_symbols | bound_indices(expr)
                if is_index(s) and s not in targets
            ),
            key=str,
        )
        self.sizes.update(_limit_sizes(expr, self.sizes))
        check_work(largest_array(expr, self.sizes))
        self.axes = {symbol: axis for axis, symbol in enumerate((*targets, *others))}
        self.reduced = {}
        with np.errstate(all="ignore"):
            value = np.asarray(self.value(expr), dtype=np.float64)
            if not np.isfinite(value).all() and WIDE is not None:
                self.reduced = {}
                value = np.asarray(self._widened().value(expr), dtype=np.float64)
        value = value.reshape(value.shape + (1,) * (len(self.axes) - value.ndim))
        full = np.broadcast_to(value, shape + value.shape[len(shape) :])
        return (
            full.reshape(shape).copy() if full.size == int(np.prod(shape)) else _unsupported(expr)
        )

    def _widened(self) -> Evaluator:
        """The same evaluator in extended precision (x86's 80-bit long double reaches
        1e4932): exp(1000)/sum(exp(x)) overflows float64 in an intermediate only, and this
        gives it its finite value. Used only where float64 gave inf or NaN."""
        assert WIDE is not None
        wide = Evaluator(
            {name: np.asarray(array, dtype=WIDE) for name, array in self.arrays.items()},
            {name: WIDE(value) for name, value in self.scalars.items()},  # type: ignore[misc]
            self.sizes,
        )
        wide.axes, wide.reduced = self.axes, {}
        return wide

    def value(self, expr: sp.Expr) -> Array:
        if expr.is_Atom and expr.is_number:
            return number(expr)
        special = self._special(expr)
        if special is not _NOT_MINE:
            return special  # type: ignore[return-value]
        if isinstance(expr, sp.Add):
            return sum((self.value(arg) for arg in expr.args), start=0.0)
        if isinstance(expr, sp.Mul):
            return math.prod((self.value(arg) for arg in expr.args), start=1.0)
        if isinstance(expr, sp.Pow):
            return np.power(self.value(expr.base), self.value(expr.exp))
        if isinstance(expr, sp.Piecewise):
            return self._piecewise(expr)
        if isinstance(expr, sp.Not):
            return np.logical_not(self.value(expr.args[0]))
        if isinstance(expr, sp.ITE):  # a nested where()'s condition
            return np.where(*(self.value(arg) for arg in expr.args))
        if isinstance(expr, sp.core.relational.Relational):
            compared: Array = COMPARISONS[expr.rel_op](self.value(expr.lhs), self.value(expr.rhs))
            return compared
        if expr is sp.true or expr is sp.false:
            return bool(expr)
        function = _FUNCTIONS.get(type(expr)) or _FUNCTIONS.get(expr.func)
        if function is not None:
            return function(*(self.value(arg) for arg in expr.args))
        named = MADE.get(type(expr))  # a function the registry keeps whole: sigmoid, relu...
        if named is not None:
            kept: Array = named.numpy(np, *(self.value(arg) for arg in expr.args))
            return kept
        raise UnsupportedFormula(f"cannot evaluate {expr.func.__name__}: {expr}")

    def _piecewise(self, expr: sp.Piecewise) -> Array:
        """`where(cond, a, b)` per element: both branches over the arrays, then np.where."""
        result = self.value(expr.args[-1][0])
        if expr.args[-1][1] is not sp.true:
            result = np.where(self.value(expr.args[-1][1]), result, np.nan)
        for value, condition in reversed(expr.args[:-1]):
            result = np.where(self.value(condition), self.value(value), result)
        return result

    def _special(self, expr: sp.Expr) -> Array | object:
        """Variables and indices on their own axes; sums add along an axis."""
        if isinstance(expr, sp.Indexed):
            return self._take(self.arrays[str(expr.base)], expr.indices)
        if isinstance(expr, sp.Symbol):
            if is_index(expr):
                return self._place(np.arange(self.sizes[expr], dtype=np.float64), [expr])
            if expr.name.startswith("n") and expr.is_integer:
                return float(expr.name[1:])
            if expr.name not in self.scalars:  # SymPy's own Dummy, as diff of a Product
                _unsupported(expr)
            return self.scalars[expr.name]
        if isinstance(expr, (sp.Sum, sp.Product)):
            if expr not in self.reduced:  # X@W may appear in several terms: compute it once
                self.reduced[expr] = self._reduce(expr)
            return self.reduced[expr]
        if isinstance(expr, (IS_MAX.cls, IS_MIN.cls)) and len(expr.args) > 1:
            return self._extreme(expr)
        if isinstance(expr, MatrixFunction):
            return self._matrix_function(expr)
        return _NOT_MINE

    def _extreme(self, expr: sp.Expr) -> np.ndarray:
        """is_max(u, m): 1.0 where u is the largest along m's axis (all listed axes)."""
        over = [index for index in expr.args[1:] if index != 0]  # 0: a pinned size-1 axis
        if not all(map(is_index, over)):
            _unsupported(expr)
        value = self._full(self.value(expr.args[0]))
        axes = tuple(self.axes[index] for index in over)
        extreme = (np.max if isinstance(expr, IS_MAX.cls) else np.min)(
            value, axis=axes, keepdims=True
        )
        indicator: np.ndarray = (value == extreme).astype(np.float64)
        return indicator

    def _full(self, value: Array) -> np.ndarray:
        """`value` as an array with one axis per index symbol (size 1 where unused)."""
        array = np.asarray(value)
        array = array.astype(np.result_type(array.dtype, np.float64), copy=False)
        return array.reshape(array.shape + (1,) * (len(self.axes) - array.ndim))

    def _take(self, array: np.ndarray, at: tuple[sp.Expr, ...]) -> np.ndarray:
        """`W[p, k]` on p's and k's axes; `a[i, 0]` (a stretched size-1 axis, or `x[2]`)
        takes that element; any other index (`x[i + 1]`, `X[i, t[i]]`, the diagonal
        `X[m, m]`) is a gather."""
        fixed = tuple(
            int(index) if index.is_Integer else slice(self.sizes.get(index)) for index in at
        )  # x[:2] runs its index over 0..1 only
        indices = [index for index in at if not index.is_Integer]
        if (
            len(set(indices)) != len(indices)
            or not all(map(is_index, indices))
            or any(
                self.sizes.get(index, 0) > size  # t_j where j runs past t: guarded
                for index, size in zip(at, array.shape)
            )
        ):
            return self._gather(array, at)
        return self._place(array[fixed], indices)

    def _matrix_function(self, expr: MatrixFunction) -> Array:
        """det, log|det|, sign(det) or an inverse's element, by numpy.linalg on the
        matrix U that the function's Lambda describes; a singular U has no inverse (nan)."""
        from gradexplain.ops.matrices import singular

        matrix = self._matrix(expr)
        if isinstance(expr, inv):
            inverse = np.full_like(matrix, np.nan) if singular(matrix) else np.linalg.inv(matrix)
            return self._take(inverse, expr.args[2:])
        sign, logabs = np.linalg.slogdet(matrix)
        if isinstance(expr, det):
            return float(np.linalg.det(matrix))
        return float(logabs if isinstance(expr, logabsdet) else sign)

    def _matrix(self, expr: MatrixFunction) -> np.ndarray:
        """The n x n matrix U of `Lambda((i, p), U_ip)`, evaluated once per Lambda."""
        lam = expr.matrix
        if lam not in self.matrices:
            size = expr.size
            n = int(size.name[1:]) if isinstance(size, sp.Symbol) else int(size)
            inner = Evaluator(self.arrays, self.scalars, self.sizes)
            self.matrices[lam] = inner.tensor(lam.expr, tuple(lam.variables), (n, n))
        return self.matrices[lam]

    def _gather(self, array: np.ndarray, at: tuple[sp.Expr, ...]) -> np.ndarray:
        """Each index evaluated over the axes, rounded and kept in range (a guard
        elsewhere zeroes the elements a slice does not reach), then numpy's gather."""
        where = []
        for index, size in zip(at, array.shape):
            value = np.rint(np.asarray(self.value(index), dtype=np.float64))
            place = np.clip(value, 0, size - 1).astype(np.intp)
            where.append(place.reshape(place.shape + (1,) * (len(self.axes) - place.ndim)))
        return self._full(array[tuple(where)])

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
        """A Sum adds, a Product multiplies, along each bound index's axis.

        A Sum over whole axes is a contraction (`contract.py`): `sum_m(X_im*W_mk)` goes to
        BLAS, never through an array over i, m and k. A range that stops below (or starts
        above) another index t, as the product rule writes `prod_{i<j}`, is an exclusive
        cumulative sum or product moved onto t's axis: O(size) still.
        """
        is_sum = isinstance(expr, sp.Sum)
        if is_sum and self._whole(expr):
            if isinstance(expr.function, sp.Add):  # a sum of sums, each its own contraction
                return self.value(
                    sp.Add(*(ScopedSum(term, *expr.limits) for term in expr.function.args))
                )
            return self._contraction(expr)
        value = self._full(self.value(expr.function))
        for index, low, high in expr.limits:
            axis = self.axes[index]
            if self._between_indices(index, low, high):
                value = self._masked(value, index, low, high, is_sum)
                continue
            partner, reverse = self._range(expr, index, low, high)
            if partner is not None:
                value = self._partial(value, index, partner, is_sum, reverse)
            elif value.shape[axis] == 1:  # independent of index
                size = self.sizes[index]
                value = value * size if is_sum else np.power(value, size)
            else:
                value = (np.sum if is_sum else np.prod)(value, axis=axis, keepdims=True)
        return value

    def _whole(self, total: sp.Expr) -> bool:
        """Every limit of this Sum runs over its index's whole axis."""
        return all(
            not self._between_indices(*limit) and self._range(total, *limit)[0] is None
            for limit in total.limits
        )

    def _between_indices(self, index: sp.Symbol, low: sp.Expr, high: sp.Expr) -> bool:
        """A range between other indices' values that `_range` does not read: the Hessian
        of cumprod multiplies u_m for j < m < d (`prod_{m=j+1}^{d-1}`)."""
        bounds = (low, high)
        if low == 0 and (high + 1).is_Symbol:  # the whole axis, or m < t: _range's forms
            return False
        if (low - 1).is_Symbol and high == size_symbol(self.sizes[index]) - 1:  # m > t
            return False
        return all(
            all(
                symbol != index and (symbol in self.axes or is_size_symbol(symbol))
                for symbol in bound.free_symbols
            )
            for bound in bounds
        )

    def _masked(
        self, value: np.ndarray, index: sp.Symbol, low: sp.Expr, high: sp.Expr, is_sum: bool
    ) -> np.ndarray:
        """Sum (multiply) along index's axis the terms with low <= index <= high, each
        bound evaluated on its own indices' axes: O(size) per element of the result."""
        position = self._full(self.value(index))
        inside = (position >= self._full(self.value(low))) & (
            position <= self._full(self.value(high))
        )
        terms = np.where(inside, value, 0.0 if is_sum else 1.0)
        combined: np.ndarray = (np.sum if is_sum else np.prod)(
            terms, axis=self.axes[index], keepdims=True
        )
        return combined

    def _contraction(self, total: sp.Sum) -> np.ndarray:
        """sum over the bound indices of a product of factors, as one einsum."""
        parts, bound = factors(total.function, [limit[0] for limit in total.limits])
        found = scatter(parts, bound)
        used = found.position.free_symbols if found else set()
        arrays = [self._full(self.value(part)) for part in (found.rest if found else parts)]
        try:
            value = self._full(
                contract(arrays, {self.axes[i]: self.sizes[i] for i in bound if i not in used})
            )
        except TooManyIndices as exc:
            raise UnsupportedFormula(f"{exc}: {total}") from None
        return self._scatter(found, value, [i for i in bound if i in used]) if found else value

    def _scatter(self, found: Scatter, value: np.ndarray, summed: list[sp.Symbol]) -> np.ndarray:
        """sum_i(delta(j, e_i) * value_i): value_i added onto j's axis at e_i."""
        return scatter_add(
            value,
            self._full(self.value(found.position)),
            self.axes[found.target],
            self.sizes[found.target],
            [self.axes[index] for index in summed],
        )

    def largest(
        self, expr: sp.Expr, targets: tuple[sp.Symbol, ...] = (), shape: tuple[int, ...] = ()
    ) -> int:
        """The most numbers one array will hold in `tensor(expr, targets, shape)`
        (`contract.largest_array`), known before evaluating: what a limit checks."""
        sizes = {**self.sizes, **dict(zip(targets, shape))}
        sizes.update(_limit_sizes(expr, sizes))
        return largest_array(expr, sizes)

    def _range(
        self, expr: sp.Expr, index: sp.Symbol, low: sp.Expr, high: sp.Expr
    ) -> tuple[sp.Symbol | None, bool]:
        """(None, _) for the whole axis; (t, False) for index < t; (t, True) for index > t."""
        if low == 0 and isinstance(high + 1, sp.Symbol) and not is_index(high + 1):
            return None, False
        if low == 0 and is_index(high + 1) and self._same_axis(index, high + 1):
            return high + 1, False
        if (
            is_index(low - 1)
            and self._same_axis(index, low - 1)
            and high == size_symbol(self.sizes[index]) - 1
        ):
            return low - 1, True
        _unsupported(expr)
        return None, False

    def _same_axis(self, index: sp.Symbol, other: sp.Expr) -> bool:
        return other in self.axes and self.sizes[other] == self.sizes[index]

    def _partial(
        self, value: np.ndarray, index: sp.Symbol, partner: sp.Symbol, is_sum: bool, reverse: bool
    ) -> np.ndarray:
        """Exclusive cumulative sum/product along index's axis, placed on partner's."""
        axis, onto = self.axes[index], self.axes[partner]
        if value.shape[onto] != 1:
            raise UnsupportedFormula(
                f"a partial sum or product whose terms depend on the index {partner} that ends it"
            )
        shape = list(value.shape)
        shape[axis] = self.sizes[index]
        full = np.broadcast_to(value, shape)
        if reverse:
            full = np.flip(full, axis)
        inclusive = (np.cumsum if is_sum else np.cumprod)(full, axis=axis)
        first = np.full_like(np.take(inclusive, [0], axis=axis), 0.0 if is_sum else 1.0)
        exclusive = np.concatenate((first, np.delete(inclusive, -1, axis=axis)), axis=axis)
        if reverse:
            exclusive = np.flip(exclusive, axis)
        return np.swapaxes(exclusive, axis, onto)


def check_work(elements: int) -> None:
    """Refuse, before any array is made, an evaluation whose largest array
    (`contract.largest_array`, the one estimate) exceeds MAX_EVALUATION_ELEMENTS."""
    if elements > limits.MAX_EVALUATION_ELEMENTS:
        raise ValuesError(
            f"evaluating the gradient at these sizes needs arrays of about "
            f"{elements:,} elements ({elements * 8 / 2**30:,.1f} GiB); the "
            f"limit is MAX_EVALUATION_ELEMENTS = "
            f"{limits.MAX_EVALUATION_ELEMENTS:,}"
        )


def _limit_sizes(expr: sp.Expr, known: Mapping[sp.Symbol, int]) -> dict[sp.Symbol, int]:
    """Lengths of bound indices that SymPy introduced (the product rule's h): n4 - 1 -> 4."""
    found = {}
    for reduction in expr.atoms(sp.Sum, sp.Product):
        for index, low, high in reduction.limits:
            size = high + 1
            if (
                index not in known
                and low == 0
                and isinstance(size, sp.Symbol)
                and size.name[1:].isdigit()
            ):
                found[index] = int(size.name[1:])
    return found


def _unsupported(expr: sp.Expr) -> np.ndarray:
    raise UnsupportedFormula(f"cannot evaluate {expr} over whole arrays")


def number(expr: sp.Expr) -> float:
    """Numbers; SymPy's infinities and complex constants become inf or nan, as in torch."""
    if expr is sp.oo:
        return float("inf")
    if expr is sp.S.NegativeInfinity:
        return float("-inf")
    if expr is sp.zoo or expr is sp.nan or not expr.is_real:
        return float("nan")
    return float(expr)
