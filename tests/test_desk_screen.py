"""Issue 14, the learner's screen: printed rules, rich markup, graph inflow, --steps at 80
and 60 columns, the --expect and --cases tables fitted like the main table."""

from __future__ import annotations

import itertools

import pytest
from rich.console import Console
from typer.testing import CliRunner

from gradexplain.cli import app
from tests.helpers import cli_at_width


def _at_width(monkeypatch, command: str, width: int) -> str:
    """The real CLI at a fixed width; no line of it may be wider."""
    out = cli_at_width(monkeypatch, command, width)
    too_wide = [line for line in out.splitlines() if len(line) > width]
    assert not too_wide, too_wide
    return out


def _flat(text: str) -> str:
    """The words of rendered text, whatever the wrapping: tests read sentences."""
    return " ".join(text.replace("│", " ").split())


# ---- rules printed as the formulas are ------------------------------------------------


@pytest.mark.parametrize("width", [80, 60])
@pytest.mark.parametrize(
    ("command", "rule", "table"),
    [
        ('"sum(log2(x))" --x 0.5,2', "log2'(u) = 1/(u*log(2))", "1/(log(2)*x_j)"),
        ('"sum(relu(x))" --x 0.5,2', "relu'(u) = Heaviside(u); 1 for u > 0", "Heaviside(x_j)"),
        (
            '"sum(atan2(x, y))" --x 0.5,2 --y 1,3',
            "atan2(u, v): d/du = v/(u**2 + v**2), d/dv = -u/(u**2 + v**2)",
            None,
        ),
    ],
)
def test_steps_and_graph_quote_the_printed_rule(monkeypatch, width, command, rule, table):
    """The rule --steps applies and the graph's edge says is SymPy's printed derivative."""
    out = _flat(_at_width(monkeypatch, f"{command} --steps --graph", width))
    assert out.count(rule) >= 2, out  # once in --steps, once on the graph's edge
    if table is not None:
        assert table in out


@pytest.mark.parametrize("width", [80, 60])
def test_the_softmax_rule_keeps_its_kronecker_delta(monkeypatch, width):
    out = _flat(_at_width(monkeypatch, '"softmax(x)" --x 2,1,0.1 --graph', width))
    assert "softmax'(u): d s_i/d u_k = (delta_ik - s_k)*s_i, s = softmax(u)" in out
    assert "( - s_k)" not in out


# ---- rich never reads our text as markup ----------------------------------------------


@pytest.mark.parametrize("width", [80, 60])
def test_a_matrix_of_elements_is_printed_with_its_brackets(monkeypatch, width):
    """det(X@X): the matrix whose element (i, m) is sum_p(X_ip*X_pm) reads [..]_im in the
    heading, the table header and the sentences; rich would have eaten a [tag]."""
    out = _at_width(monkeypatch, '"det(X@X)" --X "2,1;1,3"', width)
    assert "L = det([sum_p(X_ip*X_pm)]_im)" in out
    joined = "".join(out.split())  # a formula longer than a line breaks inside a token
    assert "det([sum_p(X_ip*X_pm)]_im)*inv([sum_p(X_ip*X_pm)]_im)_bj*X_kb" in joined
    assert "{" not in out


def test_every_string_rich_draws_goes_through_one_escape():
    """A header, a cell, a title and a paragraph holding rich markup print as written."""
    import io

    from gradexplain.output import view
    from gradexplain.output.render import draw

    file = io.StringIO()
    console = Console(width=80, file=file, color_system=None)
    grid = view.Grid(
        view.Label("[bold]title[/bold]"),
        (view.Column(view.Label("[i == k]", code=True)), view.Column(view.Label("[red]x"))),
        (("[b]1", "2"),),
        (("[link=x]s", "3"),),
    )
    draw([view.Section(None, (grid, view.paragraph("[i == k] and [U_ip]_ip")))], console)
    out = file.getvalue()
    for text in ("[bold]title[/bold]", "[i == k]", "[red]x", "[b]1", "[link=x]s"):
        assert text in out
    assert "[i == k] and [U_ip]_ip" in out


# ---- the graph says what flows into every node ----------------------------------------


