"""Regenerate docs/graph.svg: the seed example with its autograd graph, drawn by the tool.

    python scripts/make_graph_svg.py

The picture is the real terminal output of `gradexplain "sum(x**2)" --x 3,4,10 --graph`
at 100 columns, saved by `--svg` (rich's SVG export; no Graphviz needed).
"""

from __future__ import annotations

import sys
from pathlib import Path

TARGET = Path(__file__).resolve().parent.parent / "docs" / "graph.svg"
COMMAND = ["sum(x**2)", "--x", "3,4,10", "--graph"]


def main() -> int:
    from typer.testing import CliRunner

    from gradexplain.cli import app

    TARGET.parent.mkdir(exist_ok=True)
    result = CliRunner().invoke(app, [*COMMAND, "--svg", str(TARGET)],
                                env={"COLUMNS": "100", "TERM": "xterm-256color"})
    if result.exit_code != 0:
        sys.stderr.write(result.output)
        return result.exit_code
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
