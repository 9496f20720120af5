"""`--hessian`: second derivatives from SymPy and from `torch.func.hessian`, compared.

For the few elements MAX_HESSIAN_ELEMENTS allows, the symbolic side is explicit: the
model (`symbolic`) with its sizes made numbers, its sums expanded, then
`diff(diff(L, a), b)` for each pair of differentiated elements, evaluated by substituting
the values. The autograd side is `torch.func.hessian` of L over the same elements.

max/min keep the gradient's rule, max(u) = sum u*is_max(u)/sum is_max(u) with a piecewise
constant indicator, but expanding the sums would lose which elements is_max compares: each
indicator is first spelled out against its competitors (`largest(u_k, u_0, ..., u_n-1)`),
then, being constant near a point without ties, fixed at its value there (1 or 0).
Where the gradient is undefined (a tie, a kink, a pole) no second derivative exists, so
neither Hessian is computed and the reason is said instead.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp
import torch

from gradexplain import autograd, closeness, limits, symbolic
from gradexplain.deadline import deadline
from gradexplain.matfun import write_out
from gradexplain.ops import named_functions
from gradexplain.ops.reductions import IS_MAX, IS_MIN
from gradexplain.result import Singularity, Tolerance
from gradexplain.shapes import Shape
from gradexplain.tree import Node
from gradexplain.values import Values


@dataclass(frozen=True)
class Hessian:
    """d2L/(da db) over the differentiated elements a, b, from both witnesses."""

    labels: tuple[str, ...]  # "w[0]", "W[1,2]", "b"
    symbolic: np.ndarray  # (m, m) float64
    autograd: np.ndarray
    close: np.ndarray  # bool (m, m)
    max_abs_diff: float
    undefined: str | None = None  # why no second derivative exists here; then nothing is compared

    @property
    def agree(self) -> bool:
        return self.undefined is None and bool(self.close.all())


class largest(sp.Function):
    """largest(u, c_0, ..., c_n-1): 1 where u is the largest of the c (u is one of them).

    The explicit form of is_max(u, k) once the sum over k is written out; piecewise
    constant, so every partial derivative is 0 (away from ties, which are refused).
    """

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return sp.Integer(0)


class smallest(sp.Function):
    """smallest(u, c_0, ..., c_n-1): 1 where u is the smallest of the c."""

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return sp.Integer(0)


def compute(tree: Node, values: dict[str, Values], node_shapes: dict[int, Shape],
            wrt: list[str], device: torch.device, dtype: str, tolerance: Tolerance,
            singularities: Sequence[Singularity] = ()) -> Hessian:
    """Both Hessians, compared per entry with the gradients' rule."""
    elements = [(name, index) for name in wrt for index in np.ndindex(values[name].shape)]
    labels = tuple(name + (f"[{','.join(map(str, index))}]" if index else "")
                   for name, index in elements)
    if singularities:
        return _not_compared(labels, singularities)
    with deadline(limits.MAX_SYMBOLIC_SECONDS, "the symbolic Hessian",
                  "MAX_SYMBOLIC_SECONDS"):
        symbolic = _symbolic(tree, values, node_shapes, elements)
    numeric = _autograd(tree, values, wrt, device, dtype)
    found = closeness.compare(numeric, symbolic, tolerance)
    return Hessian(labels, symbolic, numeric, found.close, found.max_abs_diff)


def _symbolic(tree: Node, values: dict[str, Values], node_shapes: dict[int, Shape],
              elements: list[tuple[str, tuple[int, ...]]]) -> np.ndarray:
    shapes = {name: v.shape for name, v in values.items()}
    model = symbolic.build(tree, shapes, node_shapes)
    symbols = [_element(model.bases[name], index) for name, index in elements]
    point = _point(model.bases, values)
    explicit = _explicit(model, point, set(symbols))
    size = len(symbols)
    result = np.empty((size, size))
    for a in range(size):
        first = sp.diff(explicit, symbols[a])
        for b in range(a, size):
            result[a, b] = result[b, a] = _number(sp.diff(first, symbols[b]), point)
    return result


def _point(bases: dict[str, Any], values: dict[str, Values]) -> dict[Any, sp.Expr]:
    """Every element's value as a 17-digit SymPy Float, by its symbol."""
    point: dict[Any, sp.Expr] = {}
    for name, value in values.items():
        flat = np.frombuffer(value.data, dtype=np.float64).reshape(value.shape)
        for index in np.ndindex(value.shape):
            point[_element(bases[name], index)] = sp.Float(float(flat[index]), 17)
    return point


