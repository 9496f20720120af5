"""The one place that decides the exit status (`errors.exit_status`), as tables."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from gradexplain.errors import (
    DeviceError,
    ExitStatus,
    ExpressionError,
    GradexplainError,
    LimitError,
    SymbolicTimeout,
    UsageError,
    ValuesError,
)
from gradexplain.ir.program import build
from gradexplain.ir.values import from_text
from gradexplain.result import Decomposition, Explanation, Gradient, Singularity, Tolerance
from gradexplain.status import exit_status, worst_status
from gradexplain.witnesses.expect import Expectation

AGREE, DISAGREE = ExitStatus.AGREE, ExitStatus.DISAGREE
INVALID, UNDEFINED, INTERNAL = ExitStatus.INVALID, ExitStatus.UNDEFINED, ExitStatus.INTERNAL
KINK = Singularity("relu", 0, "kink", "relu has no derivative at 0", None)


def _gradient(symbolic: float, autograd: float, close: bool) -> Gradient:
    return Gradient(
        "x",
        (),
        np.asarray(0.0),
        "1",
        np.asarray(symbolic),
        np.asarray(autograd),
        np.asarray(close),
        abs(autograd - symbolic),
        "",
    )


def _explanation(
    gradient: Gradient, singular: bool = False, hessian_agrees: bool | None = None
) -> Explanation:
    hessian = None if hessian_agrees is None else SimpleNamespace(agree=hessian_agrees)
    return Explanation(
        "x",
        "cpu",
        "float64",
        {},
        0.0,
        0.0,
        {"x": gradient},
        Tolerance(1e-7, 1e-7),
        Decomposition("derivative", "", False, None, None),
        build("x", {"x": from_text("x", "0")}),
        singularities=(KINK,) if singular else (),
        hessian=hessian,
    )


def _check(matches: bool) -> Expectation:
    one = np.asarray(1.0)
    return Expectation("x", one, one, one, np.asarray(matches), 0.0)


CLOSE = _gradient(1.0, 1.0, True)
APART = _gradient(1.0, 2.0, False)
NOT_A_NUMBER = _gradient(math.nan, 1.0, False)
INFINITE = _gradient(1.0, math.inf, False)


@pytest.mark.parametrize(
    "result, checks, status",
    [
        (_explanation(CLOSE), None, AGREE),
        (_explanation(CLOSE), [], AGREE),
        (_explanation(APART), None, DISAGREE),
        (_explanation(NOT_A_NUMBER), None, UNDEFINED),
        (_explanation(INFINITE), None, UNDEFINED),
        (_explanation(CLOSE, singular=True), None, UNDEFINED),  # a kink, though the values agree
        (_explanation(APART, singular=True), None, UNDEFINED),  # undefined outranks disagree
        (_explanation(CLOSE, hessian_agrees=False), None, DISAGREE),
        (_explanation(CLOSE, hessian_agrees=True), None, AGREE),
        (_explanation(CLOSE), [_check(True)], AGREE),
        (_explanation(CLOSE), [_check(True), _check(False)], DISAGREE),  # --expect mismatch
        (_explanation(APART), [_check(True)], DISAGREE),
        (_explanation(APART), [_check(False)], DISAGREE),
        (_explanation(NOT_A_NUMBER), [_check(False)], UNDEFINED),
        (_explanation(CLOSE, singular=True), [_check(False)], UNDEFINED),
    ],
)
def test_an_explanation_ends_as_its_witnesses_and_expectations_say(
    result: Explanation, checks: list[Expectation] | None, status: ExitStatus
) -> None:
    assert exit_status(result, checks) is status
    if not checks:
        assert result.status is status  # the property asks the same function


class _Custom(GradexplainError):
    exit_status = ExitStatus.UNDEFINED


@pytest.mark.parametrize(
    "error, status",
    [
        (ExpressionError("unexpected token", "sum(x", 4), INVALID),
        (LimitError("too deep", "x", 0), INVALID),
        (ValuesError("--x: no values given"), INVALID),
        (UsageError("--format must be one of table, json, markdown"), INVALID),
        (DeviceError("CUDA is not available"), INVALID),
        (SymbolicTimeout("took longer than MAX_SYMBOLIC_SECONDS"), INVALID),
        (_Custom("an error that says how it ends"), UNDEFINED),
        (ValueError("a bug"), INTERNAL),  # only our own bugs end with 70
        (KeyError("x"), INTERNAL),
        (ZeroDivisionError("division by zero"), INTERNAL),
        (RecursionError("maximum recursion depth exceeded"), INTERNAL),
    ],
)
def test_an_exception_ends_as_a_user_error_or_as_a_bug(
    error: Exception, status: ExitStatus
) -> None:
    assert exit_status(error) is status


@pytest.mark.parametrize(
    "statuses, worst",
    [
        ([], AGREE),
        ([AGREE, AGREE], AGREE),
        ([AGREE, DISAGREE], DISAGREE),
        ([DISAGREE, UNDEFINED, AGREE], UNDEFINED),
        ([UNDEFINED, INVALID], INVALID),  # ranked, not by number: invalid is 2, undefined 3
        ([INVALID, DISAGREE, UNDEFINED, AGREE], INVALID),
    ],
)
def test_a_batch_ends_with_its_worst_case(statuses: list[ExitStatus], worst: ExitStatus) -> None:
    assert worst_status(statuses) is worst
