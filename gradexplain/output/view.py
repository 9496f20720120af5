"""One view of an explanation, built once, that the terminal and Markdown renderers both draw.

Every row, label and sentence either format shows is decided here, so a section one format
shows the other shows too: `render.py` and `markdown.py` only know how to draw each kind of
block (a table, a paragraph, a listing, a tree, a code block), never what goes in them.
Nothing here imports rich or torch; values are already computed in the `Explanation`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gradexplain.errors import ExitStatus
from gradexplain.ir.notation import Notation
from gradexplain.ir.shapes import describe, element
from gradexplain.ops import OPS
from gradexplain.output.formatting import fmt
from gradexplain.output.safetext import visible
from gradexplain.result import Explanation, Gradient, NonFinite, Singularity, Terms
from gradexplain.witnesses.closeness import compare, tiny_note
from gradexplain.witnesses.nonfinite import explained, finite_mask

if TYPE_CHECKING:
    from gradexplain.teach.extras import Options

HEAD_ROWS = 5  # rows shown before and after the elision line, unless --all


@dataclass(frozen=True)
class Mark:
    """The last cell of a compared row: "ok", "DIFFERS" or "UNDEFINED"; another word
    (`MISMATCH`, a case's `invalid (values)`) names which of the three it looks like."""

    word: str
    tone: str = ""  # "ok", "DIFFERS" or "UNDEFINED"; "" when `word` is one of them

    @staticmethod
    def of(close: bool, undefined: bool = False) -> Mark:
        return Mark("UNDEFINED" if undefined else "ok" if close else "DIFFERS")


Cell = str | Mark


@dataclass(frozen=True)
class Label:
    """A title or column header: `text` (a formula when `code`), then a plain `note`."""

    text: str
    code: bool = False
    note: str = ""
    quoted: bool = False  # the note quotes the user (a file's name): shown literally


@dataclass(frozen=True)
class Column:
    label: Label
    right: bool = True  # numbers go right
    mark: bool = False  # holds Marks
    drop: int = 0  # where the terminal is narrow, dropped 1st (terms), 2nd (inputs); 0 never
    wrap: bool = False  # prose (a case's name, an error) that wraps inside its cell
    code: bool = False  # formulas (`dL/dx`): Markdown writes them as code spans
    quoted: bool = False  # the user's text (a case's name, a message quoting it): literal


@dataclass(frozen=True)
class Grid:
    """A table: rows (None is the elision line), then total rows below a rule."""

    title: Label | None
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...] | None, ...]
    totals: tuple[tuple[str, ...], ...] = ()

    def elided(self, dots: str) -> tuple[str, ...]:
        """The elision line: `dots` in every column but a trailing column of marks."""
        last = len(self.columns) - 1
        return tuple("" if i == last and c.mark else dots for i, c in enumerate(self.columns))


@dataclass(frozen=True)
class Piece:
    text: str
    kind: str = "plain"  # "plain", "code" (a formula) or "strong"


@dataclass(frozen=True)
class Paragraph:
    pieces: tuple[Piece, ...]
    warning: bool = False

    @property
    def text(self) -> str:
        return "".join(piece.text for piece in self.pieces)


def paragraph(text: str, kind: str = "plain", warning: bool = False) -> Paragraph:
    return Paragraph((Piece(text, kind),), warning)


@dataclass(frozen=True)
class Heading:
    expression: str
    size: str


@dataclass(frozen=True)
class Assignments:
    """The scalar variables' values, `name = value` each."""

    items: tuple[str, ...]


@dataclass(frozen=True)
class Listing:
    """Preformatted lines (a derivation, J^T v), indented under the paragraph above."""

    lines: tuple[str, ...]


@dataclass(frozen=True)
class Code:
    """Text in another language, kept verbatim: a Mermaid flowchart."""

    text: str
    language: str


@dataclass(frozen=True)
class Tree:
    label: str
    children: tuple[Tree, ...] = ()


@dataclass(frozen=True)
class Verdict:
    status: ExitStatus
    text: str


Block = Heading | Paragraph | Assignments | Grid | Listing | Code | Tree | Verdict


@dataclass(frozen=True)
class Section:
    """The blocks one option adds (`--hessian`, `--steps`...); option None: always shown."""

    option: str | None
    blocks: tuple[Block, ...]