@pytest.mark.parametrize("width", [80, 60])
def test_slogdet_shows_the_gradient_that_flows_in(monkeypatch, width):
    """slogdet has two outputs; backward sends 1 into the second (logabsdet), none into
    the sign: the node says so instead of `grad in: -`."""
    out = _flat(_at_width(monkeypatch, '"slogdet(X)[1]" --X "2,1;1,3" --graph', width))
    assert "LinalgSlogdetBackward0 slogdet(X)[1] = 1.609437912 grad in: 1 (to output 1; " in out
    assert "output 0 gets none)" in out
    assert "grad in: -" not in out


# ---- --expect and --cases fit as the main table does ----------------------------------

LINEAR = (
    '"mean((sigmoid(X@w + b) - y)**2)" --X "0.5,-1,2;1.5,0,-0.5" --w 0.1,-0.2,0.3 '
    "--b 0.05 --y 1,0 --wrt w,b --expect w=0.1538605216,-0.013533478,-0.17 --expect b=0.0323"
)


@pytest.mark.parametrize("width", [80, 60, 30])
def test_the_expect_table_is_fitted_like_the_main_table(monkeypatch, width):
    out = _at_width(monkeypatch, LINEAR, width)
    flat = _flat(out)
    assert "The expected gradient does NOT match: dL/dw (3 of 3), dL/db (1 of 1)." in flat
    if width == 80:  # every digit fits
        assert "dL/dw 1 -0.013533478 0.05939996605 0.05939996605 MISMATCH" in flat
    elif width == 60:  # numbers shorten first, and say so
        assert "dL/dw 1 -0.01353 0.0594 0.0594 MISMATCH" in flat
        assert "Numbers are rounded to 4 significant digits to fit" in flat
    else:  # then one line per row
        assert "dL/dw: i 1, expected -0.013533478, SymPy 0.05939996605" in flat


CASES = """
[[case]]
name = "squares"
expression = "sum(x**2)"
values = {x = [3, 4, 10]}

[[case]]
name = "a long case name that describes the linear model of chapter four in words"
expression = "mean((sigmoid(X@w + b) - y)**2)"
values = {X = [[0.5, -1, 2], [1.5, 0, -0.5]], w = [0.1, -0.2, 0.3], b = 0.05, y = [1, 0]}
wrt = "w,b"

[[case]]
name = "broken"
expression = "sum(x**2"
values = {x = [1]}
"""


@pytest.mark.parametrize("width", [80, 60, 30])
def test_the_cases_summary_is_fitted_like_the_main_table(monkeypatch, tmp_path, width):
    path = tmp_path / "c.toml"
    path.write_text(CASES, encoding="utf-8")
    out = _at_width(monkeypatch, f"--cases {path}", width)
    flat = _flat(out)
    assert "3 cases: 2 agree, 1 invalid" in flat
    if width >= 60:  # a table: names and errors wrap inside their cells
        assert "┃ case" in out and "│ squares" in out
        assert "│ broken" in out and "syntax error:" in out
    else:  # one line per case
        assert "squares: verdict agree, largest difference 0" in flat
        assert "broken: verdict invalid (expression), largest difference syntax error" in flat


# ---- --steps on the linear model reads in a screen -------------------------------------

MODEL = (
    '"mean((sigmoid(X@w + b) - y)**2)" --X "0.5,-1,2;1.5,0,-0.5;-1,1,1;0.2,0.3,-0.4" '
    "--w 0.1,-0.2,0.3 --b 0.05 --y 1,0,1,0 --wrt w,b --steps"
)


@pytest.mark.parametrize("width", [80, 60])
def test_the_linear_models_steps_fit_a_screen(monkeypatch, width):
    """z = X@w and s = sigmoid(b + z) are named once, before the tables, which write the
    gradients with them as the steps do; dL/db, which applies dL/dw's rules line by
    line, is shown without them; at 80 columns the steps take at most 23 lines."""
    out = _at_width(monkeypatch, MODEL, width)
    assert out.index("Names: ") < out.index("dL/dw (3)")
    steps = out[out.index("Steps for dL/dw:") :].splitlines()
    if width == 80:
        assert len(steps) <= 23, "\n".join(steps)
    flat = _flat(out)
    assert "Names: z_i = sum_m(X_im*w_m), the elements of z = X@w; s_i = sigmoid(b + z_i)." in flat
    assert "d/dw_j [sigmoid(b + z_i)] = (1 - s_i)*s_i*sum_m(delta_jm*X_im)" in flat
    assert "Steps for dL/db: the rules of dL/dw above, line by line, with d/db:" in flat
    assert "d/db [b + z_i] = 1" in flat
    for gradient in (
        "dL/dw_j = sum_i(2*(1 - s_i)*(s_i - y_i)*X_ij*s_i)/4",
        "dL/db = sum_i(2*(1 - s_i)*(s_i - y_i)*s_i)/4",
    ):
        assert flat.count(gradient) >= 2, gradient  # the table's sentence, the steps' end
    assert "2*s_i - 2*y_i" not in flat and "(1 - sigmoid(b" not in flat  # no second form
    assert "g = dL/dz = 2*(1 - s)*(s - y)*s/" in flat  # the matrix form, with the names
    # a wrapped line continues indented under its own start, never at column 0
    assert all(line.startswith(" ") for line in steps[steps.index("Steps for dL/dw:") + 1 :][:3])


