"""A result shows itself where a PyTorch user looks (issue 14, item 5): IPython's
text/plain (its terminal, where `%gradexplain` also runs) and `rich.print` draw the
command line's table and verdict at their width, not the dataclass's repr."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from gradexplain import explain

pretty = pytest.importorskip("IPython.lib.pretty")


@pytest.fixture(scope="module")
def seed():
    return explain("sum(x**2)", x=[3, 4, 10])


@pytest.mark.parametrize("width", [79, 60])
def test_ipython_text_plain_is_the_table_at_its_width(seed, width):
    shown = pretty.pretty(seed, max_width=width)
    lines = shown.splitlines()
    assert lines[0] == "gradexplain sum(x**2)  (n = 3)"
    assert "│ 0 │   3 │            9 │               6 │        6 │ ok │" in lines
    assert "Explanation(" not in shown and "node_shapes" not in shown
    assert max(map(len, lines)) <= width
    assert all(line == line.rstrip() for line in lines)
    assert "SymPy and autograd agree" in " ".join(lines)


def test_rich_print_draws_the_table_in_the_consoles_colours(seed):
    out = io.StringIO()
    console = Console(file=out, width=70, force_terminal=True, color_system="truecolor")
    console.print(seed)
    drawn = out.getvalue()
    assert "\x1b[" in drawn  # styled
    plain = Console(file=io.StringIO(), width=70, color_system=None)
    plain.print(seed)
    text = plain.file.getvalue()
    assert "│ 2 │  10 │" in text and "SymPy and autograd agree" in text
    assert max(map(len, text.splitlines())) <= 70