def build(result: Explanation, *, show_all: bool = False) -> list[Section]:
    """The explanation itself, from the heading to the verdict."""
    blocks: list[Block] = [
        Heading(visible(result.expression), _size(result)),
        paragraph(result.decomposition.summary, "code"),
    ]
    if result.scalars:
        blocks.append(Assignments(tuple(f"{n} = {fmt(v)}" for n, v in result.scalars.items())))
    if result.data:  # the variables --wrt left out
        blocks.append(paragraph(f"Data, not differentiated: {', '.join(result.data)}"))
    terms = result.decomposition.terms
    if terms is not None:
        blocks += [
            _terms_grid(terms, result.value_symbolic, show_all, result.notation),
            paragraph(terms.sentence),
        ]
    singular = explained(result.singularities)  # None: a scalar argument makes all so
    screen = _screen(result)
    if screen is not None and _names_in_table(result, screen):
        blocks.append(paragraph(screen.names))
    for gradient in result.gradients.values():
        gradient = _named(gradient, screen)
        blocks += [
            _gradient_grid(result, gradient, singular, show_all),
            paragraph(gradient.sentence),
        ]
        if gradient.tiny:
            blocks.append(
                paragraph(tiny_note(f"dL/d{gradient.name}", result.tolerance.floor, result.dtype))
            )
        if gradient.name in result.matrix_forms:
            blocks.append(paragraph(_named_matrix_form(result, gradient.name, screen)))
    blocks += [paragraph(note) for note in result.decomposition.notes]
    sections = [Section(None, tuple(blocks))]
    if result.hessian is not None:
        sections.append(Section("--hessian", (_hessian(result.hessian, show_all),)))
    closing: list[Block] = [
        _warning("Undefined:", item.function, f" at column {item.column + 1}, {item.place()}", item)
        for item in result.singularities
    ]
    closing += [
        _warning("Not finite:", f"dL/d{item.gradient}", f", {item.place()}", item)
        for item in result.nonfinite
    ]
    closing.append(Verdict(result.status, result.verdict()))
    return [*sections, Section(None, tuple(closing))]


def _screen(result: Explanation) -> Any:
    """--steps' screen (steptext.py): its names for long repeated elements hold for the
    whole run, so the table writes each gradient as the steps' last line does."""
    if "steps" not in result.extras:
        return None
    from gradexplain.output import steptext

    derived = result.extras["steps"]
    screen = steptext.screen(derived)
    same = {  # only where the steps end in the table's text (stepend.py), never another
        name: shown
        for name, shown in screen.formulas.items()
        if name in result.gradients and derived[name].formula == result.gradients[name].formula
    }
    return dataclasses.replace(screen, formulas=same)


def _names_in_table(result: Explanation, screen: Any) -> bool:
    """Whether a gradient's formula uses a name (then the names come before the tables)."""
    return bool(screen.names) and (
        any(
            _named(gradient, screen).formula != gradient.formula
            for gradient in result.gradients.values()
        )
        or any(
            _named_matrix_form(result, name, screen) != form
            for name, form in result.matrix_forms.items()
        )
    )


def _named_matrix_form(result: Explanation, name: str, screen: Any) -> str:
    """The matrix form with the names in (s for sigmoid(b + z)), as the steps write it."""
    form = result.matrix_forms[name]
    return form if screen is None else str(screen.in_vectors(form))


def _named(gradient: Gradient, screen: Any) -> Gradient:
    """The gradient with its formula as --steps' last line prints it (the same text, with
    the names in), in the table's header and its sentence alike."""
    shown = None if screen is None else screen.formulas.get(gradient.name)
    if shown is None or shown == gradient.formula:
        return gradient
    sentence = gradient.sentence.replace(gradient.formula, shown)
    return dataclasses.replace(gradient, formula=shown, sentence=sentence)


def _size(result: Explanation) -> str:
    if result.shapes:
        return ", ".join(f"{name}: {describe(shape)}" for name, shape in result.shapes.items())
    return f"{result.notation.n} = {result.n}" if result.n is not None else "scalars"


def rows(n: int, show_all: bool) -> list[int | None]:
    """Indices to show; None marks the elision line."""
    if show_all or n <= 2 * HEAD_ROWS + 1:
        return list(range(n))
    return [*range(HEAD_ROWS), None, *range(n - HEAD_ROWS, n)]


def _where(flat: int, shape: tuple[int, ...]) -> str:
    import numpy as np

    return ",".join(str(int(i)) for i in np.unravel_index(flat, shape))


