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

    from gradexplain.expect import Expectation
    from gradexplain.result import Explanation

FORMATS = ("table", "json", "markdown")


def make_console(no_color: bool = False, file: TextIO | None = None) -> Console:
    """A console for results; `color_system=None` drops every escape code, bold too.

    In a terminal, prose wraps at word boundaries to its width; when piped, sentences and
    the verdict stay one line each (soft_wrap: scripts grep them). Tables are laid out at
    the console's width either way (`fit.py`).
    """
    from rich.console import Console

    if no_color or os.environ.get("NO_COLOR"):
        console = Console(highlight=False, soft_wrap=True, color_system=None, file=file)
    else:
        console = Console(highlight=False, soft_wrap=True, file=file)
    if console.width < 1:  # COLUMNS=0: an unknown width, not a zero-wide terminal
        console.width = 80
    console.soft_wrap = not console.is_terminal  # a terminal wraps prose at word boundaries
    return console


def json_document(result: Explanation, checks: list[Expectation] | None) -> dict[str, Any]:
    """`jsonout.document`, plus the `expect` field and its effect on the status."""
    from gradexplain import expect
    from gradexplain.jsonout import document

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
) -> None:
    """Print `result` as `output_format` (nothing when `console` is None, for --quiet).
    The exit status is the caller's (`request.answer` decides it)."""
    if console is None:
        return
    if output_format == "json":
        from gradexplain import jsonout

        jsonout.write(console.file, json_document(result, checks))
    elif output_format == "markdown":
        from gradexplain.markdown import markdown

        console.file.write(markdown(result, checks, show_all=show_all))
    else:
        from gradexplain.render import render

        render(result, console, show_all=show_all)
        if checks:
            render_expectations(checks, console)


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

    from gradexplain import outputs
    from gradexplain.render import render_extras
    from gradexplain.safetext import visible

    shot = Console(
        file=io.StringIO(), width=width, record=True, highlight=False, force_jupyter=False
    )
    emit(result, checks, "table", shot, show_all=show_all)
    render_extras(result, shot, options)
    picture = shot.export_svg(title=f"gradexplain {visible(result.expression)}")
    outputs.write(options.svg, picture, "--terminal-svg")


def render_expectations(checks: list[Expectation], console: Console) -> None:
    """Expected against computed per element, fitted to the console as the main table
    is (`checkview`), then one verdict line."""
    from gradexplain import checkview, render, view

    render.draw([view.Section("--expect", checkview.expectations(checks))], console)
