"""`--steps`: the derivation a derivative calculator shows, generated from our tree.

Each node applies one rule (sum, constant multiple, power, product, quotient, chain rule,
each function's rule from its registry entry) to the SymPy forms of its children. A vector
element is written x_i and d x_i/d x_j = KroneckerDelta(i, j); the sum rule then keeps
only the term i = j. The final formula comes from these rules, not from `sp.diff`, and the
tests check it equals SymPy's own gradient.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import sympy as sp

from gradexplain import symbolic
from gradexplain.builder import RELATIONS, VECTOR, Builder, number
from gradexplain.deltas import resolve_deltas
from gradexplain.ops import OPS
from gradexplain.tree import BinOp, Call, Compare, Const, Neg, Node, Num, Var, variables

if TYPE_CHECKING:
    from gradexplain.values import Values

@dataclass(frozen=True)
class Derivation:
    """The lines of the derivation and the formula they end in."""

    name: str
    lines: tuple[str, ...]
    formula: str
    expr: Any  # the final SymPy expression, for tests
    sizes: dict[Any, int] | None = None  # matrices: each index symbol's length, for tests


def derive_all(tree: Node, values: Mapping[str, Values],
               names: Sequence[str] | None = None) -> dict[str, Derivation]:
    """dL/dx_j (dL/dc) for each differentiated variable (`names`, default all); data
    (`--wrt` left it out) gets no derivation: d data/d x_j is 0 in every rule."""
    vectors = {name for name in variables(tree) if not values[name].is_scalar}
    scalars = set(variables(tree)) - vectors
    chosen = variables(tree) if names is None else names
    return {name: derive(tree, name, vectors, scalars) for name in chosen}


def derive(tree: Node, name: str, vectors: set[str], scalars: set[str]) -> Derivation:
    """dL/d name by the rules; a vector result is summed first (backward with ones)."""
    walker = _Steps(tree, name, vectors, scalars)
    top, is_vector = walker.sym(tree, symbolic.I)
    lines = [f"L = {_show(sp.Sum(top, (symbolic.I, 0, symbolic.N - 1)) if is_vector else top)}"]
    total = walker.d(tree, symbolic.I, 0)
    if is_vector:
        total = sp.Sum(total, (symbolic.I, 0, symbolic.N - 1))
        walker.say(0, "y is a vector: backward(ones) differentiates L = sum_i y_i", total)
    lines += walker.lines
    # resolve_deltas, not .doit(): .doit() tries closed forms that crash or run for minutes
    final = symbolic.canonical_indices(resolve_deltas(total))
    why = "sum rule, only the term k = j survives (the delta)" if walker.vector else \
        "collect terms"
    lines.append(f"{why}: dL/d{walker.target_text} = {_show(final)}")
    return Derivation(name, tuple(lines), _show(final), final)


def _show(expr: Any) -> str:
    """Every bound index named k, like the table's formulas."""
    return symbolic.formula(symbolic.canonical_indices(expr))


class _Steps:
    """The rule walker: `d(node, i)` is d(node at element i)/d(target), with a line each."""

    def __init__(self, tree: Node, name: str, vectors: set[str], scalars: set[str]) -> None:
        self.builder = Builder(VECTOR, *symbolic.vector_shapes(tree, vectors, scalars))
        self.n = symbolic.N  # the common length, for the rules of reductions
        self.name = name
        self.vector = name in vectors
        self.target_text = f"{name}_j" if self.vector else name
        self.lines: list[str] = []
        self.fresh = 0

    def sym(self, node: Node, index: Any) -> tuple[Any, bool]:
        """The node's element at `index`, and whether the node is a vector."""
        is_vector = bool(self.builder.shape(node))
        return self.builder.build(node, (index,) if is_vector else ()), is_vector

    @staticmethod
    def number(node: Num) -> Any:
        return number(node.text, node.value)

    def say(self, depth: int, rule: str, result: Any) -> None:
        self.lines.append("  " * depth + f"{rule}: {_show(result)}")

    def d(self, node: Node, index: Any, depth: int) -> Any:
        if isinstance(node, (Num, Const)):
            return sp.Integer(0)
        if isinstance(node, Var):
            return self._var(node, index)
        mark = len(self.lines)
        rule, result = self._rule(node, index, depth + 1)
        line = "  " * depth + (f"{rule}: d/d{self.target_text} "
                               f"[{_show(self.sym(node, index)[0])}] = {_show(result)}")
        self.lines.insert(mark, line)
        return result

    def _var(self, node: Var, index: Any) -> Any:
        if node.name != self.name:
            return sp.Integer(0)
        return sp.KroneckerDelta(index, symbolic.J) if self.vector else sp.Integer(1)

    def _rule(self, node: Node, index: Any, depth: int) -> tuple[str, Any]:
        if isinstance(node, Neg):
            return "constant multiple (-1)", -self.d(node.operand, index, depth)
        if isinstance(node, BinOp):
            return self._binop(node, index, depth)
        assert isinstance(node, Call)
        return self._call(node, index, depth)

    def _binop(self, node: BinOp, index: Any, depth: int) -> tuple[str, Any]:
        """The shared rules (`binop_rule`); an operand without variables is a constant,
        and is not walked."""
        u, _ = self.sym(node.left, index)
        v, _ = self.sym(node.right, index)
        const_u, const_v = not variables(node.left), not variables(node.right)
        du = sp.Integer(0) if const_u and node.op not in "+-" else self.d(node.left, index, depth)
        dv = sp.Integer(0) if const_v and node.op not in "+-" else \
            self.d(node.right, index, depth)
        rule, _, derivative = binop_rule(node.op, u, du, v, dv, const_u, const_v)
        return rule, derivative

    def _call(self, node: Call, index: Any, depth: int) -> tuple[str, Any]:
        if node.func == "where":
            return self._where(node, index, depth)
        return OPS[node.func].step(self, node, index, depth)

    def _where(self, node: Call, index: Any, depth: int) -> tuple[str, Any]:
        """The condition compares data only (api._check_conditions), so it is a constant."""
        compare, if_true, if_false = node.args
        assert isinstance(compare, Compare)
        condition = RELATIONS[compare.op](self.sym(compare.left, index)[0],
                                                    self.sym(compare.right, index)[0])
        du, dv = self.d(if_true, index, depth), self.d(if_false, index, depth)
        return "where: the derivative of the branch it takes", \
            sp.Piecewise((du, condition), (dv, True))

    def fresh_pair(self) -> tuple[Any, Any]:
        """A new pair of bound indices (k, m), (k2, m2), ... for one reduction's rule."""
        self.fresh += 1
        suffix = "" if self.fresh == 1 else str(self.fresh)
        k, m = (sp.Symbol(f"{letter}{suffix}", integer=True, nonnegative=True)
                for letter in "km")
        return k, m


def binop_rule(op: str, u: Any, du: Any, v: Any, dv: Any, const_u: bool,
               const_v: bool) -> tuple[str, Any, Any]:
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
        return "quotient rule (u/v)' = (u' v - u v')/v**2", u / v, (du * v - u * dv) / v**2
    if const_v:
        return "power rule (u**p)' = p u**(p-1) u'", u**v, v * u ** (v - 1) * du
    if const_u:
        return "exponential rule (a**v)' = a**v log(a) v'", u**v, u**v * sp.log(u) * dv
    return ("general power rule (u**v)' = u**v (v' log(u) + v u'/u)", u**v,
            u**v * (dv * sp.log(u) + v * du / u))
