"""Hand-derived gradients (`--expect x=6,8,20`) checked against both witnesses.

A learner checks a derivation, CI guards a gradient: each expected element must be close
to SymPy's value and to autograd's under the run's tolerances, with the one rule of
`closeness.compare` (atol relative to the computed gradient's largest element). Parsing
and shape checks run before torch is imported, so a mistyped `--expect` is a fast exit 2.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gradexplain.errors import UsageError, ValuesError, not_a_variable
from gradexplain.ir.values import Values, from_numbers, from_spec, from_text

if TYPE_CHECKING:
    import numpy as np

    from gradexplain.result import Explanation, Tolerance


@dataclass(frozen=True)
class Expectation:
    """One variable's expected gradient against what both witnesses computed."""

    name: str
    expected: np.ndarray  # shaped like the variable
    symbolic: np.ndarray
    autograd: np.ndarray
    match: np.ndarray  # bool per element: finite, and close to both witnesses
    max_abs_diff: float  # largest |witness - expected| over finite elements; nan if none

    @property
    def matches(self) -> bool:
        return bool(self.match.all())


def parse_specs(specs: list[str], read_stdin: Callable[[], str]) -> dict[str, Values]:
    """`["x=6,8,20", "b=1"]` to values per variable; `x=@file` and `x=-` work too."""
    expected: dict[str, Values] = {}
    for spec in specs:
        name, has_value, text = spec.partition("=")
        name = name.strip()
        if not has_value or not name.isidentifier():
            raise UsageError(f"--expect needs NAME=VALUES, as in --expect x=6,8,20; got {spec!r}")
        if name in expected:
            raise UsageError(f"--expect {name} is given twice")
        if text == "-":
            text = read_stdin()
            if not text.strip():
                raise UsageError(
                    f"--expect {name}=-: stdin is empty (only one variable or "
                    f"expectation can read stdin)"
                )
            expected[name] = from_text(name, text, origin="<stdin>")
            continue
        try:
            expected[name] = from_spec(name, text, read_stdin)
        except ValuesError as error:  # name the option the user typed, not --NAME
            prefix = f"--{name}:"
            if not error.message.startswith(prefix):
                raise
            raise ValuesError(f"--expect {name}:{error.message[len(prefix) :]}") from None
    return expected


def from_mapping(expect: Mapping[str, object]) -> dict[str, Values]:
    """A cases file's `expect` table: name to a number or a list of numbers."""
    return {name: from_numbers(name, value) for name, value in expect.items()}


def check_shapes(
    expected: Mapping[str, Values], names: list[str], values: Mapping[str, Values]
) -> None:
    """Refuse an unknown variable or a wrong length before anything is computed."""
    for name, given in expected.items():
        if name not in names and name in values:
            raise ValuesError(
                f"--expect {name}: {name} is data (not in --wrt), so it has no gradient to expect"
            )
        if name not in names:
            raise ValuesError(not_a_variable(f"--expect {name}:", name, names))
        if name in values:  # else prepare() reports the missing values
            _check_shape(name, given, values[name].shape)


def _check_shape(name: str, given: Values, shape: tuple[int, ...]) -> None:
    """A scalar or vector is matched by count (`x=6` for a one-element x); a matrix by
    its shape, so rows and columns cannot be swapped unnoticed."""
    from gradexplain.ir.shapes import describe

    if len(shape) == 2 or len(given.shape) == 2:
        if given.shape != shape:
            raise ValuesError(
                f"--expect {name}: shape {describe(given.shape)} given, but "
                f"{name} has shape {describe(shape)}"
            )
        return
    wanted = 1 if shape == () else shape[0]
    if given.size != wanted:
        kind = "is a scalar (one number)" if shape == () else f"has {wanted} values"
        raise ValuesError(
            f"--expect {name}: {given.size} value{'s' * (given.size != 1)} given, but {name} {kind}"
        )


def compare(result: Explanation, expected: Mapping[str, Values]) -> list[Expectation]:
    """Compare each expected gradient with both witnesses, element by element."""
    import numpy as np

    checks = []
    for name, given in expected.items():
        gradient = result.gradients[name]
        wanted = np.frombuffer(given.data, dtype=np.float64).reshape(gradient.shape)
        match, largest = _close(wanted, (gradient.symbolic, gradient.autograd), result.tolerance)
        checks.append(
            Expectation(name, wanted, gradient.symbolic, gradient.autograd, match, largest)
        )
    return checks


def _close(
    expected: np.ndarray, computed: tuple[np.ndarray, ...], tolerance: Tolerance
) -> tuple[np.ndarray, float]:
    """Close to every witness (`closeness.compare`; expected values are always finite).

    The absolute term scales with the computed gradient, never with the hand values: a
    derivation that is off by more than atol times the gradient's size is caught."""
    import numpy as np

    from gradexplain.witnesses import closeness

    match = np.ones(expected.shape, dtype=bool)
    diffs = []
    for values in computed:
        found = closeness.compare(values, expected, tolerance, reference=values)
        match &= found.close
        if not np.isnan(found.max_abs_diff):  # some element finite on both sides
            diffs.append(found.max_abs_diff)
    return match, max(diffs) if diffs else float("nan")


def verdict(checks: list[Expectation]) -> str:
    """One line for the table and Markdown output."""
    wrong = [c for c in checks if not c.matches]
    if not wrong:
        return "The expected gradient matches both witnesses."
    parts = ", ".join(f"dL/d{c.name} ({int((~c.match).sum())} of {c.match.size})" for c in wrong)
    return f"The expected gradient does NOT match: {parts}."


def rows(check: Expectation) -> list[tuple[str, float, float, float, bool]]:
    """(index label, expected, SymPy, autograd, match) per element, row-major: '' for a
    scalar, i for a vector, j,k for a matrix."""
    import numpy as np

    return [
        (
            ",".join(map(str, index)),
            float(check.expected[index]),
            float(check.symbolic[index]),
            float(check.autograd[index]),
            bool(check.match[index]),
        )
        for index in np.ndindex(check.expected.shape)
    ]


def to_json(checks: list[Expectation]) -> dict[str, object]:
    """The `expect` field of the JSON document."""
    import numpy as np

    from gradexplain.output.jsonout import number, numbers

    return {
        "match": all(c.matches for c in checks),
        "gradients": {
            c.name: {
                "expected": numbers(c.expected),
                "match": c.match.tolist(),
                "max_abs_diff": number(c.max_abs_diff),
                "mismatches": np.flatnonzero(~c.match.reshape(-1)).tolist(),  # flat, row-major
            }
            for c in checks
        },
    }
