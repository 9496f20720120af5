"""GitHub-flavoured Markdown: the same story as the table, for `$GITHUB_STEP_SUMMARY`.

A heading, the decomposition as Markdown tables, the sentences, and the verdict. Every
cell is escaped so an expression cannot break the table; formulas go in code spans so
`2*x_j` is not read as emphasis.
"""

from __future__ import annotations

from typing import Iterable, Sequence

from gradexplain.errors import ExitStatus
from gradexplain.expect import Expectation, rows, verdict
from gradexplain.render import _rows, _shape_text, _singular_elements, _totals, fmt
from gradexplain.result import Explanation, Gradient, Terms
from gradexplain.shapes import element

_OUTCOME_MARK = {ExitStatus.AGREE: "✅", ExitStatus.DISAGREE: "❌",
                 ExitStatus.UNDEFINED: "⚠️"}


def code(text: str) -> str:
    """A code span that survives backticks and pipes inside the text."""
    fence = "``" if "`" in text else "`"
    pad = " " if "`" in text else ""
    return f"{fence}{pad}{text.replace('|', '&#124;')}{pad}{fence}"


def _cell(text: str) -> str:
    """Plain text in a cell or paragraph: `*` and backticks are literal, `|` cannot split."""
    for char in "\\*`|":
        text = text.replace(char, "\\" + char)
    return text.replace("\n", " ")


