"""The elementwise functions of issue 12, each checked three ways on a scalar, a vector and
a matrix: SymPy against torch autograd at 1e-12, and both against float64 central
differences of a numpy implementation written here (neither SymPy's nor torch's).
Then each function's kinks, jumps and poles: exit 3 with its own reason.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from gradexplain import ExitStatus, explain
from tests.helpers import central_differences

POOLS = {
    "any": [-1.7, -0.35, 0.45, 1.3, 0.8, -0.6],
    "unit": [-0.7, -0.2, 0.35, 0.6, 0.1, -0.45],
    "pos": [0.3, 1.7, 2.5, 0.8, 1.1, 3.2],
    "gt1": [1.2, 1.7, 2.5, 3.3, 1.05, 2.0],
    "noint": [-1.3, 0.2, 0.7, 2.4, -0.6, 1.8],
    "wide": [-1.0, 2.0, 7.0, 5.5, 0.3, 6.5],
    "gtm1": [-0.5, 0.3, 1.7, -0.9, 2.2, 0.05],
}
SHAPES = {"scalar": (), "vector": (4,), "matrix": (2, 3)}

erf = np.vectorize(math.erf)
erfc = np.vectorize(math.erfc)
SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def softplus(u):
    return np.logaddexp(0.0, u)


def gelu_tanh(u):
    return 0.5 * u * (1 + np.tanh(math.sqrt(2 / math.pi) * (u + 0.044715 * u**3)))


UNARY = [
    # (expression in x, numpy f, pool)
    ("torch.sinh(x)", np.sinh, "any"),
    ("x.cosh()", np.cosh, "any"),
    ("torch.asinh(x)", np.arcsinh, "any"),
    ("torch.arccosh(x)", np.arccosh, "gt1"),
    ("x.atanh()", np.arctanh, "unit"),
    ("torch.asin(x)", np.arcsin, "unit"),
    ("x.acos()", np.arccos, "unit"),
    ("atan(x)", np.arctan, "any"),
    ("torch.log2(x)", np.log2, "pos"),
    ("x.log10()", np.log10, "pos"),
    ("torch.special.log1p(x)", np.log1p, "gtm1"),
    ("x.expm1()", np.expm1, "any"),
    ("torch.exp2(x)", np.exp2, "any"),
    ("torch.erf(x)", erf, "any"),
    ("torch.special.erfc(x)", erfc, "any"),
    ("x.square()", np.square, "any"),
    ("torch.rsqrt(x)", lambda u: 1 / np.sqrt(u), "pos"),
    ("x.reciprocal()", lambda u: 1 / u, "any"),
    ("torch.neg(x)", np.negative, "any"),
    ("x.sign() * x", lambda u: np.sign(u) * u, "any"),
    ("torch.floor(x) + x", lambda u: np.floor(u) + u, "noint"),
    ("x.ceil() * x", lambda u: np.ceil(u) * u, "noint"),
    ("torch.round(x) + x**2", lambda u: np.round(u) + u**2, "noint"),
    ("x.trunc() - x", lambda u: np.trunc(u) - u, "noint"),
    ("torch.frac(x)", lambda u: u - np.trunc(u), "noint"),
    ("F.softplus(x)", softplus, "any"),
    (
        "F.softplus(x, beta=2, threshold=1)",
        lambda u: np.where(2 * u > 1, u, softplus(2 * u) / 2),
        "any",
    ),
    ("F.silu(x)", lambda u: u / (1 + np.exp(-u)), "any"),
    ("F.gelu(x)", lambda u: 0.5 * u * (1 + erf(u / math.sqrt(2))), "any"),
    ("F.gelu(x, approximate='tanh')", gelu_tanh, "any"),
    ("F.leaky_relu(x, 0.2)", lambda u: np.where(u > 0, u, 0.2 * u), "any"),
    ("F.elu(x, alpha=1.5)", lambda u: np.where(u > 0, u, 1.5 * np.expm1(u)), "any"),
    ("torch.selu(x)", lambda u: SELU_SCALE * np.where(u > 0, u, SELU_ALPHA * np.expm1(u)), "any"),
    ("F.mish(x)", lambda u: u * np.tanh(softplus(u)), "any"),
    ("F.hardtanh(x, -0.5, 1.0)", lambda u: np.clip(u, -0.5, 1.0), "any"),
    ("F.relu6(x)", lambda u: np.clip(u, 0.0, 6.0), "wide"),
    ("F.logsigmoid(x)", lambda u: -softplus(-u), "any"),
    ("torch.nn.functional.softsign(x)", lambda u: u / (1 + np.abs(u)), "any"),
    ("F.relu(x)", lambda u: np.maximum(u, 0.0), "any"),
    ("torch.special.expit(x)", lambda u: 1 / (1 + np.exp(-u)), "any"),
]

BINARY = [
    # (expression in x and y, numpy f, pool of x, pool of y)
    ("torch.maximum(x, y)", np.maximum, "any", "unit"),
    ("x.minimum(y)", np.minimum, "any", "unit"),
    ("max(x, y)", np.maximum, "any", "unit"),
    ("torch.atan2(x, y)", np.arctan2, "any", "unit"),
    ("torch.hypot(x, y)", np.hypot, "any", "unit"),
    ("torch.fmod(x, y)", np.fmod, "any", "pos"),
    ("x.remainder(y)", np.mod, "any", "pos"),
    ("x % y", np.mod, "any", "pos"),
    ("torch.lerp(x, y, 0.3)", lambda u, v: u + 0.3 * (v - u), "any", "unit"),
    ("torch.lerp(x, 2*x, y)", lambda u, v: u + v * u, "any", "unit"),
    ("torch.xlogy(x, y)", lambda u, v: u * np.log(v), "any", "pos"),
    ("torch.pow(y, x)", lambda u, v: np.power(v, u), "any", "pos"),
    ("y.pow(x)", lambda u, v: np.power(v, u), "any", "pos"),
    (
        "torch.clamp(x, min=-y, max=y + 0.5)",
        lambda u, v: np.minimum(np.maximum(u, -v), v + 0.5),
        "any",
        "unit",
    ),
    ("x.clamp(min=y)", np.maximum, "any", "unit"),
    ("x.clip(max=y)", np.minimum, "any", "unit"),
    ("torch.clamp_min(x, y)", np.maximum, "any", "unit"),
    ("x.clamp_max(y)", np.minimum, "any", "unit"),
]


def _values(pool: str, shape: tuple[int, ...]) -> np.ndarray:
    numbers = np.array(POOLS[pool][1:2] if not shape else POOLS[pool][: math.prod(shape)])
    return numbers.reshape(shape)


def _check(expression: str, arrays: dict[str, np.ndarray], loss) -> None:
    given = {name: (float(a) if a.shape == () else a) for name, a in arrays.items()}
    result = explain(expression, values=given)
    assert result.status is ExitStatus.AGREE, result.verdict()
    assert result.value == pytest.approx(float(np.sum(loss(**arrays))), rel=1e-12, abs=1e-12)
    for name in arrays:
        gradient = result.gradients[name]
        np.testing.assert_allclose(gradient.symbolic, gradient.autograd, rtol=1e-12, atol=1e-12)
        expected = central_differences(lambda **a: float(np.sum(loss(**a))), arrays, name)
        np.testing.assert_allclose(gradient.symbolic, expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("shape", SHAPES, ids=list(SHAPES))
@pytest.mark.parametrize(("expression", "function", "pool"), UNARY, ids=[r[0] for r in UNARY])
def test_unary_function_agrees_three_ways(expression, function, pool, shape):
    _check(expression, {"x": _values(pool, SHAPES[shape])}, lambda x: function(x))


@pytest.mark.parametrize("shape", SHAPES, ids=list(SHAPES))
@pytest.mark.parametrize(
    ("expression", "function", "pool_x", "pool_y"), BINARY, ids=[r[0] for r in BINARY]
)
def test_binary_function_agrees_three_ways(expression, function, pool_x, pool_y, shape):
    arrays = {"x": _values(pool_x, SHAPES[shape]), "y": _values(pool_y, SHAPES[shape])}
    _check(expression, arrays, lambda x, y: function(x, y))


def test_binary_functions_broadcast_as_torch_does():
    arrays = {
        "x": np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]),
        "y": np.array([0.3, 0.1, -0.2]),
    }
    _check(
        "torch.atan2(x, y) * torch.maximum(x, y)",
        arrays,
        lambda x, y: np.arctan2(x, y) * np.maximum(x, y),
    )


SINGULAR = [
    # (expression, values, function named, elements, a fragment of the reason)
    ("torch.acosh(x)", {"x": [1.0, 2.0]}, "acosh", (0,), "infinite at u = 1"),
    ("torch.acosh(x)", {"x": [0.5, 2.0]}, "acosh", (0,), "not real"),
    ("torch.atanh(x)", {"x": [0.5, -1.0]}, "atanh", (1,), "u = -1 and u = 1"),
    ("torch.asin(x)", {"x": [1.0, 0.5]}, "asin", (0,), "ends of its domain"),
    ("torch.acos(x)", {"x": [0.0, 1.5]}, "acos", (1,), "outside [-1, 1]"),
    ("torch.log1p(x)", {"x": [-1.0, 0.5]}, "log1p", (0,), "infinite at u = -1"),
    ("torch.log2(x)", {"x": [0.0, 0.5]}, "log2", (0,), "infinite at u = 0"),
    ("torch.rsqrt(x)", {"x": [0.0, 0.5]}, "rsqrt", (0,), "infinite at u = 0"),
    ("torch.reciprocal(x)", {"x": [0.0, 0.5]}, "reciprocal", (0,), "infinite at u = 0"),
    ("torch.sign(x)", {"x": [0.0, 0.5]}, "sign", (0,), "jumps at 0"),
    ("torch.floor(x)", {"x": [2.0, 0.5]}, "floor", (0,), "derivative is 0"),
    ("torch.ceil(x)", {"x": [0.5, -1.0]}, "ceil", (1,), "jumps at every integer"),
    ("torch.round(x)", {"x": [0.5, 1.0]}, "round", (0,), "half-integer"),
    ("torch.trunc(x)", {"x": [0.0, 3.0]}, "trunc", (1,), "nonzero integer"),
    ("torch.frac(x)", {"x": [0.0, -2.0]}, "frac", (1,), "derivative is 1"),
    ("F.leaky_relu(x, 0.1)", {"x": [0.0, 1.0]}, "leaky_relu", (0,), "negative_slope at 0"),
    ("F.elu(x, alpha=2)", {"x": [0.0, 1.0]}, "elu", (0,), "alpha != 1"),
    ("F.selu(x)", {"x": [1.0, 0.0]}, "selu", (1,), "kink at 0"),
    ("F.hardtanh(x)", {"x": [1.0, 0.0]}, "hardtanh", (0,), "min_val and max_val"),
    ("F.relu6(x)", {"x": [6.0, 0.0, 3.0]}, "relu6", (0, 1), "kinks at 0 and 6"),
    ("torch.maximum(x, y)", {"x": [1.0, 2.0], "y": [1.0, 0.0]}, "maximum", (0,), "half"),
    ("torch.minimum(x, y)", {"x": [1.0, 2.0], "y": [0.0, 2.0]}, "minimum", (1,), "u = v"),
    ("torch.atan2(x, y)", {"x": [0.0, 2.0], "y": [0.0, 1.0]}, "atan2", (0,), "u = v = 0"),
    ("torch.hypot(x, y)", {"x": [0.0, 2.0], "y": [0.0, 1.0]}, "hypot", (0,), "cone point"),
    ("torch.fmod(x, y)", {"x": [4.0, 2.5], "y": [2.0, 1.0]}, "fmod", (0,), "nonzero integer"),
    ("x % y", {"x": [0.0, 2.5], "y": [2.0, 1.0]}, "remainder", (0,), "u/v is an integer"),
    ("torch.xlogy(x, y)", {"x": [1.0, 2.5], "y": [0.0, 1.0]}, "xlogy", (0,), "v = 0"),
    ("x.clamp(min=0)", {"x": [0.0, 2.5]}, "clamp_min", (0,), "kink at u = min"),
    ("torch.clamp(x, -1, 1)", {"x": [1.0, 0.5, -1.0]}, "clamp", (0, 2), "u = -1 and u = 1"),
]


@pytest.mark.parametrize(
    ("expression", "values", "function", "elements", "reason"),
    SINGULAR,
    ids=[f"{r[0]}{r[1]}" for r in SINGULAR],
)
def test_kinks_jumps_and_poles_are_undefined_with_their_reason(
    expression, values, function, elements, reason
):
    result = explain(expression, {k: np.array(v) for k, v in values.items()})
    assert result.status is ExitStatus.UNDEFINED, result.verdict()
    singular = result.singularities[0]
    assert singular.function == function
    assert singular.elements == elements
    assert reason in singular.reason


def test_a_step_function_says_its_derivative_is_zero_between_jumps():
    result = explain("sum(torch.floor(x) * x)", x=[0.5, 1.5])
    assert result.status is ExitStatus.AGREE
    assert result.gradients["x"].formula == "floor(x_j)"


def test_clamp_with_lo_above_hi_gives_hi_everywhere_as_torch_does():
    result = explain("sum(torch.clamp(x, min=y, max=z))", x=[0.0, 3.0], y=[2.0, 2.0], z=[1.0, 1.0])
    assert result.status is ExitStatus.AGREE, result.verdict()
    assert result.value == 2.0
    np.testing.assert_array_equal(result.gradients["x"].autograd, [0.0, 0.0])
    np.testing.assert_array_equal(result.gradients["z"].symbolic, [1.0, 1.0])
    np.testing.assert_array_equal(result.gradients["y"].symbolic, [0.0, 0.0])


@pytest.mark.parametrize(
    "expression",
    [
        # found by the composition test: SymPy rewrote the nested conditions as Or and ITE
        "torch.selu(torch.selu(x))",
        "F.softplus(F.softplus(x, beta=2, threshold=1) * 2, beta=2, threshold=1)",
        # a large slope cancelled to 0 in slope + (1 - slope) H(u)
        "F.leaky_relu(x, 1e300)",
    ],
)
def test_nested_and_extreme_settings_agree(expression):
    result = explain(expression, x=[0.5, -1.0, 2.0])
    assert result.status is ExitStatus.AGREE, result.verdict()
