"""The terminal table: the sum-rule decomposition, both witnesses, the story, the verdict.

Renderers write to the `Console` they are given (tests pass one over a StringIO at a
fixed width), never to a global one.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table
from rich.text import Text

from gradexplain.errors import ExitStatus
from gradexplain.result import Explanation, Gradient, Terms
from gradexplain.shapes import element

HEAD_ROWS = 5  # rows shown before and after the elision line, unless --all
_MARKS = {True: ("ok", "green"), False: ("DIFFERS", "bold red")}


def fmt(value: float) -> str:
    """Numbers as a learner reads them: 6, not 6.000000; 0.090030573, not 9.0030573e-02."""
    value = float(value)
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    text = f"{value:.10g}"
    return "0" if text == "-0" else text


def _rows(n: int, show_all: bool) -> list[int | None]:
    """Indices to show; None marks the elision line."""
    if show_all or n <= 2 * HEAD_ROWS + 1:
        return list(range(n))
    return [*range(HEAD_ROWS), None, *range(n - HEAD_ROWS, n)]


def render(result: Explanation, console: Console, *, show_all: bool = False) -> None:
    """Print the whole explanation."""
    decomposition = result.decomposition
    size = f"n = {result.n}" if result.n is not None else "scalars"
    if result.shapes:
        size = ", ".join(f"{name}: {_shape_text(shape)}" for name, shape in result.shapes.items())
    console.print(Text.assemble(("gradexplain ", "bold"), (result.expression, "cyan"),
                                 f"  ({size})"))
    console.print(decomposition.summary)
    for name, value in result.scalars.items():
        console.print(f"{name} = {fmt(value)}")
    if result.data_line():
        console.print(result.data_line())
    terms = decomposition.terms
    if terms is not None:
        console.print(fit_numbers(_terms_table(terms, result.value_symbolic, show_all)))
        console.print(terms.sentence)
    singular = _singular_elements(result)
    for gradient in result.gradients.values():
        console.print(fit_numbers(_table(result, gradient, singular, show_all)))
        console.print(gradient.sentence)
    for note in decomposition.notes:
        console.print(note)
    if result.hessian is not None and result.hessian.undefined is not None:
        console.print(Text(f"{result.hessian.undefined}.", style="yellow"))
    elif result.hessian is not None:
        console.print(fit_numbers(_hessian_table(result.hessian, show_all)))
    for item in result.singularities:
        where = item.place()
        console.print(Text(f"Undefined: {item.function} at column {item.column + 1}, {where}: "
                           f"{item.reason}.", style="yellow"))
    style = {ExitStatus.AGREE: "bold green", ExitStatus.DISAGREE: "bold red",
             ExitStatus.UNDEFINED: "bold yellow"}[result.status]
    console.print(Text(result.verdict(), style=style))


def _shape_text(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape)) if shape else "scalar"


def fit_numbers(table: Table) -> Table:
    """Never elide a number: each column is at least as wide as its widest number.

    When the table is wider than the terminal, rich then wraps the headers (formulas)
    and labels instead of cutting `0.0123456789` down to `0.0…`.
    """
    for column in table.columns:
        widths = [len(cell) for cell in column._cells
                  if isinstance(cell, str) and _is_number(cell)]
        column.min_width = max(widths, default=None)
    return table


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _singular_elements(result: Explanation) -> set[int] | None:
    """Element indices under a kink or pole; None when a scalar argument makes all so."""
    found: set[int] = set()
    for item in result.singularities:
        if item.elements is None:
            return None
        found.update(item.elements)
    return found


def _table(result: Explanation, gradient: Gradient, singular: set[int] | None,
           show_all: bool) -> Table:
    name = gradient.name
    decomposition = result.decomposition
    if gradient.shape == ():
        return _scalar_table(result, gradient, singular)
    if result.shapes:
        return _matrix_table(gradient, singular, show_all)
    vectors = result.vector_columns()
    table = Table(title=f"dL/d{name}", title_justify="left", show_footer=False)
    table.add_column("i", justify="right")
    for other, _ in vectors:
        table.add_column(f"{other}_i", justify="right")
    terms = decomposition.term_values
    if terms is not None:
        table.add_column(f"y_i = {decomposition.term}", justify="right")
    table.add_column(f"dL/d{name}_j = {gradient.formula}\n(SymPy)", justify="right")
    table.add_column("autograd", justify="right")
    table.add_column("", justify="left")
    fd = _finite_differences(result, name, table)
    for index in _rows(len(gradient.point), show_all):
        if index is None:
            table.add_row("...", *["..."] * (len(table.columns) - 2), "")
            continue
        mark = _mark(bool(gradient.close[index]),
                     singular is None or index in singular)
        cells = [str(index), *(fmt(point[index]) for _, point in vectors)]
        if terms is not None:
            cells.append(fmt(terms[index]))
        cells += [fmt(gradient.symbolic[index]), fmt(gradient.autograd[index])]
        table.add_row(*cells, mark, *_fd_cells(fd, index))
    if terms is not None:
        table.add_section()
        for label, value in _totals(result, terms):
            table.add_row(label, *[""] * len(vectors), fmt(value), "", "", "",
                          *[""] * (2 * (fd is not None)))
    return table


def _matrix_table(gradient: Gradient, singular: set[int] | None, show_all: bool) -> Table:
    """One row per element, in row-major order, with head/tail elision for large arrays."""
    name, shape = gradient.name, gradient.shape
    labels = "j,k" if len(shape) == 2 else "j"
    table = Table(title=f"dL/d{name} ({_shape_text(shape)})", title_justify="left")
    table.add_column(labels, justify="right")
    table.add_column(element(name, shape), justify="right")
    table.add_column(f"dL/d{element(name, shape)} = {gradient.formula}\n(SymPy)",
                     justify="right")
    table.add_column("autograd", justify="right")
    table.add_column("", justify="left")
    point, symbolic = gradient.point.reshape(-1), gradient.symbolic.reshape(-1)
    autograd, close = gradient.autograd.reshape(-1), gradient.close.reshape(-1)
    for flat in _rows(point.size, show_all):
        if flat is None:
            table.add_row("...", "...", "...", "...", "")
            continue
        where = ",".join(str(int(i)) for i in np.unravel_index(flat, shape))
        table.add_row(where, fmt(point[flat]), fmt(symbolic[flat]), fmt(autograd[flat]),
                      _mark(bool(close[flat]), singular is None or flat in singular))
    return table


def _terms_table(terms: Terms, total: float, show_all: bool) -> Table:
    """The sum rule, element by element: each y_i (or y_ik) of the array L combines, then L.

    A mean shows the plain sum first, so the factor 1/N can be checked by hand.
    """
    values = terms.values
    labels = "i,k" if values.ndim == 2 else "i"
    y = terms.letter
    table = Table(title=f"{y} = {terms.source} ({_shape_text(values.shape)})",
                  title_justify="left")
    table.add_column(labels, justify="right")
    table.add_column(f"{y}_{labels.replace(',', '')} = {terms.formula}", justify="right")
    flat = values.reshape(-1)
    for index in _rows(flat.size, show_all):
        if index is None:
            table.add_row("...", "...")
            continue
        where = ",".join(str(int(i)) for i in np.unravel_index(index, values.shape))
        table.add_row(where, fmt(flat[index]))
    table.add_section()
    if terms.rule == "mean":
        table.add_row("sum", fmt(float(np.sum(flat))))
    table.add_row("L", fmt(total))
    return table


def _hessian_table(hessian: Any, show_all: bool) -> Table:
    """The upper triangle of the symmetric Hessian, one row per pair (a, b) with a <= b."""
    table = Table(title="Hessian d2L/(da db), symmetric: pairs a <= b", title_justify="left")
    for label in ("a", "b"):
        table.add_column(label, justify="left")
    table.add_column("SymPy", justify="right")
    table.add_column("torch.func.hessian", justify="right")
    table.add_column("", justify="left")
    size = len(hessian.labels)
    pairs = [(a, b) for a in range(size) for b in range(a, size)]
    for index in _rows(len(pairs), show_all):
        if index is None:
            table.add_row("...", "...", "...", "...", "")
            continue
        a, b = pairs[index]
        table.add_row(hessian.labels[a], hessian.labels[b], fmt(hessian.symbolic[a, b]),
                      fmt(hessian.autograd[a, b]), _mark(bool(hessian.close[a, b]), False))
    return table


def _finite_differences(result: Explanation, name: str, table: Table) -> Any:
    """`--check-fd`'s third witness for `name`, with its two columns; None without it."""
    fd = result.extras.get("finite_differences", {}).get(name)
    if fd is not None:
        table.add_column("finite diff.\n(float64)", justify="right")
        table.add_column("", justify="left")
    return fd


