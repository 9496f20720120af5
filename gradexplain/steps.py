"""`--steps`: the derivation a derivative calculator shows, generated from our tree.

Each node applies one rule (sum, constant multiple, power, product, quotient, chain rule,
each function's rule from `functions.py`) to the SymPy forms of its children. A vector
element is written x_i and d x_i/d x_j = KroneckerDelta(i, j); the sum rule then keeps
only the term i = j. The final formula comes from these rules, not from `sp.diff`, and the
tests check it equals SymPy's own gradient.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import sympy as sp

from gradexplain import symbolic
from gradexplain.functions import FUNCTIONS
from gradexplain.tree import BinOp, Call, Compare, Const, Neg, Node, Num, Var, variables

if TYPE_CHECKING:
    from rich.console import Console

    from gradexplain.values import Values

# f'(u) for each elementwise function, as SymPy builds it (the `rule` text says it in words)
_DERIVATIVES: dict[str, Callable[[Any], Any]] = {
    "exp": sp.exp, "log": lambda u: 1 / u, "sqrt": lambda u: 1 / (2 * sp.sqrt(u)),
    "abs": sp.sign, "sin": sp.cos, "cos": lambda u: -sp.sin(u),
    "tan": lambda u: 1 + sp.tan(u) ** 2, "tanh": lambda u: 1 - sp.tanh(u) ** 2,
    "sigmoid": lambda u: symbolic.sigmoid(u) * (1 - symbolic.sigmoid(u)),
    "relu": sp.Heaviside,
}


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
    walker = _Steps(name, vectors, scalars)
    top, is_vector = walker.sym(tree, symbolic.I)
    lines = [f"L = {_show(sp.Sum(top, (symbolic.I, 0, symbolic.N - 1)) if is_vector else top)}"]
    total = walker.d(tree, symbolic.I, 0)
    if is_vector:
        total = sp.Sum(total, (symbolic.I, 0, symbolic.N - 1))
        walker.say(0, "y is a vector: backward(ones) differentiates L = sum_i y_i", total)
    lines += walker.lines
    # resolve_sums, not .doit(): .doit() tries closed forms that crash or run for minutes
    # deltas inside a where()'s branches first, as symbolic.gradient does
    done = symbolic._drop_range_conditions(
        symbolic.resolve_sums(symbolic.deltas_out_of_piecewise(total)))
    final = symbolic._canonical_indices(done)
    why = "sum rule, only the term k = j survives (the delta)" if walker.vector else \
        "collect terms"
    lines.append(f"{why}: dL/d{walker.target_text} = {symbolic.formula(final)}")
    return Derivation(name, tuple(lines), symbolic.formula(final), final)


class _StepPrinter(symbolic.FormulaPrinter):
    """The formula printer, with d x_k/d x_j written as the delta it is."""

    def _print_KroneckerDelta(self, expr: Any) -> str:
        return f"delta_{expr.args[0]}{expr.args[1]}"


def _show(expr: Any) -> str:
    """Every bound index named k, like the table's formulas."""
    return str(_StepPrinter().doprint(symbolic._canonical_indices(expr)))