def _warning(head: str, formula: str, where: str, item: Singularity | NonFinite) -> Paragraph:
    """`**Undefined:** relu at column 5, element [1]: <why>.`, and so for Not finite."""
    pieces = (Piece(head, "strong"), Piece(" "), Piece(formula, "code"))
    return Paragraph((*pieces, Piece(f"{where}: {item.reason}.")), warning=True)


def _compared(label: Label) -> tuple[Column, Column, Column]:
    """The SymPy column headed by its formula, autograd, and the mark."""
    return (Column(label), Column(Label("autograd")), Column(Label(""), right=False, mark=True))


_FD_COLUMNS = (
    Column(Label("finite diff.", note="(float64)")),
    Column(Label(""), right=False, mark=True),
)


def _gradient_grid(
    result: Explanation, gradient: Gradient, singular: set[int] | None, show_all: bool
) -> Grid:
    if gradient.shape == ():
        return _scalar_grid(result, gradient, singular)
    if result.shapes:
        return _matrix_grid(gradient, singular, show_all, result.notation)
    name, decomposition = gradient.name, result.decomposition
    vectors = [  # each vector's name and values: differentiated, then data
        *((g.name, g.point) for g in result.gradients.values() if g.shape != ()),
        *((data, v) for data, v in result.data.items() if v.ndim == 1),
    ]
    terms = decomposition.term_values
    fd = result.extras.get("finite_differences", {}).get(name)
    if fd is not None and fd.mode != "per element":
        fd = None  # directional: no value per element; the --check-fd section has them
    i, j = result.notation.i, result.notation.j
    columns = [
        Column(Label(i)),
        *(Column(Label(f"{other}_{i}", True), drop=2) for other, _ in vectors),
    ]
    if terms is not None:
        columns.append(Column(Label(f"y_{i} = {decomposition.term}", True), drop=1))
    columns += _compared(Label(f"dL/d{name}_{j} = {gradient.formula}", True, "(SymPy)"))
    body: list[tuple[Cell, ...] | None] = []
    finite = finite_mask(gradient)
    for index in rows(len(gradient.point), show_all):
        if index is None:
            body.append(None)
            continue
        cells: list[Cell] = [str(index), *(fmt(point[index]) for _, point in vectors)]
        if terms is not None:
            cells.append(fmt(terms[index]))
        cells += _witnesses(
            gradient, index, singular is None or index in singular or not finite[index]
        )
        if fd is not None:
            cells += [fmt(fd.values[index]), Mark.of(bool(fd.close[index]))]
        body.append(tuple(cells))
    totals: list[tuple[str, ...]] = []
    if terms is not None:  # labelled in the i column as the summary line names them
        labelled = [("L", result.value_symbolic)]
        if decomposition.rule == "chain" and decomposition.inner is not None:
            labelled.insert(0, ("s", decomposition.inner))  # the chain rule's inner s first
        blank = len(columns) - len(vectors) - 2
        totals = [
            (label, *[""] * len(vectors), fmt(value), *[""] * blank) for label, value in labelled
        ]
    if fd is not None:
        columns += _FD_COLUMNS
        totals = [(*row, "", "") for row in totals]
    return Grid(Label(f"dL/d{name}"), tuple(columns), tuple(body), tuple(totals))


def _witnesses(gradient: Gradient, flat: int, undefined: bool) -> tuple[Cell, Cell, Cell]:
    """SymPy's and autograd's values at one element (row-major), then the mark."""
    symbolic, autograd = gradient.symbolic.reshape(-1), gradient.autograd.reshape(-1)
    close = bool(gradient.close.reshape(-1)[flat])
    return fmt(symbolic[flat]), fmt(autograd[flat]), Mark.of(close, undefined)


def _scalar_grid(result: Explanation, gradient: Gradient, singular: set[int] | None) -> Grid:
    name = gradient.name
    fd = result.extras.get("finite_differences", {}).get(name)
    columns = [
        Column(Label(name, True)),
        *_compared(Label(f"dL/d{name} = {gradient.formula}", True, "(SymPy)")),
    ]
    hazard = singular is None or bool(singular)  # any kink or pole touches a scalar
    row: list[Cell] = [
        fmt(gradient.point),
        fmt(gradient.symbolic),
        fmt(gradient.autograd),
        Mark.of(gradient.agree, hazard or not gradient.finite),
    ]
    totals: list[tuple[str, ...]] = []
    if result.n is None:
        totals.append(("L", fmt(result.value_symbolic), fmt(result.value), ""))
    if fd is not None:
        columns += _FD_COLUMNS
        row += [fmt(fd.values), Mark.of(bool(fd.close))]
        totals = [(*total, "", "") for total in totals]
    return Grid(Label(f"dL/d{name}"), tuple(columns), (tuple(row),), tuple(totals))


