"""clamp(u, lo, hi) = min(max(u, lo), hi), its one-sided forms, hardtanh and relu6.

The bounds of clamp are numbers or tensors (`clamp(x, min=0)`, `x.clamp(lo, hi)`), and
when a bound is a tensor its gradient flows to it as in torch. Written with Heaviside
steps, the partials are d/du = H(u - lo) H(hi - u), d/dlo = H(lo - u) H(hi - lo) and
d/dhi = 1 - H(hi - u) H(hi - lo), which also holds when lo > hi (torch then gives hi
everywhere). hardtanh and relu6 clamp between constants of their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gradexplain.ir.tree import Call
from gradexplain.ops.base import Hazard, Keyword, NamedFunction, Op
from gradexplain.ops.elementwise import Elementwise
from gradexplain.ops.pointwise import MAXIMUM, MINIMUM, Pointwise, ties


def _derivative(sp: Any, u: Any, lo: Any, hi: Any, argindex: int) -> Any:
    inside = sp.Heaviside(hi - lo)
    if argindex == 1:
        return sp.Heaviside(u - lo) * sp.Heaviside(hi - u)
    if argindex == 2:
        return sp.Heaviside(lo - u) * inside
    return 1 - sp.Heaviside(hi - u) * inside


def _evaluate(sp: Any, u: Any, lo: Any, hi: Any) -> Any:
    if u.is_comparable and lo.is_comparable and hi.is_comparable:  # relu(2) is, by evalf
        return sp.Min(sp.Max(u, lo), hi)
    return None


# With SymPy's H(0) = 1/2 the derivative is 1/2 at either bound, where PyTorch uses 1.
CLAMP = NamedFunction(
    "clamp",
    derivative=_derivative,
    nargs=3,
    numpy=lambda np, u, lo, hi: np.minimum(np.maximum(u, lo), hi),
    explicit=lambda sp, u, lo, hi: sp.Min(sp.Max(u, lo), hi),
    evaluate=_evaluate,
)


def _at_bounds(u: Any, lo: Any, hi: Any) -> Any:
    return (u == lo) | (u == hi)


@dataclass(frozen=True)
class Clamp(Pointwise):
    """clamp(u, lo, hi): its reason names the bounds as the user wrote them."""

    def reason(self, node: Call, kind: str, args: list[str]) -> str:
        lo, hi = args[1:]
        return (
            f"clamp(u, {lo}, {hi}) has kinks at u = {lo} and u = {hi} (slope 1 "
            f"inside, 0 outside), so no derivative exists there; PyTorch uses slope 1 "
            f"at either bound, SymPy Heaviside(0) = 1/2"
        )


def _one_sided(bound: str) -> str:
    side = "below" if bound == "min" else "above"
    return (
        f"clamp_{bound}(u, {bound}) has a kink at u = {bound} (slope 1 on one side, "
        f"0 where the bound {side} takes over), so no derivative exists there; "
        f"PyTorch passes the gradient to u at the tie"
    )


ENTRIES: tuple[Op, ...] = (
    Clamp(
        "clamp",
        "1 for lo < u < hi, 0 outside (undefined at lo and hi); "
        "a tensor bound gets the gradient where it wins",
        signature="clamp",
        operands=3,
        letters=("u", "lo", "hi"),
        sympy=lambda sp, u, lo, hi: CLAMP(u, lo, hi),
        value=lambda u, lo, hi: min(max(u, lo), hi),
        functions=(CLAMP,),
        aliases=("torch:clip", "method:clip"),
        hazards=(Hazard("kink", _at_bounds, "clamp has kinks at its bounds"),),
    ),
    Pointwise(
        "clamp_min",
        "1 for u > min, 0 below (undefined at min)",
        sympy=lambda sp, u, lo: MAXIMUM(u, lo),
        letters=("u", "min"),
        value=max,
        functions=(MAXIMUM,),
        hazards=(Hazard("kink", ties, _one_sided("min")),),
    ),
    Pointwise(
        "clamp_max",
        "1 for u < max, 0 above (undefined at max)",
        sympy=lambda sp, u, hi: MINIMUM(u, hi),
        letters=("u", "max"),
        value=min,
        functions=(MINIMUM,),
        hazards=(Hazard("kink", ties, _one_sided("max")),),
    ),
    Elementwise(
        "hardtanh",
        "1 for min_val < u < max_val, 0 outside (undefined at both)",
        sympy=lambda sp, u, lo, hi: CLAMP(u, lo, hi),
        value=lambda u, lo=-1.0, hi=1.0: min(max(u, lo), hi),
        spellings=("functional",),
        keywords=(
            Keyword("min_val", "number", -1.0),
            Keyword("max_val", "number", 1.0),
            Keyword("inplace", "false", False),
        ),
        call=lambda torch, tensor, lo, hi: torch.nn.functional.hardtanh(tensor, lo, hi),
        hazards=(
            Hazard(
                "kink",
                _at_bounds,
                "hardtanh has kinks at min_val and "
                "max_val (slope 1 inside, 0 outside), so no derivative "
                "exists there; PyTorch uses slope 0 at either bound, SymPy "
                "Heaviside(0) = 1/2",
            ),
        ),
    ),
    Elementwise(
        "relu6",
        "1 for 0 < u < 6, 0 outside (undefined at 0 and 6)",
        sympy=lambda sp, u: CLAMP(u, 0, 6),
        value=lambda u: min(max(u, 0.0), 6.0),
        spellings=("functional",),
        keywords=(Keyword("inplace", "false", False),),
        call=lambda torch, tensor: torch.nn.functional.relu6(tensor),
        hazards=(
            Hazard(
                "kink",
                lambda u: (u == 0) | (u == 6),
                "relu6 has kinks at 0 "
                "and 6 (slope 1 between, 0 outside), so no derivative "
                "exists there; PyTorch uses slope 0 at both",
            ),
        ),
    ),
)
