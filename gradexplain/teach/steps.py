"""`--steps`: the derivation a derivative calculator shows, generated from our tree.

Each node applies one rule (sum, constant multiple, power, product, quotient, chain rule,
`@`, each function's rule from its registry entry) to the SymPy forms of its children, in
generic elements, for every rank: `pair(node, idx)` is the node's element at idx and its
derivative. d x_k/d x_j is KroneckerDelta(k, j) (d X_im/d X_jk is delta_ij delta_mk);
the deltas are resolved at the end (`deltas.resolve_deltas`), never by `sp.diff` or
`Sum.doit()`. A program of vectors of one length shows its lines in the letters n and
k (`symbolic.shown`); the tests check the result against SymPy's own gradient and
autograd.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sympy as sp

from gradexplain.ir.notation import PLAIN, Notation
from gradexplain.ir.shapes import Shape, describe
from gradexplain.ir.tree import BinOp, Call, Const, Neg, Node, Num, Var
from gradexplain.ir.unparse import source
from gradexplain.ops import OPS
from gradexplain.ops.linalg import contract_step, matmul_letters
from gradexplain.witnesses import symbolic
from gradexplain.witnesses.builder import Builder, size_symbol
from gradexplain.witnesses.deltas import resolve_deltas

if TYPE_CHECKING:
    from gradexplain.ir.program import Program

Pair = tuple[Any, Any]  # (the element, its derivative)


@dataclass(frozen=True)
class Step:
    """One rule line, as SymPy expressions (steptext.py names long repeated elements):
    the node's element at `idx` and its derivative; `source` is the node's text."""

    depth: int
    rule: str
    value: Any
    derivative: Any
    source: str
    idx: tuple[Any, ...]


@dataclass(frozen=True)
class Parts:
    """A derivation as expressions: L, the note for a non-scalar result (its words and
    the summed derivative), the rule lines, and the last line's words and result."""

    value: Any
    note: tuple[str, Any] | None
    steps: tuple[Step, ...]
    why: str
    final: Any
    target: str  # dL/d{target}: w_j, b
    vector: bool  # a program of vectors of one length: its note and last line read so
    notation: Notation = PLAIN  # the program's index letters, as the lines use them
    table: Any = None  # SymPy's gradient, where it prints otherwise than `final` (stepend.py)


@dataclass(frozen=True)
class Derivation:
    """The lines of the derivation and the formula they end in."""

    name: str
    lines: tuple[str, ...]
    formula: str
    expr: Any  # the final SymPy expression, for tests
    sizes: dict[Any, int] | None = None  # each index symbol's length, for tests
    parts: Parts | None = None  # the same, as expressions, for the screen (steptext.py)


def derive_all(program: Program) -> dict[str, Derivation]:
    """dL/dW_jk (dL/dx_j, dL/dc) for each differentiated variable (`program.wrt`), by the
    rules; data (`--wrt` left it out) gets no derivation."""
    return {
        name: derive(program.tree, name, program.shapes, program.node_shapes, program.notation)
        for name in program.wrt
    }


def derive(
    tree: Node,
    name: str,
    shapes: Mapping[str, Shape],
    node_shapes: Mapping[int, Shape],
    notation: Notation = PLAIN,
) -> Derivation:
    """A non-scalar result is summed over all of its elements first (backward with ones)."""
    walker = Steps(name, shapes, node_shapes, notation)
    top = node_shapes[id(tree)]
    indices = walker.builder.top(top)
    value, total = walker.pair(tree, indices, 0)
    for index, size in zip(indices, top):
        limit = walker.builder.limit(index, size)
        value, total = walker.builder.Sum(value, limit), walker.sum(total, limit)
    lines = [f"L = {walker.line(value)}"]
    note: tuple[str, Any] | None = None
    if top and walker.vector:
        note = (
            walker.notation.words("y is a vector: backward(ones) differentiates L = sum_i y_i: "),
            total,
        )
        walker.lines.append(note[0] + walker.line(total))
    elif top:
        note = (
            f"y has shape {describe(top)}: backward(ones) differentiates "
            f"L = the sum of its elements: ",
            total,
        )
        walker.lines.insert(0, note[0] + walker.line(total))
    lines += walker.lines
    ranges = {index: size_symbol(size) - 1 for index, size in zip(walker.targets, shapes[name])}
    final = resolve_deltas(total, ranges)  # by substitution, never Sum.doit() (deltas.py)
    if walker.vector:
        why = (
            walker.notation.words("sum rule, only the term k = j survives (the delta)")
            if walker.targets
            else "collect terms"
        )
    else:
        why = (
            "each delta keeps only the terms whose indices meet"
            if walker.targets
            else "collect terms"
        )
    formula = walker.line(final)
    lines.append(f"{why}: dL/d{walker.target_text} = {formula}")
    parts = Parts(
        value,
        note,
        tuple(walker.steps),
        why,
        final,
        walker.target_text,
        walker.vector,
        walker.notation,
    )
    return Derivation(name, tuple(lines), formula, final, walker.builder.sizes, parts)