def _matrix_grid(
    gradient: Gradient, singular: set[int] | None, show_all: bool, nt: Notation
) -> Grid:
    """One row per element, in row-major order, with head/tail elision for large arrays."""
    name, shape = gradient.name, gradient.shape
    label = element(name, shape, nt.j + nt.k)
    columns = (
        Column(Label(f"{nt.j},{nt.k}" if len(shape) == 2 else nt.j)),
        Column(Label(label, True), drop=2),
        *_compared(Label(f"dL/d{label} = {gradient.formula}", True, "(SymPy)")),
    )
    point, finite = gradient.point.reshape(-1), finite_mask(gradient).reshape(-1)
    body = tuple(
        None
        if flat is None
        else (
            _where(flat, shape),
            fmt(point[flat]),
            *_witnesses(gradient, flat, singular is None or flat in singular or not finite[flat]),
        )
        for flat in rows(point.size, show_all)
    )
    return Grid(Label(f"dL/d{name}", note=f"({describe(shape)})"), columns, body)


def _terms_grid(terms: Terms, total: float, show_all: bool, nt: Notation) -> Grid:
    """The sum rule, element by element: each y_i (or y_ik) of the array L combines, then L.

    A mean shows the plain sum first, so the factor 1/n can be checked by hand.
    """
    values, y = terms.values, terms.letter
    labels = f"{nt.i},{nt.k}" if values.ndim == 2 else nt.i
    flat = values.reshape(-1)
    body = tuple(
        None if index is None else (_where(index, values.shape), fmt(flat[index]))
        for index in rows(flat.size, show_all)
    )
    totals = [("sum", fmt(float(flat.sum())))] if OPS[terms.rule].average else []
    totals.append(("L", fmt(total)))
    columns = (
        Column(Label(labels)),
        Column(Label(f"{y}_{labels.replace(',', '')} = {terms.formula}", True)),
    )
    title = Label(f"{y} = {terms.source}", True, f"({describe(values.shape)})")
    return Grid(title, columns, body, tuple(totals))


def _hessian(hessian: Any, show_all: bool) -> Block:
    """The upper triangle of the symmetric Hessian, one row per pair (a, b) with a <= b."""
    if hessian.undefined is not None:
        return paragraph(f"{hessian.undefined}.", warning=True)
    columns = (
        Column(Label("a"), right=False),
        Column(Label("b"), right=False),
        Column(Label("SymPy")),
        Column(Label("torch.func.hessian")),
        Column(Label(""), right=False, mark=True),
    )
    size, labels = len(hessian.labels), hessian.labels
    pairs = [(a, b) for a in range(size) for b in range(a, size)]
    body = tuple(
        None
        if index is None
        else (
            *(labels[a] for a in pairs[index]),
            *(fmt(found[pairs[index]]) for found in (hessian.symbolic, hessian.autograd)),
            Mark.of(bool(hessian.close[pairs[index]])),
        )
        for index in rows(len(pairs), show_all)
    )
    return Grid(Label("Hessian d2L/(da db), symmetric: pairs a <= b"), columns, body)


def extras(result: Explanation, options: Options) -> list[Section]:
    """Issue 5's extras, after the explanation, in the order the walkthrough reads them."""
    found = result.extras
    sections: list[Section] = []
    if "finite_differences" in found:
        fd = _finite_differences(found["finite_differences"], bool(result.shapes))
        sections.append(Section("--check-fd", fd))
    if options.graph:
        flows = "Autograd graph (backward runs from the top; grad in = what flows into each node):"
        sections.append(Section("--graph", (paragraph(flows), _graph_tree(found["graph"]))))
    if "builtin_sum" in found:
        sections.append(Section("--graph", _builtin_sum(result, found["builtin_sum"])))
    if options.mermaid:
        from gradexplain.teach import graph

        sections.append(Section("--mermaid", (Code(graph.mermaid(found["graph"]), "mermaid"),)))
    if options.dot:
        sections.append(_written("--dot", "DOT graph", options.dot))
    if options.graph_svg:
        sections.append(_written("--graph-svg", "Graph drawing (SVG)", options.graph_svg))
    if "steps" in found:
        screen = _screen(result)
        sections.append(Section("--steps", _steps(screen, _names_in_table(result, screen))))
    if "vjp" in found:
        sections.append(Section("--v", _vector_jacobian(found["vjp"], result.notation)))
    if "jacobian" in found:
        sections.append(Section("--jacobian", _jacobian(found["jacobian"], result.notation)))
    if options.jacobian_out:
        what = "Jacobian (every entry, SymPy's and torch.func.jacrev's, JSON)"
        sections.append(_written("--jacobian-out", what, options.jacobian_out))
    return sections


