"""Inputs a command line could not type before: a 1xN row, an Nx1 column and a
one-element vector (`1,2,3;`, `[[1,2,3]]`, `1;2;3`, `[3]`)."""

from __future__ import annotations

import numpy as np
import pytest

from gradexplain import ExitStatus, explain
from gradexplain.errors import ValuesError
from gradexplain.ir.values import from_text


@pytest.mark.parametrize(
    ("text", "shape", "numbers"),
    [
        ("1,2,3;", (1, 3), [1, 2, 3]),
        ("[[1,2,3]]", (1, 3), [1, 2, 3]),
        ("[[1], [2], [3]]", (3, 1), [1, 2, 3]),
        ("1;2;3", (3, 1), [1, 2, 3]),
        ("[3]", (1,), [3]),
        ("[1.5, -2]", (2,), [1.5, -2]),
        ("4;", (1, 1), [4]),
        ("[[4]]", (1, 1), [4]),
        ("3", (), [3]),
    ],
)
def test_shapes_a_command_line_can_type(
    text: str, shape: tuple[int, ...], numbers: list[float]
) -> None:
    values = from_text("x", text)
    assert values.shape == shape
    assert list(values.data) == numbers


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[1, 2", "not valid JSON"),
        ("[[1, 2], [3]]", "row 2 has 1 values, row 1 has 2"),
        ("[[[1]]]", "deeper nesting"),
        ("[NaN]", "not a finite number"),
        ('["1"]', "not a number"),
        ("1,2;3,4;", "row 3 is empty"),
    ],
)
def test_bad_bracketed_values_are_refused(text: str, fragment: str) -> None:
    with pytest.raises(ValuesError) as caught:
        from_text("x", text)
    assert fragment in str(caught.value)


def test_a_row_matrix_and_a_one_element_vector_through_the_cli() -> None:
    from typer.testing import CliRunner

    from gradexplain.cli import app

    result = CliRunner().invoke(
        app,
        ["sum(D.T @ w)", "--D", "1,2,3;", "--w", "[2]", "--wrt", "D"],
        env={"NO_COLOR": "1", "COLUMNS": "100"},
    )
    assert result.exit_code == ExitStatus.AGREE, result.output
    assert "(D: 1x3, w: 1)" in result.output


def test_a_row_matrix_is_a_matrix() -> None:
    """torch broadcasts a 1x3 D against a vector of 3 (3 columns), as here."""
    result = explain("sum(D * x)", {"D": from_text("D", "[[1,2,3]]"), "x": [1.0, 0.5, 2.0]})
    assert result.status is ExitStatus.AGREE
    np.testing.assert_allclose(result.gradients["D"].symbolic, [[1.0, 0.5, 2.0]])
