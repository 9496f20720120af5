"""Elementwise functions: f applied to each element, so d f(u)_i/du_i = f'(u_i).

An entry gives the SymPy form of f (a SymPy function, or a `NamedFunction` kept whole),
its float value for constant folding, its rule in words, and its kinks and poles. The
derivative for `--steps` is SymPy's own derivative of that form, so it is never written
twice. An entry with settings (`F.leaky_relu(x, negative_slope=0.2)`) gets them, in its
keywords' order, after u: in its SymPy form, its value, its torch call and its hazards.
The activations of torch.nn.functional are in `activations.py`, functions of two or three
tensors in `pointwise.py`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from gradexplain.ir.tree import Call
from gradexplain.ops.base import Hazard, Keyword, NamedFunction, Op, RuleForm, number, words


@dataclass(frozen=True)
class Elementwise(Op):
    """f(u) element by element: the chain rule multiplies du by f'(u)."""

    sympy: Callable[..., Any] = lambda sp, u: u  # (sympy module, u, *settings) -> f(u)
    value: Callable[..., float] = lambda u: u  # f on one float, for folding
    function: NamedFunction | None = None  # the SymPy function kept whole, if ours
    # the torch call, (torch, tensor, *settings); default torch.NAME(tensor)
    call: Callable[..., Any] | None = None

    def settings(self, node: Call) -> tuple[Any, ...]:
        """The call's settings in the keywords' order (defaults filled in)."""
        return tuple(
            self.setting(node, spec.name) for spec in self.keywords if spec.kind != "false"
        )

    def exact(self, node: Call) -> tuple[Any, ...]:
        """The settings as exact SymPy numbers (0.2 is 1/5), strings as they are."""
        return tuple(
            number(repr(value), value)
            if isinstance(value, (int, float)) and not isinstance(value, bool)
            else value
            for value in self.settings(node)
        )

    def fold(self, *values: float) -> float:
        return self.value(values[0])

    def element(self, b: Any, node: Call, idx: tuple[Any, ...]) -> Any:
        import sympy as sp

        return self.sympy(sp, b.build(node.args[0], idx), *self.exact(node))

    def named(self) -> Iterator[NamedFunction]:
        return iter((self.function,) if self.function is not None else ())

    def torch(self, torch: Any, tensor: Any, node: Call) -> Any:
        if self.call is not None:
            return self.call(torch, tensor, *self.settings(node))
        return getattr(torch, self.name)(tensor)

    def hazard_masks(self, node: Call, values: Any) -> Iterator[tuple[str, Any]]:
        settings = self.settings(node)
        for hazard in self.hazards:
            yield hazard.kind, hazard.where(values, *settings)

    def derivative(self, u: Any, node: Call) -> Any:
        """f'(u), from SymPy's derivative of the entry's own form."""
        import sympy as sp

        z = sp.Dummy("z", real=True)
        return sp.diff(self.sympy(sp, z, *self.exact(node)), z).xreplace({z: u})

    def rule_form(self, node: Call | None = None) -> RuleForm:
        """`f'(u) = ` SymPy's derivative of the entry's form, then the entry's words
        (`relu'(u) = Heaviside(u); 1 for u > 0, ...`). Without a call, a numeric setting
        is its name (`negative_slope*Heaviside(-u)`)."""
        import sympy as sp

        u = sp.Symbol("u", real=True)
        settings = self.exact(node) if node is not None else self._named_settings()
        slope = sp.diff(self.sympy(sp, u, *settings), u)
        return RuleForm("", ((f"{self.name}'(u) = ", slope),), words(self.rule))

    def _named_settings(self) -> tuple[Any, ...]:
        import sympy as sp

        return tuple(
            sp.Symbol(spec.name, positive=True) if spec.kind == "number" else spec.default
            for spec in self.keywords
            if spec.kind != "false"
        )

    def step(self, w: Any, node: Call, idx: tuple[Any, ...], depth: int) -> tuple[str, Any, Any]:
        import sympy as sp

        u, du = w.pair(node.args[0], idx, depth)
        return (
            f"chain rule with {self.printed_rule(w.show, node)}",
            self.sympy(sp, u, *self.exact(node)),
            self.derivative(u, node) * du,
        )


INPLACE = Keyword("inplace", "false", False)  # F.relu(x, inplace=False): accepted, ignored


def zero(values: Any, *settings: Any) -> Any:
    return values == 0


def negative(values: Any, *settings: Any) -> Any:
    return values < 0


def at(point: float) -> Callable[..., Any]:
    return lambda values, *settings: values == point


def below(point: float) -> Callable[..., Any]:
    return lambda values, *settings: values < point


def outside(low: float, high: float) -> Callable[..., Any]:
    return lambda values, *settings: (values < low) | (values > high)