class Steps:
    """The rule walker: `pair(node, idx)` is the node's element at idx and its derivative,
    with a line per rule; the registry's entries ask it for pairs and fresh indices."""

    def __init__(
        self,
        name: str,
        shapes: Mapping[str, Shape],
        node_shapes: Mapping[int, Shape],
        notation: Notation = PLAIN,
    ) -> None:
        self.notation = notation
        self.builder = Builder(shapes, node_shapes)
        self.node_shapes = node_shapes
        self.vector = notation.length is not None  # shown in the letters n and k
        self.name = name
        self.targets = symbolic.TARGETS[: len(shapes[name])]
        letters = (
            "".join(map(str, notation.display(sp.Tuple(*self.targets)))) if self.targets else ""
        )
        self.target_text = name + "_" + letters if self.targets else name
        self.lines: list[str] = []
        self.steps: list[Step] = []

    def show(self, expr: Any) -> str:
        """A rule's own form (its letters i, k, u are the rule's, never renamed)."""
        return symbolic.formula(expr, self.notation)

    def line(self, expr: Any) -> str:
        """A line's element or derivative: the builder's indices shown even where free
        (inside a sum), so a vector program reads k throughout (`symbolic.shown`)."""
        return symbolic.formula(expr, self.notation, free=True)

    def pair(self, node: Node, idx: tuple[Any, ...], depth: int) -> Pair:
        if isinstance(node, (Num, Const)):
            return self.builder.build(node, idx), sp.Integer(0)
        if isinstance(node, Var):
            return self.builder.build(node, idx), self._var(node, idx)
        mark, at = len(self.lines), len(self.steps)
        rule, value, derivative = self._rule(node, idx, depth + 1)
        self.lines.insert(
            mark,
            "  " * depth + f"{self.notation.words(rule)}: d/d{self.target_text} "
            f"[{self.line(value)}] = {self.line(derivative)}",
        )
        self.steps.insert(at, Step(depth, rule, value, derivative, source(node), tuple(idx)))
        return value, derivative

    def _var(self, node: Var, idx: tuple[Any, ...]) -> Any:
        if node.name != self.name:
            return sp.Integer(0)
        return sp.Mul(*(sp.KroneckerDelta(i, t) for i, t in zip(idx, self.targets)))

    def _aligned(self, node: Node, idx: tuple[Any, ...], depth: int) -> Pair:
        return self.pair(node, self.builder.align(node, idx), depth)

    def _rule(self, node: Node, idx: tuple[Any, ...], depth: int) -> tuple[str, Any, Any]:
        if isinstance(node, Neg):
            u, du = self.pair(node.operand, idx, depth)
            return "constant multiple (-1)", -u, -du
        if isinstance(node, BinOp) and node.op == "@":
            return self._matmul(node, idx, depth)
        if isinstance(node, BinOp):
            return self._binop(node, idx, depth)
        assert isinstance(node, Call)
        return OPS[node.func].step(self, node, idx, depth)

    def _binop(self, node: BinOp, idx: tuple[Any, ...], depth: int) -> tuple[str, Any, Any]:
        """An operand whose derivative is 0 is a constant (data, or another variable)."""
        u, du = self._aligned(node.left, idx, depth)
        v, dv = self._aligned(node.right, idx, depth)
        return binop_rule(node.op, u, du, v, dv, du == 0, dv == 0)

    def _matmul(self, node: BinOp, idx: tuple[Any, ...], depth: int) -> tuple[str, Any, Any]:
        """torch.matmul's rule (`ops/linalg.py`): the product rule inside the sum."""
        letters = matmul_letters(
            "@", self.node_shapes[id(node.left)], self.node_shapes[id(node.right)], "", node.col
        )
        value, derivative, count = contract_step(self, (node.left, node.right), letters, idx, depth)
        return OPS["matmul"].words.format(bound=self.shown_indices(value, count)), value, derivative  # type: ignore

    @staticmethod
    def shown_indices(total: Any, count: int) -> str:
        """The summed indices' names as the formulas print them (`symbolic.stable_indices`
        renames them for display), innermost first."""
        names: list[str] = []
        shown = symbolic.stable_indices(total)
        while isinstance(shown, sp.Sum) and len(names) < count:
            names += [str(limit[0]) for limit in shown.limits]
            shown = shown.function
        return ",".join(reversed(names))

    def sum(self, expr: Any, limit: tuple[Any, ...]) -> Any:
        """A Sum, or 0 for a derivative that is 0 (SymPy would keep `Sum(0)`)."""
        if expr == 0:
            return sp.Integer(0)
        return self.builder.Sum(expr, limit)

    def bounds(self, shape: Shape) -> tuple[Any, ...]:
        """Fresh bound indices for a reduction over `shape`, one per axis."""
        return self.builder.fresh(shape)

    def fresh_pair(self, size: int) -> tuple[Any, Any]:
        """Two fresh bound indices over one axis of `size`, for one reduction's rule."""
        k, m = self.builder.fresh((size, size))
        return k, m


def binop_rule(
    op: str, u: Any, du: Any, v: Any, dv: Any, const_u: bool, const_v: bool
) -> tuple[str, Any, Any]:
    """The rule for one operator, its element and its derivative, every rank
    (broadcasting already chose each operand's indices)."""
    if op == "+":
        return "sum rule", u + v, du + dv
    if op == "-":
        return "difference rule", u - v, du - dv
    if op == "*":
        if const_u or const_v:
            return "constant multiple", u * v, du * v + u * dv
        return "product rule (u v)' = u' v + u v'", u * v, du * v + u * dv
    if op == "/":
        if const_v:
            return "constant multiple", u / v, du / v
        return "quotient rule (u/v)' = (u' v - u v')/v**2", u / v, du / v + u * (-dv / v**2)
    if const_v:  # one Mul, as SymPy builds it: 2*(s - y)*du, never 2*s - 2*y times du
        return "power rule (u**p)' = p u**(p-1) u'", u**v, sp.Mul(v, u ** (v - 1), du)
    if const_u:
        return "exponential rule (a**v)' = a**v log(a) v'", u**v, u**v * sp.log(u) * dv
    return (
        "general power rule (u**v)' = u**v (v' log(u) + v u'/u)",
        u**v,
        u**v * (dv * sp.log(u) + v * du / u),
    )
