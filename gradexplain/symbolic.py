"""The symbolic witness: SymPy derives the gradient once, in a generic element.

A vector variable `x` becomes `IndexedBase('x')`; `sum(f(x))` becomes
`Sum(f(x[i]), (i, 0, n-1))`. Differentiating by `x[j]` and calling `.doit()` resolves the
Kronecker deltas, so `sum(x**2)` gives `2*x[j]`: one formula, whatever n is. That formula
is then evaluated over the whole vector with numpy (`evaluate.py`), never with autograd.
Differentiating n separate symbols instead would cost O(n**2).
"""

from __future__ import annotations

import types
from dataclasses import dataclass
from typing import Any

import sympy as sp
from sympy.printing.str import StrPrinter

from gradexplain.functions import FUNCTIONS
from gradexplain.tree import BinOp, Call, Compare, Const, Neg, Node, Num, Var


class sigmoid(sp.Function):  # noqa: N801 - printed as users write it
    """sigmoid(u) = 1/(1 + exp(-u)), kept whole so formulas read like the input."""

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        s = sigmoid(self.args[0])
        return s * (1 - s)

    def _eval_is_real(self) -> bool | None:
        return self.args[0].is_real  # type: ignore[no-any-return]


class relu(sp.Function):  # noqa: N801
    """relu(u) = max(u, 0); its derivative is Heaviside(u), with SymPy's H(0) = 1/2."""

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return sp.Heaviside(self.args[0])

    def _eval_is_real(self) -> bool | None:
        return self.args[0].is_real  # type: ignore[no-any-return]


class clamp(sp.Function):  # noqa: N801
    """clamp(u, lo, hi) = min(max(u, lo), hi) for constant bounds lo <= hi.

    Its derivative is Heaviside(u - lo)*Heaviside(hi - u): 1 inside, 0 outside, and with
    SymPy's H(0) = 1/2 it is 1/2 at either bound, where PyTorch uses 1.
    """

    nargs = 3

    @classmethod
    def eval(cls, u: sp.Expr, lo: sp.Expr, hi: sp.Expr) -> sp.Expr | None:
        if u.is_number:
            return sp.Min(sp.Max(u, lo), hi)
        return None

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        u, lo, hi = self.args
        if argindex != 1:  # the bounds are constants, never differentiated
            return sp.Integer(0)
        return sp.Heaviside(u - lo) * sp.Heaviside(hi - u)

    def _eval_is_real(self) -> bool | None:
        return self.args[0].is_real  # type: ignore[no-any-return]


class is_max(sp.Function):  # noqa: N801
    """is_max(u_k): 1 where u_k is the largest of u over the whole vector, else 0.

    max(u) has no Sum form over a generic element, so it is written with a dedicated
    indicator: max(u) = sum_k u_k*is_max(u_k) / sum_k is_max(u_k). The indicator is
    piecewise constant (derivative 0), so d max(u)/du_j = is_max(u_j)/sum_k is_max(u_k):
    1 at the arg-max, split evenly among ties as torch's max() does. The evaluator reads
    u over the whole vector and compares it with its maximum, in O(n).
    """

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return sp.Integer(0)


class is_min(sp.Function):  # noqa: N801
    """is_min(u_k): 1 where u_k is the smallest of u over the whole vector, else 0."""

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return sp.Integer(0)


def softmax_element(name: str, element: sp.Expr, summand: sp.Expr,
                    limit: tuple[sp.Expr, ...], total_type: type = sp.Sum) -> sp.Expr:
    """softmax: exp(u_i)/sum_k exp(u_k); log_softmax: u_i - log(sum_k exp(u_k)).

    The matrix path passes its ScopedSum, so a where() in u stays inside u's own sums.
    """
    total = total_type(sp.exp(summand), limit)
    return sp.exp(element) / total if name == "softmax" else element - sp.log(total)


_NAMESPACE = types.SimpleNamespace(
    exp=sp.exp, log=sp.log, sqrt=sp.sqrt, Abs=sp.Abs, sin=sp.sin, cos=sp.cos, tan=sp.tan,
    tanh=sp.tanh, sigmoid=sigmoid, relu=relu)

N = sp.Symbol("n", integer=True, positive=True)  # the common length of every vector
J = sp.Symbol("j", integer=True, nonnegative=True)  # the generic element of a gradient
I = sp.Symbol("i", integer=True, nonnegative=True)  # the element index of the top sum


