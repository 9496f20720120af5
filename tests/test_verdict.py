"""Issue 13's verdict bugs, each reproduction a test: a tolerance that is never vacuous,
max/min ties counted among the actual values, valid expressions that crashed SymPy."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from gradexplain import explain
from gradexplain.cli import app
from gradexplain.errors import ExitStatus

ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args), env=ENV)


@pytest.mark.parametrize("expect", ["x=0,0,0", "x=-5e-8,0,1e-7", "x=2e-8,4e-8,6.1e-8"])
def test_expect_catches_a_wrong_derivation_of_a_tiny_gradient(expect: str) -> None:
    result = run("sum(x**2)*1e-8", "--x", "1,2,3", "--expect", expect)
    assert result.exit_code == 1, result.output
    assert "The expected gradient does NOT match" in result.output


def test_expect_of_a_tiny_gradient_that_is_right_matches() -> None:
    result = run("sum(x**2)*1e-8", "--x", "1,2,3", "--expect", "x=2e-8,4e-8,6e-8")
    assert result.exit_code == 0, result.output
    assert "within round-off of 0" not in result.output  # 6e-8 is small, not round-off


def test_witnesses_of_a_tiny_gradient_are_compared_relative_to_its_size() -> None:
    result = explain("sum(x**2)*1e-8", x=[1, 2, 3])
    assert result.status == ExitStatus.AGREE
    assert result.gradients["x"].symbolic.tolist() == pytest.approx([2e-8, 4e-8, 6e-8])
    assert not result.gradients["x"].tiny


def test_a_gradient_that_is_all_round_off_says_so() -> None:
    result = run("softmax(x)", "--x", "1,2,3")
    assert result.exit_code == 0, result.output
    assert (
        "Every element of dL/dx is within round-off of 0 (|value| <= 2.84e-14 = 128 x "
        "float64 eps), so agreement here only says both are about 0." in result.output
    )


def test_mean_over_a_million_elements_is_not_vacuous() -> None:
    x = np.linspace(-3, 3, 10**6)
    result = explain("mean(sigmoid(x))", x=x)
    gradient = result.gradients["x"]
    assert result.status == ExitStatus.AGREE and not gradient.tiny
    from gradexplain.witnesses.closeness import compare

    wrong = gradient.symbolic * (1 + 1e-5)  # off by 1e-5 relative: caught
    assert not compare(wrong, gradient.symbolic, result.tolerance).agree


@pytest.mark.parametrize(
    "expression, values, wrt, want",
    [
        ("min(where(t > 0, 1, c))", {"c": 0.7, "t": [1, -1, 1]}, "c", 1.0),
        ("max(where(t > 0, -5, x))", {"x": 0.7, "t": [1, -1, 1]}, "x", 1.0),
        ("max(where(t > 0, -5, x))", {"x": [0.7, 0.2, 3], "t": [1, -1, 1]}, "x", [0, 1, 0]),
        ("min(where(t > 0, 1, c))", {"c": 2.0, "t": [1, -1, -1]}, "c", 0.0),
    ],
)
def test_max_and_min_count_ties_among_the_actual_values(
    expression: str, values: dict, wrt: str, want: object
) -> None:
    result = explain(expression, values, wrt=wrt)
    assert result.status == ExitStatus.AGREE
    np.testing.assert_array_equal(result.gradients[wrt].symbolic, want)
    np.testing.assert_array_equal(result.gradients[wrt].autograd, want)


def test_max_and_min_tie_through_where_is_a_kink() -> None:
    result = explain("min(where(t > 0, 1, c))", c=1.0, t=[1, -1, 1], wrt="c")
    assert result.status == ExitStatus.UNDEFINED


@pytest.mark.parametrize(
    "expression",
    [
        "sum(clamp(where(t > 0, relu(2), x), -1, 1))",
        "sum(clamp(where(t > 0, sigmoid(2), x), -1, 1))",
        "sum(clamp(where(t > 0, softplus(-3), x), -1, 1))",
    ],
)
def test_a_kept_whole_function_of_a_number_can_be_clamped(expression: str) -> None:
    result = explain(expression, x=[0.5, 0.3], t=[1, -1], wrt="x")
    assert result.status == ExitStatus.AGREE
    np.testing.assert_array_equal(result.gradients["x"].symbolic, [0, 1])


@pytest.mark.parametrize(
    "expression, values",
    [
        ("sum(softmax(softmax(softmax(softmax(x)))))", [1, 2]),
        ("sum(log_softmax(max(relu(log_softmax(x, dim=0)+2))*x, dim=0)*max(relu(x)))", [1, 2, 3]),
    ],
)
def test_deep_nests_agree(expression: str, values: list[float]) -> None:
    """They exited 70; now they agree, or (on a loaded machine) stop at the named wall-time
    backstop MAX_SYMBOLIC_SECONDS, exit 2: never an internal error."""
    from gradexplain.errors import SymbolicTimeout

    try:
        assert explain(expression, x=values).status == ExitStatus.AGREE
    except SymbolicTimeout as error:
        assert error.exit_status == ExitStatus.INVALID


def test_overflow_on_both_sides_is_undefined_and_named() -> None:
    result = run("sum(exp(x))", "--x", "1,1000")
    assert result.exit_code == 3, result.output
    assert (
        "Not finite: dL/dx, element [1]: overflow: both witnesses give inf, a gradient "
        "beyond float64's largest number (1.8e308)." in result.output
    )
    assert "largest |difference| 0 where both are finite" in result.output
    assert "DIFFERS" not in result.output


def test_overflow_in_float32_autograd_is_named() -> None:
    result = explain("sum(exp(x))", x=[1, 100], dtype="float32")
    assert result.status == ExitStatus.UNDEFINED
    (cause,) = result.nonfinite
    assert cause.kind == "overflow" and cause.elements == (1,)
    assert "overflow in autograd's float32 computation" in cause.reason


@pytest.mark.parametrize(
    "expression",
    [
        "logsumexp(x, dim=0)",
        "sum(softmax(x)*x)",
        "sum(log_softmax(x, dim=0)*x)",
        "sum(softmax(x, dim=0)**2)",
    ],
)
def test_softmax_and_logsumexp_at_1000_agree(expression: str) -> None:
    """exp(1000) overflows float64 only in an intermediate: the formula is evaluated again
    in extended precision where the platform has it, else the overflow is named."""
    from gradexplain.witnesses.evaluate import WIDE

    result = explain(expression, x=[1, 1000])
    if WIDE is None:
        assert result.status == ExitStatus.UNDEFINED
        assert all(c.kind == "overflow" for c in result.nonfinite)
    else:
        assert result.status == ExitStatus.AGREE, result.verdict()


def test_overflow_beyond_extended_precision_is_named() -> None:
    result = explain("sum(softmax(x)*x)", x=[1, 1e5])
    assert result.status == ExitStatus.UNDEFINED
    assert result.nonfinite and all(c.kind == "overflow" for c in result.nonfinite)
    assert "overflow in SymPy's formula" in result.nonfinite[0].reason


def test_nan_in_autograd_only_is_an_overflow_in_autograd() -> None:
    result = explain("sum(exp(x) - exp(x))", x=[1, 1000])
    assert result.status == ExitStatus.UNDEFINED
    (cause,) = result.nonfinite
    assert cause.elements == (1,)
    assert cause.reason.startswith(
        "overflow in autograd's float64 computation: an "
        "intermediate value exceeds 1.8e308, so it gives nan"
    )


@pytest.mark.parametrize(
    "symbolic, autograd, kind, start",
    [
        (float("inf"), float("inf"), "overflow", "overflow: both witnesses give inf"),
        (float("-inf"), float("-inf"), "overflow", "overflow: both witnesses give -inf"),
        (float("nan"), float("nan"), "nan", "NaN: both witnesses give nan"),
        (float("nan"), 1.0, "overflow", "overflow in SymPy's formula"),
        (1.0, float("inf"), "overflow", "overflow in autograd's float64 computation"),
    ],
)
def test_each_cause_is_named(symbolic: float, autograd: float, kind: str, start: str) -> None:
    from gradexplain.witnesses.nonfinite import _cause

    found = _cause(symbolic, autograd, "float64")
    assert found[0] == kind and found[1].startswith(start)


def test_evaluation_bigger_than_the_limit_is_refused_with_its_name() -> None:
    """exp of an 8000x8000 outer product: 64,000,000 numbers, refused before either
    witness computes them (torch would need them too)."""
    from gradexplain.errors import ValuesError

    a, b = np.ones((8000, 1)), np.ones((1, 8000))
    with pytest.raises(
        ValuesError,
        match=r"about 64,000,000 elements .*the limit is "
        r"MAX_EVALUATION_ELEMENTS = 50,000,000",
    ):
        explain("sum(exp(a@b))", a=a, b=b)


def test_evaluation_limit_exits_2_on_the_command_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "a.json"
    path.write_text("[" + ",".join(["[1]"] * 8000) + "]")
    result = run("sum(exp(a@a.T))", "--a", f"@{path}")
    assert result.exit_code == 2, result.output
    assert "about 64,000,000 elements" in result.stderr
    assert "the limit is MAX_EVALUATION_ELEMENTS = 50,000,000" in result.stderr


def test_a_contraction_is_not_its_full_grid() -> None:
    """X@X at 400x400 would be 64,000,000 numbers as a grid; as a contraction it is not."""
    assert explain("sum(X@X)", X=np.ones((400, 400))).status == ExitStatus.AGREE


def test_estimate_counts_the_largest_array_not_the_whole_grid() -> None:
    """mean(x)*mean(y) sums x and y separately: n elements each, never n**2."""
    result = explain("mean(x)*mean(y)", x=np.ones(10**5), y=np.ones(10**5))
    assert result.status == ExitStatus.AGREE


@pytest.mark.parametrize(
    "function, values, want",
    [
        ("max", [[1], [5], [3]], [[0], [1], [0]]),
        ("max", [[1, 5, 3]], [[0, 1, 0]]),
        ("min", [[1], [5], [3]], [[1], [0], [0]]),
        ("min", [[1, 5, 3]], [[1, 0, 0]]),
    ],
)
def test_max_and_min_of_a_row_or_a_column(function: str, values: list, want: list) -> None:
    result = explain(f"{function}(D)", D=np.array(values, dtype=float))
    assert result.status == ExitStatus.AGREE
    np.testing.assert_array_equal(result.gradients["D"].symbolic, want)


@pytest.mark.parametrize("y", [0.3, 0.6, 0.9, 1.0, 2.0])
def test_zero_to_a_positive_power_has_derivative_zero(y: float) -> None:
    result = explain("sum(0**y)", y=[y, y])
    assert result.status == ExitStatus.AGREE, result.verdict()
    assert result.gradients["y"].symbolic.tolist() == [0.0, 0.0]
    assert result.gradients["y"].autograd.tolist() == [0.0, 0.0]


@pytest.mark.parametrize(
    "expression, values, reasons",
    [
        (
            "sum(0**x)",
            {"x": [0, -1, 2]},
            ["0**p jumps from 1 at p = 0", "0**p is infinite for p < 0"],
        ),
        (
            "sum((-2)**x)",
            {"x": [1, 2]},
            ["a negative base b has no real derivative in the exponent"],
        ),
        ("sum((-2)**x)", {"x": [1.5]}, ["a power with a negative base and a non-integer exponent"]),
        ("x**y", {"x": 0, "y": 0.3}, ["the derivative p*u**(p-1) of u**p is infinite at u = 0"]),
    ],
)
def test_power_hazards_say_the_right_reason(
    expression: str, values: dict, reasons: list[str]
) -> None:
    result = explain(expression, values)
    assert result.status == ExitStatus.UNDEFINED
    assert [s.reason[: len(r)] for s, r in zip(result.singularities, reasons)] == reasons
    assert len(result.singularities) == len(reasons)


def test_a_negative_base_to_a_variable_power_shows_no_complex_formula() -> None:
    result = explain("sum((-2)**x)", x=[1, 2])
    assert "I" not in result.gradients["x"].formula
    assert result.gradients["x"].formula.startswith("not real")
