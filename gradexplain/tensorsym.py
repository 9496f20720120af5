"""The symbolic witness for matrices: SymPy in generic elements, one index per axis.

A matrix `W` becomes a 2-D `IndexedBase`; every node is built for a tuple of index
symbols, one per axis of its shape. `X@w` at row i is `Sum(X[i, m]*w[m], (m, 0, K-1))`,
`.T` swaps the indices, and a bias vector added to a matrix takes the column index, as
PyTorch broadcasts it; a variable's size-1 axis is always element 0 (`a[i, 0]`), so it
stretches over the other operand's axis. `diff(L, W[j, k]).doit()` then gives one formula in j and k;
`tensoreval.py` evaluates it over whole arrays. Each axis size is a symbol (`n3` for a
size of 3), so no formula ever grows with the number of elements.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import sympy as sp

from gradexplain.functions import FUNCTIONS
from gradexplain.shapes import Shape, reduced_axis
from gradexplain.symbolic import _NAMESPACE, _RELATIONS, FormulaPrinter, _number, clamp
from gradexplain.tree import BinOp, Call, Compare, Const, Neg, Node, Num, Var

TARGETS = tuple(sp.Symbol(name, integer=True, nonnegative=True) for name in ("j", "k"))


def size_symbol(size: int) -> sp.Symbol:
    """The symbol of an axis length; equal lengths share one, which is always true."""
    return sp.Symbol(f"n{size}", integer=True, positive=True)


@dataclass(frozen=True)
class TensorModel:
    """L in generic elements, the variables' bases and shapes, and the index sizes."""

    loss: sp.Expr
    bases: dict[str, Any]
    shapes: dict[str, Shape]
    sizes: dict[sp.Symbol, int]  # every index symbol -> the length it runs over


def build(tree: Node, shapes: Mapping[str, Shape], node_shapes: dict[int, Shape]) -> TensorModel:
    """L from our tree; a non-scalar result is summed over all of its elements (ones as v)."""
    builder = _Builder(shapes, node_shapes)
    top = node_shapes[id(tree)]
    indices = builder.fresh(top)
    expr = builder.build(tree, indices)
    for index, size in zip(indices, top):
        expr = sp.Sum(expr, (index, 0, size_symbol(size) - 1))
    return TensorModel(drop_unit_ranges(expr), builder.bases, dict(shapes), builder.sizes)


def drop_unit_ranges(expr: sp.Expr) -> sp.Expr:
    """A sum or product over a size-1 axis is its one term, at index 0.

    Broadcasting makes such axes (a 3x1 column); without this, `sum(a)` would read
    `sum_p(sum_i(a_i0))` and its gradient `n1`, true but puzzling.
    """
    unit = size_symbol(1) - 1

    def drop(reduction: sp.Expr) -> sp.Expr:
        kept = [limit for limit in reduction.limits if limit[2] != unit]
        function = reduction.function.xreplace(
            {limit[0]: sp.S.Zero for limit in reduction.limits if limit[2] == unit})
        return type(reduction)(function, *kept) if kept else function

    return expr.replace(lambda e: isinstance(e, (sp.Sum, sp.Product)) and any(
        limit[2] == unit for limit in e.limits), drop)


def gradient(model: TensorModel, name: str) -> tuple[sp.Expr, tuple[sp.Symbol, ...]]:
    """dL/dW_jk (or dL/dx_j, dL/dc) and the target indices it is written in."""
    base = model.bases[name]
    targets = TARGETS[:len(model.shapes[name])]
    target = base[pinned(targets, model.shapes[name])] if targets else base
    derivative = drop_range_guards(sp.diff(model.loss, target).doit())
    return drop_range_guards(resolve_deltas(derivative)), targets


def pinned(idx: tuple[sp.Expr, ...], shape: Shape) -> tuple[sp.Expr, ...]:
    """A size-1 axis is always element 0: that is how it stretches when broadcast.

    So `a` of shape 3x1 in `a + B` (3x4) is `a[i, 0]` at element (i, p), and its
    gradient, taken at `a[j, 0]`, sums over the stretched p with no delta left to resolve.
    """
    return tuple(sp.S.Zero if size == 1 else index for index, size in zip(idx, shape))


def resolve_deltas(expr: sp.Expr) -> sp.Expr:
    """Sum over m of `f * KroneckerDelta(m, t)` is `f` at m = t, innermost sums first.

    `.doit()` resolves a delta only in the innermost sum; nested sums, as `@` builds them,
    keep theirs. Both indices run over axes of equal length (the shape pass checked it).
    """
    return expr.replace(lambda e: isinstance(e, sp.Sum), _resolve_sum)


def _resolve_sum(total: sp.Sum) -> sp.Expr:
    """Resolve the limits of one Sum, innermost first; SymPy merges nested Sums into one."""
    result: sp.Expr = total.function
    for limit in total.limits:
        result = _resolve_limit(result, limit)
    return result