@dataclass(frozen=True)
class SymbolicModel:
    """L as a SymPy expression, plus what the explanation needs to show it."""

    loss: sp.Expr  # scalar; a vector result is already wrapped in Sum (ones as v)
    bases: dict[str, Any]  # variable name -> IndexedBase (vector) or Symbol (scalar)
    implicit_sum: bool  # True when the expression itself was a vector
    implicit_term: sp.Expr | None  # y_i of that implicit sum (SymPy may fold the Sum away)
    reductions: dict[Node, Reduction]  # each sum/mean/prod of a vector, by tree node


@dataclass(frozen=True)
class Reduction:
    """One reduction of a vector: its bound index, summand (or factor) and SymPy form."""

    index: sp.Symbol
    term: sp.Expr
    expr: sp.Expr  # the Sum or Product itself (mean's 1/n stays outside)


def build(tree: Node, vector_names: set[str], scalar_names: set[str]) -> SymbolicModel:
    """Build L from our tree; vectors are indexed by a generic element."""
    builder = _Builder(vector_names, scalar_names)
    expr, is_vector = builder.build(tree, I)
    term = expr if is_vector else None
    if is_vector:
        expr = sp.Sum(expr, (I, 0, N - 1))
    return SymbolicModel(expr, builder.bases, is_vector, term, builder.reductions)


def gradient(model: SymbolicModel, name: str) -> sp.Expr:
    """dL/dx_j (vector x) or dL/dc (scalar c), with index-range conditions resolved."""
    base = model.bases[name]
    target = base[J] if isinstance(base, sp.IndexedBase) else base
    derivative = resolve_sums(deltas_out_of_piecewise(sp.diff(model.loss, target)))
    return _canonical_indices(_drop_range_conditions(derivative))


def resolve_sums(expr: sp.Expr) -> sp.Expr:
    """Do what `.doit()` must for a gradient, and nothing else: resolve Kronecker deltas.

    Each Sum, innermost first, is split into its terms: a term with a delta keeps its
    k = j value (`deltasummation`), a term free of k is multiplied by the count, and the
    rest stays a Sum. SymPy's general `.doit()` also tries closed forms (Gosper's
    algorithm, the simplifier), which crashed on `sum(x*sum(x*sum(x)))` and can run for
    minutes; we never need a closed form, since numpy evaluates the sums.
    """
    from sympy.concrete.delta import deltasummation

    def resolve(total: sp.Sum) -> sp.Expr:
        # SymPy denests Sum(Sum(f, a), b) into Sum(f, a, b): resolve a limit at a time,
        # the innermost (first) one first.
        result = total.function
        for limit in total.limits:
            result = resolve_one(result, limit)
        return result

    def resolve_one(function: sp.Expr, limit: sp.Tuple) -> sp.Expr:
        index, low, high = limit
        if not function.has(sp.KroneckerDelta):
            return function * (high - low + 1) if index not in function.free_symbols \
                else sp.Sum(function, limit)
        function = sp.expand(function, deep=False, power_base=False, power_exp=False,
                             log=False, multinomial=False)
        resolved: sp.Expr = sp.Integer(0)
        kept = []
        for term in sp.Add.make_args(function):
            if term.has(sp.KroneckerDelta):
                resolved += deltasummation(term, limit)
            elif index not in term.free_symbols:
                resolved += term * (high - low + 1)
            else:
                kept.append(term)
        if kept:
            resolved += sp.Sum(sp.Add(*kept), limit)
        return resolved

    return expr.replace(lambda e: isinstance(e, sp.Sum), resolve)


def deltas_out_of_piecewise(expr: sp.Expr) -> sp.Expr:
    """Resolve `Sum(Piecewise((a*d, c), (b*d, True)), k)` with d = delta(j, k) to its k = j term.

    A where() inside a Sum differentiates to Kronecker deltas inside the branches, and
    `Sum.doit()` resolves a delta only when it is a factor of the summand. j is always in
    range, so summing over every k keeps exactly the term k = j.
    """

    def resolve(total: sp.Sum) -> sp.Expr:
        if len(total.limits) != 1 or not total.has(sp.Piecewise):
            return total
        (index, low, high), = total.limits
        if low != 0 or high != N - 1:
            return total
        delta = sp.KroneckerDelta(J, index)
        kept, resolved = [], []
        for term in sp.Add.make_args(total.function):
            folded = sp.piecewise_fold(term)
            pieces = folded.args if isinstance(folded, sp.Piecewise) else ((folded, sp.true),)
            pieces = tuple((sp.factor_terms(value), cond) for value, cond in pieces)
            if all(value == 0 or delta in sp.Mul.make_args(value) for value, _ in pieces):
                resolved.append(sp.Piecewise(*((value / delta if value != 0 else value,
                                                cond) for value, cond in pieces))
                                .subs(index, J))
            else:
                kept.append(term)
        if not resolved:
            return total
        return sp.Add(*resolved) + (sp.Sum(sp.Add(*kept), total.limits[0]) if kept else 0)

    return expr.replace(lambda e: isinstance(e, sp.Sum), resolve)


