"""clamp(u, lo, hi) with constant bounds: u inside [lo, hi], the nearer bound outside.

The bounds are numbers the parser checked (lo <= hi) and kept as `Num` nodes, so the
derivative is Heaviside(u - lo)*Heaviside(hi - u): 1 inside, 0 outside, a kink at each.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from gradexplain.ops.base import NamedFunction, Op
from gradexplain.tree import Call, Num


def _derivative(sp: Any, u: Any, lo: Any, hi: Any, argindex: int) -> Any:
    if argindex != 1:  # the bounds are constants, never differentiated
        return sp.Integer(0)
    return sp.Heaviside(u - lo) * sp.Heaviside(hi - u)


# With SymPy's H(0) = 1/2 the derivative is 1/2 at either bound, where PyTorch uses 1.
CLAMP = NamedFunction(
    "clamp", derivative=_derivative, nargs=3, numpy=lambda np, u, lo, hi: np.clip(u, lo, hi),
    explicit=lambda sp, u, lo, hi: sp.Min(sp.Max(u, lo), hi),
    evaluate=lambda sp, u, lo, hi: sp.Min(sp.Max(u, lo), hi) if u.is_number else None)


def bounds(node: Call) -> tuple[Num, Num]:
    lo, hi = node.args[1:]
    assert isinstance(lo, Num) and isinstance(hi, Num)
    return lo, hi


@dataclass(frozen=True)
class Clamp(Op):
    signature: str = "clamp"

    def fold(self, *values: float) -> float:
        return min(max(values[0], values[1]), values[2])

    def named(self) -> Iterator[NamedFunction]:
        return iter((CLAMP,))

    def element(self, b: Any, node: Call, idx: tuple[Any, ...]) -> Any:
        lo, hi = (b.number(bound) for bound in bounds(node))
        return CLAMP(b.build(node.args[0], idx), lo, hi)

    def torch(self, torch: Any, tensor: Any, node: Call) -> Any:
        lo, hi = (bound.value for bound in bounds(node))
        return torch.clamp(tensor, lo, hi)

    @property
    def may_fail(self) -> bool:
        return True

    def hazard_masks(self, node: Call, values: Any) -> Iterator[tuple[str, Any]]:
        """Each bound is a kink (torch's slope there: 1)."""
        lo, hi = (bound.value for bound in bounds(node))
        yield "kink", (values == lo) | (values == hi)

    def reason(self, node: Call, kind: str) -> str:
        lo, hi = (bound.text for bound in bounds(node))
        return (f"clamp(u, {lo}, {hi}) has kinks at u = {lo} and u = {hi} (slope 1 "
                f"inside, 0 outside), so no derivative exists there; PyTorch uses "
                f"slope 1 at either bound, SymPy Heaviside(0) = 1/2")

    shaped_steps = True

    def step(self, w: Any, node: Call, idx: tuple[Any, ...],
             depth: int) -> tuple[str, Any, Any]:
        import sympy as sp

        u, du = w.pair(node.args[0], idx, depth)
        lo, hi = (w.builder.number(bound) for bound in bounds(node))
        return f"chain rule with {self.rule}", CLAMP(u, lo, hi), \
            _derivative(sp, u, lo, hi, 1) * du


ENTRIES: tuple[Op, ...] = (
    Clamp("clamp", "clamp'(u) = 1 for lo < u < hi, 0 outside (undefined at lo and hi)"),
)