def table(header: Sequence[str], body: Iterable[Sequence[str]],
          align: Sequence[str] | None = None) -> list[str]:
    """A GitHub table; `align` holds 'l' or 'r' per column (numbers go right)."""
    align = align or ["r"] * len(header)
    rule = ["---:" if a == "r" else ":---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(rule) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return lines


def markdown(result: Explanation, checks: list[Expectation] | None = None, *,
             show_all: bool = False) -> str:
    """The whole explanation as one Markdown document, ending with a newline."""
    size = f"n = {result.n}" if result.n is not None else "scalars"
    if result.shapes:
        size = ", ".join(f"{name}: {_shape_text(shape)}" for name, shape in result.shapes.items())
    lines = [f"## gradexplain {code(result.expression)} ({size})", "",
             code(result.decomposition.summary), ""]
    if result.scalars:
        lines += [", ".join(code(f"{n} = {fmt(v)}") for n, v in result.scalars.items()), ""]
    if result.data_line():
        lines += [_cell(str(result.data_line())), ""]
    terms = result.decomposition.terms
    if terms is not None:
        lines += [*_terms_table(terms, result.value_symbolic, show_all), "",
                  _cell(terms.sentence), ""]
    singular = _singular_elements(result)
    for gradient in result.gradients.values():
        lines += [f"### dL/d{gradient.name}", "", *_gradient_table(result, gradient, singular,
                                                                  show_all), "",
                  _cell(gradient.sentence), ""]
    for note in result.decomposition.notes:
        lines += [_cell(note), ""]
    for item in result.singularities:
        where = item.place()
        lines += [f"> **Undefined:** {code(item.function)} at column {item.column + 1}, "
                  f"{where}: {_cell(item.reason)}.", ""]
    lines += [f"**{_OUTCOME_MARK[result.status]} {result.verdict()}**", ""]
    if checks:
        lines += expectation_section(checks)
    return "\n".join(lines)


def expectation_section(checks: list[Expectation]) -> list[str]:
    """Expected against computed, per element, then one line saying whether all match."""
    lines = ["### Expected gradient (--expect)", ""]
    body = [[code(f"dL/d{check.name}"), index, fmt(e), fmt(s), fmt(a),
             "ok" if ok else "**MISMATCH**"]
            for check in checks for index, e, s, a, ok in rows(check)]
    lines += table(["gradient", "i", "expected", "SymPy", "autograd", ""], body,
                   ["l", "r", "r", "r", "r", "l"])
    mark = "✅" if all(c.matches for c in checks) else "❌"
    return [*lines, "", f"**{mark} {verdict(checks)}**", ""]


def _gradient_table(result: Explanation, gradient: Gradient, singular: set[int] | None,
                    show_all: bool) -> list[str]:
    name = gradient.name
    if gradient.shape == ():
        hazard = singular is None or bool(singular)  # any kink or pole touches a scalar
        body = [[fmt(gradient.point), fmt(gradient.symbolic), fmt(gradient.autograd),
                 _mark(gradient.agree, hazard)]]
        if result.n is None:
            body.append(["L", fmt(result.value_symbolic), fmt(result.value), ""])
        return table([code(name), f"{code(f'dL/d{name} = {gradient.formula}')} (SymPy)",
                      "autograd", ""], body, ["r", "r", "r", "l"])
    if result.shapes:
        return _matrix_table(gradient, singular, show_all)
    vectors = result.vector_columns()
    terms = result.decomposition.term_values
    header = ["i", *(code(f"{other}_i") for other, _ in vectors)]
    if terms is not None:
        header.append(code(f"y_i = {result.decomposition.term}"))
    header += [f"{code(f'dL/d{name}_j = {gradient.formula}')} (SymPy)", "autograd", ""]
    body: list[list[str]] = []
    for index in _rows(len(gradient.point), show_all):
        if index is None:
            body.append(["…"] * (len(header) - 1) + [""])
            continue
        cells = [str(index), *(fmt(point[index]) for _, point in vectors)]
        if terms is not None:
            cells.append(fmt(terms[index]))
        cells += [fmt(gradient.symbolic[index]), fmt(gradient.autograd[index]),
                  _mark(bool(gradient.close[index]), singular is None or index in singular)]
        body.append(cells)
    if terms is not None:
        for label, value in _totals(result, terms):
            body.append([f"**{_cell(label)}**", *[""] * len(vectors), fmt(value),
                         "", "", ""])
    return table(header, body, ["r"] * (len(header) - 1) + ["l"])


def _terms_table(terms: Terms, total: float, show_all: bool) -> list[str]:
    """The sum rule over the elements of y, then L (a mean: the plain sum first)."""
    import numpy as np

    values, y = terms.values, terms.letter
    labels = "i,k" if values.ndim == 2 else "i"
    flat = values.reshape(-1)
    body: list[list[str]] = []
    for index in _rows(flat.size, show_all):
        where = "…" if index is None else \
            ",".join(str(int(i)) for i in np.unravel_index(index, values.shape))
        body.append([where, "…" if index is None else fmt(flat[index])])
    if terms.rule == "mean":
        body.append(["**sum**", fmt(float(np.sum(flat)))])
    body.append(["**L**", fmt(total)])
    heading = f"### {code(f'{y} = {terms.source}')} ({_shape_text(values.shape)})"
    return [heading, "", *table([labels, code(f"{y}_{labels.replace(',', '')} = "
                                               f"{terms.formula}")], body)]


def _matrix_table(gradient: Gradient, singular: set[int] | None, show_all: bool) -> list[str]:
    """One row per element, row-major, as the terminal table shows it."""
    import numpy as np

    name, shape = gradient.name, gradient.shape
    labels = "j,k" if len(shape) == 2 else "j"
    label = element(name, shape)
    header = [labels, code(label), f"{code(f'dL/d{label} = {gradient.formula}')} (SymPy)",
              "autograd", ""]
    point, symbolic = gradient.point.reshape(-1), gradient.symbolic.reshape(-1)
    autograd, close = gradient.autograd.reshape(-1), gradient.close.reshape(-1)
    body: list[list[str]] = []
    for flat in _rows(point.size, show_all):
        if flat is None:
            body.append(["…"] * 4 + [""])
            continue
        where = ",".join(str(int(i)) for i in np.unravel_index(flat, shape))
        body.append([where, fmt(point[flat]), fmt(symbolic[flat]), fmt(autograd[flat]),
                     _mark(bool(close[flat]), singular is None or flat in singular)])
    return table(header, body, ["r", "r", "r", "r", "l"])


def _mark(close: bool, undefined: bool) -> str:
    if undefined:
        return "**UNDEFINED**"
    return "ok" if close else "**DIFFERS**"
