"""The one closeness rule (`closeness.compare`), element by element, as a table."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from gradexplain.api import tolerance_for
from gradexplain.result import Tolerance
from gradexplain.witnesses.closeness import ROUNDOFF_ULPS, compare, roundoff_floor

INF, NAN = math.inf, math.nan
TIGHT = tolerance_for("float64", None, None)  # float64's defaults, with its round-off floor
NO_ATOL = Tolerance(rtol=1e-7, atol=0.0)
FLOOR = roundoff_floor("float64")


@pytest.mark.parametrize(
    "actual, expected, tolerance, close",
    [
        (1.0, 1.0, TIGHT, True),
        (1.0 + 1e-7, 1.0, TIGHT, True),  # within atol * scale + rtol * |expected| = 2e-7
        (1.0 + 3e-7, 1.0, TIGHT, False),
        (1e6 + 0.19, 1e6, TIGHT, True),  # both terms scale with |expected| = 1e6: 0.2
        (1e6 + 0.21, 1e6, TIGHT, False),
        (1e6, 1e6 + 0.21, TIGHT, False),  # rtol scales with expected, not actual
        (0.0, 0.0, TIGHT, True),
        (-0.0, 0.0, TIGHT, True),
        (5e-324, 0.0, TIGHT, True),  # round-off of 0: the floor covers it
        (FLOOR, 0.0, TIGHT, True),
        (2 * FLOOR, 0.0, TIGHT, False),  # atol no longer makes everything below 1e-7 close
        (1e-8, 0.0, TIGHT, False),
        (2e-8, 4e-8, TIGHT, False),
        (1e-300, 2e-300, TIGHT, True),  # both within round-off of 0
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
    ],
)
def test_one_element(actual: float, expected: float, tolerance: Tolerance, close: bool) -> None:
    found = compare(np.asarray(actual), np.asarray(expected), tolerance)
    assert found.close.shape == ()
    assert bool(found.close) is close
    assert found.agree is close


@pytest.mark.parametrize(
    "actual, expected, max_abs_diff",
    [
        ([1.0, 2.0, 3.0], [1.0, 2.5, 2.0], 1.0),
        ([1.0, NAN, 3.0], [1.0, 2.0, 2.5], 0.5),  # the max skips what is not finite
        ([INF, 2.0], [INF, 2.25], 0.25),
        ([1.0, 1e308], [1.0, -1e308], INF),  # finite on both sides, so counted
        ([[1.0, 2.0], [3.0, 4.0]], [[1.0, 2.0], [3.0, 3.5]], 0.5),
    ],
)
def test_largest_difference_over_elements_finite_on_both_sides(
    actual: list[float], expected: list[float], max_abs_diff: float
) -> None:
    assert compare(np.array(actual), np.array(expected), TIGHT).max_abs_diff == max_abs_diff


@pytest.mark.parametrize(
    "actual, expected",
    [
        ([NAN], [1.0]),
        ([INF, 1.0], [1.0, INF]),
        ([NAN, NAN], [NAN, NAN]),
    ],
)
def test_no_finite_pair_has_nan_for_its_largest_difference(
    actual: list[float], expected: list[float]
) -> None:
    found = compare(np.array(actual), np.array(expected), TIGHT)
    assert math.isnan(found.max_abs_diff) and not found.close.any()


def test_the_mask_keeps_the_shape_and_marks_each_element() -> None:
    found = compare(np.array([[1.0, NAN], [3.0, 4.0]]), np.array([[1.0, 2.0], [3.1, 4.0]]), TIGHT)
    assert found.close.tolist() == [[True, False], [False, True]]
    assert not found.agree


def test_non_finite_values_raise_no_warning() -> None:
    with np.errstate(all="raise"):
        found = compare(np.array([INF, NAN, 1e308]), np.array([INF, 1.0, -1e308]), TIGHT)
    assert not found.close.any()


@pytest.mark.parametrize(
    "actual, expected, close",
    [
        # atol is relative to the largest |reference| element (here 6e-8), not absolute
        ([2e-8, 4e-8, 6e-8], [2e-8, 4e-8, 6e-8], [True, True, True]),
        ([0.0, 0.0, 0.0], [2e-8, 4e-8, 6e-8], [False, False, False]),
        ([2e-8 * (1 + 1e-9), 4e-8, 6e-8], [2e-8, 4e-8, 6e-8], [True, True, True]),
        ([2e-8 * (1 + 1e-5), 4e-8, 6e-8], [2e-8, 4e-8, 6e-8], [False, True, True]),
        # a small element beside a large one is judged against the large one's scale
        ([1e-12, 1.0], [0.0, 1.0], [True, True]),
        ([1e-6, 1.0], [0.0, 1.0], [False, True]),
    ],
)
def test_atol_scales_with_the_largest_element(
    actual: list[float], expected: list[float], close: list[bool]
) -> None:
    assert compare(np.array(actual), np.array(expected), TIGHT).close.tolist() == close


def test_the_reference_sets_the_scale_not_the_hand_values() -> None:
    computed = np.array([2e-8, 4e-8, 6e-8])
    hand = np.array([1.0, 1.0, 1.0])  # a huge wrong expectation cannot widen the tolerance
    assert not compare(computed, hand, TIGHT, reference=computed).close.any()


def test_tiny_says_every_element_is_round_off() -> None:
    assert compare(np.array([1e-17, -2e-17]), np.array([0.0, 3e-17]), TIGHT).tiny
    assert not compare(np.array([2e-8, 4e-8]), np.array([2e-8, 4e-8]), TIGHT).tiny
    assert TIGHT.floor == ROUNDOFF_ULPS * np.finfo(np.float64).eps
    assert tolerance_for("float32", None, None).floor == ROUNDOFF_ULPS * np.finfo(np.float32).eps


def test_atol_zero_drops_the_floor_too() -> None:
    strict = tolerance_for("float64", 0.0, 0.0)
    assert not compare(np.array([1e-20]), np.array([0.0]), strict).agree


def test_same_numbers_is_round_off_whatever_the_run_tolerated() -> None:
    """A matrix form is shown only when it gives the table's numbers to 1e-9."""
    from gradexplain.witnesses.closeness import same_numbers

    assert same_numbers(np.array([1.0, 0.0]), np.array([1.0 + 1e-12, 1e-20]))
    assert not same_numbers(np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-6]))
    assert not same_numbers(np.array([np.nan]), np.array([np.nan]))


ELEMENTWISE = re.compile(r"\b(isclose|allclose|assert_close|assert_allclose)\(")


def test_no_other_module_writes_an_element_wise_closeness_rule() -> None:
    """issue 11: the rule is written once; every comparison calls `closeness`."""
    package = Path(__file__).parent.parent / "gradexplain"
    found = [
        f"{path.relative_to(package)}:{number}"
        for path in sorted(package.rglob("*.py"))
        if path.name != "closeness.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if ELEMENTWISE.search(line)
    ]
    assert found == []


def test_same_numbers_can_take_two_forms_undefined_at_one_element_as_alike() -> None:
    from gradexplain.witnesses.closeness import same_numbers

    nan, inf = float("nan"), float("inf")
    assert same_numbers(np.array([1.0, nan, inf]), np.array([1.0, nan, inf]), undefined_alike=True)
    assert not same_numbers(np.array([nan]), np.array([nan]))
    assert not same_numbers(np.array([inf]), np.array([-inf]), undefined_alike=True)
    assert not same_numbers(np.array([nan]), np.array([1.0]), undefined_alike=True)
