"""The symbolic witness for matrices: SymPy in generic elements, one index per axis.

A matrix `W` becomes a 2-D `IndexedBase`; every node is built for a tuple of index
symbols, one per axis of its shape. `X@w` at row i is `Sum(X[i, m]*w[m], (m, 0, K-1))`,
`.T` swaps the indices, and a bias vector added to a matrix takes the column index, as
PyTorch broadcasts it; a variable's size-1 axis is always element 0 (`a[i, 0]`), so it
stretches over the other operand's axis. `diff(L, W[j, k])` with its Kronecker deltas
resolved (`deltas.py`, never SymPy's `.doit()`) then gives one formula in j and k;
`tensoreval.py` evaluates it over whole arrays. Each axis size is a symbol (`n3` for a
size of 3), so no formula ever grows with the number of elements.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import sympy as sp

from gradexplain.deltas import name_dummies, resolve_deltas
from gradexplain.functions import FUNCTIONS
from gradexplain.scoped import ScopedProduct, ScopedSum
from gradexplain.shapes import Shape, reduced_axis
from gradexplain.symbolic import (_NAMESPACE, _RELATIONS, FormulaPrinter, _number, clamp,
                                  is_max, is_min, softmax_element)
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
        expr = ScopedSum(expr, (index, 0, size_symbol(size) - 1))
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
    derivative = real_parts(name_dummies(sp.diff(model.loss, target)))
    return resolve_deltas(derivative), targets


def real_parts(expr: sp.Expr) -> sp.Expr:
    """re(u) is u and im(u) is 0: every value here is real.

    SymPy cannot always tell that a Sum of real terms is real, so `diff(abs(u))` can come
    back as `(re(u)*re(du) + im(u)*im(du))*sign(u)/u`, with the deltas of `du` shut away
    inside re() and im(), where no sum can resolve them.
    """
    return expr.replace(sp.re, lambda arg: arg).replace(sp.im, lambda arg: sp.S.Zero)


def pinned(idx: tuple[sp.Expr, ...], shape: Shape) -> tuple[sp.Expr, ...]:
    """A size-1 axis is always element 0: that is how it stretches when broadcast.

    So `a` of shape 3x1 in `a + B` (3x4) is `a[i, 0]` at element (i, p), and its
    gradient, taken at `a[j, 0]`, sums over the stretched p with no delta left to resolve.
    """
    return tuple(sp.S.Zero if size == 1 else index for index, size in zip(idx, shape))


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
        return ScopedSum(term, (bound, 0, size_symbol(left_shape[-1]) - 1))

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
        if spec.kind == "softmax":
            return self._softmax(node, shape, idx)
        if spec.kind == "extremum":
            return self._extremum(node, shape, idx)
        if len(node.args) == 2:
            return self._along(node, shape, idx)
        bound = self.fresh(shape)
        total = self.build(node.args[0], bound)
        limits = [(index, 0, size_symbol(size) - 1) for index, size in zip(bound, shape)]
        if not limits:
            return total
        kind = ScopedProduct if node.func == "prod" else ScopedSum
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
            return ScopedProduct(inner, limit)
        total = ScopedSum(inner, limit)
        return total / shape[axis] if node.func == "mean" else total


    def _softmax(self, node: Call, shape: Shape, idx: tuple[sp.Expr, ...]) -> sp.Expr:
        """Element idx of softmax along axis d: exp(u_idx)/sum_m exp(u_idx with m on axis d)."""
        if not shape:  # softmax of one element is 1, log_softmax 0, as in torch
            return sp.Integer(1 if node.func == "softmax" else 0)
        axis = reduced_axis(node, shape) if len(node.args) == 2 else len(shape) - 1
        (bound,) = self.fresh(shape[axis:axis + 1])
        summand = self.build(node.args[0], (*idx[:axis], bound, *idx[axis + 1:]))
        return softmax_element(node.func, self.build(node.args[0], idx), summand,
                               (bound, 0, size_symbol(shape[axis]) - 1), ScopedSum)

    def _extremum(self, node: Call, shape: Shape, idx: tuple[sp.Expr, ...]) -> sp.Expr:
        """max(u) = sum u*is_max(u) / sum is_max(u) over all axes, or over axis d only.

        is_max carries the bound indices it compares over, so after the deltas are
        resolved `is_max(X[j, m], m)` still says: the largest of row j.
        """
        if not shape:  # the max of a scalar is the scalar, as in torch
            return self.build(node.args[0], ())
        if len(node.args) == 2:
            axis = reduced_axis(node, shape)
            (bound,) = self.fresh(shape[axis:axis + 1])
            inner, over = (*idx[:axis], bound, *idx[axis:]), (bound,)
        else:
            inner = over = self.fresh(shape)
        arg = self.build(node.args[0], inner)
        indicator = (is_max if node.func == "max" else is_min)(arg, *over)
        top, bottom = arg * indicator, indicator
        for index in over:
            limit = (index, 0, size_symbol(self.sizes[index]) - 1)
            top, bottom = ScopedSum(top, limit), ScopedSum(bottom, limit)
        return top / bottom


_OPERATIONS = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
               "/": lambda a, b: a / b, "**": lambda a, b: a ** b}


class TensorPrinter(FormulaPrinter):
    """`W[j, k]` as `W_jk`; sums print as FormulaPrinter's, `sum_m(...)` one index each."""

    def _print_Indexed(self, expr: sp.Indexed) -> str:
        names = [self._print(index) for index in expr.indices]
        joined = "".join(names) if all(len(n) == 1 for n in names) else ",".join(names)
        return f"{expr.base}_{joined}" if len(names) == 1 or len(joined) == len(names) \
            else f"{expr.base}_{{{joined}}}"

    def _range(self, index: sp.Symbol, low: sp.Expr, high: sp.Expr) -> str:
        """`m` for the whole axis, `{m<k}` and `{m>k}` for the product rule's parts."""
        whole = _is_size(high + 1)
        if low == 0 and whole:
            return str(index)
        if low == 0:
            return f"{{{index}<{self._print(high + 1)}}}"
        if whole:
            return f"{{{index}>{self._print(low - 1)}}}"
        return f"{{{index}={self._print(low)}..{self._print(high)}}}"

    def _print_is_max(self, expr: sp.Expr) -> str:
        """`is_max_m(X_jm)`: the subscript names the axes compared over, as in sum_m."""
        return self._extreme("is_max", expr)

    def _print_is_min(self, expr: sp.Expr) -> str:
        return self._extreme("is_min", expr)

    def _extreme(self, name: str, expr: sp.Expr) -> str:
        over = "".join(self._print(index) for index in expr.args[1:])
        return f"{name}_{over}({self._print(expr.args[0])})" if over else \
            f"{name}({self._print(expr.args[0])})"


def _is_size(expr: sp.Expr) -> bool:
    return isinstance(expr, sp.Symbol) and bool(expr.is_positive) and expr.name[1:].isdigit()


def formula(expr: sp.Expr) -> str:
    return str(TensorPrinter().doprint(expr))