def at_either(low: float, high: float) -> Callable[..., Any]:
    return lambda values, *settings: (values == low) | (values == high)


def pole(where: Callable[..., Any], reason: str) -> Hazard:
    return Hazard("pole", where, reason)


def domain(where: Callable[..., Any], what: str) -> Hazard:
    return Hazard("domain", where, f"{what} is not real (PyTorch gives nan)")


def _stable_sigmoid(np: Any, u: Any) -> Any:
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(u, dtype=np.float64)))


SIGMOID: NamedFunction = NamedFunction(  # annotated: its derivative refers to itself
    "sigmoid",
    derivative=lambda sp, u, i: SIGMOID(u) * (1 - SIGMOID(u)),
    numpy=_stable_sigmoid,
    explicit=lambda sp, u: 1 / (1 + sp.exp(-u)),
)

RELU = NamedFunction(  # derivative Heaviside(u), with SymPy's H(0) = 1/2
    "relu",
    derivative=lambda sp, u, i: sp.Heaviside(u),
    numpy=lambda np, u: np.maximum(u, 0.0),
    explicit=lambda sp, u: sp.Max(u, 0),
)


def _step_function(
    name: str, numpy: Callable[[Any, Any], Any], explicit: Callable[[Any, Any], Any]
) -> NamedFunction:
    """floor, ceil, round, trunc, sign: piecewise constant, derivative 0 between jumps."""
    return NamedFunction(
        name, derivative=lambda sp, u, i: sp.Integer(0), numpy=numpy, explicit=explicit
    )


FLOOR = _step_function("floor", lambda np, u: np.floor(u), lambda sp, u: sp.floor(u))
CEIL = _step_function("ceil", lambda np, u: np.ceil(u), lambda sp, u: sp.ceiling(u))
ROUND = _step_function("round", lambda np, u: np.round(u), lambda sp, u: sp.floor(u + 0.5))
TRUNC = _step_function(
    "trunc", lambda np, u: np.trunc(u), lambda sp, u: sp.sign(u) * sp.floor(sp.Abs(u))
)
SIGN = _step_function("sign", lambda np, u: np.sign(u), lambda sp, u: sp.sign(u))


# numpy has no erf: math.erf on each element (an O(size) loop, no SymPy)
ERF = NamedFunction(
    "erf",
    derivative=lambda sp, u, i: 2 * sp.exp(-(u**2)) / sp.sqrt(sp.pi),
    numpy=lambda np, u: np.vectorize(math.erf, otypes=[float])(u),
    explicit=lambda sp, u: sp.erf(u),
)
ERFC = NamedFunction(
    "erfc",
    derivative=lambda sp, u, i: -2 * sp.exp(-(u**2)) / sp.sqrt(sp.pi),
    numpy=lambda np, u: np.vectorize(math.erfc, otypes=[float])(u),
    explicit=lambda sp, u: sp.erfc(u),
)
# log1p and expm1 kept whole: numpy's log1p(u) keeps the digits that log(1 + u) loses
LOG1P = NamedFunction(
    "log1p",
    derivative=lambda sp, u, i: 1 / (1 + u),
    numpy=lambda np, u: np.log1p(u),
    explicit=lambda sp, u: sp.log(1 + u),
)
EXPM1 = NamedFunction(
    "expm1",
    derivative=lambda sp, u, i: sp.exp(u),
    numpy=lambda np, u: np.expm1(u),
    explicit=lambda sp, u: sp.exp(u) - 1,
)


def _integers(values: Any, *settings: Any) -> Any:
    import numpy as np

    return values == np.round(values)


def _nonzero_integers(values: Any, *settings: Any) -> Any:
    return _integers(values) & (values != 0)


def _half_integers(values: Any, *settings: Any) -> Any:
    import numpy as np

    return values - np.floor(values) == 0.5


def _jump(name: str, where: str) -> Hazard:
    return Hazard(
        "kink",
        _JUMPS[where],
        f"{name} jumps at {where}, so no derivative exists "
        f"there; away from the jumps its derivative is 0 (PyTorch gives 0 "
        f"everywhere)",
    )


_JUMPS: dict[str, Callable[..., Any]] = {
    "every integer": _integers,
    "every nonzero integer": _nonzero_integers,
    "every half-integer (u = k + 0.5)": _half_integers,
    "0": zero,
}


def _log_hazards(name: str, point: float, rule: str) -> tuple[Hazard, ...]:
    return (
        pole(at(point), f"{name}'(u) = {rule} is infinite at u = {point:g}, where {name} is -inf"),
        domain(below(point), f"{name} of a number below {point:g}"),
    )


_ARC = "is infinite at u = -1 and u = 1, the ends of its domain"