def _fd_cells(fd: Any, index: int | None) -> list[Any]:
    if fd is None:
        return []
    value = fd.values if index is None else fd.values[index]
    close = fd.close if index is None else fd.close[index]
    return [fmt(value), Text(*_MARKS[bool(close)])]


def _totals(result: Explanation, terms: np.ndarray) -> list[tuple[str, float]]:
    """The total row(s), labelled in the i column as the summary line above names them:
    L itself, and for the chain rule the inner s first."""
    if result.decomposition.rule != "chain":
        return [("L", result.value_symbolic)]
    word = result.decomposition.summary.partition("s = ")[2].partition("_i")[0]
    combine = {"prod": np.prod, "max": np.max, "min": np.min}.get(word, np.sum)
    return [("s", float(combine(terms))), ("L", result.value_symbolic)]


def _scalar_table(result: Explanation, gradient: Gradient, singular: set[int] | None) -> Table:
    table = Table(title=f"dL/d{gradient.name}", title_justify="left")
    table.add_column(gradient.name, justify="right")
    table.add_column(f"dL/d{gradient.name} = {gradient.formula}\n(SymPy)", justify="right")
    table.add_column("autograd", justify="right")
    table.add_column("", justify="left")
    fd = _finite_differences(result, gradient.name, table)
    hazard = singular is None or bool(singular)  # any kink or pole touches a scalar
    table.add_row(fmt(gradient.point), fmt(gradient.symbolic), fmt(gradient.autograd),
                  _mark(gradient.agree, hazard), *_fd_cells(fd, None))
    if result.n is None:
        table.add_section()
        table.add_row("L", fmt(result.value_symbolic), fmt(result.value), "",
                      *[""] * (2 * (fd is not None)))
    return table


def _mark(close: bool, undefined: bool) -> Text:
    if undefined:
        return Text("UNDEFINED", style="bold yellow")
    label, style = _MARKS[close]
    return Text(label, style=style)
