"""GitHub-flavoured Markdown: the same story as the table, for `$GITHUB_STEP_SUMMARY`.

What is shown is decided once, in `view`; this module only writes each kind of block as
Markdown: tables, paragraphs, fenced listings (a ```mermaid block for `--mermaid`). Every
cell is escaped so an expression cannot break the table; formulas go in code spans so
`2*x_j` is not read as emphasis.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import get_args

from gradexplain.errors import ExitStatus
from gradexplain.output import view
from gradexplain.output.safetext import visible
from gradexplain.result import Explanation

_OUTCOME_MARK = {ExitStatus.AGREE: "✅", ExitStatus.DISAGREE: "❌", ExitStatus.UNDEFINED: "⚠️"}


def code(text: str) -> str:
    """A code span that survives backticks and pipes inside the text; control characters
    are shown escaped (a line break would end a table row)."""
    text = visible(text)
    fence = "``" if "`" in text else "`"
    pad = " " if "`" in text else ""
    return f"{fence}{pad}{text.replace('|', '&#124;')}{pad}{fence}"


def escape(text: str) -> str:
    """Our own text in a cell or paragraph: `*` and backticks are literal, `|` cannot
    split, and a control character (`\r`, `\n`) is shown escaped, never a line break."""
    text = visible(text.replace("\n", " "))
    for char in "\\*`|":
        text = text.replace(char, "\\" + char)
    return text


_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character


def untrusted(text: str) -> str:
    """A user's text (a case name, a file name, a message quoting them) in a cell or
    heading: control characters shown escaped, then every ASCII punctuation character
    backslash-escaped (CommonMark allows it for each), so no link, image, autolink
    (`https\\://`, `www\\.`), HTML tag, entity, emphasis or table pipe can form."""
    return _PUNCTUATION.sub(r"\\\1", visible(text))


def markdown(result: Explanation) -> str:
    """The whole explanation as one Markdown document, ending with a newline (Jupyter's;
    the command line's is `report.emit`)."""
    return "\n".join(write(view.build(result)))


def write(sections: list[view.Section]) -> list[str]:
    """Each block, then a blank line."""
    lines: list[str] = []
    for section in sections:
        for block in section.blocks:
            lines += [*_WRITE[type(block)](block), ""]
    return lines


def _label(label: view.Label) -> str:
    text = code(label.text) if label.code else escape(label.text)
    note = untrusted(label.note) if label.quoted else escape(label.note)
    return f"{text} {note}" if label.note else text


def _cell(cell: view.Cell, column: view.Column) -> str:
    """A mark in bold where the terminal colours it as failing; the user's text with no
    markup left in it; a formula in a code span."""
    if isinstance(cell, view.Mark):
        return cell.word if (cell.tone or cell.word) == "ok" else f"**{escape(cell.word)}**"
    return untrusted(cell) if column.quoted else code(cell) if column.code else escape(cell)


def _heading(block: view.Heading) -> list[str]:
    return [f"## gradexplain {code(block.expression)} ({escape(block.size)})"]


def _paragraph(block: view.Paragraph) -> list[str]:
    text = "".join(
        code(piece.text)
        if piece.kind == "code"
        else f"**{escape(piece.text)}**"
        if piece.kind == "strong"
        else escape(piece.text)
        for piece in block.pieces
    )
    return [f"> {text}" if block.warning else text]


def _assignments(block: view.Assignments) -> list[str]:
    return [", ".join(code(item) for item in block.items)]


def _grid(block: view.Grid) -> list[str]:
    body = [
        list(block.elided("…"))
        if row is None
        else [_cell(cell, column) for cell, column in zip(row, block.columns)]
        for row in block.rows
    ]
    body += [
        [f"**{escape(label)}**" if label else "", *map(escape, rest)]
        for label, *rest in block.totals
    ]
    header = [_label(column.label) for column in block.columns]
    rule = ["---:" if column.right else ":---" for column in block.columns]  # numbers right
    lines = ["| " + " | ".join(row) + " |" for row in [header, rule, *body]]
    return lines if block.title is None else [f"### {_label(block.title)}", "", *lines]


def _fenced(text: str, language: str = "text") -> list[str]:
    """A fenced block longer than any run of backticks inside it."""
    fence = "```"
    while fence in text:
        fence += "`"
    return [f"{fence}{language}", text.rstrip("\n"), fence]


def _listing(block: view.Listing) -> list[str]:
    return _fenced("\n".join(block.lines))


def _code(block: view.Code) -> list[str]:
    return _fenced(block.text, block.language)


def _tree(block: view.Tree) -> list[str]:
    """The tree as the terminal draws it, with the same guides, in a fenced block."""
    lines = [block.label]
    stack = [
        (child, "", i == len(block.children) - 1)
        for i, child in reversed(list(enumerate(block.children)))
    ]
    while stack:
        node, prefix, last = stack.pop()
        lines.append(prefix + ("└── " if last else "├── ") + node.label)
        deeper = prefix + ("    " if last else "│   ")
        stack.extend(
            (child, deeper, i == len(node.children) - 1)
            for i, child in reversed(list(enumerate(node.children)))
        )
    return _fenced("\n".join(lines))


def _verdict(block: view.Verdict) -> list[str]:
    return [f"**{_OUTCOME_MARK[block.status]} {block.text}**"]


# each kind of block is written by the function named after it (view.Grid: _grid)
_WRITE: dict[type, Callable[..., list[str]]] = {
    kind: globals()[f"_{kind.__name__.lower()}"] for kind in get_args(view.Block)
}