def _resolve_limit(function: sp.Expr, limit: tuple[sp.Expr, ...]) -> sp.Expr:
    index = limit[0]
    kept, resolved = [], []
    for term in sp.Add.make_args(function):
        value = _at_delta(term, index)
        (kept if value is None else resolved).append(term if value is None else value)
    if not resolved:
        return sp.Sum(function, limit)
    return sp.Add(*resolved) + (sp.Sum(sp.Add(*kept), limit) if kept else 0)


def _at_delta(term: sp.Expr, index: sp.Symbol) -> sp.Expr | None:
    """`term` with its factor delta(index, t) removed and index set to t; None if none.

    The delta may sit in an inner Sum or in every branch of a where(): both are linear in
    it. (SymPy's piecewise_fold would pull a where() out of a Sum, which is wrong here.)
    """
    if term == 0:
        return sp.S.Zero
    if isinstance(term, sp.Add):
        parts = [_at_delta(part, index) for part in term.args]
        return None if any(p is None for p in parts) else sp.Add(*parts)
    factors = sp.Mul.make_args(term)
    for position, factor in enumerate(factors):
        rest = sp.Mul(*factors[:position], *factors[position + 1:])
        if isinstance(factor, sp.KroneckerDelta) and index in factor.args:
            other = factor.args[1] if factor.args[0] == index else factor.args[0]
            return None if other.has(index) else rest.subs(index, other)
        inner = _inside(factor, index)
        if inner is not None:
            return rest.subs(index, _delta_partner(factor, index)) * inner
    return None


def _inside(factor: sp.Expr, index: sp.Symbol) -> sp.Expr | None:
    """A Sum or where() factor with the delta resolved inside it, or None."""
    if isinstance(factor, sp.Sum) and not any(
            bound.has(index) for limit in factor.limits for bound in limit[1:]):
        inner = _at_delta(factor.function, index)
        return None if inner is None else sp.Sum(inner, *factor.limits)
    if isinstance(factor, sp.Piecewise) and any(
            index in delta.args for delta in factor.atoms(sp.KroneckerDelta)):
        partner = _delta_partner(factor, index)
        pieces = [(_at_delta(value, index), condition) for value, condition in factor.args]
        if any(value is None for value, _ in pieces):
            return None
        return sp.Piecewise(*((value, condition.subs(index, partner))
                              for value, condition in pieces))
    return None


def _delta_partner(expr: sp.Expr, index: sp.Symbol) -> sp.Expr:
    """The other index of the first delta that involves `index`."""
    for delta in expr.atoms(sp.KroneckerDelta):
        if index in delta.args:
            return delta.args[1] if delta.args[0] == index else delta.args[0]
    raise AssertionError("no delta")


def drop_range_guards(expr: sp.Expr) -> sp.Expr:
    """`.doit()` guards a resolved delta with `0 <= j <= n3 - 1`; j is always in range."""

    def resolve(piecewise: sp.Piecewise) -> sp.Expr:
        pieces = []
        for value, condition in piecewise.args:
            if condition is sp.true or _is_range_guard(condition):
                pieces.append((value, sp.true))  # always holds: the rest is never used
                break
            pieces.append((value, condition))  # a where() of the user's
        return pieces[0][0] if len(pieces) == 1 else sp.Piecewise(*pieces)

    def strip(both: sp.And) -> sp.Expr:
        kept = [c for c in both.args if not _is_range_guard(c)]
        return sp.And(*kept) if kept else sp.true

    expr = expr.replace(lambda e: isinstance(e, sp.And), strip)
    return expr.replace(lambda e: isinstance(e, sp.Piecewise), resolve)


def _is_range_guard(condition: sp.Expr) -> bool:
    """`j <= n3 - 1` and the like: only index and size symbols, no user data."""
    return all(isinstance(s, sp.Symbol) and s.is_integer for s in condition.free_symbols)


_LETTERS = "impqrstuv"  # bound indices; j and k are the gradient's own


