"""The function allowlist as data: name, kind, SymPy builder, torch builder, rule.

Builders receive the module (or namespace) to build with, so this table never imports
SymPy or torch itself: parsing and `--help` stay light.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

Builder = Callable[[Any, Any], Any]


@dataclass(frozen=True)
class FunctionSpec:
    """One allowlisted function of one argument."""

    name: str
    kind: str  # "elementwise", "reduction", "softmax" (along an axis), "extremum", "clamp"
    sympy: Builder  # (namespace with sympy names and ours, argument) -> sympy expr
    torch: Builder  # (torch module, argument tensor) -> tensor
    rule: str  # the derivative rule, in words a learner reads


def _spec(name: str, kind: str, sympy: Builder, torch: Builder, rule: str) -> FunctionSpec:
    return FunctionSpec(name, kind, sympy, torch, rule)


FUNCTIONS: dict[str, FunctionSpec] = {
    spec.name: spec
    for spec in (
        _spec("sum", "reduction", lambda S, u: u, lambda T, u: T.sum(u),
              "sum rule: d/dx_j sum_i y_i = dy_j/dx_j"),
        _spec("mean", "reduction", lambda S, u: u, lambda T, u: T.mean(u),
              "sum rule with a constant factor: d/dx_j (1/n) sum_i y_i = (1/n) dy_j/dx_j"),
        _spec("prod", "reduction", lambda S, u: u, lambda T, u: T.prod(u),
              "product rule: d/dx_j prod_i y_i = (prod_{i!=j} y_i) dy_j/dx_j"),
        _spec("exp", "elementwise", lambda S, u: S.exp(u), lambda T, u: T.exp(u),
              "exp'(u) = exp(u)"),
        _spec("log", "elementwise", lambda S, u: S.log(u), lambda T, u: T.log(u),
              "log'(u) = 1/u"),
        _spec("sqrt", "elementwise", lambda S, u: S.sqrt(u), lambda T, u: T.sqrt(u),
              "sqrt'(u) = 1/(2 sqrt(u))"),
        _spec("abs", "elementwise", lambda S, u: S.Abs(u), lambda T, u: T.abs(u),
              "abs'(u) = sign(u)"),
        _spec("sin", "elementwise", lambda S, u: S.sin(u), lambda T, u: T.sin(u),
              "sin'(u) = cos(u)"),
        _spec("cos", "elementwise", lambda S, u: S.cos(u), lambda T, u: T.cos(u),
              "cos'(u) = -sin(u)"),
        _spec("tan", "elementwise", lambda S, u: S.tan(u), lambda T, u: T.tan(u),
              "tan'(u) = 1 + tan(u)**2"),
        _spec("tanh", "elementwise", lambda S, u: S.tanh(u), lambda T, u: T.tanh(u),
              "tanh'(u) = 1 - tanh(u)**2"),
        _spec("sigmoid", "elementwise", lambda S, u: S.sigmoid(u),
              lambda T, u: T.sigmoid(u), "sigmoid'(u) = sigmoid(u)*(1 - sigmoid(u))"),
        _spec("relu", "elementwise", lambda S, u: S.relu(u), lambda T, u: T.relu(u),
              "relu'(u) = 1 for u > 0, 0 for u < 0 (undefined at 0)"),
        # softmax and log_softmax: the SymPy side is built by the builders themselves,
        # from the generic element and a Sum over the axis (symbolic.py, tensorsym.py).
        _spec("softmax", "softmax", lambda S, u: u, lambda T, u: T.softmax(u, dim=-1),
              "softmax'(u): d s_i/d u_k = s_i*([i == k] - s_k)"),
        _spec("log_softmax", "softmax", lambda S, u: u,
              lambda T, u: T.log_softmax(u, dim=-1),
              "log_softmax'(u): d l_i/d u_k = [i == k] - softmax(u)_k"),
        # max/min over every element: the symbolic side uses is_max/is_min (symbolic.py).
        _spec("max", "extremum", lambda S, u: u, lambda T, u: T.max(u),
              "max rule: d max(u)/du_k = 1 where u_k is largest (split evenly among ties), "
              "0 elsewhere"),
        _spec("min", "extremum", lambda S, u: u, lambda T, u: T.min(u),
              "min rule: d min(u)/du_k = 1 where u_k is smallest (split evenly among ties), "
              "0 elsewhere"),
        # clamp(u, lo, hi) with constant bounds; builders receive the bounds separately.
        _spec("clamp", "clamp", lambda S, u: u, lambda T, u: u,
              "clamp'(u) = 1 for lo < u < hi, 0 outside (undefined at lo and hi)"),
    )
}

SOFTMAXES: frozenset[str] = frozenset({"softmax", "log_softmax"})

# Tensor methods a learner pastes from a notebook: `(x**2).sum()`, `x.exp()`, `x.pow(2)`.
METHODS: frozenset[str] = frozenset(FUNCTIONS) | {"pow"}

# `torch.NAME(...)` spellings accepted; everything else under `torch.` is refused.
TORCH_FUNCTIONS: frozenset[str] = frozenset(FUNCTIONS) | {"pow", "where"}

CONSTANTS: frozenset[str] = frozenset({"pi", "e"})

RESERVED_NAMES: frozenset[str] = METHODS | CONSTANTS | {"torch"}
