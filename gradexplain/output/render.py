"""The terminal table: the sum-rule decomposition, both witnesses, the story, the verdict.

What is shown is decided once, in `view`; this module only draws each kind of block with
rich. Renderers write to the `Console` they are given (tests pass one over a StringIO at a
fixed width), never to a global one.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import replace
from typing import Any, get_args

from rich.console import Console
from rich.table import Table
from rich.text import Text

from gradexplain.errors import ExitStatus
from gradexplain.output import view
from gradexplain.output.formatting import is_number
from gradexplain.result import Explanation

_STYLES = {"ok": "green", "DIFFERS": "bold red", "UNDEFINED": "bold yellow"}
_VERDICT_STYLES = {
    ExitStatus.AGREE: "bold green",
    ExitStatus.DISAGREE: "bold red",
    ExitStatus.UNDEFINED: "bold yellow",
}


def render(result: Explanation, console: Console, *, show_all: bool = False) -> None:
    """Print the whole explanation."""
    draw(view.build(result, show_all=show_all), console)


def draw(sections: list[view.Section], console: Console) -> None:
    blocks = [block for section in sections for block in section.blocks]
    for index, block in enumerate(blocks):
        if isinstance(block, view.Grid):
            after = blocks[index + 1] if index + 1 < len(blocks) else None
            _grid(block, console, after.text if isinstance(after, view.Paragraph) else "")
        else:
            _DRAW[type(block)](block, console)


def text(content: str, style: str = "") -> Text:
    """Our strings for rich, never read as markup: the one place they go through.

    A formula such as `det([sum_p(X_ip*X_pm)]_im)` or a rule `s_i*([i == k] - s_k)` holds
    brackets that rich's markup would take for a style tag and drop."""
    return Text(content, style=style)


def _heading(block: view.Heading, console: Console) -> None:
    console.print(
        Text.assemble(("gradexplain ", "bold"), (block.expression, "cyan"), f"  ({block.size})")
    )


def _paragraph(block: view.Paragraph, console: Console) -> None:
    _prose(block.text, "yellow" if block.warning else "", console)


def _prose(content: str, style: str, console: Console) -> None:
    """Wrapped as --steps is (rich left a space at each line's end and cut a formula
    anywhere)."""
    for line in content.split("\n"):
        _wrapped(line, console, style)


def _wrapped(
    line: str, console: Console, style: str = "", indent: str = "", hang: str = ""
) -> None:
    """One line of ours: in a terminal wrapped at spaces, a long formula after an operator,
    the continuation indented by `hang`; piped, one line."""
    if console.soft_wrap:
        console.print(text(indent + line, style))
        return
    wrapper = _FormulaWrapper(
        width=max(console.width, 20),
        initial_indent=indent,
        subsequent_indent=hang,
        break_on_hyphens=False,
    )
    for part in wrapper.wrap(line) or [""]:
        console.print(text(part, style))


def _assignments(block: view.Assignments, console: Console) -> None:
    for item in block.items:
        console.print(text(item))


def _grid(block: view.Grid, console: Console, next_text: str = "") -> None:
    """The grid at the console's width (fit.py's steps); what left the table goes below,
    unless the sentence after the table already says it (`next_text`). The title is a
    line of its own above it."""
    from gradexplain.output import fit

    fitted = fit.fit(block, console.width, lambda grid: _natural(console, grid))
    if fitted.grid is None:
        for line in fitted.lines:
            console.print(text(line))
        return
    grid = fitted.grid
    title = _title(grid)
    if title is not None:  # rich pads a title to the table's width: trailing spaces
        console.print(text(title))
        grid = replace(grid, title=None)
    console.print(fit_numbers(table(grid)))
    for line in fitted.below:
        if line not in next_text:
            console.print(text(line))


WRAP_WIDTH = 12  # a prose column (an error message) counts this wide when fitting


def _natural(console: Console, grid: view.Grid) -> int:
    """The width the grid's table takes when nothing wraps but its prose columns,
    which count WRAP_WIDTH at most: rich wraps them inside the cell."""
    from rich.measure import Measurement

    made = fit_numbers(table(grid))
    for column, spec in zip(made.columns, grid.columns):
        if spec.wrap:
            column.max_width = WRAP_WIDTH
    wide = console.options.update_width(10_000)
    return Measurement.get(console, wide, made).maximum