def test_the_named_steps_are_the_derived_gradient_with_the_names_written_out():
    """The names only shorten what is shown: put each element back and the last line is
    the derivation's own result (which tests/test_steps.py checks against SymPy)."""
    from gradexplain.ir.program import build
    from gradexplain.ir.values import from_numbers
    from gradexplain.output import steptext
    from gradexplain.teach import steps

    numbers = {
        "X": [[0.5, -1, 2], [1.5, 0, -0.5], [-1, 1, 1], [0.2, 0.3, -0.4]],
        "w": [0.1, -0.2, 0.3],
        "b": 0.05,
        "y": [1, 0, 1, 0],
    }
    program = build(
        "mean((sigmoid(X@w + b) - y)**2)",
        {n: from_numbers(n, v) for n, v in numbers.items()},
        ["w", "b"],
    )

    derivations = steps.derive_all(program)
    names = steptext.choose(list(derivations.values()))
    assert [n.source for n in names] == ["X@w", "sigmoid(X@w + b)"]
    for derivation in derivations.values():
        parts = derivation.parts
        named = steptext._named(parts.final, names)
        assert named != parts.final  # the names are used
        for name in reversed(names):
            named = named.xreplace({name.symbol: name.definition})
        assert named == derivation.expr


def test_short_steps_name_nothing(monkeypatch):
    out = _at_width(monkeypatch, '"sum(x**2)" --x 3,4,10 --steps', 80)
    assert "Names:" not in out
    assert "Steps for dL/dx:" in out


@pytest.mark.parametrize("width", [80, 60])
def test_a_formula_longer_than_the_line_breaks_after_an_operator(monkeypatch, width):
    """prod(W@x)'s steps hold products wider than a line: a formula cut in two is cut
    after a `*`, `+` or `/`, never inside a name (`prod_{p>i}(s` / `um_m(W_pm*x_m)`)."""
    command = '"prod(W@x)" --W "1,2;3,4" --x 1,2 --steps'
    whole = set(cli_at_width(monkeypatch, command, 1000).split())  # nothing wraps
    out = _at_width(monkeypatch, command, width)
    pieces = out[out.index("Steps for dL/dW:") :].split()
    cut = [(a, b) for a, b in itertools.pairwise(pieces) if a not in whole and b not in whole]
    assert cut, "no formula was cut: the case no longer tests the break"
    assert all(a.endswith(("*", "+", "/")) for a, _ in cut), cut


@pytest.mark.parametrize("width", [80, 60])
def test_no_line_ends_in_a_space(monkeypatch, width):
    """Wrapped sentences, the verdict and a table's title end at their last character:
    rich left the space it broke at, and padded a title to the table's width."""
    out = _at_width(monkeypatch, '"sum(where(x > 0, x, 0*x))" --x -1,0,2 --steps', width)
    assert [line for line in out.splitlines() if line != line.rstrip()] == []
    assert "dL/dx\n" in out and "where() switches branches where" in _flat(out)


# ---- the drawn graph: every edge its own line, no label on another ---------------------