class _Builder:
    """Walks our tree; `build(node, indices)` is the node's element at those indices."""

    def __init__(self, shapes: Mapping[str, Shape], node_shapes: dict[int, Shape]) -> None:
        self.bases: dict[str, Any] = {
            name: sp.IndexedBase(name, real=True) if shape else sp.Symbol(name, real=True)
            for name, shape in sorted(shapes.items())}
        self.node_shapes = node_shapes
        self.sizes: dict[sp.Symbol, int] = dict(zip(TARGETS, (0, 0)))
        self.count = 0

    def fresh(self, shape: Shape) -> tuple[sp.Symbol, ...]:
        found = []
        for size in shape:
            letter = _LETTERS[self.count % len(_LETTERS)]
            name = letter if self.count < len(_LETTERS) else f"{letter}{self.count}"
            self.count += 1
            index = sp.Symbol(name, integer=True, nonnegative=True)
            self.sizes[index] = size
            found.append(index)
        return tuple(found)

    def build(self, node: Node, idx: tuple[sp.Expr, ...]) -> sp.Expr:
        if isinstance(node, Num):
            return _number(node.text, node.value)
        if isinstance(node, Const):
            return sp.pi if node.name == "pi" else sp.E
        if isinstance(node, Var):
            base = self.bases[node.name]
            return base[pinned(idx, self.node_shapes[id(node)])] if idx else base
        if isinstance(node, Neg):
            return -self.build(node.operand, idx)
        if isinstance(node, BinOp) and node.op == "@":
            return self._matmul(node, idx)
        if isinstance(node, (BinOp, Compare)):
            left = self.build(node.left, self._align(node.left, idx))
            right = self.build(node.right, self._align(node.right, idx))
            if isinstance(node, Compare):
                return _RELATIONS[node.op](left, right)
            return _OPERATIONS[node.op](left, right)  # type: ignore[no-any-return]
        assert isinstance(node, Call)
        return self._call(node, idx)

    def _align(self, node: Node, idx: tuple[sp.Expr, ...]) -> tuple[sp.Expr, ...]:
        """Broadcasting: an operand with fewer axes takes the trailing indices."""
        rank = len(self.node_shapes[id(node)])
        return idx[len(idx) - rank:] if rank else ()

    def _matmul(self, node: BinOp, idx: tuple[sp.Expr, ...]) -> sp.Expr:
        left_shape = self.node_shapes[id(node.left)]
        (bound,) = self.fresh(left_shape[-1:])
        left_idx = (*idx[:len(left_shape) - 1], bound)
        right_idx = (bound, *idx[len(left_shape) - 1:])
        term = self.build(node.left, left_idx) * self.build(node.right, right_idx)
        return sp.Sum(term, (bound, 0, size_symbol(left_shape[-1]) - 1))

    def _call(self, node: Call, idx: tuple[sp.Expr, ...]) -> sp.Expr:
        if node.func == "T":
            return self.build(node.args[0], tuple(reversed(idx)))
        if node.func == "where":
            compare, if_true, if_false = node.args
            return sp.Piecewise(
                (self.build(if_true, self._align(if_true, idx)),
                 self.build(compare, self._align(compare, idx))),
                (self.build(if_false, self._align(if_false, idx)), True))
        spec = FUNCTIONS[node.func]
        if spec.kind == "elementwise":
            return spec.sympy(_NAMESPACE, self.build(node.args[0], idx))  # type: ignore
        if spec.kind == "clamp":
            lo, hi = (_number(b.text, b.value) for b in node.args[1:])  # type: ignore
            return clamp(self.build(node.args[0], idx), lo, hi)
        shape = self.node_shapes[id(node.args[0])]
        if len(node.args) == 2:
            return self._along(node, shape, idx)
        bound = self.fresh(shape)
        total = self.build(node.args[0], bound)
        limits = [(index, 0, size_symbol(size) - 1) for index, size in zip(bound, shape)]
        if not limits:
            return total
        kind = sp.Product if node.func == "prod" else sp.Sum
        for limit in limits:
            total = kind(total, limit)
        if node.func == "mean":
            count = 1
            for size in shape:
                count *= size
            return total / count
        return total

    def _along(self, node: Call, shape: Shape, idx: tuple[sp.Expr, ...]) -> sp.Expr:
        """`sum(X, dim=d)`: a Sum over a fresh index on axis d; the others are the output's."""
        axis = reduced_axis(node, shape)
        (bound,) = self.fresh(shape[axis:axis + 1])
        inner = self.build(node.args[0], (*idx[:axis], bound, *idx[axis:]))
        limit = (bound, 0, size_symbol(shape[axis]) - 1)
        if node.func == "prod":
            return sp.Product(inner, limit)
        total = sp.Sum(inner, limit)
        return total / shape[axis] if node.func == "mean" else total


_OPERATIONS = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
               "/": lambda a, b: a / b, "**": lambda a, b: a ** b}


class TensorPrinter(FormulaPrinter):
    """`W[j, k]` as `W_jk`, sums as `sum_m(...)` with one bound index each."""

    def _print_Indexed(self, expr: sp.Indexed) -> str:
        names = [self._print(index) for index in expr.indices]
        joined = "".join(names) if all(len(n) == 1 for n in names) else ",".join(names)
        return f"{expr.base}_{joined}" if len(names) == 1 or len(joined) == len(names) \
            else f"{expr.base}_{{{joined}}}"

    def _print_Sum(self, expr: sp.Sum) -> str:
        result = self._print(expr.function)
        for index, _, _ in expr.limits:
            result = f"sum_{index}({result})"
        return result


def formula(expr: sp.Expr) -> str:
    return str(TensorPrinter().doprint(expr))