def _canonical_indices(expr: sp.Expr) -> sp.Expr:
    """Name bound indices k where that is safe, so equal sums combine and read alike.

    `sum_k(x_k) + sum_k2(x_k2)` becomes `2*sum_k(x_k)`. A reduction whose limits or
    summand involve another index (SymPy writes prefix sums such as `sum_{k2<k}`) keeps
    its own name, so no index is ever captured.
    """
    k = sp.Symbol("k", integer=True, nonnegative=True)

    def rename(reduction: sp.Expr) -> sp.Expr:
        if len(reduction.limits) != 1:  # a denested double sum keeps its own names
            return reduction
        (index, low, high), = reduction.limits
        others = {s for s in (reduction.function.free_symbols | low.free_symbols
                              | high.free_symbols)
                  if isinstance(s, sp.Symbol) and s.is_integer and s not in (index, N, J)}
        if others or index == k:
            return reduction
        return type(reduction)(reduction.function.subs(index, k), (k, low, high))

    return expr.replace(lambda e: isinstance(e, (sp.Sum, sp.Product)), rename)


def _drop_range_conditions(expr: sp.Expr) -> sp.Expr:
    """`.doit()` guards results with `j <= n - 1`; j is always in range, so take that branch."""
    slack = sp.Symbol("slack", integer=True, nonnegative=True)

    def resolve(piecewise: sp.Piecewise) -> sp.Expr:
        if not any(N in condition.free_symbols for _, condition in piecewise.args):
            return piecewise  # a where() of the user's, not a range guard
        for value, condition in piecewise.args:
            if condition is sp.true or condition.subs(N, J + 1 + slack) is sp.true:
                return value
        return piecewise

    return expr.replace(lambda e: isinstance(e, sp.Piecewise), resolve)


class _Builder:
    """Walks our tree; each vector sub-expression is written in terms of an index symbol."""

    def __init__(self, vector_names: set[str], scalar_names: set[str]) -> None:
        self.bases: dict[str, Any] = {}
        for name in sorted(vector_names):
            self.bases[name] = sp.IndexedBase(name, real=True)
        for name in sorted(scalar_names):
            self.bases[name] = sp.Symbol(name, real=True)
        self.fresh = 0
        self.reductions: dict[Node, Reduction] = {}

    def build(self, node: Node, index: sp.Symbol) -> tuple[sp.Expr, bool]:
        if isinstance(node, Num):
            return _number(node.text, node.value), False
        if isinstance(node, Const):
            return (sp.pi if node.name == "pi" else sp.E), False
        if isinstance(node, Var):
            base = self.bases[node.name]
            if isinstance(base, sp.IndexedBase):
                return base[index], True
            return base, False
        if isinstance(node, Neg):
            inner, vec = self.build(node.operand, index)
            return -inner, vec
        if isinstance(node, BinOp):
            return self._binop(node, index)
        return self._call(node, index)

    def _binop(self, node: BinOp, index: sp.Symbol) -> tuple[sp.Expr, bool]:
        left, left_vec = self.build(node.left, index)
        right, right_vec = self.build(node.right, index)
        combined = {
            "+": lambda: left + right, "-": lambda: left - right,
            "*": lambda: left * right, "/": lambda: left / right,
            "**": lambda: left ** right,
        }[node.op]()
        return combined, left_vec or right_vec

    def _call(self, node: Call, index: sp.Symbol) -> tuple[sp.Expr, bool]:
        if node.func == "where":
            return self._where(node, index)
        spec = FUNCTIONS[node.func]
        if spec.kind == "elementwise":
            arg, vec = self.build(node.args[0], index)
            return spec.sympy(_NAMESPACE, arg), vec
        if spec.kind == "clamp":
            arg, vec = self.build(node.args[0], index)
            lo, hi = (_number(b.text, b.value) for b in node.args[1:])  # type: ignore
            return clamp(arg, lo, hi), vec
        if spec.kind == "softmax":
            return self._softmax(node, index)
        if spec.kind == "extremum":
            return self._extremum(node)
        bound = self._fresh_index()
        arg, vec = self.build(node.args[0], bound)
        if not vec:  # a reduction of a scalar is the scalar itself, as in torch
            return arg, False
        if node.func == "prod":
            total = sp.Product(arg, (bound, 0, N - 1))
        else:
            total = sp.Sum(arg, (bound, 0, N - 1))
        self.reductions[node] = Reduction(bound, arg, total)
        return (total / N if node.func == "mean" else total), False

    def _softmax(self, node: Call, index: sp.Symbol) -> tuple[sp.Expr, bool]:
        """Element i of softmax over the vector: the generic element and a Sum over k."""
        element, vec = self.build(node.args[0], index)
        if not vec:  # softmax of one element is 1, log_softmax 0, as in torch
            return sp.Integer(1 if node.func == "softmax" else 0), False
        bound = self._fresh_index()
        summand, _ = self.build(node.args[0], bound)
        return softmax_element(node.func, element, summand, (bound, 0, N - 1)), True

    def _extremum(self, node: Call) -> tuple[sp.Expr, bool]:
        """max(u) = sum_k u_k*is_max(u_k) / sum_k is_max(u_k) (see `is_max`)."""
        bound = self._fresh_index()
        arg, vec = self.build(node.args[0], bound)
        if not vec:  # the max of a scalar is the scalar, as in torch
            return arg, False
        indicator = (is_max if node.func == "max" else is_min)(arg)
        limit = (bound, 0, N - 1)
        total = sp.Sum(arg * indicator, limit) / sp.Sum(indicator, limit)
        self.reductions[node] = Reduction(bound, arg, total)
        return total, False

    def _where(self, node: Call, index: sp.Symbol) -> tuple[sp.Expr, bool]:
        """`where(cond, a, b)` is `Piecewise((a, cond), (b, True))`."""
        compare, if_true, if_false = node.args
        assert isinstance(compare, Compare)
        left, left_vec = self.build(compare.left, index)
        right, right_vec = self.build(compare.right, index)
        condition = _RELATIONS[compare.op](left, right)
        a, a_vec = self.build(if_true, index)
        b, b_vec = self.build(if_false, index)
        return sp.Piecewise((a, condition), (b, True)), left_vec or right_vec or a_vec or b_vec

    def _fresh_index(self) -> sp.Symbol:
        self.fresh += 1
        name = "k" if self.fresh == 1 else f"k{self.fresh}"
        return sp.Symbol(name, integer=True, nonnegative=True)


