"""Why a gradient element is not finite, when no kink, pole or domain hazard explains it.

Non-finite values are never agreement (`closeness.compare`), and the run is UNDEFINED
(exit 3, `status.exit_status`). This module names the cause, so `sum(exp(x))` at 1000 says
"overflow" rather than "DIFFERS, largest difference 0": both witnesses give inf, or one
witness overflows in an intermediate value while the other stays finite, or both give NaN.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from gradexplain.result import NonFinite

if TYPE_CHECKING:
    import numpy as np

    from gradexplain.result import Gradient, Singularity

# float64's and float32's largest finite numbers, as the sentences quote them
LARGEST = {"float64": "1.8e308", "float32": "3.4e38"}


def causes(gradient: Gradient, dtype: str, explained: set[int] | None) -> list[NonFinite]:
    """The non-finite elements of `gradient` that no hazard explains (`explained`: flat
    indices a kink or pole already names; None: all of them), grouped by cause."""
    import numpy as np

    if explained is None:
        return []
    symbolic = np.asarray(gradient.symbolic, dtype=np.float64).reshape(-1)
    autograd = np.asarray(gradient.autograd, dtype=np.float64).reshape(-1)
    groups: dict[tuple[str, str], list[int]] = {}
    for flat in np.flatnonzero(~(np.isfinite(symbolic) & np.isfinite(autograd))):
        if int(flat) in explained:
            continue
        key = _cause(float(symbolic[flat]), float(autograd[flat]), dtype)
        groups.setdefault(key, []).append(int(flat))
    return [
        NonFinite(gradient.name, kind, reason, tuple(found), gradient.shape)
        for (kind, reason), found in groups.items()
    ]


def _cause(symbolic: float, autograd: float, dtype: str) -> tuple[str, str]:
    import math

    if math.isinf(symbolic) and math.isinf(autograd):
        return "overflow", (
            f"overflow: both witnesses give {_word(autograd)}, a gradient "
            f"beyond {dtype}'s largest number ({LARGEST[dtype]})"
        )
    if math.isnan(symbolic) and math.isnan(autograd):
        return "nan", (
            "NaN: both witnesses give nan, from an undefined intermediate such "
            "as inf - inf, 0*inf or 0/0 (often after an overflow)"
        )
    if math.isfinite(autograd):
        return "overflow", (
            f"overflow in SymPy's formula: an intermediate value (such as "
            f"exp of a large number) exceeds float64's range, so the formula "
            f"gives {_word(symbolic)} where autograd's value is finite"
        )
    if math.isfinite(symbolic):
        return "overflow", (
            f"overflow in autograd's {dtype} computation: an intermediate "
            f"value exceeds {LARGEST[dtype]}, so it gives {_word(autograd)} "
            f"where SymPy's formula is finite"
        )
    return "overflow", (
        f"overflow: SymPy's formula gives {_word(symbolic)} and autograd {_word(autograd)}"
    )


def _word(value: float) -> str:
    return "nan" if value != value else ("inf" if value > 0 else "-inf")


def explained(singularities: Sequence[Singularity]) -> set[int] | None:
    """Element indices a kink, pole or domain hazard already names; None: every element."""
    found: set[int] = set()
    for item in singularities:
        if item.elements is None:
            return None
        found.update(item.elements)
    return found


def finite_mask(gradient: Gradient) -> np.ndarray:
    """True where both witnesses are finite."""
    import numpy as np

    return np.isfinite(gradient.symbolic) & np.isfinite(gradient.autograd)  # type: ignore[no-any-return]
