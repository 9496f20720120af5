"""Jupyter: how an `Explanation` displays itself (`api` hands `markdown_repr` to the
result it makes; `%gradexplain` is in `magic.py`).

The display is Markdown, which Jupyter renders with its math: the decomposition table and
the verdict as `markdown.py` writes them, each gradient formula set as math, and the
autograd graph drawn inline as SVG (`svg.py`), Python's built-in sum's beside it where the
expression is a bare `sum(...)` of a vector.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gradexplain.result import Explanation


def markdown_repr(result: Explanation) -> str:
    from gradexplain.output import latexform, markdown

    parts = [markdown.markdown(result)]
    for name, gradient in result.gradients.items():
        if gradient.latex:
            letters = (result.notation.j, result.notation.k)[: len(gradient.shape)]
            element = latexform.element(name, letters)
            parts.append(f"$$\\frac{{\\partial L}}{{\\partial {element}}} = {gradient.latex}$$")
    parts += [
        f"![{alt}](data:image/svg+xml;base64,"
        f"{base64.b64encode(text.encode('utf-8')).decode('ascii')})"
        for alt, text in _drawings(result)
    ]
    return "\n\n".join(parts) + "\n"


def terminal_text(result: Explanation, width: int, colour: str | None = None) -> str:
    """The command line's output (tables, sentences, verdict) `width` columns wide, prose
    wrapped at words: IPython's terminal and rich show a result so. ANSI styles when
    `colour` names a rich colour system ("truecolor", "256"...), none for None."""
    import io

    from rich.console import Console

    from gradexplain.output.render import render

    out = io.StringIO()
    console = Console(
        file=out,
        width=max(width, 20),
        color_system=colour,  # type: ignore[arg-type]  # rich's Literal of names
        force_terminal=colour is not None,
        force_jupyter=False,  # in a kernel rich would display each line itself
        highlight=False,
        soft_wrap=False,
    )
    render(result, console)
    return "\n".join(line.rstrip() for line in out.getvalue().rstrip("\n").splitlines())


def _drawings(result: Explanation) -> list[tuple[str, str]]:
    """(alt text, SVG) of the autograd graph, and of Python's sum's where it applies."""
    from gradexplain.output import svg
    from gradexplain.teach import graph, pysum

    program = result.program
    chosen = list(result.gradients)
    built = graph.build(
        program.tree, dict(program.values), result.dtype, shaped=program.shaped, wrt=chosen
    )
    title = f"autograd graph of {result.expression}"
    found = [(title, svg.draw(built, title))]
    if pysum.applies(program):
        builtin = pysum.build(program, result.dtype, chosen)
        if builtin.graph is not None:
            title = f"Python's built-in sum: {builtin.printed}"
            found.append((title, svg.draw(builtin.graph, title)))
    return found