def _written(option: str, what: str, path: str) -> Section:
    return Section(option, (paragraph(f"{what} written to {visible(path)}"),))


def _steps(shown: Any, above: bool) -> tuple[Block, ...]:
    """The derivations as steptext.py shows them (`_screen`): long repeated elements named
    once (`above`: the names were said before the tables, which use them too)."""
    blocks: list[Block] = [paragraph(shown.names)] if shown.names and not above else []
    for head, lines in shown.derivations:
        blocks += [paragraph(head), Listing(lines)]
    return tuple(blocks)


def _finite_differences(found: dict[str, Any], listed: bool) -> tuple[Block, ...]:
    """The vector and scalar tables already have the column; this says what it means.

    The matrix tables have no such column (`listed`), so the values follow, shaped like
    the variable, with the elements that differ named."""
    from gradexplain.witnesses import finitediff

    blocks: list[Block] = []
    for fd in found.values():
        directional = fd.mode != finitediff.PER_ELEMENT
        along, theirs, why = (
            (" along random directions", "autograd's u . grad", f" Directional: {fd.reason}.")
            if directional
            else ("", "autograd", "")
        )
        blocks.append(
            paragraph(
                f"Finite differences of dL/d{fd.name}{along} (float64, central, eps "
                f"{finitediff.EPS:g}) {'agree with' if fd.agree else 'DIFFER from'} {theirs} "
                f"(gradcheck's rtol {finitediff.RTOL:g}, atol {finitediff.ATOL:g}; largest "
                f"|difference| {fd.max_abs_diff:.3g}).{why}"
            )
        )
        if listed or directional:
            blocks.append(Listing((finitediff.listing(fd).removeprefix("  "),)))
    return tuple(blocks)


def _graph_tree(built: Any) -> Tree:
    """The graph from its output down; a node reached twice is shown once, then referred
    to. Depth first in reading order (one edge per stack entry, no recursion), so the full
    node is always the first one printed and every "(above)" really points up the page."""
    from gradexplain.teach.graph import node_text

    nodes = built.nodes
    edges: dict[int, list[Any]] = {}
    for edge in built.edges:
        edges.setdefault(edge.parent, []).append(edge)
    labels = [f"[{nodes[0].id}] {node_text(nodes[0], built)}"]
    below: list[list[int]] = [[]]  # each label's children, by index
    shown = {nodes[0].id}
    stack = [(0, edge) for edge in reversed(edges.get(nodes[0].id, []))]
    while stack:
        parent, edge = stack.pop()
        child = nodes[edge.child]
        below[parent].append(len(labels))
        below.append([])
        if child.id in shown:
            labels.append(f"<- {edge.rule} -- [{child.id}] {child.name} (above)")
            continue
        shown.add(child.id)
        labels.append(f"<- {edge.rule} -- [{child.id}] {node_text(child, built)}")
        stack.extend((len(labels) - 1, later) for later in reversed(edges.get(child.id, [])))
    made: dict[int, Tree] = {}
    for index in reversed(range(len(labels))):  # a child comes after its parent
        made[index] = Tree(labels[index], tuple(made[k] for k in below[index]))
    return made[0]


