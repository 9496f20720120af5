"""Regenerate the pictures of the seed's autograd graph in docs/.

    python scripts/make_graph_svg.py

- docs/seed-graph.svg: gradexplain's own drawing (`--graph-svg`, no Graphviz) of the graph
  torch builds for `sum(x**2)` at x = [3, 4, 10] with torch.sum: one SumBackward0;
- docs/seed-builtin-sum-graph.svg: the graph of the learner's notebook spelling, Python's
  built-in sum, one AddBackward0 per element;
- docs/graph.svg: a screenshot of the terminal output of
  `gradexplain "sum(x**2)" --x 3,4,10 --graph` at 100 columns (`--terminal-svg`).

tests/test_desk.py fails when the two drawings are stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs"
COMMAND = ["sum(x**2)", "--x", "3,4,10", "--graph"]


def drawings() -> dict[str, str]:
    """The two drawings, by file name, as gradexplain writes them."""
    from gradexplain.ir.program import build
    from gradexplain.ir.values import from_numbers
    from gradexplain.output import svg
    from gradexplain.teach import graph, pysum

    program = build("sum(x**2)", {"x": from_numbers("x", [3, 4, 10])})
    summed = graph.build(program.tree, dict(program.values), wrt=["x"])
    builtin = pysum.build(program, "float64", ["x"]).graph
    assert builtin is not None
    return {
        "seed-graph.svg": svg.draw(summed, "torch.sum(x**2) at x = [3, 4, 10]"),
        "seed-builtin-sum-graph.svg": svg.draw(builtin, "Python's sum(x**2) at x = [3, 4, 10]"),
    }


def main() -> int:
    from typer.testing import CliRunner

    from gradexplain.cli import app

    DOCS.mkdir(exist_ok=True)
    for name, text in drawings().items():
        (DOCS / name).write_text(text, encoding="utf-8")
        print(f"wrote {DOCS / name}")
    target = DOCS / "graph.svg"
    result = CliRunner().invoke(
        app,
        [*COMMAND, "--terminal-svg", str(target)],
        env={"COLUMNS": "100", "TERM": "xterm-256color"},
    )
    if result.exit_code != 0:
        sys.stderr.write(result.output)
        return result.exit_code
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
