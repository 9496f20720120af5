"""Write one explanation in the chosen format, with any `--expect` check, to a console.

The CLI and batch runs share this: table, json or markdown on stdout, nothing with
`--quiet`. Colour follows clig.dev: none when stdout is not a terminal, when NO_COLOR is
set, or with `--no-color`.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, TextIO

from gradexplain.status import exit_status

if TYPE_CHECKING:
    from rich.console import Console

    from gradexplain.output.view import Section
    from gradexplain.result import Explanation
    from gradexplain.teach.extras import Options
    from gradexplain.witnesses.expect import Expectation

FORMATS = ("table", "json", "markdown")


def make_console(no_color: bool = False, file: TextIO | None = None) -> Console:
    """A console for results; `color_system=None` drops every escape code, bold too.

    In a terminal, prose wraps at word boundaries to its width; when piped, sentences and
    the verdict stay one line each (soft_wrap: scripts grep them). Tables are laid out at
    the console's width either way (`fit.py`).
    """
    from rich.console import Console

    plain = no_color or os.environ.get("NO_COLOR")
    console = Console(highlight=False, color_system=None if plain else "auto", file=file)
    if console.width < 1:  # COLUMNS=0: an unknown width, not a zero-wide terminal
        console.width = 80
    console.soft_wrap = not console.is_terminal  # a terminal wraps prose at word boundaries
    return console


def json_document(result: Explanation, checks: list[Expectation] | None) -> dict[str, Any]:
    """`jsonout.document`, plus the `expect` field and its effect on the status."""
    from gradexplain.output.jsonout import document
    from gradexplain.witnesses import expect

    payload = document(result)
    if checks:
        final = exit_status(result, checks)
        payload["expect"] = expect.to_json(checks)
        payload["status"] = final.name.lower()
        payload["exit_code"] = int(final)
    return payload


def emit(
    result: Explanation,
    checks: list[Expectation] | None,
    output_format: str,
    console: Console | None,
    *,
    show_all: bool = False,
    options: Options | None = None,
) -> None:
    """Print `result` as `output_format`, then its `--expect` checks and the extras of
    `options` (nothing when `console` is None, for --quiet). The exit status is the
    caller's (`request.answer` decides it)."""
    if console is None:
        return
    if output_format == "json":  # the document holds the extras (`jsonout.augment`)
        from gradexplain.output import jsonout

        jsonout.write(console.file, json_document(result, checks))
        return
    from gradexplain.output import checkview, view

    sections = view.build(result, show_all=show_all)
    if checks:
        sections.append(view.Section("--expect", checkview.expectations(checks)))
    if options is not None:
        sections += view.extras(result, options)
    show(sections, output_format, console)


def show(sections: list[Section], output_format: str, console: Console) -> None:
    """The view's blocks as Markdown, or fitted and drawn as the terminal's tables."""
    if output_format == "markdown":
        from gradexplain.output import markdown

        console.file.write("\n".join(markdown.write(sections)))
    else:
        from gradexplain.output import render

        render.draw(sections, console)


def screenshot(
    result: Explanation,
    checks: list[Expectation] | None,
    options: Any,
    width: int,
    *,
    show_all: bool = False,
) -> None:
    """`--terminal-svg`: the output drawn again as a terminal `width` columns wide shows
    it, prose wrapped at words, saved as SVG. Not a recording of stdout: piped, each
    sentence is one line, which rich's export_svg would crop at the edge."""
    import io

    from rich.console import Console

    from gradexplain.output import files
    from gradexplain.output.safetext import visible

    shot = Console(
        file=io.StringIO(), width=width, record=True, highlight=False, force_jupyter=False
    )
    emit(result, checks, "table", shot, show_all=show_all, options=options)
    picture = shot.export_svg(title=f"gradexplain {visible(result.expression)}")
    files.write(options.svg, picture, "--terminal-svg")