def _builtin_sum(result: Explanation, found: Any) -> tuple[Block, ...]:
    """The learner's spelling: Python's built-in sum, one AddBackward0 per element."""
    from gradexplain.teach import graph, pysum

    leaves = ", ".join(found.gradients) or "the leaves"
    blocks: list[Block] = [
        paragraph(
            f"In a notebook, y = {result.expression} calls Python's built-in sum "
            f"(torch.sum only when spelled so), and y prints as"
        ),
        Listing((found.printed,)),
        paragraph(pysum.GRAD_FN.format(leaves=leaves)),
    ]
    if found.graph is None:
        blocks.append(
            paragraph(
                f"The built-in sum starts from 0 and adds the {found.size} elements one at a "
                f"time: one AddBackward0 per element (drawn for up to {pysum.MAX_ELEMENTS})."
            )
        )
    else:
        blocks += [
            paragraph(
                "The built-in sum starts from 0 and adds the elements one at "
                "a time, so PyTorch builds one AddBackward0 per element "
                "(iterating the vector is one UnbindBackward0):"
            ),
            _graph_tree(found.graph),
        ]
    same = all(
        name in found.gradients
        and compare(found.gradients[name], g.autograd, result.tolerance).agree
        for name, g in result.gradients.items()
    )
    grads = "; ".join(
        f"{name}.grad = {graph.describe(value)}" for name, value in found.gradients.items()
    )
    blocks.append(
        paragraph(
            f"It gives {'the same' if same else 'a DIFFERENT'} gradient ({grads}) as "
            f"torch.sum / .sum(), whose one SumBackward0 is drawn above."
        )
    )
    return tuple(blocks)


def _vector_jacobian(found: Any, nt: Notation) -> tuple[Block, ...]:
    from gradexplain.witnesses.vjp import listing

    lines = tuple(
        f"{name}: autograd {listing(found.autograd[name])}; SymPy J^T v = "
        f"{found.formulas[name]} = {listing(found.symbolic[name])}  "
        f"{'ok' if found.close(name).all() else 'DIFFERS'}"
        for name in found.autograd
    )
    return (
        paragraph(
            f"y.backward(v) with v = {listing(found.v)} computes J^T v, "
            + nt.words("J_ij = dy_i/dx_j (v = ones would give the gradient of sum(y)):")
        ),
        Listing(lines),
    )


MAX_JACOBIAN_SHOWN = 20  # J's columns in a terminal grid; larger J is summarised


def _jacobian(found: Any, nt: Notation) -> tuple[Block, ...]:
    """Each matrix dy_i/dx_j, then its column sums: the sum rule, made visible; SymPy's
    formula for it and whether the witnesses agree. A J too wide for a screen is
    summarised; --format json has every entry."""
    from gradexplain.witnesses.vjp import where as place

    shapes = found.shapes or {}
    blocks: list[Block] = []
    for name, matrix in found.matrices.items():
        flattened = ", both flattened in row-major order" if shapes else ""
        head = f"Jacobian dy_{nt.i}/d{name}_{nt.j} with y = {found.y}{flattened}"
        if max(matrix.shape) > MAX_JACOBIAN_SHOWN:
            height, width = matrix.shape
            too_large = f"{height:,} x {width:,}, too large to show; --format json has every entry."
            blocks.append(paragraph(f"{head}: {too_large}"))
        else:
            columns = [Column(Label(nt.i))]
            columns += [
                Column(Label(f"{nt.j}={j}", note=place(j, shapes.get(name), "")))
                for j in range(matrix.shape[1])
            ]
            body = tuple(
                (f"{i}{place(i, shapes.get('y'), ' ')}", *(fmt(x) for x in row))
                for i, row in enumerate(matrix)
            )
            label = "sum" if found.scale == 1 else f"sum / {round(1 / found.scale)}"  # mean: count
            totals = ((label, *(fmt(x) for x in found.scale * matrix.sum(axis=0))),)
            tail = f" ({name} flattened the same way)" if shapes else ""
            blocks += [
                paragraph(f"{head}:"),
                Grid(None, tuple(columns), body, totals),
                paragraph(f"Each column sum is dL/dx_{nt.j}{tail}: the sum rule, made visible."),
            ]
        blocks.append(paragraph(_jacobian_verdict(found, name, nt)))
    return tuple(blocks)


def _jacobian_verdict(found: Any, name: str, nt: Notation) -> str:
    """SymPy's dy_i/dx_j against torch.func.jacrev, in one sentence."""
    if name not in found.symbolic:
        return ""
    shapes = found.shapes or {}
    y_rank, x_rank = len(shapes.get("y", (1,))), len(shapes.get(name, (1,)))
    element = f"dy_{(nt.i + nt.k)[:y_rank]}/d{name}_{(nt.j + 'l')[:x_rank]}"
    compared = found.compared(name)
    verdict = "agrees with" if compared.close.all() else "DIFFERS from"
    return (
        f"SymPy's {element} = {found.formulas[name]} {verdict} torch.func.jacrev "
        f"(largest |difference| {compared.max_abs_diff:.3g})."
    )
