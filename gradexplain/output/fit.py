"""Fit a table to the terminal: nothing wider than the console, no number cut.

A `view.Grid` is tried as it is, then with each step below added, until its natural
width fits the console; what a step took out of the table is said under it:

1. long formulas leave the column headers: the header keeps `dL/dx_j`, and the
   formula `dL/dx_j = ...` is printed below the table, wrapped as prose;
2. numbers shorten to 4 significant digits (JSON and Markdown keep every digit);
3. columns drop, in this order: the terms y_i (the table above them has them), then the
   inputs x_i (given on the command line);
4. one line per row, `name value` pairs wrapped as prose, which fits any width.

The order is documented in README ("Narrow terminals"); `render.py` draws the result.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

from gradexplain.output import view
from gradexplain.output.formatting import fmt, is_number

SHORT_DIGITS = 4  # significant digits once numbers must shorten
LONG_FORMULA = 24  # a formula header longer than this leaves the table before anything else


@dataclasses.dataclass(frozen=True)
class Fitted:
    """A grid that fits (None: write `lines` instead) and the sentences that go under it."""

    grid: view.Grid | None
    below: tuple[str, ...]
    lines: tuple[str, ...] = ()


def fit(grid: view.Grid, width: int, natural: Any) -> Fitted:
    """The first step of the list above whose table is at most `width` wide;
    `natural(grid)` measures a grid's unwrapped width (render.py asks rich)."""
    for candidate in _steps(grid):
        if natural(candidate.grid) <= width:
            return candidate
    return Fitted(None, (), _as_lines(grid))


def _steps(grid: view.Grid) -> Iterator[Fitted]:
    yield Fitted(grid, ())
    moved, formulas = _move_formulas(grid)
    if formulas:
        yield Fitted(moved, formulas)
    short = _shorten(moved)
    if short != moved:
        note = (
            f"Numbers are rounded to {SHORT_DIGITS} significant digits to fit; a wider "
            f"terminal, --format json or --format markdown shows every digit."
        )
        formulas = (*formulas, note)
        yield Fitted(short, formulas)
    dropped: list[str] = []
    current = short
    for priority in (1, 2):
        keep = [i for i, column in enumerate(current.columns) if column.drop != priority]
        if len(keep) == len(current.columns):
            continue
        dropped += [
            column.label.text.split(" = ")[0]
            for column in current.columns
            if column.drop == priority
        ]
        current = _keep(current, keep)
        yield Fitted(current, (*formulas, f"Left out to fit: {', '.join(dropped)}."))


def _move_formulas(
    grid: view.Grid, longer: int = LONG_FORMULA
) -> tuple[view.Grid, tuple[str, ...]]:
    """Headers `lhs = long formula` become `lhs`; the formulas go below the table."""
    moved: list[str] = []
    columns = []
    for column in grid.columns:
        label = column.label
        lhs, sep, _ = label.text.partition(" = ")
        if label.code and sep and len(label.text) > longer:
            moved.append(label.text)
            label = dataclasses.replace(label, text=lhs)
        columns.append(dataclasses.replace(column, label=label))
    return dataclasses.replace(grid, columns=tuple(columns)), tuple(moved)


def _short(cell: Any) -> Any:
    if isinstance(cell, str) and is_number(cell) and len(cell) > SHORT_DIGITS + 3:
        return fmt(float(cell), SHORT_DIGITS)
    return cell


def _shorten(grid: view.Grid) -> view.Grid:
    rows = tuple(None if row is None else tuple(_short(cell) for cell in row) for row in grid.rows)
    totals = tuple(tuple(_short(cell) for cell in row) for row in grid.totals)
    return dataclasses.replace(grid, rows=rows, totals=totals)


def _keep(grid: view.Grid, keep: list[int]) -> view.Grid:
    def pick(row: Any) -> Any:
        return None if row is None else tuple(row[i] for i in keep)

    return dataclasses.replace(
        grid,
        columns=tuple(grid.columns[i] for i in keep),
        rows=tuple(pick(row) for row in grid.rows),
        totals=tuple(pick(row) for row in grid.totals),
    )


def _as_lines(grid: view.Grid) -> tuple[str, ...]:
    """The formulas, then each row as `name value` pairs: the table for a terminal too
    narrow for one, e.g. `0: x_i 3, y_i 9, dL/dx_j (SymPy) 6, autograd 6, ok`."""
    short, formulas = _move_formulas(grid, 0)
    names = [f"{c.label.text} {c.label.note}".strip() for c in short.columns]
    lines = [] if grid.title is None else [f"{grid.title.text} {grid.title.note}".strip() + ":"]
    lines += formulas
    for row in (*grid.rows, *grid.totals):
        if row is None:
            lines.append("...")
            continue
        first, *rest = [cell.word if isinstance(cell, view.Mark) else str(cell) for cell in row]
        pairs = [
            f"{name} {cell}".strip() if name else cell
            for name, cell in zip(names[1:], rest)
            if cell
        ]
        lines.append(f"{first}: {', '.join(pairs)}")
    return tuple(lines)
