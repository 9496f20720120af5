"""The one agreement rule every comparison uses, written once.

Element by element, `actual` is close to `expected` where both are finite and

    |actual - expected| <= rtol * |expected| + max(atol * scale, floor)

`scale` is the largest finite |reference| (the computed gradient, Hessian or J^T v; for
`--expect`, the witnesses, never the hand-written values), so atol is relative to the size
of what is compared: torch.testing's fixed atol of 1e-7 would let every gradient smaller
than 1e-7 "agree" with anything. `floor` is the round-off of the dtype (`ROUNDOFF_ULPS`
units of its eps): below it two computations of the same number cannot be told apart, and
`Comparison.tiny` says so. `--atol 0` drops the whole absolute term, floor included.
The witnesses (SymPy against autograd), `--expect`, `--v`, `--hessian`, `--check-fd`, the
built-in sum's gradient and the matrix forms all call `compare`. numpy is imported inside
the functions: `--help` stays light.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from gradexplain.ir.values import Values
    from gradexplain.result import Gradient, Tolerance

# Differences below ROUNDOFF_ULPS * eps are round-off, not disagreement: a gradient that is
# 0 in exact arithmetic comes out of a softmax or a cancelling sum as a few eps.
ROUNDOFF_ULPS = 128
EPS = {"float64": 2.220446049250313e-16, "float32": 1.1920928955078125e-07}


def roundoff_floor(dtype: str) -> float:
    """The absolute floor of the rule for values computed in `dtype`."""
    return ROUNDOFF_ULPS * EPS[dtype]


def finite_difference_floor(loss: float, step: float) -> float:
    """Central differences divide L's own round-off by 2*step: that is their floor."""
    return max(roundoff_floor("float64"), ROUNDOFF_ULPS * EPS["float64"] * abs(loss) / step)


@dataclass(frozen=True)
class Comparison:
    """Which elements are close, the largest |actual - expected| among the finite, and the
    scale the absolute term was taken from."""

    close: np.ndarray  # bool per element: finite on both sides and within tolerance
    max_abs_diff: float  # over elements finite on both sides; nan when there is none
    scale: float = 0.0  # largest finite |reference|
    floor: float = 0.0  # the round-off floor used
    size: float = 0.0  # largest finite |value| on either side

    @property
    def agree(self) -> bool:
        return bool(self.close.all())

    @property
    def tiny(self) -> bool:
        """Every element is within round-off of 0 but not all exactly 0: agreeing proves
        little (exact zeros on both sides are exact agreement)."""
        return 0.0 < self.size <= self.floor


def compare(
    actual: np.ndarray,
    expected: np.ndarray,
    tolerance: Tolerance,
    reference: np.ndarray | None = None,
) -> Comparison:
    """Compare per element; NaN and inf are never close, not even inf to inf.

    `reference` (default `expected`) sets the scale of the absolute term.
    """
    import numpy as np

    actual, expected = np.asarray(actual), np.asarray(expected)
    scale = largest_finite(expected if reference is None else reference)
    absolute = max(tolerance.atol * scale, tolerance.floor) if tolerance.atol > 0 else 0.0
    finite = np.isfinite(actual) & np.isfinite(expected)
    with np.errstate(all="ignore"):
        diff = np.abs(actual - expected)
        close = finite & (diff <= absolute + tolerance.rtol * np.abs(expected))
    largest = float(diff[finite].max()) if finite.any() else float("nan")
    return Comparison(
        close,
        largest,
        scale,
        tolerance.floor if tolerance.atol > 0 else 0.0,
        max(scale, largest_finite(actual)),
    )


def same_numbers(
    actual: np.ndarray, expected: np.ndarray, *, undefined_alike: bool = False
) -> bool:
    """Two float64 computations of one quantity by our own code (a matrix form against the
    table's SymPy values) give the same numbers: `compare` at rtol 1e-9 and atol 1e-12,
    over float64's round-off floor. The user's tolerances do not loosen it: it decides
    whether a form is shown, not whether the witnesses agree. `undefined_alike`: two forms
    of one formula may both be nan (or the same inf) at an element, and are alike there."""
    import numpy as np

    from gradexplain.result import Tolerance

    close = compare(actual, expected, Tolerance(1e-9, 1e-12, roundoff_floor("float64"))).close
    if undefined_alike:
        a, e = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            close = close | (np.isnan(a) & np.isnan(e)) | (np.isinf(a) & (a == e))
    return bool(close.all())


def largest_finite(values: np.ndarray) -> float:
    """max |value| over the finite elements; 0 when there is none."""
    import numpy as np

    values = np.abs(np.asarray(values, dtype=np.float64))
    finite = values[np.isfinite(values)]
    return float(finite.max()) if finite.size else 0.0


def tiny_note(what: str, floor: float, dtype: str) -> str:
    """The sentence shown when every element is within round-off of 0."""
    return (
        f"Every element of {what} is within round-off of 0 (|value| <= {floor:.3g} = "
        f"{ROUNDOFF_ULPS} x {dtype} eps), so agreement here only says both are about 0."
    )


def gradient_of(
    value: Values,
    formula: str,
    symbolic_values: np.ndarray,
    autograd_values: np.ndarray,
    tolerance: Tolerance,
    sentence: str,
) -> Gradient:
    """One variable's gradient from both witnesses, compared per element (`compare`)."""
    import numpy as np

    from gradexplain.result import Gradient

    point = np.frombuffer(value.data, dtype=np.float64).reshape(value.shape)
    autograd_values = autograd_values.reshape(value.shape)
    symbolic_values = symbolic_values.reshape(value.shape)
    found = compare(autograd_values, symbolic_values, tolerance)
    return Gradient(
        value.name,
        value.shape,
        point,
        formula,
        symbolic_values,
        autograd_values,
        found.close,
        found.max_abs_diff,
        sentence,
        tiny=found.tiny,
    )
