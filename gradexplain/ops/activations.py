"""The activations of torch.nn.functional: softplus, silu, gelu, leaky_relu, elu, selu,
mish, logsigmoid, softsign (hardtanh and relu6 are clamps, in `clamp.py`).

Each is an `Elementwise` entry; one with settings (`beta=`, `negative_slope=`,
`approximate=`...) reads them in its SymPy form, its torch call and its hazards. Where
the function has a kink its entry says so, with each library's choice there.
"""

from __future__ import annotations

import math
from typing import Any

from gradexplain.ops.base import Hazard, Keyword, NamedFunction, Op
from gradexplain.ops.elementwise import ERF, INPLACE, SIGMOID, Elementwise, zero

SOFTPLUS = NamedFunction(  # log(1 + exp(u)), evaluated without overflow
    "softplus",
    derivative=lambda sp, u, i: SIGMOID(u),
    numpy=lambda np, u: np.logaddexp(0.0, u),
    explicit=lambda sp, u: sp.log(1 + sp.exp(u)),
)


def _softplus(sp: Any, u: Any, beta: Any = 1, threshold: Any = 20) -> Any:
    """log(1 + exp(beta u))/beta, and u itself where beta u > threshold, as torch does.

    With the defaults the threshold is left out: above 20, sigmoid(u) differs from 1 by
    less than 3e-9, and the formula reads sigmoid(x_j)."""
    if beta == 1 and threshold == 20:
        return SOFTPLUS(u)
    return sp.Piecewise((u, beta * u > threshold), (SOFTPLUS(beta * u) / beta, True))


def _leaky_derivative(sp: Any, u: Any, slope: Any, argindex: int) -> Any:
    """H(u) + slope H(-u): no cancellation for a large slope; their mean at 0."""
    return sp.Heaviside(u) + slope * sp.Heaviside(-u) if argindex == 1 else sp.Integer(0)


LEAKY_RELU = NamedFunction(
    "leaky_relu",
    derivative=_leaky_derivative,
    nargs=2,
    numpy=lambda np, u, slope: np.where(u > 0, u, slope * u),
    explicit=lambda sp, u, slope: sp.Piecewise((u, u > 0), (slope * u, True)),
)


def _elu_derivative(sp: Any, u: Any, alpha: Any, argindex: int) -> Any:
    return sp.Piecewise((1, u > 0), (alpha * sp.exp(u), True)) if argindex == 1 else sp.Integer(0)


ELU = NamedFunction(
    "elu",
    derivative=_elu_derivative,
    nargs=2,
    numpy=lambda np, u, alpha: np.where(u > 0, u, alpha * np.expm1(np.minimum(u, 0.0))),
    explicit=lambda sp, u, alpha: sp.Piecewise((u, u > 0), (alpha * (sp.exp(u) - 1), True)),
)

# torch.nn.functional.selu's constants (Klambauer et al. 2017), as torch writes them
SELU_ALPHA = "1.6732632423543772848170429916717"
SELU_SCALE = "1.0507009873554804934193349852946"


def _gelu(sp: Any, u: Any, approximate: str = "none") -> Any:
    if approximate == "tanh":
        inner = sp.sqrt(2 / sp.pi) * (u + sp.Rational("0.044715") * u**3)
        return u / 2 * (1 + sp.tanh(inner))
    return u / 2 * (1 + ERF(u / sp.sqrt(2)))


def _gelu_value(u: float, approximate: str = "none") -> float:
    if approximate == "tanh":
        return 0.5 * u * (1 + math.tanh(math.sqrt(2 / math.pi) * (u + 0.044715 * u**3)))
    return 0.5 * u * (1 + math.erf(u / math.sqrt(2)))


def _softplus_value(u: float, beta: float = 1.0, threshold: float = 20.0) -> float:
    if beta * u > threshold:
        return u
    return (max(beta * u, 0.0) + math.log1p(math.exp(-abs(beta * u)))) / beta


def _kink_unless_one(values: Any, setting: float, *rest: Any) -> Any:
    """A kink at 0 only where the slopes differ (leaky_relu's slope, elu's alpha != 1)."""
    return zero(values) & (setting != 1)


def _functional(name: str) -> Any:
    return lambda torch, tensor, *settings: getattr(torch.nn.functional, name)(tensor, *settings)


