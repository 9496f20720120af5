"""One view, two drawings: every section the terminal shows, Markdown shows (issue 11).

`view.build` and `view.extras` decide what is shown; `render` and `markdown` only draw
blocks. These tests hold both drawings to the same sections, and pin each extra's
Markdown form.
"""

from __future__ import annotations

import io
import typing
from dataclasses import fields
from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from gradexplain import explain
from gradexplain.cli import app
from gradexplain.output import markdown, render, view
from gradexplain.teach import extras

ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}


def run(*args: str):
    return CliRunner().invoke(app, [*args, "--format", "markdown"], env=ENV)


def test_steps_are_a_fenced_listing():
    result = run("sum(x**2)", "--x", "3,4,10", "--steps")
    assert result.exit_code == 0
    assert result.stdout.endswith("""\
**✅ SymPy and autograd agree on cpu, float64: largest |difference| 0 (rtol 1e-07, atol 1e-07)**

Steps for dL/dx:

```text
L = sum_k(x_k**2)
sum rule: the derivative of a sum is the sum of derivatives: d/dx_j [sum_k(x_k**2)] = sum_k(2*delta_jk*x_k)
  power rule (u**p)' = p u**(p-1) u': d/dx_j [x_k**2] = 2*delta_jk*x_k
sum rule, only the term k = j survives (the delta): dL/dx_j = 2*x_j
```
""")


def test_graph_is_the_terminal_tree_in_a_fenced_block():
    result = run("torch.sum(x**2)", "--x", "3,4,10", "--graph")
    assert result.exit_code == 0
    assert result.stdout.endswith("""\
Autograd graph (backward runs from the top; grad in = what flows into each node):

```text
[0] SumBackward0  sum(x**2) = 125  grad in: 1
└── <- sum rule -- [1] PowBackward0  x**2 = [9, 16, 100]  grad in: [1, 1, 1]
    └── <- power rule -- [2] AccumulateGrad  x = [3, 4, 10]  grad in: [6, 8, 20]
```
""")


def test_graph_branches_draw_the_same_guides_as_rich():
    tree = view.Tree("root", (view.Tree("a", (view.Tree("a1"), view.Tree("a2"))), view.Tree("b")))
    console = Console(width=80, file=io.StringIO(), color_system=None)
    render.draw([view.Section("--graph", (tree,))], console)
    drawn = console.file.getvalue()  # type: ignore[attr-defined]
    assert markdown.write([view.Section("--graph", (tree,))]) == [
        "```text",
        drawn.rstrip("\n"),
        "```",
        "",
    ]


def test_mermaid_is_a_mermaid_block():
    result = run("sum(x**2)", "--x", "3,4", "--mermaid")
    assert result.exit_code == 0
    assert result.stdout.endswith("""\
```mermaid
flowchart BT
  n0["SumBackward0<br/>sum(x**2) = 25<br/>grad in: 1"]
  n1["PowBackward0<br/>x**2 = [9, 16]<br/>grad in: [1, 1]"]
  n2["AccumulateGrad<br/>x = [3, 4]<br/>grad in: [6, 8]"]
  n1 -- "sum rule" --> n0
  n2 -- "power rule" --> n1
```
""")


def test_check_fd_adds_the_columns_and_the_sentence():
    result = run("x**2*y", "--x", "3", "--y", "2", "--check-fd")
    assert result.exit_code == 0
    assert (
        """\
| `x` | `dL/dx = 2*x*y` (SymPy) | autograd |  | finite diff. (float64) |  |
| ---: | ---: | ---: | :--- | ---: | :--- |
| 3 | 12 | 12 | ok | 12 | ok |
| **L** | 18 | 18 |  |  |  |
"""
        in result.stdout
    )
    assert (
        "Finite differences of dL/dy (float64, central, eps 1e-06) agree with autograd "
        "(gradcheck's rtol 0.001, atol 1e-05; largest \\|difference\\| "
    ) in result.stdout


def test_check_fd_lists_a_matrix_gradient():
    result = run("sum(X)", "--X", "1,2;3,4", "--check-fd")
    assert result.exit_code == 0
    assert "```text\ndL/dX by finite differences: [[" in result.stdout


