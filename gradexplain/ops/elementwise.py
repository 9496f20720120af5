"""Elementwise functions: f applied to each element, so d f(u)_i/du_i = f'(u_i).

An entry gives the SymPy form of f (a SymPy function, or a `NamedFunction` kept whole),
its float value for constant folding, its rule in words, and its kinks and poles. The
derivative for `--steps` is SymPy's own derivative of that form, so it is never written
twice.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from gradexplain.ops.base import Hazard, NamedFunction, Op
from gradexplain.tree import Call


@dataclass(frozen=True)
class Elementwise(Op):
    """f(u) element by element: the chain rule multiplies du by f'(u)."""

    sympy: Callable[[Any, Any], Any] = lambda sp, u: u  # (sympy module, u) -> f(u)
    value: Callable[[float], float] = lambda u: u  # f on one float, for folding
    function: NamedFunction | None = None  # the SymPy function kept whole, if ours

    def fold(self, *values: float) -> float:
        return self.value(values[0])

    def element(self, b: Any, node: Call, idx: tuple[Any, ...]) -> Any:
        import sympy as sp

        return self.sympy(sp, b.build(node.args[0], idx))

    def named(self) -> Iterator[NamedFunction]:
        return iter((self.function,) if self.function is not None else ())

    def derivative(self, u: Any) -> Any:
        """f'(u), from SymPy's derivative of the entry's own form."""
        import sympy as sp

        z = sp.Dummy("z", real=True)
        return sp.diff(self.sympy(sp, z), z).xreplace({z: u})

    shaped_steps = True

    def step(self, w: Any, node: Call, idx: tuple[Any, ...],
             depth: int) -> tuple[str, Any, Any]:
        import sympy as sp

        u, du = w.pair(node.args[0], idx, depth)
        return f"chain rule with {self.rule}", self.sympy(sp, u), self.derivative(u) * du


def _zero(values: Any) -> Any:
    return values == 0


def _negative(values: Any) -> Any:
    return values < 0


def _stable_sigmoid(np: Any, u: Any) -> Any:
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(u, dtype=np.float64)))


SIGMOID: NamedFunction = NamedFunction(  # annotated: its derivative refers to itself
    "sigmoid", derivative=lambda sp, u, i: SIGMOID(u) * (1 - SIGMOID(u)),
    numpy=_stable_sigmoid, explicit=lambda sp, u: 1 / (1 + sp.exp(-u)))

RELU = NamedFunction(  # derivative Heaviside(u), with SymPy's H(0) = 1/2
    "relu", derivative=lambda sp, u, i: sp.Heaviside(u),
    numpy=lambda np, u: np.maximum(u, 0.0), explicit=lambda sp, u: sp.Max(u, 0))

SOFTPLUS = NamedFunction(  # log(1 + exp(u)), evaluated without overflow
    "softplus", derivative=lambda sp, u, i: SIGMOID(u),
    numpy=lambda np, u: np.logaddexp(0.0, u), explicit=lambda sp, u: sp.log(1 + sp.exp(u)))


@dataclass(frozen=True)
class _Softplus(Elementwise):
    """torch.nn.functional.softplus: log(1 + exp(u)); torch makes it linear above its
    threshold 20, where sigmoid(u) differs from 1 by less than 3e-9."""

    def torch(self, torch: Any, tensor: Any, node: Call) -> Any:
        return torch.nn.functional.softplus(tensor)


ENTRIES: tuple[Op, ...] = (
    Elementwise("exp", "exp'(u) = exp(u)", sympy=lambda sp, u: sp.exp(u), value=math.exp),
    Elementwise("log", "log'(u) = 1/u", sympy=lambda sp, u: sp.log(u), value=math.log,
                hazards=(Hazard("pole", _zero, "log'(u) = 1/u is infinite at u = 0, where "
                                "log(0) = -inf"),
                         Hazard("domain", _negative, "log of a negative number is not real "
                                "(PyTorch gives nan)"))),
    Elementwise("sqrt", "sqrt'(u) = 1/(2 sqrt(u))", sympy=lambda sp, u: sp.sqrt(u),
                value=math.sqrt,
                hazards=(Hazard("pole", _zero, "sqrt'(u) = 1/(2*sqrt(u)) is infinite at "
                                "u = 0"),
                         Hazard("domain", _negative, "sqrt of a negative number is not "
                                "real (PyTorch gives nan)"))),
    Elementwise("abs", "abs'(u) = sign(u)", sympy=lambda sp, u: sp.Abs(u), value=abs,
                hazards=(Hazard("kink", _zero, "abs has a kink at 0 (slopes -1 and 1), so no "
                                "derivative exists there; PyTorch uses abs'(0) = 0, SymPy "
                                "sign(0) = 0, JAX abs'(0) = 1"),)),
    Elementwise("sin", "sin'(u) = cos(u)", sympy=lambda sp, u: sp.sin(u), value=math.sin),
    Elementwise("cos", "cos'(u) = -sin(u)", sympy=lambda sp, u: sp.cos(u), value=math.cos),
    Elementwise("tan", "tan'(u) = 1 + tan(u)**2", sympy=lambda sp, u: sp.tan(u),
                value=math.tan),
    Elementwise("tanh", "tanh'(u) = 1 - tanh(u)**2", sympy=lambda sp, u: sp.tanh(u),
                value=math.tanh),
    Elementwise("sigmoid", "sigmoid'(u) = sigmoid(u)*(1 - sigmoid(u))",
                sympy=lambda sp, u: SIGMOID(u), function=SIGMOID,
                value=lambda u: 0.5 * (1.0 + math.tanh(0.5 * u))),
    Elementwise("relu", "relu'(u) = 1 for u > 0, 0 for u < 0 (undefined at 0)",
                sympy=lambda sp, u: RELU(u), function=RELU, value=lambda u: max(u, 0.0),
                hazards=(Hazard("kink", _zero, "relu has a kink at 0 (slope 0 on the left, "
                                "1 on the right), so no derivative exists there; PyTorch "
                                "uses relu'(0) = 0, SymPy Heaviside(0) = 1/2"),)),
    _Softplus("softplus", "softplus'(u) = sigmoid(u)", sympy=lambda sp, u: SOFTPLUS(u),
              function=SOFTPLUS, spellings=("functional",),
              value=lambda u: max(u, 0.0) + math.log1p(math.exp(-abs(u)))),
)