def _svg_parts(text: str):
    """Boxes, edge labels (their extent from x, baseline and length) and line segments."""
    import xml.etree.ElementTree as ET

    from gradexplain.output.svg import CHAR

    ns = "{http://www.w3.org/2000/svg}"
    root = ET.fromstring(text)
    boxes = [
        (
            float(r.get("x")),
            float(r.get("y")),
            float(r.get("x")) + float(r.get("width")),
            float(r.get("y")) + float(r.get("height")),
        )
        for r in root.iter(f"{ns}rect")
        if r.get("x") is not None
    ]
    labels = [
        (
            float(t.get("x")) - 1,
            float(t.get("y")) - 11,
            float(t.get("x")) + len(t.text) * CHAR + 1,
            float(t.get("y")) + 3,
        )
        for t in root.iter(f"{ns}text")
        if t.get("fill") == "#555"
    ]
    segments = []
    for line in root.iter(f"{ns}line"):
        a = (float(line.get("x1")), float(line.get("y1")))
        b = (float(line.get("x2")), float(line.get("y2")))
        segments.append((a, b))
    for poly in root.iter(f"{ns}polyline"):
        points = [tuple(map(float, p.split(","))) for p in poly.get("points").split()]
        segments += list(itertools.pairwise(points))
    return boxes, labels, segments


def _meets(box, segment) -> bool:
    """Does the segment pass through the box? (sampled: lines here are short and few)"""
    (x1, y1), (x2, y2) = segment
    return any(
        box[0] < x1 + (x2 - x1) * t / 50 < box[2] and box[1] < y1 + (y2 - y1) * t / 50 < box[3]
        for t in range(51)
    )


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize(
    ("expression", "values"),
    [
        ("sum(x**2)", {"x": [3, 4, 10]}),
        ("sum(x**2)", {"x": [1, 2, 3, 4, 5, 6, 7, 8]}),  # 7 edges skip layers
    ],
)
def test_the_builtin_sum_drawing_gives_each_edge_its_own_lane(expression, values):
    from gradexplain.ir.program import build
    from gradexplain.ir.values import from_numbers
    from gradexplain.output import svg
    from gradexplain.teach import pysum

    program = build(expression, {n: from_numbers(n, v) for n, v in values.items()})
    built = pysum.build(program, "float64", list(values)).graph
    boxes, labels, segments = _svg_parts(svg.draw(built, "title"))
    assert len(labels) == len(built.edges)  # one label per edge
    for k, label in enumerate(labels):
        assert not any(_overlap(label, box) for box in boxes), label
        assert not any(_overlap(label, other) for other in labels[k + 1 :]), label
        assert not any(_meets(label, segment) for segment in segments), label
    # no two edges share a vertical run: every segment is its own
    vertical = [s for s in segments if s[0][0] == s[1][0]]
    for k, (a, b) in enumerate(vertical):
        for c, d in vertical[k + 1 :]:
            if a[0] == c[0]:
                low, high = sorted((a[1], b[1])), sorted((c[1], d[1]))
                assert low[1] <= high[0] or high[1] <= low[0], (a, b, c, d)


def test_the_docs_drawings_are_checked_by_the_same_rule():
    from pathlib import Path

    docs = Path(__file__).resolve().parent.parent / "docs"
    for name in ("seed-graph.svg", "seed-builtin-sum-graph.svg"):
        boxes, labels, segments = _svg_parts((docs / name).read_text(encoding="utf-8"))
        for k, label in enumerate(labels):
            assert not any(_overlap(label, other) for other in labels[k + 1 :] + boxes), name
            assert not any(_meets(label, segment) for segment in segments), name


def test_json_says_which_output_the_gradient_reached(tmp_path):
    import json

    result = CliRunner().invoke(
        app,
        ["slogdet(X)[1]", "--X", "2,1;1,3", "--dot", str(tmp_path / "g.dot"), "--format", "json"],
        env={"NO_COLOR": "1"},
    )
    assert result.exit_code == 0, result.output
    nodes = json.loads(result.stdout)["graph"]["nodes"]
    top = next(n for n in nodes if n["name"] == "LinalgSlogdetBackward0")
    assert top["grad"] == 1 and top["grad_output"] == 1
    assert all(n["grad_output"] == 0 for n in nodes if n is not top)


# ---- the graph's labels break between their parts --------------------------------------