def test_hessian_is_a_table():
    result = run("x**2*y", "--x", "3", "--y", "2", "--hessian")
    assert result.exit_code == 0
    assert (
        """\
### Hessian d2L/(da db), symmetric: pairs a <= b

| a | b | SymPy | torch.func.hessian |  |
| :--- | :--- | ---: | ---: | :--- |
| x | x | 4 | 4 | ok |
| x | y | 6 | 6 | ok |
| y | y | 0 | 0 | ok |

**✅ SymPy and autograd agree"""
        in result.stdout
    )


def test_hessian_undefined_is_a_quoted_warning():
    result = run("sum(x**0.5)", "--x", "0,4", "--hessian")
    assert result.exit_code == 3
    assert (
        "> Hessian not compared: second derivatives do not exist at a pole of \\*\\* at column 5.\n"
    ) in result.stdout


def test_v_and_jacobian():
    result = run("x**2", "--x", "3,4", "--v", "1,2", "--jacobian")
    assert result.exit_code == 0
    assert result.stdout.endswith("""\
y.backward(v) with v = [1, 2] computes J^T v, J_ij = dy_i/dx_j (v = ones would give the gradient of sum(y)):

```text
x: autograd [6, 16]; SymPy J^T v = 2*v_j*x_j = [6, 16]  ok
```

Jacobian dy_i/dx_j with y = x\\*\\*2:

| i | j=0 | j=1 |
| ---: | ---: | ---: |
| 0 | 6 | 0 |
| 1 | 0 | 8 |
| **sum** | 6 | 8 |

Each column sum is dL/dx_j: the sum rule, made visible.

SymPy's dy_i/dx_j = 2\\*delta_ij\\*x_i agrees with torch.func.jacrev (largest \\|difference\\| 0).
""")


def test_dot_says_where_it_wrote(tmp_path: Path):
    target = tmp_path / "g.dot"
    result = run("sum(x**2)", "--x", "3,4", "--dot", str(target))
    assert result.exit_code == 0
    assert result.stdout.endswith(f"\nDOT graph written to {target}\n")
    assert target.read_text(encoding="utf-8").startswith("digraph autograd {")


def test_svg_is_refused_by_name():
    result = run("sum(x**2)", "--x", "3,4", "--terminal-svg", "out.svg")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "gradexplain: error: --terminal-svg saves a picture of the terminal "
        "table; with --format markdown there is none (use --format "
        "table)\n"
    )


def _everything(tmp_path: Path):
    """x**2 at (3, 4) with every extra, and the options that asked for them."""
    options = extras.Options(
        **{field.name: True for field in fields(extras.Options) if field.type in (bool, "bool")},
        dot=str(tmp_path / "g.dot"),
        v="1,2",
        graph_svg=str(tmp_path / "g.svg"),
        jacobian_out=str(tmp_path / "J.json"),
    )
    result = explain("x**2", x=[3, 4], hessian=True)
    extras.add(result, options)
    return result, options


def test_every_option_has_a_section(tmp_path: Path):
    """A new field of extras.Options fails here until the view shows it (svg: refused)."""
    result, options = _everything(tmp_path)
    shown = {section.option for section in [*view.build(result), *view.extras(result, options)]}
    asked = {"--" + field.name.replace("_", "-") for field in fields(extras.Options)}
    assert asked - shown == {"--svg"}
    assert "--hessian" in shown


def _needle(block: view.Block) -> str:
    """Text that any drawing of the block must contain, whatever its markup."""
    if isinstance(block, view.Grid):
        return block.columns[-1].label.text or block.columns[1].label.text
    if isinstance(block, view.Listing):
        return block.lines[0]
    if isinstance(block, view.Code):
        return block.text.splitlines()[0]
    if isinstance(block, view.Assignments):
        return block.items[0]
    if isinstance(block, view.Heading):
        return block.expression
    if isinstance(block, view.Tree):
        return block.label
    return block.text  # Paragraph, Verdict