def _explicit(model: symbolic.Model, point: dict[Any, sp.Expr],
              differentiated: set[Any]) -> sp.Expr:
    """L with its sizes made numbers and its sums expanded; what is constant near the
    point is a number already (data, and max/min's indicators), so diff has less to do."""
    sizes = {s: sp.Integer(int(s.name[1:])) for s in model.loss.free_symbols
             if isinstance(s, sp.Symbol) and s.is_integer and s.is_positive}
    explicit = write_out(_spell_extrema(model.loss.xreplace(sizes), model.sizes).doit())
    explicit = _freeze_extrema(explicit, point)
    return explicit.xreplace({s: v for s, v in point.items() if s not in differentiated})


def _spell_extrema(loss: sp.Expr, sizes: dict[sp.Symbol, int]) -> sp.Expr:
    """is_max(u, k) -> largest(u, u at k=0, ..., u at k=n-1), before the sums are expanded.

    After `.doit()` is_max(x[1], 1) could no longer say which elements it is compared with.
    Along a dim (`is_max(X[i, m], m)`) the competitors keep i, which the outer sum fills.
    """
    def spell(expr: sp.Expr) -> sp.Expr:
        arg, over = expr.args[0], expr.args[1:]
        ranges = itertools.product(*(range(sizes[index]) for index in over))
        rivals = [arg.xreplace(dict(zip(over, map(sp.Integer, at)))) for at in ranges]
        return (largest if isinstance(expr, IS_MAX.cls) else smallest)(arg, *rivals)

    return loss.replace(lambda e: isinstance(e, (IS_MAX.cls, IS_MIN.cls)) and len(e.args) > 1,
                        spell)


def _freeze_extrema(expr: sp.Expr, point: dict[Any, sp.Expr]) -> sp.Expr:
    """largest/smallest -> 1 or 0, their value at the point.

    This is the is_max rule, d is_max/du = 0: away from ties (refused before, as kinks)
    the indicator is constant near the point, so it may be fixed before differentiating.
    """
    def value(indicator: sp.Expr) -> sp.Expr:
        u, *rivals = (arg.xreplace(point).evalf(17) for arg in indicator.args)
        if isinstance(indicator, largest):
            return sp.Integer(int(bool(u >= max(rivals))))
        return sp.Integer(int(bool(u <= min(rivals))))

    return expr.replace(lambda e: isinstance(e, (largest, smallest)), value)


def _not_compared(labels: tuple[str, ...], singularities: Sequence[Singularity]) -> Hessian:
    """No Hessian where the gradient itself is undefined: say so, compare nothing."""
    where = {"kink": "at a kink", "pole": "at a pole", "domain": "outside the domain"}
    causes = "; ".join(f"{where.get(s.kind, s.kind)} of {s.function} at column {s.column + 1}"
                       for s in singularities)
    size = len(labels)
    empty = np.full((size, size), np.nan)
    reason = f"Hessian not compared: second derivatives do not exist {causes}"
    return Hessian(labels, empty, empty.copy(), np.zeros((size, size), dtype=bool),
                   float("nan"), reason)


def _element(base: Any, index: tuple[int, ...]) -> Any:
    return base[index] if index else base


def _number(expr: sp.Expr, point: dict[Any, sp.Expr]) -> float:
    """The value at the point; the functions we keep whole (sigmoid, relu, clamp...) are
    written out in SymPy's own, for evalf."""
    concrete = expr.xreplace(point)
    concrete = concrete.replace(sp.DiracDelta, lambda *args: sp.nan)  # at a kink: none
    for named in named_functions():
        if named.explicit is not None:
            concrete = concrete.replace(
                named.cls, (lambda f: lambda *args: f(sp, *args))(named.explicit))
    value = complex(concrete.evalf(17))
    return value.real if value.imag == 0 else float("nan")


def _autograd(tree: Node, values: dict[str, Values], wrt: list[str],
              device: torch.device, dtype: str) -> np.ndarray:
    torch_dtype = autograd.DTYPES[dtype]
    leaves = {name: autograd.leaf(v, torch_dtype, device, False) for name, v in values.items()}
    sizes = [values[name].size for name in wrt]

    def loss(flat: torch.Tensor) -> torch.Tensor:
        given = dict(leaves)
        for name, part in zip(wrt, torch.split(flat, sizes)):
            given[name] = part.reshape(values[name].shape)
        builder = autograd.TorchBuilder(given, torch_dtype, device)
        builder.watching = False
        output = builder.build(tree)
        assert isinstance(output, torch.Tensor)
        return output.sum()

    flat = torch.cat([leaves[name].reshape(-1) for name in wrt])
    matrix = torch.func.hessian(loss)(flat)
    return np.asarray(matrix.detach().to("cpu", torch.float64).numpy())
