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
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence

import numpy as np

_LETTERS = string.ascii_letters  # einsum's labels; one per axis of the layout


def contract(factors: Sequence[np.ndarray], bound: Mapping[int, int]) -> np.ndarray:
    """The product of `factors` summed over the `bound` axes (axis -> length), in layout.

    Every factor has the same number of axes (size 1 where it does not depend on one);
    the result keeps that number, with size 1 on the bound axes.
    """
    rank = max((f.ndim for f in factors), default=0)
    arrays = [np.asarray(f, dtype=np.float64).reshape(f.shape + (1,) * (rank - f.ndim))
              for f in factors]
    scale = 1.0
    for axis, length in bound.items():
        users = [n for n, array in enumerate(arrays) if array.shape[axis] != 1]
        if not users:  # independent of the index: each term is counted `length` times
            scale *= length
        elif len(users) == 1:  # one factor uses it: add up along it first
            arrays[users[0]] = arrays[users[0]].sum(axis=axis, keepdims=True)
    live = [tuple(a for a in range(rank) if array.shape[a] != 1) for array in arrays]
    kept = sorted({a for axes in live for a in axes} - set(bound))
    if rank > len(_LETTERS):
        raise ValueError(f"{rank} index axes; einsum labels at most {len(_LETTERS)}")
    operands = [array.reshape([array.shape[a] for a in axes])
                for array, axes in zip(arrays, live)]
    spec = ",".join("".join(_LETTERS[a] for a in axes) for axes in live) + "->" + \
        "".join(_LETTERS[a] for a in kept)
    value = np.einsum(spec, *operands, optimize=len(operands) > 1) if operands \
        else np.float64(1.0)
    if scale != 1.0:
        value = value * scale
    shape = [1] * rank
    for position, axis in enumerate(kept):
        shape[axis] = value.shape[position]
    return np.asarray(value).reshape(shape)
