"""The one closeness rule (`closeness.compare`), element by element, as a table."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gradexplain.closeness import compare
from gradexplain.result import Tolerance

INF, NAN = math.inf, math.nan
TIGHT = Tolerance(rtol=1e-7, atol=1e-7)  # float64's defaults
NO_ATOL = Tolerance(rtol=1e-7, atol=0.0)


@pytest.mark.parametrize("actual, expected, tolerance, close", [
    (1.0, 1.0, TIGHT, True),
    (1.0 + 1e-7, 1.0, TIGHT, True),  # within atol + rtol * |expected| = 2e-7
    (1.0 + 3e-7, 1.0, TIGHT, False),
    (1e6 + 0.09, 1e6, TIGHT, True),  # rtol scales with |expected| = 1e6: 0.1
    (1e6 + 0.11, 1e6, TIGHT, False),
    (1e6, 1e6 + 0.11, TIGHT, False),  # rtol scales with expected, not actual
    (0.0, 0.0, TIGHT, True),
    (-0.0, 0.0, TIGHT, True),
    (5e-324, 0.0, TIGHT, True),  # tiny values: atol covers them
    (1e-300, 2e-300, TIGHT, True),
    (1e-300, 2e-300, NO_ATOL, False),  # without atol, tiny is judged relatively
    (1e-300, 1e-300 * (1 + 1e-8), NO_ATOL, True),
    (1e-8, 0.0, NO_ATOL, False),  # nothing is relatively close to 0 but 0
    (NAN, 1.0, TIGHT, False),
    (1.0, NAN, TIGHT, False),
    (NAN, NAN, TIGHT, False),
    (INF, INF, TIGHT, False),  # inf is never close, not even to inf
    (-INF, -INF, TIGHT, False),
    (INF, -INF, TIGHT, False),
    (INF, 1.0, TIGHT, False),
    (1.0, INF, Tolerance(rtol=1.0, atol=INF), False),
    (1e308, -1e308, Tolerance(rtol=1.0, atol=0.0), False),  # the difference overflows
    (2.0, 1.0, Tolerance(rtol=1.0, atol=0.0), True),  # |2 - 1| <= 1 * |1|: the edge counts
    (3.0, 1.0, Tolerance(rtol=1.0, atol=1.0), True),
    (3.0, 1.0, Tolerance(rtol=0.0, atol=0.0), False),
])
def test_one_element(actual: float, expected: float, tolerance: Tolerance,
                     close: bool) -> None:
    found = compare(np.asarray(actual), np.asarray(expected), tolerance)
    assert found.close.shape == ()
    assert bool(found.close) is close
    assert found.agree is close


@pytest.mark.parametrize("actual, expected, max_abs_diff", [
    ([1.0, 2.0, 3.0], [1.0, 2.5, 2.0], 1.0),
    ([1.0, NAN, 3.0], [1.0, 2.0, 2.5], 0.5),  # the max skips what is not finite
    ([INF, 2.0], [INF, 2.25], 0.25),
    ([1.0, 1e308], [1.0, -1e308], INF),  # finite on both sides, so counted
    ([[1.0, 2.0], [3.0, 4.0]], [[1.0, 2.0], [3.0, 3.5]], 0.5),
])
def test_largest_difference_over_elements_finite_on_both_sides(
        actual: list[float], expected: list[float], max_abs_diff: float) -> None:
    assert compare(np.array(actual), np.array(expected), TIGHT).max_abs_diff == max_abs_diff


@pytest.mark.parametrize("actual, expected", [
    ([NAN], [1.0]), ([INF, 1.0], [1.0, INF]), ([NAN, NAN], [NAN, NAN]),
])
def test_no_finite_pair_has_nan_for_its_largest_difference(
        actual: list[float], expected: list[float]) -> None:
    found = compare(np.array(actual), np.array(expected), TIGHT)
    assert math.isnan(found.max_abs_diff) and not found.close.any()


def test_the_mask_keeps_the_shape_and_marks_each_element() -> None:
    found = compare(np.array([[1.0, NAN], [3.0, 4.0]]), np.array([[1.0, 2.0], [3.1, 4.0]]),
                    TIGHT)
    assert found.close.tolist() == [[True, False], [False, True]]
    assert not found.agree


def test_non_finite_values_raise_no_warning() -> None:
    with np.errstate(all="raise"):
        found = compare(np.array([INF, NAN, 1e308]), np.array([INF, 1.0, -1e308]), TIGHT)
    assert not found.close.any()
