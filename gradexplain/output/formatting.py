"""Numbers as every output writes them; one place, so the table, Markdown, the graph and
JUnit never disagree on how 0.09003057317 reads."""

from __future__ import annotations

from typing import SupportsFloat


def fmt(value: SupportsFloat, digits: int = 10) -> str:
    """Numbers as a learner reads them: 6, not 6.000000; 0.090030573, not 9.0030573e-02.
    `digits` significant digits (fewer where a narrow terminal needs it)."""
    value = float(value)
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    text = f"{value:.{digits}g}"
    return "0" if text == "-0" else text


def is_number(text: str) -> bool:
    """Whether a cell holds a number (as `fmt` writes them, nan and inf included)."""
    try:
        float(text)
    except ValueError:
        return False
    return True
