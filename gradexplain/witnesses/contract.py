"""Sums of products over bound indices, evaluated as contractions (BLAS via einsum).

`sum_m(X_im*W_mk)` is a matrix product: broadcasting X over k and W over i, then adding
along m, would build rows*inner*columns numbers (8 GB for two 1000x1000 matrices), where
`numpy.einsum(..., optimize=True)` hands the pair to `tensordot`, that is to BLAS, and
keeps only the output. Every array here is in the evaluator's layout: one axis per index
symbol, size 1 where the value does not depend on that index.

A bound index that only one factor uses is added up in that factor first (O(its size)),
one that no factor uses multiplies by its length, and what is left is one einsum over the
factors with the remaining bound axes contracted: memory O(inputs + output), never the
product of every index's length.

A Kronecker delta that places each term by data, `sum_i(delta(j, idx_i)*f_i)` (what
`x[idx]` differentiates to), is a scatter-add of f onto j's axis (`scatter_add`):
O(len(idx) + n) memory, where evaluating the delta would build an idx-by-x array.
"""

from __future__ import annotations

import math
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import sympy as sp

_LETTERS = string.ascii_letters  # einsum's labels; one per axis of the layout


def contract(factors: Sequence[np.ndarray], bound: Mapping[int, int]) -> np.ndarray:
    """The product of `factors` summed over the `bound` axes (axis -> length), in layout.

    Every factor has the same number of axes (size 1 where it does not depend on one);
    the result keeps that number, with size 1 on the bound axes.
    """
    rank = max((f.ndim for f in factors), default=0)
    arrays = [np.asarray(f).reshape(f.shape + (1,) * (rank - f.ndim)) for f in factors]
    arrays = [a.astype(np.result_type(a.dtype, np.float64), copy=False) for a in arrays]
    scale = 1.0
    for axis, length in bound.items():
        users = [n for n, array in enumerate(arrays) if array.shape[axis] != 1]
        if not users:  # independent of the index: each term is counted `length` times
            scale *= length
        elif len(users) == 1:  # one factor uses it: add up along it first
            arrays[users[0]] = arrays[users[0]].sum(axis=axis, keepdims=True)
    live = [tuple(a for a in range(rank) if array.shape[a] != 1) for array in arrays]
    kept = tuple(sorted({a for axes in live for a in axes} - set(bound)))
    operands = [array.reshape([array.shape[a] for a in axes]) for array, axes in zip(arrays, live)]
    if len({a for axes in live for a in axes}) <= len(_LETTERS):
        value = _einsum(operands, live, kept)
    else:  # more indices than einsum has letters (a chain of 60 @): two at a time
        value = _pairwise(operands, live, kept)
    if scale != 1.0:
        value = value * scale
    shape = [1] * rank
    for position, axis in enumerate(kept):
        shape[axis] = value.shape[position]
    return np.asarray(value).reshape(shape)


class TooManyIndices(ValueError):
    """One product of two factors uses more indices than einsum can label."""


def _einsum(
    operands: Sequence[np.ndarray], axes: Sequence[tuple[int, ...]], kept: tuple[int, ...]
) -> np.ndarray:
    """einsum over `operands` whose axes are the layout axes `axes`, keeping `kept`;
    each layout axis gets a letter in order of first use (einsum has 52)."""
    if not operands:
        return np.ones((), dtype=np.float64)
    letters: dict[int, str] = {}
    for axis in [a for group in axes for a in group]:
        if axis not in letters:
            if len(letters) == len(_LETTERS):
                raise TooManyIndices(f"more than {len(_LETTERS)} indices in one product")
            letters[axis] = _LETTERS[len(letters)]
    spec = (
        ",".join("".join(letters[a] for a in group) for group in axes)
        + "->"
        + "".join(letters[a] for a in kept)
    )
    return np.asarray(np.einsum(spec, *operands, optimize=len(operands) > 1))


def _pairwise(
    operands: list[np.ndarray], axes: list[tuple[int, ...]], kept: tuple[int, ...]
) -> np.ndarray:
    """Contract the first two factors, keeping the axes that a later factor or the output
    still needs, until one is left: each step labels only its own two factors' axes."""
    pending = list(zip(operands, axes))
    while len(pending) > 1:
        (first, first_axes), (second, second_axes) = pending[0], pending[1]
        needed = set(kept).union(*(set(group) for _, group in pending[2:]))
        out = tuple(sorted((set(first_axes) | set(second_axes)) & needed))
        pending = [(_einsum([first, second], [first_axes, second_axes], out), out), *pending[2:]]
    ((value, value_axes),) = pending
    return _einsum([value], [value_axes], kept)


def is_index(symbol: object) -> bool:
    """An index symbol (j, k, m, ...): an integer that may be 0; sizes (n3) are positive."""
    return (
        isinstance(symbol, sp.Symbol) and bool(symbol.is_integer) and not bool(symbol.is_positive)
    )


def bound_indices(expr: sp.Expr) -> set[sp.Symbol]:
    """Every index a Sum or Product inside `expr` binds."""
    return {limit[0] for e in expr.atoms(sp.Sum, sp.Product) for limit in e.limits}


def is_whole(total: sp.Expr) -> bool:
    """Every limit of this Sum runs over its index's whole axis, 0 to a size - 1."""
    return all(
        low == 0 and isinstance(high + 1, sp.Symbol) and not is_index(high + 1)
        for _, low, high in total.limits
    )


