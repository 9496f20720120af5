"""Elementwise functions of two or three tensors: maximum, minimum, atan2, hypot, fmod,
remainder (Python's %), lerp, xlogy, where; clamp with tensor bounds is one too (`clamp.py`).

The operands broadcast as PyTorch's do; the SymPy form takes each operand's element at
its aligned indices, and the chain rule adds one term per operand: d f(u, v) =
f_u du + f_v dv, each partial from SymPy's derivative of the entry's own form. A hazard's
`where` takes every operand's values.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from gradexplain.ir.axes import Shape, broadcast
from gradexplain.ir.tree import Call, Compare, Node
from gradexplain.ops.base import Hazard, NamedFunction, Op, RuleForm, words


@dataclass(frozen=True)
class Pointwise(Op):
    """f(u, v, ...) element by element, with broadcasting."""

    operands: int = 2
    sympy: Callable[..., Any] = lambda sp, u, v: u  # (sympy, u, v, ...) -> f
    value: Callable[..., float] = lambda u, v: u  # f on floats, for folding
    functions: tuple[NamedFunction, ...] = ()  # SymPy functions it keeps whole
    letters: tuple[str, ...] = ("u", "v")  # its operands' names in the printed rule

    def fold(self, *values: float) -> float:
        return self.value(*values)

    def shape(self, node: Call, parts: list[Shape], text: str) -> Shape:
        return broadcast(node, parts, text)

    def element(self, b: Any, node: Call, idx: tuple[Any, ...]) -> Any:
        import sympy as sp

        return self.sympy(sp, *(b.build(arg, b.align(arg, idx)) for arg in node.args))

    def named(self) -> Iterator[NamedFunction]:
        return iter(self.functions)

    def apply(self, torch: Any, tensors: list[Any], node: Call) -> Any:
        return getattr(torch, self.name)(*tensors)

    def masks(self, node: Call, values: list[Any]) -> Iterator[tuple[str, Any]]:
        return _masks(self.hazards, values)

    def step(self, w: Any, node: Call, idx: tuple[Any, ...], depth: int) -> tuple[str, Any, Any]:
        """d f = sum over the operands of f's partial derivative times d operand."""
        import sympy as sp

        pairs = [w.pair(arg, w.builder.align(arg, idx), depth) for arg in node.args]
        points = [sp.Dummy(f"z{number}", real=True) for number in range(len(pairs))]
        form = self.sympy(sp, *points)
        at = dict(zip(points, (value for value, _ in pairs)))
        derivative = sp.Add(
            *(
                sp.diff(form, point).xreplace(at) * change
                for point, (_, change) in zip(points, pairs)
            )
        )
        return (
            f"chain rule with {self.printed_rule(w.show, node)}",
            self.sympy(sp, *at.values()),
            derivative,
        )

    def rule_form(self, node: Call | None = None) -> RuleForm:
        """`f(u, v): d/du = ..., d/dv = ...`, each partial SymPy's derivative of the
        entry's form; then the entry's words."""
        import sympy as sp

        points = [sp.Symbol(letter, real=True) for letter in self.letters]
        form = self.sympy(sp, *points)
        return RuleForm(
            f"{self.name}({', '.join(self.letters)}): ",
            tuple((f"d/d{p} = ", sp.diff(form, p)) for p in points),
            words(self.rule),
        )


def _masks(hazards: tuple[Hazard, ...], values: list[Any]) -> Iterator[tuple[str, Any]]:
    """Each hazard's mask over every operand's values, broadcast together."""
    import numpy as np

    arrays = np.broadcast_arrays(*values)
    for hazard in hazards:
        yield hazard.kind, hazard.where(*arrays)


def _comparison(node: Call) -> Compare:
    compare = node.args[0]
    assert isinstance(compare, Compare)
    return compare