def table(grid: view.Grid) -> Table:
    """The rich Table for a grid: totals below a rule, marks coloured."""
    title = _title(grid)
    made = Table(title=None if title is None else text(title), title_justify="left")
    for column in grid.columns:
        note = f"\n{column.label.note}" if column.label.note else ""
        made.add_column(
            text(column.label.text + note),
            justify="right" if column.right else "left",
            overflow="fold" if column.wrap else "ellipsis",
        )
    for row in grid.rows:
        made.add_row(*(grid.elided("...") if row is None else map(_cell, row)))
    if grid.totals:
        made.add_section()
    for total in grid.totals:
        made.add_row(*map(text, total))
    return made


def _title(grid: view.Grid) -> str | None:
    if grid.title is None:
        return None
    return grid.title.text + (f" {grid.title.note}" if grid.title.note else "")


def _cell(cell: view.Cell) -> Text:
    if isinstance(cell, view.Mark):
        return text(cell.word, _STYLES[cell.tone or cell.word])
    return text(cell)


def _listing(block: view.Listing, console: Console) -> None:
    """Each line indented by two; in a terminal a long line wraps at spaces with its
    continuation indented under it (a derivation keeps its shape), piped it stays one."""
    for line in block.lines:
        depth = len(line) - len(line.lstrip(" "))
        hang = " " * min(2 + depth + 4, console.width // 2)
        _wrapped(line.lstrip(" "), console, indent=" " * (2 + depth), hang=hang)


class _FormulaWrapper(textwrap.TextWrapper):
    """A formula longer than the line breaks after an operator (`*`, `+`, `/`), or
    starts the next line, not inside a name: `...*prod_{p>i}(s` / `um_m(` was two tokens."""

    def _handle_long_word(self, chunks: list[str], line: list[str], used: int, width: int) -> None:
        chunk, room = chunks[-1], max(width - used, 1)
        cut = max(
            (i for i in range(1, min(room, len(chunk)) + 1) if _after_operator(chunk, i)),
            default=0,
        )
        if cut == 0 and not line:  # no operator in reach of an empty line: cut it
            super()._handle_long_word(chunks, line, used, width)
        elif cut:  # else it starts the next line
            line.append(chunk[:cut])
            chunks[-1] = chunk[cut:]


def _after_operator(chunk: str, i: int) -> bool:
    """Whether `chunk` may break before position i: after `*`, `+` or `/`, never inside `**`."""
    return chunk[i - 1] in "*+/" and chunk[i : i + 1] != "*"


def _code(block: view.Code, console: Console) -> None:
    console.print(block.text, end="", markup=False, highlight=False)


def _tree(block: view.Tree, console: Console) -> None:
    from rich.tree import Tree

    root = Tree(text(_parts(block.label, console.width)))  # x[idx] is not rich markup
    stack = [(root, child, 1) for child in reversed(block.children)]
    while stack:
        branch, node, depth = stack.pop()
        made = branch.add(text(_parts(node.label, console.width - _GUIDE * depth)))
        stack.extend((made, child, depth + 1) for child in reversed(node.children))
    console.print(root, soft_wrap=False)  # wrap, not crop


_GUIDE = 4  # columns rich.tree indents each level by ("├── ", "│   ")


def _parts(label: str, width: int) -> str:
    """A graph node's label, wider than `width`, broken between its parts (the edge
    `<- power rule --`, then, two spaces apart, `[4] PowBackward0`, `x**2 = [9, 16, 100]`,
    `grad in: [1, 1, 1]`), so a value is not cut at one of its own spaces; a part wider
    still is wrapped by rich at spaces."""
    if len(label) <= width:
        return label
    first, *rest = label.split("  ")
    edge, arrow, node = first.partition(" -- ")
    parts = [("", f"{edge} --"), (" ", node)] if arrow else [("", first)]
    lines: list[str] = []
    for joint, part in [*parts, *(("  ", later) for later in rest)]:
        if lines and len(lines[-1]) + len(joint) + len(part) <= width:
            lines[-1] += joint + part
        else:
            lines.append(part)
    return "\n".join(lines)


def _verdict(block: view.Verdict, console: Console) -> None:
    _prose(block.text, _VERDICT_STYLES[block.status], console)


# each kind of block is drawn by the function named after it (view.Grid: _grid)
_DRAW: dict[type, Callable[[Any, Console], None]] = {
    kind: globals()[f"_{kind.__name__.lower()}"] for kind in get_args(view.Block)
}


def fit_numbers(table: Table) -> Table:
    """Never elide a number: each column is at least as wide as its widest number.

    When the table is wider than the terminal, rich then wraps the headers (formulas)
    and labels instead of cutting `0.0123456789` down to `0.0…`.
    """
    for column in table.columns:
        cells = [cell.plain if isinstance(cell, Text) else cell for cell in column._cells]
        widths = [len(cell) for cell in cells if isinstance(cell, str) and is_number(cell)]
        column.min_width = max(widths, default=None)
    return table
