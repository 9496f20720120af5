"""`--hessian`: second derivatives from SymPy and from `torch.func.hessian`, compared.

For the few elements MAX_HESSIAN_ELEMENTS allows, the symbolic side is explicit: the
matrix model (`tensorsym`) with its sizes made numbers, its sums expanded, then
`diff(diff(L, a), b)` for each pair of differentiated elements, evaluated by substituting
the values. The autograd side is `torch.func.hessian` of L over the same elements.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp
import torch

from gradexplain import autograd, limits, tensorsym
from gradexplain.deadline import deadline
from gradexplain.result import Tolerance
from gradexplain.shapes import Shape
from gradexplain.symbolic import clamp, relu, sigmoid
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

    @property
    def agree(self) -> bool:
        return bool(self.close.all())


def compute(tree: Node, values: dict[str, Values], node_shapes: dict[int, Shape],
            wrt: list[str], device: torch.device, dtype: str,
            tolerance: Tolerance) -> Hessian:
    """Both Hessians, compared per entry with the gradients' rule."""
    elements = [(name, index) for name in wrt for index in np.ndindex(values[name].shape)]
    labels = tuple(name + (f"[{','.join(map(str, index))}]" if index else "")
                   for name, index in elements)
    with deadline(limits.MAX_SYMBOLIC_SECONDS, "the symbolic Hessian",
                  "MAX_SYMBOLIC_SECONDS"):
        symbolic = _symbolic(tree, values, node_shapes, elements)
    numeric = _autograd(tree, values, wrt, device, dtype)
    finite = np.isfinite(symbolic) & np.isfinite(numeric)
    with np.errstate(all="ignore"):
        diff = np.abs(numeric - symbolic)
    close = finite & (diff <= tolerance.atol + tolerance.rtol * np.abs(symbolic))
    largest = float(diff[finite].max()) if finite.any() else float("nan")
    return Hessian(labels, symbolic, numeric, close, largest)


def _symbolic(tree: Node, values: dict[str, Values], node_shapes: dict[int, Shape],
              elements: list[tuple[str, tuple[int, ...]]]) -> np.ndarray:
    shapes = {name: v.shape for name, v in values.items()}
    model = tensorsym.build(tree, shapes, node_shapes)
    sizes = {s: sp.Integer(int(s.name[1:])) for s in model.loss.free_symbols
             if isinstance(s, sp.Symbol) and s.is_integer and s.is_positive}
    explicit = model.loss.xreplace(sizes).doit()
    symbols = [_element(model.bases[name], index) for name, index in elements]
    point: dict[Any, sp.Expr] = {}
    for name, value in values.items():
        flat = np.frombuffer(value.data, dtype=np.float64).reshape(value.shape)
        for index in np.ndindex(value.shape):
            point[_element(model.bases[name], index)] = sp.Float(float(flat[index]), 17)
    size = len(symbols)
    result = np.empty((size, size))
    for a in range(size):
        first = sp.diff(explicit, symbols[a])
        for b in range(a, size):
            result[a, b] = result[b, a] = _number(sp.diff(first, symbols[b]), point)
    return result


def _element(base: Any, index: tuple[int, ...]) -> Any:
    return base[index] if index else base


def _number(expr: sp.Expr, point: dict[Any, sp.Expr]) -> float:
    """The value at the point; our sigmoid and relu are written out for evalf."""
    concrete = expr.xreplace(point)
    concrete = concrete.replace(sigmoid, lambda u: 1 / (1 + sp.exp(-u)))
    concrete = concrete.replace(relu, lambda u: sp.Max(u, 0))
    concrete = concrete.replace(sp.DiracDelta, lambda *args: sp.nan)  # at a kink: none
    concrete = concrete.replace(clamp, lambda u, lo, hi: sp.Min(sp.Max(u, lo), hi))
    value = complex(concrete.evalf(17))
    return value.real if value.imag == 0 else float("nan")


def _autograd(tree: Node, values: dict[str, Values], wrt: list[str],
              device: torch.device, dtype: str) -> np.ndarray:
    torch_dtype = autograd.DTYPES[dtype]
    leaves = {name: autograd._leaf(v, torch_dtype, device, False) for name, v in values.items()}
    sizes = [values[name].size for name in wrt]

    def loss(flat: torch.Tensor) -> torch.Tensor:
        given = dict(leaves)
        for name, part in zip(wrt, torch.split(flat, sizes)):
            given[name] = part.reshape(values[name].shape)
        builder = autograd._TorchBuilder(given, torch_dtype, device)
        builder.watching = False
        output = builder.build(tree)
        assert isinstance(output, torch.Tensor)
        return output.sum()

    flat = torch.cat([leaves[name].reshape(-1) for name in wrt])
    matrix = torch.func.hessian(loss)(flat)
    return np.asarray(matrix.detach().to("cpu", torch.float64).numpy())