MATH: tuple[Op, ...] = (
    Elementwise("exp", "", sympy=lambda sp, u: sp.exp(u), value=math.exp),
    Elementwise(
        "log",
        "",
        sympy=lambda sp, u: sp.log(u),
        value=math.log,
        hazards=(
            Hazard("pole", zero, "log'(u) = 1/u is infinite at u = 0, where log(0) = -inf"),
            Hazard("domain", negative, "log of a negative number is not real (PyTorch gives nan)"),
        ),
    ),
    Elementwise(
        "sqrt",
        "",
        sympy=lambda sp, u: sp.sqrt(u),
        value=math.sqrt,
        hazards=(
            Hazard("pole", zero, "sqrt'(u) = 1/(2*sqrt(u)) is infinite at u = 0"),
            Hazard("domain", negative, "sqrt of a negative number is not real (PyTorch gives nan)"),
        ),
    ),
    Elementwise(
        "abs",
        "",
        sympy=lambda sp, u: sp.Abs(u),
        value=abs,
        aliases=("torch:absolute", "method:absolute"),
        hazards=(
            Hazard(
                "kink",
                zero,
                "abs has a kink at 0 (slopes -1 and 1), so no "
                "derivative exists there; PyTorch uses abs'(0) = 0, SymPy "
                "sign(0) = 0, JAX abs'(0) = 1",
            ),
        ),
    ),
    Elementwise("sin", "", sympy=lambda sp, u: sp.sin(u), value=math.sin),
    Elementwise("cos", "", sympy=lambda sp, u: sp.cos(u), value=math.cos),
    Elementwise("tan", "", sympy=lambda sp, u: sp.tan(u), value=math.tan),
    Elementwise(
        "tanh",
        "",
        sympy=lambda sp, u: sp.tanh(u),
        value=math.tanh,
        spellings=("torch", "method", "functional"),
    ),
    Elementwise(
        "sigmoid",
        "",
        sympy=lambda sp, u: SIGMOID(u),
        function=SIGMOID,
        value=lambda u: 0.5 * (1.0 + math.tanh(0.5 * u)),
        spellings=("torch", "method", "functional"),
        aliases=("special:expit",),
    ),
    Elementwise(
        "relu",
        "1 for u > 0, 0 for u < 0 (undefined at 0)",
        sympy=lambda sp, u: RELU(u),
        function=RELU,
        value=lambda u: max(u, 0.0),
        spellings=("torch", "method", "functional"),
        keywords=(INPLACE,),
        hazards=(
            Hazard(
                "kink",
                zero,
                "relu has a kink at 0 (slope 0 on the left, "
                "1 on the right), so no derivative exists there; PyTorch "
                "uses relu'(0) = 0, SymPy Heaviside(0) = 1/2",
            ),
        ),
    ),
    Elementwise("sinh", "", sympy=lambda sp, u: sp.sinh(u), value=math.sinh),
    Elementwise("cosh", "", sympy=lambda sp, u: sp.cosh(u), value=math.cosh),
    Elementwise(
        "asinh",
        "",
        sympy=lambda sp, u: sp.asinh(u),
        value=math.asinh,
        aliases=("torch:arcsinh", "method:arcsinh"),
    ),
    Elementwise(
        "acosh",
        "",
        sympy=lambda sp, u: sp.acosh(u),
        value=math.acosh,
        aliases=("torch:arccosh", "method:arccosh"),
        hazards=(
            pole(
                at(1.0), "acosh'(u) = 1/sqrt(u**2 - 1) is infinite at u = 1, the end of its domain"
            ),
            domain(below(1.0), "acosh of a number below 1"),
        ),
    ),
    Elementwise(
        "atanh",
        "",
        sympy=lambda sp, u: sp.atanh(u),
        value=math.atanh,
        aliases=("torch:arctanh", "method:arctanh"),
        hazards=(
            pole(
                at_either(-1.0, 1.0),
                "atanh'(u) = 1/(1 - u**2) is infinite "
                "at u = -1 and u = 1, where atanh is -inf and inf",
            ),
            domain(outside(-1.0, 1.0), "atanh of a number outside [-1, 1]"),
        ),
    ),
    Elementwise(
        "asin",
        "",
        sympy=lambda sp, u: sp.asin(u),
        value=math.asin,
        aliases=("torch:arcsin", "method:arcsin"),
        hazards=(
            pole(at_either(-1.0, 1.0), f"asin'(u) = 1/sqrt(1 - u**2) {_ARC}"),
            domain(outside(-1.0, 1.0), "asin of a number outside [-1, 1]"),
        ),
    ),
    Elementwise(
        "acos",
        "",
        sympy=lambda sp, u: sp.acos(u),
        value=math.acos,
        aliases=("torch:arccos", "method:arccos"),
        hazards=(
            pole(at_either(-1.0, 1.0), f"acos'(u) = -1/sqrt(1 - u**2) {_ARC}"),
            domain(outside(-1.0, 1.0), "acos of a number outside [-1, 1]"),
        ),
    ),
    Elementwise(
        "atan",
        "",
        sympy=lambda sp, u: sp.atan(u),
        value=math.atan,
        aliases=("torch:arctan", "method:arctan"),
    ),
    Elementwise(
        "log2",
        "",
        sympy=lambda sp, u: sp.log(u) / sp.log(2),
        value=math.log2,
        hazards=_log_hazards("log2", 0.0, "1/(u log(2))"),
    ),
    Elementwise(
        "log10",
        "",
        sympy=lambda sp, u: sp.log(u) / sp.log(10),
        value=math.log10,
        hazards=_log_hazards("log10", 0.0, "1/(u log(10))"),
    ),
    Elementwise(
        "log1p",
        "",
        sympy=lambda sp, u: LOG1P(u),
        function=LOG1P,
        value=math.log1p,
        spellings=("torch", "method", "special"),
        hazards=_log_hazards("log1p", -1.0, "1/(1 + u)"),
    ),
    Elementwise(
        "expm1",
        "",
        sympy=lambda sp, u: EXPM1(u),
        function=EXPM1,
        value=math.expm1,
        spellings=("torch", "method", "special"),
    ),
    Elementwise(
        "exp2",
        "",
        sympy=lambda sp, u: 2**u,
        value=lambda u: 2.0**u,
        spellings=("torch", "method", "special"),
    ),
    Elementwise(
        "erf",
        "",
        sympy=lambda sp, u: ERF(u),
        function=ERF,
        value=math.erf,
        spellings=("torch", "method", "special"),
    ),
    Elementwise(
        "erfc",
        "",
        sympy=lambda sp, u: ERFC(u),
        function=ERFC,
        value=math.erfc,
        spellings=("torch", "method", "special"),
    ),
    Elementwise("square", "", sympy=lambda sp, u: u**2, value=lambda u: u * u),
    Elementwise(
        "rsqrt",
        "",
        sympy=lambda sp, u: 1 / sp.sqrt(u),
        value=lambda u: 1 / math.sqrt(u),
        hazards=(
            pole(zero, "rsqrt'(u) = -1/(2 u**(3/2)) is infinite at u = 0"),
            domain(negative, "rsqrt of a negative number"),
        ),
    ),
    Elementwise(
        "reciprocal",
        "",
        sympy=lambda sp, u: 1 / u,
        value=lambda u: 1 / u,
        hazards=(pole(zero, "reciprocal'(u) = -1/u**2 is infinite at u = 0"),),
    ),
    Elementwise(
        "neg",
        "",
        sympy=lambda sp, u: -u,
        value=lambda u: -u,
        aliases=("torch:negative", "method:negative"),
    ),
    Elementwise(
        "sign",
        "0 away from 0, where sign jumps (undefined there)",
        sympy=lambda sp, u: SIGN(u),
        function=SIGN,
        value=lambda u: float((u > 0) - (u < 0)),
        hazards=(_jump("sign", "0"),),
    ),
    Elementwise(
        "floor",
        "0 away from the integers, where floor jumps (undefined there)",
        sympy=lambda sp, u: FLOOR(u),
        function=FLOOR,
        value=lambda u: float(math.floor(u)),
        hazards=(_jump("floor", "every integer"),),
    ),
    Elementwise(
        "ceil",
        "0 away from the integers, where ceil jumps (undefined there)",
        sympy=lambda sp, u: CEIL(u),
        function=CEIL,
        value=lambda u: float(math.ceil(u)),
        hazards=(_jump("ceil", "every integer"),),
    ),
    Elementwise(
        "round",
        "0 away from the half-integers, where round jumps (undefined there)",
        sympy=lambda sp, u: ROUND(u),
        function=ROUND,
        value=lambda u: float(round(u)),
        spellings=("torch", "method", "special"),
        hazards=(_jump("round", "every half-integer (u = k + 0.5)"),),
    ),
    Elementwise(
        "trunc",
        "0 away from the nonzero integers, where trunc jumps (undefined there)",
        sympy=lambda sp, u: TRUNC(u),
        function=TRUNC,
        value=lambda u: float(math.trunc(u)),
        aliases=("torch:fix", "method:fix"),
        hazards=(_jump("trunc", "every nonzero integer"),),
    ),
    Elementwise(
        "frac",
        "1 away from the nonzero integers, where frac jumps (undefined there)",
        sympy=lambda sp, u: u - TRUNC(u),
        value=lambda u: u - math.trunc(u),
        hazards=(
            Hazard(
                "kink",
                _nonzero_integers,
                "frac(u) = u - trunc(u) jumps at "
                "every nonzero integer, so no derivative exists there; "
                "away from the jumps its derivative is 1",
            ),
        ),
    ),
)

ENTRIES: tuple[Op, ...] = MATH