@dataclass(frozen=True)
class Where(Op):
    """where(cond, a, b): a where cond holds, else b. cond is one comparison; it only picks
    the branch (piecewise constant), so d where = where(cond, da, db); its boundary, where
    its two sides are equal and it flips, counts as a kink (the branches' slopes there are
    not compared)."""

    signature: str = "condition"  # the comparison is read by `calls.CallReader.condition`
    spellings: tuple[str, ...] = ("torch",)
    operands: int = 2  # the branches; the condition is written before them
    written: tuple[tuple[str, ...], str] = (("cond",), "")
    compared: int = 2  # torch_args: the comparison's two sides, then the branches
    hazards: tuple[Hazard, ...] = (
        Hazard("kink", lambda left, right, *branches: left == right, ""),
    )

    def shape(self, node: Call, parts: list[Shape], text: str) -> Shape:
        return broadcast(node, parts, text)

    def element(self, b: Any, node: Call, idx: tuple[Any, ...]) -> Any:
        import sympy as sp

        compare, if_true, if_false = node.args
        chosen = b.build(if_true, b.align(if_true, idx))
        return sp.Piecewise(
            (chosen, b.build(compare, b.align(compare, idx))),
            (b.build(if_false, b.align(if_false, idx)), True),
        )

    def torch_args(self, node: Call) -> tuple[Node, ...]:
        compare = _comparison(node)
        return compare.left, compare.right, *node.args[1:]

    def apply(self, torch: Any, tensors: list[Any], node: Call) -> Any:
        left, right, if_true, if_false = tensors
        return torch.where(_comparison(node).holds(left, right), if_true, if_false)

    def masks(self, node: Call, values: list[Any]) -> Iterator[tuple[str, Any]]:
        return _masks(self.hazards, values)

    def reason(self, node: Call, kind: str, args: list[str]) -> str:
        holds = _comparison(node).op in ("==", "<=", ">=")
        return (
            f"where() switches branches where the two sides of {args[0]} are equal; a "
            f"derivative exists there only if both branches meet with the same value and "
            f"slope, which is not checked, so the point counts as a kink; PyTorch takes the "
            f"branch that the comparison picks ({args[0]} is {str(holds).lower()} there: the "
            f"derivative of {args[1 if holds else 2]}), as does SymPy's Piecewise"
        )

    def step(self, w: Any, node: Call, idx: tuple[Any, ...], depth: int) -> tuple[str, Any, Any]:
        import sympy as sp

        compare, if_true, if_false = node.args
        condition = w.builder.build(compare, w.builder.align(compare, idx))
        u, du = w.pair(if_true, w.builder.align(if_true, idx), depth)
        v, dv = w.pair(if_false, w.builder.align(if_false, idx), depth)
        return (
            f"where: {self.rule}",
            sp.Piecewise((u, condition), (v, True)),
            sp.Piecewise((du, condition), (dv, True)),
        )

    def graph_rule(self, node: Call) -> str:
        return "where: the gradient flows to the chosen branch"


def _heaviside_pair(sign: int) -> Callable[..., Any]:
    def derivative(sp: Any, u: Any, v: Any, argindex: int) -> Any:
        first = sign * (u - v) if argindex == 1 else sign * (v - u)
        return sp.Heaviside(first)

    return derivative


MAXIMUM = NamedFunction(
    "maximum",
    derivative=_heaviside_pair(1),
    nargs=2,
    numpy=lambda np, u, v: np.maximum(u, v),
    explicit=lambda sp, u, v: sp.Max(u, v),
)
MINIMUM = NamedFunction(
    "minimum",
    derivative=_heaviside_pair(-1),
    nargs=2,
    numpy=lambda np, u, v: np.minimum(u, v),
    explicit=lambda sp, u, v: sp.Min(u, v),
)


def _quotient(rounding: str) -> NamedFunction:
    """trunc(u/v) for fmod, floor(u/v) for remainder: piecewise constant, derivative 0."""
    numpy = (
        (lambda np, u, v: np.trunc(u / v))
        if rounding == "trunc"
        else (lambda np, u, v: np.floor(u / v))
    )
    explicit = (
        (lambda sp, u, v: sp.sign(u / v) * sp.floor(sp.Abs(u / v)))
        if rounding == "trunc"
        else (lambda sp, u, v: sp.floor(u / v))
    )
    return NamedFunction(
        f"{rounding}_div",
        derivative=lambda sp, u, v, i: sp.Integer(0),
        nargs=2,
        numpy=numpy,
        explicit=explicit,
    )


TRUNC_DIV, FLOOR_DIV = _quotient("trunc"), _quotient("floor")


def _xlogy_derivative(sp: Any, u: Any, v: Any, argindex: int) -> Any:
    return sp.log(v) if argindex == 1 else u / v


XLOGY = NamedFunction(
    "xlogy",
    derivative=_xlogy_derivative,
    nargs=2,
    numpy=lambda np, u, v: np.where(u == 0, 0.0, u * np.log(np.where(u == 0, 1.0, v))),
    explicit=lambda sp, u, v: u * sp.log(v),
)


def ties(u: Any, v: Any) -> Any:
    return u == v


def _zero_divisor(u: Any, v: Any) -> Any:
    return v == 0


def _negative_divisor(u: Any, v: Any) -> Any:
    return v < 0


def _origin(u: Any, v: Any) -> Any:
    return (u == 0) & (v == 0)