ENTRIES: tuple[Op, ...] = (
    Elementwise(
        "softplus",
        "",
        sympy=_softplus,
        function=SOFTPLUS,
        value=_softplus_value,
        spellings=("functional",),
        keywords=(
            Keyword("beta", "number", 1.0, nonzero=True),
            Keyword("threshold", "number", 20.0),
        ),
        call=lambda torch, tensor, beta, threshold: torch.nn.functional.softplus(
            tensor, beta=beta, threshold=threshold
        ),
    ),
    Elementwise(
        "silu",
        "",
        sympy=lambda sp, u: u * SIGMOID(u),
        spellings=("functional",),
        value=lambda u: u * 0.5 * (1.0 + math.tanh(0.5 * u)),
        keywords=(INPLACE,),
        call=_functional("silu"),
    ),
    Elementwise(
        "gelu",
        "Phi(u) + u*phi(u), the normal distribution's cdf and density "
        "(approximate='tanh': the derivative of its tanh form)",
        sympy=_gelu,
        value=_gelu_value,
        spellings=("functional",),
        keywords=(Keyword("approximate", "choice", "none", choices=("none", "tanh")),),
        call=lambda torch, tensor, approximate: torch.nn.functional.gelu(
            tensor, approximate=approximate
        ),
    ),
    Elementwise(
        "leaky_relu",
        "1 for u > 0, negative_slope for u < 0 (undefined at 0)",
        sympy=lambda sp, u, slope: LEAKY_RELU(u, slope),
        function=LEAKY_RELU,
        value=lambda u, slope=0.01: u if u > 0 else slope * u,
        spellings=("functional",),
        keywords=(Keyword("negative_slope", "number", 0.01), INPLACE),
        call=lambda torch, tensor, slope: torch.nn.functional.leaky_relu(tensor, slope),
        hazards=(
            Hazard(
                "kink",
                _kink_unless_one,
                "leaky_relu has a kink at 0 (slope "
                "negative_slope on the left, 1 on the right), so no "
                "derivative exists there; PyTorch uses negative_slope at 0, "
                "SymPy Heaviside(0) = 1/2 gives their mean",
            ),
        ),
    ),
    Elementwise(
        "elu",
        "",
        sympy=lambda sp, u, alpha: ELU(u, alpha),
        function=ELU,
        value=lambda u, alpha=1.0: u if u > 0 else alpha * math.expm1(u),
        spellings=("functional",),
        keywords=(Keyword("alpha", "number", 1.0), INPLACE),
        call=lambda torch, tensor, alpha: torch.nn.functional.elu(tensor, alpha),
        hazards=(
            Hazard(
                "kink",
                _kink_unless_one,
                "elu has a kink at 0 when alpha "
                "!= 1 (slope alpha on the left, 1 on the right), so no "
                "derivative exists there; PyTorch uses alpha at 0",
            ),
        ),
    ),
    Elementwise(
        "selu",
        "scale for u > 0, scale*alpha*exp(u) for u < 0",
        sympy=lambda sp, u: sp.Rational(SELU_SCALE) * ELU(u, sp.Rational(SELU_ALPHA)),
        value=lambda u: float(SELU_SCALE) * (u if u > 0 else float(SELU_ALPHA) * math.expm1(u)),
        spellings=("torch", "functional"),
        keywords=(INPLACE,),
        call=lambda torch, tensor: torch.nn.functional.selu(tensor),
        hazards=(
            Hazard(
                "kink",
                zero,
                "selu has a kink at 0 (slope scale*alpha = "
                "1.758 on the left, scale = 1.051 on the right), so no "
                "derivative exists there; PyTorch uses scale*alpha at 0",
            ),
        ),
    ),
    Elementwise(
        "mish",
        "",
        sympy=lambda sp, u: u * sp.tanh(SOFTPLUS(u)),
        value=lambda u: u * math.tanh(_softplus_value(u)),
        spellings=("functional",),
        keywords=(INPLACE,),
        call=_functional("mish"),
    ),
    Elementwise(
        "logsigmoid",
        "that is 1 - sigmoid(u)",
        sympy=lambda sp, u: -SOFTPLUS(-u),
        value=lambda u: -_softplus_value(-u),
        spellings=("functional",),
        call=_functional("logsigmoid"),
    ),
    Elementwise(
        "softsign",
        "that is 1/(abs(u) + 1)**2",
        sympy=lambda sp, u: u / (1 + sp.Abs(u)),
        value=lambda u: u / (1 + abs(u)),
        spellings=("functional",),
        call=_functional("softsign"),
    ),
)