def factors(function: sp.Expr, bound: list[sp.Symbol]) -> tuple[list[sp.Expr], list[sp.Symbol]]:
    """A product's factors, with inner whole-axis Sums of products merged into it.

    `sum_i(sum_m(X_im*X_mp))` is one contraction of X_im and X_mp over i and m, so
    einsum chooses the order. An inner Sum whose index another factor or an outer sum
    also uses (`sum_k(x_k)*sum_k(y_k)`) is not merged: it is evaluated on its own.
    """
    parts = list(sp.Mul.make_args(function))
    flat: list[sp.Expr] = []
    for position, factor in enumerate(parts):
        others = parts[:position] + parts[position + 1 :]
        if _mergeable(factor, bound, others):
            inner, bound = factors(
                factor.function, [*bound, *(limit[0] for limit in factor.limits)]
            )
            flat += inner
        else:
            flat.append(factor)
    return flat, bound


def _mergeable(factor: sp.Expr, bound: list[sp.Symbol], others: list[sp.Expr]) -> bool:
    if (
        not isinstance(factor, sp.Sum)
        or isinstance(factor.function, sp.Add)
        or not is_whole(factor)
    ):
        return False
    taken = set(bound).union(*(other.free_symbols for other in others))
    return not any(limit[0] in taken for limit in factor.limits)


@dataclass(frozen=True)
class Scatter:
    """A summand `delta(target, position) * rest`: each term lands where position says."""

    target: sp.Symbol  # j: a free index, the output axis the terms land on
    position: sp.Expr  # idx_i: a value of the bound indices, not a plain index
    rest: list[sp.Expr]  # the other factors, none of which uses the target


def scatter(parts: Sequence[sp.Expr], bound: Sequence[sp.Symbol]) -> Scatter | None:
    """The first factor delta(j, e) among `parts` where j is free, e depends on a bound
    index (and not on j) and is data, not an index (delta(j, m) is an identity: einsum's);
    None if there is none, or another factor also uses j."""
    for position, part in enumerate(parts):
        if not isinstance(part, sp.KroneckerDelta):
            continue
        rest = [*parts[:position], *parts[position + 1 :]]
        for target, where in (part.args, part.args[::-1]):
            if (
                is_index(target)
                and target not in bound
                and not is_index(where)
                and target not in where.free_symbols
                and where.free_symbols & set(bound)
                and not any(target in other.free_symbols for other in rest)
            ):
                return Scatter(target, where, rest)
    return None


def scatter_add(
    values: np.ndarray, position: np.ndarray, onto: int, length: int, summed: Sequence[int]
) -> np.ndarray:
    """Each element of `values` added at `position` along the `onto` axis (of `length`),
    summed over the `summed` axes; layout arrays, size 1 on `onto`. A position that is
    not an integer in 0..length-1 matches no element of the axis: delta is 0 there."""
    rank = max(values.ndim, position.ndim)
    values = values.reshape(values.shape + (1,) * (rank - values.ndim))
    position = position.reshape(position.shape + (1,) * (rank - position.ndim))
    values, position = np.broadcast_arrays(values, position)
    shape = [1 if axis in summed else size for axis, size in enumerate(values.shape)]
    shape[onto] = length
    strides = [math.prod(shape[axis + 1 :]) for axis in range(rank)]
    rounded = np.rint(position)
    keep = (rounded == position) & (rounded >= 0) & (rounded < length)
    flat = np.where(keep, rounded, 0).astype(np.intp) * strides[onto]
    for axis, size in enumerate(values.shape):
        if axis != onto and axis not in summed and size > 1:
            flat = (
                flat + np.arange(size).reshape((size,) + (1,) * (rank - axis - 1)) * strides[axis]
            )
    total = math.prod(shape)
    if values.dtype == np.float64:
        out = np.bincount(flat[keep], weights=values[keep], minlength=total)
    else:  # the evaluator's long-double retry: bincount would round to float64
        out = np.zeros(total, dtype=values.dtype)
        np.add.at(out, flat[keep], values[keep])
    return out.reshape(shape)


def largest_array(expr: sp.Expr, sizes: Mapping[sp.Symbol, int]) -> int:
    """The most numbers one array holds while `Evaluator` evaluates `expr`: the estimate
    a memory limit checks before any work starts.

    An expression's array has one axis per free index, so it holds the product of their
    lengths; a whole-axis Sum of products is a contraction, which holds its output and
    its factors (einsum's intermediates stay within the largest of those), never the
    product of every index's length; any other Sum or Product evaluates its summand
    whole, bound index included.
    """
    here = math.prod(sizes.get(s, 1) for s in expr.free_symbols if is_index(s))
    if isinstance(expr, sp.Sum) and is_whole(expr):
        if isinstance(expr.function, sp.Add):
            parts = [sp.Sum(term, *expr.limits) for term in expr.function.args]
        else:
            parts, bound = factors(expr.function, [limit[0] for limit in expr.limits])
            found = scatter(parts, bound)
            if found is not None:  # the terms before they land: e's bound indices kept
                parts = [*found.rest, found.position]
                used = found.position.free_symbols
                kept = {s for p in parts for s in p.free_symbols if is_index(s)}
                here = max(
                    here, math.prod(sizes.get(s, 1) for s in kept if s not in bound or s in used)
                )
    elif isinstance(expr, (sp.Sum, sp.Product)):
        parts = [expr.function]
    else:
        parts = list(expr.args)
    return max([here, *(largest_array(part, sizes) for part in parts)])
