"""The one closeness rule every comparison uses: torch.testing's, element by element.

`actual` is close to `expected` where both are finite and
`|actual - expected| <= atol + rtol * |expected|`. The witnesses (SymPy against autograd),
`--expect`, `--v`, `--hessian` and `--check-fd` all call `compare`, so they cannot drift
apart. numpy is imported inside the function: this module stays light for `--help`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from gradexplain.result import Gradient, Tolerance
    from gradexplain.values import Values


@dataclass(frozen=True)
class Comparison:
    """Which elements are close, and the largest |actual - expected| among the finite."""

    close: np.ndarray  # bool per element: finite on both sides and within tolerance
    max_abs_diff: float  # over elements finite on both sides; nan when there is none

    @property
    def agree(self) -> bool:
        return bool(self.close.all())


def compare(actual: np.ndarray, expected: np.ndarray, tolerance: Tolerance) -> Comparison:
    """Compare per element; NaN and inf are never close, not even inf to inf."""
    import numpy as np

    actual, expected = np.asarray(actual), np.asarray(expected)
    finite = np.isfinite(actual) & np.isfinite(expected)
    with np.errstate(all="ignore"):
        diff = np.abs(actual - expected)
        close = finite & (diff <= tolerance.atol + tolerance.rtol * np.abs(expected))
    largest = float(diff[finite].max()) if finite.any() else float("nan")
    return Comparison(close, largest)


def gradient_of(value: Values, formula: str, symbolic_values: np.ndarray,
                autograd_values: np.ndarray, tolerance: Tolerance, sentence: str) -> Gradient:
    """One variable's gradient from both witnesses, compared per element (`compare`)."""
    import numpy as np

    from gradexplain.result import Gradient

    point = np.frombuffer(value.data, dtype=np.float64).reshape(value.shape)
    autograd_values = autograd_values.reshape(value.shape)
    symbolic_values = symbolic_values.reshape(value.shape)
    found = compare(autograd_values, symbolic_values, tolerance)
    return Gradient(value.name, value.shape, point, formula, symbolic_values,
                    autograd_values, found.close, found.max_abs_diff, sentence)