def test_both_drawings_show_every_section(tmp_path: Path):
    result, options = _everything(tmp_path)
    sections = [*view.build(result), *view.extras(result, options)]
    for section in sections:
        console = Console(width=2000, file=io.StringIO(), color_system=None)
        render.draw([section], console)
        terminal = console.file.getvalue()  # type: ignore[attr-defined]
        written = "\n".join(markdown.write([section])).replace("\\", "").replace("`", "")
        for block in section.blocks:
            assert _needle(block) in terminal, (section.option, block)
            assert _needle(block).replace("`", "") in written, (section.option, block)


def test_every_kind_of_block_has_a_drawing_in_each_format():
    kinds = set(typing.get_args(view.Block))
    assert set(render._DRAW) == kinds
    assert set(markdown._WRITE) == kinds


def _terminal_rows(text: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.strip("│").split("│")]
        for line in text.splitlines()
        if line.startswith("│")
    ]


def _markdown_rows(text: str) -> list[list[str]]:
    """Each body row's cells with the Markdown markup taken off (escapes, code, bold)."""
    rows = [line for line in text.splitlines() if line.startswith("| ")][2:]
    plain = [row.replace("\\|", "\x00") for row in rows]
    return [
        [
            cell.strip().replace("\x00", "|").replace("\\", "").strip("`").strip("*")
            for cell in row.strip("| ").split(" | ")
        ]
        for row in plain
    ]


def _cases_file(tmp_path: Path) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(
        """\
[[case]]
name = "square"
expression = "sum(x**2)"
values = { x = [1, 2] }
[[case]]
name = "a *bold* [link](http://x) | pipe"
expression = "sum(x**"
values = { x = [1] }
[[case]]
name = "wrong"
expression = "sum(x**2)"
values = { x = [1, 2] }
expect = { x = [2, 5] }
[[case]]
name = "kink"
expression = "sum(abs(x))"
values = { x = [0, 2] }
""",
        encoding="utf-8",
    )
    return path


def test_expect_table_is_the_terminal_grid_in_markdown():
    """Markdown draws checkview's --expect grid and verdict: the same cells, row by row."""
    args = ["sum(x**2)", "--x", "3,4,10", "--expect", "x=6,8,21"]
    terminal = CliRunner().invoke(app, [*args, "--format", "table"], env=ENV)
    written = run(*args)
    assert terminal.exit_code == written.exit_code == 1
    expect_table = terminal.stdout[terminal.stdout.index("Expected gradient") :]
    cells = _terminal_rows(expect_table)
    assert cells[-1] == ["dL/dx", "2", "21", "20", "20", "MISMATCH"]
    assert _markdown_rows(written.stdout)[-len(cells) :] == cells
    assert "| `dL/dx` | 2 | 21 | 20 | 20 | **MISMATCH** |" in written.stdout
    assert written.stdout.endswith("**❌ The expected gradient does NOT match: dL/dx (1 of 3).**\n")


def test_cases_summary_is_the_terminal_grid_in_markdown(tmp_path: Path):
    """Markdown draws checkview's --cases grid and counts; the user's text stays literal."""
    path = _cases_file(tmp_path)
    wide = {**ENV, "COLUMNS": "200"}
    terminal = CliRunner().invoke(app, ["--cases", str(path)], env=wide)
    written = CliRunner().invoke(app, ["--cases", str(path), "--format", "markdown"], env=wide)
    assert terminal.exit_code == written.exit_code == 2
    cells = _terminal_rows(terminal.stdout)
    assert [row[:2] for row in cells] == [
        ["square", "agree"],
        ["a *bold* [link](http://x) | pipe", "invalid (expression)"],
        ["wrong", "expect mismatch"],
        ["kink", "undefined"],
    ]
    assert _markdown_rows(written.stdout) == cells
    assert "| a \\*bold\\* \\[link\\]\\(http\\:\\/\\/x\\) \\| pipe |" in written.stdout
    assert "| wrong | **expect mismatch** | 1 |" in written.stdout
    counts = "4 cases: 1 agree, 1 disagree, 1 undefined, 1 invalid"
    assert terminal.stdout.endswith(counts + "\n")
    assert written.stdout.endswith(f"**❌ {counts}**\n")