@pytest.mark.parametrize(
    ("width", "lines"),
    [
        (
            80,
            [
                "│   │       iterating (x**2) = [9, 16, 100]  grad in: [1, 1, 1]",
                "│   │       └── <- unbind (stacked back) -- [4] PowBackward0",
                "│   │           x**2 = [9, 16, 100]  grad in: [1, 1, 1]",
            ],
        ),
        (
            60,
            [
                "└── <- sum rule -- [1] PowBackward0  x**2 = [9, 16, 100]",
                "    grad in: [1, 1, 1]",
                "│   │   └── <- sum rule (both sides get it) --",
                "│   │       [3] UnbindBackward0",
                "│   │       iterating (x**2) = [9, 16, 100]",
                "│   │       grad in: [1, 1, 1]",
            ],
        ),
    ],
)
def test_graph_values_are_not_cut_across_lines(monkeypatch, width, lines):
    """`grad in: [1, 1, 1]` stays on one line (it read `grad in: [1, 1,` / `1]` at 100
    columns): a label too wide breaks between its parts, the edge, the node, its value
    and its inflow, and only a part wider than the line is wrapped inside."""
    out = [
        line.rstrip()
        for line in _at_width(monkeypatch, '"sum(x**2)" --x 3,4,10 --graph', width).splitlines()
    ]
    for line in lines:
        assert line in out, "\n".join(out)
    tree = out[out.index(next(o for o in out if o.startswith("[0] AddBackward0"))) :]
    assert all(line.count("[") == line.count("]") for line in tree)


def test_a_sub_derivation_met_twice_is_derived_once(monkeypatch):
    """mnist_loss's where(c, 1 - s_i, s_i) differentiates s_i in both branches: the second
    is one line, "as above", without its steps again (the steps took 38 lines at 80
    columns, now 32)."""
    command = (
        '"where(targets==1, 1-sigmoid(xb@weights + bias), sigmoid(xb@weights + bias)).mean()" '
        '--xb "0.5,-1,2;1.5,0,-0.5;-1,1,1;0.2,0.3,-0.4" --weights 0.1,-0.2,0.3 --bias 0.05 '
        "--targets 1,0,1,0 --wrt weights,bias --steps"
    )
    out = _at_width(monkeypatch, command, 80)
    steps = out[out.index("Steps for dL/dweights") :]
    flat = _flat(steps)
    assert flat.count("matrix product: an element is sum_m of products") == 1
    assert "as above: d/dweights_j [sigmoid(bias + z_i)] = (1 - s_i)*s_i*sum_m(" in flat
    assert "as above: d/dbias [sigmoid(bias + z_i)] = (1 - s_i)*s_i" in flat
    assert len(steps.splitlines()) <= 32


@pytest.mark.parametrize(
    ("expression", "values", "wrt"),
    [
        (
            "-sum(log_softmax(Z, dim=1) * Y)",
            {"Z": [[2, 1, 0.1], [0.5, 2.5, 1]], "Y": [[1, 0, 0]] * 2},
            ["Z"],
        ),
        (
            "where(targets==1, 1-sigmoid(xb@weights + bias), sigmoid(xb@weights + bias)).mean()",
            {
                "xb": [[0.5, -1, 2], [1.5, 0, -0.5], [-1, 1, 1], [0.2, 0.3, -0.4]],
                "weights": [0.1, -0.2, 0.3],
                "bias": 0.05,
                "targets": [1, 0, 1, 0],
            },
            ["weights", "bias"],
        ),
        ("sum(softmax(x)*t)", {"x": [1, 2, 3], "t": [1, 1, 1]}, ["x", "t"]),
    ],
)
def test_no_label_lies_on_a_slanted_line(expression, values, wrt):
    """A label beside a slanted edge goes where neither that edge nor another crosses it
    (the cross-entropy's `data (not in --wrt)` sat on its own dashed line, and 10 of the
    mnist model's 14 labels met a line)."""
    from gradexplain.ir.program import build
    from gradexplain.ir.values import from_numbers
    from gradexplain.output import svg
    from gradexplain.teach import graph

    program = build(expression, {n: from_numbers(n, v) for n, v in values.items()}, wrt)
    built = graph.build(
        program.tree, dict(program.values), "float64", shaped=program.shaped, wrt=wrt
    )
    boxes, labels, segments = _svg_parts(svg.draw(built, expression))
    drawn = [label for label in labels if label[2] - label[0] > 2]  # a rule's text, not ""
    assert drawn
    for k, label in enumerate(drawn):
        assert not any(_meets(label, segment) for segment in segments), label
        assert not any(_overlap(label, other) for other in drawn[k + 1 :] + boxes), label
    right = max(box[2] for box in boxes)
    assert all(label[0] < right + 400 for label in drawn)  # beside its edge, not far off