def _quotient_jumps(nonzero: bool) -> Callable[..., Any]:
    """Where u/v is an integer (a nonzero one for fmod, whose trunc is flat at 0), or
    v = 0."""

    def where(u: Any, v: Any) -> Any:
        import numpy as np

        with np.errstate(all="ignore"):
            ratio = u / v
        jump = (ratio == np.round(ratio)) & (ratio != 0 if nonzero else True)
        return jump | (v == 0)

    return where


def _tie_words(name: str, larger: str) -> str:
    return (
        f"{name}(u, v) has a kink where u = v (the {larger} of the two passes the "
        f"gradient, and which one that is changes there), so no derivative exists; "
        f"PyTorch gives each of u and v half the gradient at a tie, as does SymPy's "
        f"Heaviside(0) = 1/2"
    )


def _fmod_value(u: float, v: float) -> float:
    return math.fmod(u, v)


def _remainder_value(u: float, v: float) -> float:
    return u - v * math.floor(u / v)


ENTRIES: tuple[Op, ...] = (
    Pointwise(
        "maximum",
        "1 for the larger of u and v, 0 for the other",
        sympy=lambda sp, u, v: MAXIMUM(u, v),
        value=max,
        functions=(MAXIMUM,),
        hazards=(Hazard("kink", ties, _tie_words("maximum", "larger")),),
    ),
    Pointwise(
        "minimum",
        "1 for the smaller of u and v, 0 for the other",
        sympy=lambda sp, u, v: MINIMUM(u, v),
        value=min,
        functions=(MINIMUM,),
        hazards=(Hazard("kink", ties, _tie_words("minimum", "smaller")),),
    ),
    Pointwise(
        "atan2",
        "",
        sympy=lambda sp, u, v: sp.atan2(u, v),
        value=math.atan2,
        aliases=("torch:arctan2", "method:arctan2"),
        hazards=(
            Hazard(
                "pole",
                _origin,
                "atan2(u, v) has no derivative at u = v = 0: "
                "its partials u/(u**2 + v**2) and v/(u**2 + v**2) are 0/0 "
                "there",
            ),
        ),
    ),
    Pointwise(
        "hypot",
        "hypot(u, v) = sqrt(u**2 + v**2)",
        sympy=lambda sp, u, v: sp.sqrt(u**2 + v**2),
        value=math.hypot,
        hazards=(
            Hazard(
                "kink",
                _origin,
                "hypot(u, v) = sqrt(u**2 + v**2) has a cone "
                "point at u = v = 0, so no derivative exists there (its "
                "partials are 0/0; PyTorch gives 0)",
            ),
        ),
    ),
    Pointwise(
        "fmod",
        "fmod(u, v) = u - v*trunc(u/v)",
        sympy=lambda sp, u, v: u - v * TRUNC_DIV(u, v),
        value=_fmod_value,
        functions=(TRUNC_DIV,),
        hazards=(
            Hazard(
                "kink",
                _quotient_jumps(True),
                "fmod(u, v) jumps where u/v is "
                "a nonzero integer, and is undefined at v = 0, so no "
                "derivative exists there; between jumps d/du = 1 and d/dv = "
                "-trunc(u/v)",
            ),
        ),
    ),
    Pointwise(
        "remainder",
        "remainder(u, v) = u - v*floor(u/v) (Python's %)",
        sympy=lambda sp, u, v: u - v * FLOOR_DIV(u, v),
        value=_remainder_value,
        functions=(FLOOR_DIV,),
        hazards=(
            Hazard(
                "kink",
                _quotient_jumps(False),
                "remainder(u, v) (u % v) "
                "jumps where u/v is an integer, and is undefined at v = 0, so "
                "no derivative exists there; between jumps d/du = 1 and d/dv "
                "= -floor(u/v)",
            ),
        ),
    ),
    Pointwise(
        "lerp",
        "lerp(a, b, w) = a + w*(b - a)",
        operands=3,
        letters=("a", "b", "w"),
        sympy=lambda sp, a, b, w: a + w * (b - a),
        value=lambda a, b, w: a + w * (b - a),
    ),
    Pointwise(
        "xlogy",
        "xlogy(u, v) = u*log(v) (0 where u = 0)",
        sympy=lambda sp, u, v: XLOGY(u, v),
        functions=(XLOGY,),
        value=lambda u, v: 0.0 if u == 0 else u * math.log(v),
        spellings=("torch", "method", "special"),
        hazards=(
            Hazard(
                "pole",
                _zero_divisor,
                "xlogy(u, v)'s derivative u/v in v (and log(v) in u) is infinite at v = 0",
            ),
            Hazard(
                "domain",
                _negative_divisor,
                "xlogy(u, v) = u log(v) needs "
                "v > 0: log of a negative number is not real (PyTorch gives "
                "nan)",
            ),
        ),
    ),
    Where("where", "the derivative of the branch it takes"),
)