class _Steps:
    """The rule walker: `d(node, i)` is d(node at element i)/d(target), with a line each."""

    def __init__(self, name: str, vectors: set[str], scalars: set[str]) -> None:
        self.builder = symbolic._Builder(vectors, scalars)
        self.name = name
        self.vector = name in vectors
        self.target_text = f"{name}_j" if self.vector else name
        self.lines: list[str] = []
        self.fresh = 0

    def sym(self, node: Node, index: Any) -> tuple[Any, bool]:
        return self.builder.build(node, index)

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
        u, _ = self.sym(node.left, index)
        v, _ = self.sym(node.right, index)
        const_u, const_v = not variables(node.left), not variables(node.right)
        if node.op in "+-":
            du, dv = self.d(node.left, index, depth), self.d(node.right, index, depth)
            return ("sum rule", du + dv) if node.op == "+" else ("difference rule", du - dv)
        if node.op == "*" and (const_u or const_v):
            if const_u:
                return "constant multiple", u * self.d(node.right, index, depth)
            return "constant multiple", self.d(node.left, index, depth) * v
        if node.op == "*":
            du, dv = self.d(node.left, index, depth), self.d(node.right, index, depth)
            return "product rule (u v)' = u' v + u v'", du * v + u * dv
        if node.op == "/" and const_v:
            return "constant multiple", self.d(node.left, index, depth) / v
        if node.op == "/":
            du, dv = self.d(node.left, index, depth), self.d(node.right, index, depth)
            return "quotient rule (u/v)' = (u' v - u v')/v**2", (du * v - u * dv) / v**2
        if const_v:
            return ("power rule (u**p)' = p u**(p-1) u'",
                    v * u ** (v - 1) * self.d(node.left, index, depth))
        if const_u:
            return ("exponential rule (a**v)' = a**v log(a) v'",
                    u**v * sp.log(u) * self.d(node.right, index, depth))
        du, dv = self.d(node.left, index, depth), self.d(node.right, index, depth)
        return ("general power rule (u**v)' = u**v (v' log(u) + v u'/u)",
                u**v * (dv * sp.log(u) + v * du / u))

    def _call(self, node: Call, index: Any, depth: int) -> tuple[str, Any]:
        if node.func == "where":
            return self._where(node, index, depth)
        spec = FUNCTIONS[node.func]
        if spec.kind == "elementwise":
            u, _ = self.sym(node.args[0], index)
            return (f"chain rule with {spec.rule}",
                    _DERIVATIVES[node.func](u) * self.d(node.args[0], index, depth))
        if spec.kind == "clamp":
            u, _ = self.sym(node.args[0], index)
            lo, hi = (symbolic._number(b.text, b.value) for b in node.args[1:])  # type: ignore
            return (f"chain rule with {spec.rule}", sp.Heaviside(u - lo)
                    * sp.Heaviside(hi - u) * self.d(node.args[0], index, depth))
        if spec.kind == "softmax":
            return self._softmax(node, index, depth)
        if spec.kind == "extremum":
            return self._extremum(node, index, depth)
        k, m = self._fresh_indices()
        u, is_vector = self.sym(node.args[0], k)
        if not is_vector:
            return f"{node.func} of a scalar is the scalar", self.d(node.args[0], index, depth)
        n = symbolic.N
        du = self.d(node.args[0], k, depth)
        if node.func == "sum":
            return "sum rule: the derivative of a sum is the sum of derivatives", \
                sp.Sum(du, (k, 0, n - 1))
        if node.func == "mean":
            return "sum rule with constant factor 1/n", sp.Sum(du, (k, 0, n - 1)) / n
        others = sp.Product(u.subs(k, m), (m, 0, k - 1)) * \
            sp.Product(u.subs(k, m), (m, k + 1, n - 1))
        return "product rule over the factors: sum_k u_k' prod_{m!=k} u_m", \
            sp.Sum(du * others, (k, 0, n - 1))


    def _where(self, node: Call, index: Any, depth: int) -> tuple[str, Any]:
        """The condition compares data only (api._check_conditions), so it is a constant."""
        compare, if_true, if_false = node.args
        assert isinstance(compare, Compare)
        condition = symbolic._RELATIONS[compare.op](self.sym(compare.left, index)[0],
                                                    self.sym(compare.right, index)[0])
        du, dv = self.d(if_true, index, depth), self.d(if_false, index, depth)
        return "where: the derivative of the branch it takes", \
            sp.Piecewise((du, condition), (dv, True))

    def _fresh_indices(self) -> tuple[Any, Any]:
        """A new pair of bound indices (k, m), (k2, m2), ... for one reduction's rule."""
        self.fresh += 1
        suffix = "" if self.fresh == 1 else str(self.fresh)
        k, m = (sp.Symbol(f"{letter}{suffix}", integer=True, nonnegative=True)
                for letter in "km")
        return k, m

    def _softmax(self, node: Call, index: Any, depth: int) -> tuple[str, Any]:
        """d s_i = s_i (du_i - sum_k s_k du_k); d log_softmax_i = du_i - sum_k s_k du_k."""
        u_i, is_vector = self.sym(node.args[0], index)
        if not is_vector:
            return f"{node.func} of one element is a constant", sp.Integer(0)
        k, m = self._fresh_indices()
        n = symbolic.N
        total = sp.Sum(sp.exp(self.sym(node.args[0], m)[0]), (m, 0, n - 1))
        u_k, _ = self.sym(node.args[0], k)
        inner = self.d(node.args[0], index, depth) - sp.Sum(
            sp.exp(u_k) / total * self.d(node.args[0], k, depth), (k, 0, n - 1))
        if node.func == "softmax":
            return "softmax rule: d s_i = s_i (du_i - sum_k s_k du_k)", \
                sp.exp(u_i) / total * inner
        return "log_softmax rule: d l_i = du_i - sum_k softmax_k du_k", inner

    def _extremum(self, node: Call, index: Any, depth: int) -> tuple[str, Any]:
        """d max(u) = sum_k is_max(u_k) du_k / sum_k is_max(u_k): the arg-max's du."""
        k, _ = self._fresh_indices()
        u, is_vector = self.sym(node.args[0], k)
        if not is_vector:
            return f"{node.func} of a scalar is the scalar", self.d(node.args[0], index, depth)
        indicator = (symbolic.is_max if node.func == "max" else symbolic.is_min)(u)
        limit = (k, 0, symbolic.N - 1)
        return f"{node.func} rule: only the arg-{node.func} element's derivative passes " \
            "(ties share it)", sp.Sum(indicator * self.d(node.args[0], k, depth), limit) \
            / sp.Sum(indicator, limit)


def render(found: dict[str, Derivation], console: Console) -> None:
    for derivation in found.values():
        console.print(f"Steps for dL/d{derivation.name}:", markup=False)
        for line in derivation.lines:
            console.print("  " + line, markup=False, highlight=False)