_RELATIONS = {"==": sp.Eq, "!=": sp.Ne, "<": sp.Lt, "<=": sp.Le, ">": sp.Gt, ">=": sp.Ge}


def _number(text: str, value: float) -> sp.Expr:
    """Exact SymPy numbers from the literal's digits, so `0.1*x` prints as `x/10`."""
    from fractions import Fraction

    try:
        fraction = Fraction(text)
    except (ValueError, ZeroDivisionError):
        fraction = Fraction(value)
    return sp.Rational(fraction.numerator, fraction.denominator)


class FormulaPrinter(StrPrinter):
    """Prints `x[j]` as `x_j` and sums as `sum_k(...)`, the way the table shows them."""

    printmethod = "_gradexplain_str"  # no object defines it: our _print_* methods win

    def _print_Abs(self, expr: sp.Abs) -> str:
        return f"abs({self._print(expr.args[0])})"

    def _print_Piecewise(self, expr: sp.Piecewise) -> str:
        """`where(cond, a, b)`, as the user wrote it (nested for more pieces)."""
        (value, condition), *rest = expr.args
        if not rest:
            return self._print(value)
        otherwise = rest[0][0] if len(rest) == 1 and rest[0][1] is sp.true else \
            sp.Piecewise(*rest)
        return f"where({self._print(condition)}, {self._print(value)}, " \
            f"{self._print(otherwise)})"

    def _print_Relational(self, expr: sp.Expr) -> str:
        return f"{self._print(expr.lhs)} {expr.rel_op} {self._print(expr.rhs)}"

    def _print_Indexed(self, expr: sp.Indexed) -> str:
        return f"{expr.base}_{expr.indices[0]}"

    def _print_Sum(self, expr: sp.Sum) -> str:
        text = self._print(expr.function)
        for index, _, _ in expr.limits:  # the first limit is the innermost sum
            text = f"sum_{index}({text})"
        return text

    def _print_Product(self, expr: sp.Product) -> str:
        text = self._print(expr.function)
        for index, low, high in expr.limits:
            text = f"prod_{self._range(index, low, high)}({text})"
        return text

    def _range(self, index: sp.Symbol, low: sp.Expr, high: sp.Expr) -> str:
        if low == 0 and high == N - 1:
            return str(index)
        if low == 0 and high == J - 1:
            return f"{{{index}<j}}"
        if low == J + 1 and high == N - 1:
            return f"{{{index}>j}}"
        return f"{{{index}={self._print(low)}..{self._print(high)}}}"


def formula(expr: sp.Expr) -> str:
    """A readable one-line formula, e.g. `2*x_j`."""
    return str(FormulaPrinter().doprint(_canonical_indices(expr)))
