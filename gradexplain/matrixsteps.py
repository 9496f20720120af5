"""`--steps` for matrices: the same rules, in generic elements with one index per axis.

`X@W` at (i, k) is `sum_m X_im W_mk`, so its derivative is the product rule inside the
sum; `d X_im / d X_jk` is `delta_ij delta_mk`. Each rule returns the element and its
derivative together, so a line's bound indices are the ones its sub-lines use. The
deltas are resolved at the end (`symbolic.resolve_deltas`), not by `sp.diff`; the tests
check the result against the matrix model's gradient and autograd.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import sympy as sp

from gradexplain import symbolic
from gradexplain.builder import SHAPED, Builder, number
from gradexplain.deltas import resolve_deltas
from gradexplain.errors import UsageError
from gradexplain.ops import OPS
from gradexplain.scoped import ScopedSum
from gradexplain.shapes import Shape, describe, infer
from gradexplain.steps import Derivation, binop_rule
from gradexplain.tree import BinOp, Call, Compare, Const, Neg, Node, Num, Var, variables, walk
from gradexplain.unparse import source
from gradexplain.values import Values

Pair = tuple[Any, Any]  # (the element, its derivative)


def derive_all(tree: Node, values: Mapping[str, Values], names: Sequence[str] | None = None,
               node_shapes: dict[int, Shape] | None = None) -> dict[str, Derivation]:
    """dL/dW_jk (dL/dx_j, dL/dc) for each differentiated variable (`names`, default all),
    by the rules; data (`--wrt` left it out) gets no derivation."""
    shapes = {name: value.shape for name, value in values.items()}
    if node_shapes is None:
        node_shapes = infer(tree, shapes, source(tree))
    for node in walk(tree):
        if isinstance(node, Call) and node.func in OPS and not OPS[node.func].shaped_steps:
            raise UsageError(f"--steps does not derive {node.func}() of vectors and matrices "
                             f"with @ or .T yet (column {node.col + 1}); the table's formula "
                             f"is SymPy's derivative of it")
    chosen = variables(tree) if names is None else names
    return {name: derive(tree, name, shapes, node_shapes) for name in chosen}


def derive(tree: Node, name: str, shapes: Mapping[str, Shape],
           node_shapes: dict[int, Shape]) -> Derivation:
    """A non-scalar result is summed over all of its elements first (backward with ones)."""
    walker = _MatrixSteps(name, shapes, node_shapes)
    top = node_shapes[id(tree)]
    indices = walker.builder.fresh(top)
    value, total = walker.pair(tree, indices, 0)
    limits = [walker.builder.limit(index, size) for index, size in zip(indices, top)]
    for limit in limits:
        value, total = ScopedSum(value, limit), _sum(total, limit)
    lines = [f"L = {_show(value)}"]
    if top:
        walker.lines.insert(0, f"y has shape {describe(top)}: backward(ones) differentiates "
                               f"L = the sum of its elements: {_show(total)}")
    lines += walker.lines
    final = resolve_deltas(total)  # by substitution, never Sum.doit() (see deltas.py)
    formula = symbolic.formula(final)
    why = "each delta keeps only the terms whose indices meet" if walker.targets else \
        "collect terms"
    lines.append(f"{why}: dL/d{walker.target_text} = {formula}")
    return Derivation(name, tuple(lines), formula, final, walker.builder.sizes)


def _show(expr: Any) -> str:
    return symbolic.formula(expr)


class _MatrixSteps:
    """`pair(node, idx)`: the node's element at idx and its derivative, a line per rule."""

    def __init__(self, name: str, shapes: Mapping[str, Shape],
                 node_shapes: dict[int, Shape]) -> None:
        self.builder = Builder(SHAPED, shapes, node_shapes)
        self.node_shapes = node_shapes
        self.name = name
        self.targets = symbolic.TARGETS[:len(shapes[name])]
        self.target_text = name + "_" + "".join(map(str, self.targets)) if self.targets \
            else name
        self.lines: list[str] = []

    def pair(self, node: Node, idx: tuple[Any, ...], depth: int) -> Pair:
        if isinstance(node, (Num, Const)):
            return self.builder.build(node, idx), sp.Integer(0)
        if isinstance(node, Var):
            return self.builder.build(node, idx), self._var(node, idx)
        mark = len(self.lines)
        rule, value, derivative = self._rule(node, idx, depth + 1)
        self.lines.insert(mark, "  " * depth + f"{rule}: d/d{self.target_text} "
                          f"[{_show(value)}] = {_show(derivative)}")
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
            u, du = self._aligned(node.left, idx, depth)
            v, dv = self._aligned(node.right, idx, depth)
            return binop_rule(node.op, u, du, v, dv, du == 0, dv == 0)
        assert isinstance(node, Call)
        return self._call(node, idx, depth)

    def _matmul(self, node: BinOp, idx: tuple[Any, ...], depth: int) -> tuple[str, Any, Any]:
        left_shape = self.node_shapes[id(node.left)]
        (bound,) = self.builder.fresh(left_shape[-1:])
        u, du = self.pair(node.left, (*idx[:len(left_shape) - 1], bound), depth)
        v, dv = self.pair(node.right, (bound, *idx[len(left_shape) - 1:]), depth)
        limit = (bound, 0, symbolic.size_symbol(left_shape[-1]) - 1)
        return (f"matrix product: an element is sum_{bound} of products, so the product "
                f"rule inside the sum", ScopedSum(u * v, limit), _sum(du * v + u * dv, limit))

    def _call(self, node: Call, idx: tuple[Any, ...], depth: int) -> tuple[str, Any, Any]:
        if node.func == "T":
            u, du = self.pair(node.args[0], tuple(reversed(idx)), depth)
            return "transpose: (A.T) at (r, c) is A at (c, r)", u, du
        if node.func == "where":
            return self._where(node, idx, depth)
        return OPS[node.func].matrix_step(self, node, idx, depth)

    def _where(self, node: Call, idx: tuple[Any, ...], depth: int) -> tuple[str, Any, Any]:
        compare, if_true, if_false = node.args
        assert isinstance(compare, Compare)
        condition = self.builder.build(compare, self.builder.align(compare, idx))
        u, du = self._aligned(if_true, idx, depth)
        v, dv = self._aligned(if_false, idx, depth)
        return "where: the derivative of the branch it takes", \
            sp.Piecewise((u, condition), (v, True)), sp.Piecewise((du, condition), (dv, True))

    @staticmethod
    def sum(expr: Any, limit: tuple[Any, ...]) -> Any:
        return _sum(expr, limit)

    @staticmethod
    def number(node: Num) -> Any:
        return number(node.text, node.value)


def _sum(expr: Any, limit: tuple[Any, ...]) -> Any:
    """A Sum, but 0 for a derivative that is 0 (SymPy keeps `Sum(0, ...)` as it is)."""
    return sp.Integer(0) if expr == 0 else ScopedSum(expr, limit)
