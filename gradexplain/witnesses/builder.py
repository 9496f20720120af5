"""Our tree as SymPy, in generic elements: one builder for every rank.

`Builder.build(node, idx)` is the node's element at the index symbols `idx`, one per
axis of its shape (none for a scalar): `x` at `(i,)` is `x[i]`, `X@w` at `(i,)` is
`Sum(X[i, m]*w[m], (m, 0, n3 - 1))`. Operators are built here; every function (`where`
and `.T` too) is built by its registry entry (`Op.element`), which asks this builder for
fresh indices, limits and the kind of Sum.

Every rank is built the same way: each axis length has its own symbol (`n3`), a mean
divides by the product of its axes' symbols (so a gradient is a function of the sizes,
`2*x_j/n3`), bound indices are named i, m, p, ..., where() stays inside the sums that
bind it (`ScopedSum`) and a size-1 axis is element 0 where broadcasting stretches it. The
letters a learner reads (n for the one length of a vector program, k for its bound
indices) are chosen for display only (`notation.py`, `symbolic.formula`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sympy as sp

from gradexplain.ir.axes import Shape
from gradexplain.ir.tree import BinOp, Compare, Const, Neg, Node, Num, Var
from gradexplain.ops import OPS
from gradexplain.ops.base import number
from gradexplain.witnesses.scoped import ScopedProduct, ScopedSum

I = sp.Symbol("i", integer=True, nonnegative=True)  # noqa: E741 - the first bound index
TARGETS = tuple(sp.Symbol(name, integer=True, nonnegative=True) for name in ("j", "k"))
J = TARGETS[0]  # the generic element of a gradient


def _power(base: Any, exponent: Any) -> Any:
    """base**exponent; 0**p is written by its values, 0 for p > 0, 1 at 0, inf below, so
    its derivative where p > 0 is 0 (as torch and finite differences say), not 0*log(0).
    (At p <= 0 there is none; the autograd side names that hazard.)"""
    # exponent is a SymPy expression or a Python number the builder made from the tree
    variable = isinstance(exponent, sp.Basic) and not exponent.is_number
    if base == 0 and variable:
        return sp.Piecewise(
            (sp.S.Zero, exponent > 0), (sp.S.One, sp.Eq(exponent, 0)), (sp.oo, True)
        )
    return base**exponent


RELATIONS = {"==": sp.Eq, "!=": sp.Ne, "<": sp.Lt, "<=": sp.Le, ">": sp.Gt, ">=": sp.Ge}
OPERATIONS: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "**": _power,
}


def size_symbol(size: int) -> sp.Symbol:
    """The symbol of an axis length; equal lengths share one."""
    return sp.Symbol(f"n{size}", integer=True, positive=True)


_LETTERS = "impqrstuv"  # bound indices; j and k are the gradient's own


def index_name(count: int) -> str:
    """The name of the count-th fresh bound index (from 0): i, m, p, ..., i9, m10..."""
    return _LETTERS[count % len(_LETTERS)] + (str(count) if count >= len(_LETTERS) else "")


def count(shape: Shape) -> Any:
    """How many elements a mean over these axes divides by: n3, n2*n3 (symbols, so a
    gradient reads as a function of the sizes; the evaluator knows their numbers)."""
    return math.prod((size_symbol(size) for size in shape), start=sp.S.One)


def sizes_as_numbers(expr: sp.Expr) -> sp.Expr:
    """Each size symbol outside the limits of a sum or product as its number: a mean of a
    2x2 matrix divides by 4 (`n2**2` as built); the limits keep their symbols, so a sum
    over a whole axis is still one (`sum_m`). For display (`symbolic.shown`): the
    evaluator reads a size symbol as its number where it meets one."""
    sizes = {s: sp.Integer(int(s.name[1:])) for s in expr.free_symbols if is_size_symbol(s)}
    if not sizes:
        return expr

    def walk(e: Any) -> Any:
        if not e.has(*sizes):
            return e
        if isinstance(e, (sp.Sum, sp.Product)):
            return type(e)(walk(e.function), *e.limits)
        if isinstance(e, sp.Symbol):
            return sizes.get(e, e)
        return e.func(*(walk(arg) for arg in e.args))

    return walk(expr)


def is_size_symbol(symbol: sp.Basic) -> bool:
    """An axis length of the shaped path (`n3`), a number to the evaluator."""
    return (
        isinstance(symbol, sp.Symbol)
        and bool(symbol.is_positive)
        and symbol.name[:1] == "n"
        and symbol.name[1:].isdigit()
    )


def is_length(expr: sp.Expr) -> bool:
    """n, or an axis length of the shaped path (n3), whatever letter the notation gives
    it: the only positive integer symbols are lengths (indices start at 0)."""
    return isinstance(expr, sp.Symbol) and bool(expr.is_integer and expr.is_positive)


@dataclass(frozen=True)
class Reduction:
    """One reduction over every element of an array: its bound indices (one per axis),
    summand and form."""

    indices: tuple[sp.Symbol, ...]
    term: sp.Expr
    expr: sp.Expr  # the Sum or Product itself (mean's 1/n stays outside)

    @property
    def index(self) -> sp.Symbol:
        """A vector's one index (the story's rank-1 rules: prod, max, a chain)."""
        return self.indices[0]


def pinned(
    idx: tuple[sp.Expr, ...], shape: Shape, sizes: Mapping[sp.Symbol, int] | None = None
) -> tuple[sp.Expr, ...]:
    """A size-1 axis is element 0 where broadcasting stretches it: where its index runs
    over a longer axis (`sizes`: each index's length; without them, every size-1 axis).

    So `a` of shape 3x1 in `a + B` (3x4) is `a[i, 0]` at element (i, p), and its
    gradient, taken at `a[j, 0]`, sums over the stretched p with no delta left to resolve.
    An index that runs over one element itself keeps its name: a vector of length 1 in a
    program of such vectors is `x[i]`, `2*x_j` as for any length.
    """
    return tuple(
        index if size != 1 or (sizes is not None and sizes.get(index) == 1) else sp.S.Zero
        for index, size in zip(idx, shape)
    )


class Builder:
    """Walks our tree; `build(node, idx)` is the node's element at those indices."""

    Sum, Product = ScopedSum, ScopedProduct

    def __init__(self, shapes: Mapping[str, Shape], node_shapes: Mapping[int, Shape]) -> None:
        self.bases: dict[str, Any] = {
            name: sp.IndexedBase(name, real=True) if shape else sp.Symbol(name, real=True)
            for name, shape in sorted(shapes.items())
        }
        self.node_shapes = node_shapes
        self.sizes: dict[sp.Symbol, int] = dict(zip(TARGETS, (0, 0)))
        self.reductions: dict[Node, Reduction] = {}
        self.elements: dict[int, tuple[tuple[Any, ...], sp.Expr]] = {}  # each node's first
        self.made = 0

    # -- what an op's rule asks for -----------------------------------------------------
    def shape(self, node: Node) -> Shape:
        return self.node_shapes[id(node)]

    def fresh(self, shape: Shape) -> tuple[sp.Symbol, ...]:
        """New bound indices, one per axis of `shape`."""
        found = []
        for size in shape:
            index = sp.Symbol(index_name(self.made), integer=True, nonnegative=True)
            self.made += 1
            self.sizes[index] = size
            found.append(index)
        return tuple(found)

    def limit(self, index: sp.Symbol, size: int) -> tuple[Any, ...]:
        return (index, 0, size_symbol(size) - 1)

    @staticmethod
    def size(length: int) -> sp.Symbol:
        return size_symbol(length)

    @staticmethod
    def count(shape: Shape) -> Any:
        return count(shape)

    @staticmethod
    def compared(over: tuple[sp.Symbol, ...]) -> tuple[sp.Symbol, ...]:
        """The indices is_max compares over, named in the formula (`is_max_m(X_jm)`)."""
        return over

    def record(
        self, node: Node, over: tuple[sp.Symbol, ...], term: sp.Expr, total: sp.Expr
    ) -> None:
        """A reduction over every element of an array, for the story's sum-rule table."""
        self.reductions[node] = Reduction(over, term, total)

    @staticmethod
    def number(node: Num) -> sp.Expr:
        return number(node.text, node.value)

    @staticmethod
    def number_of(value: float) -> sp.Expr:
        """An exact number for a call's setting (a correction, a norm's p): 0.5 is 1/2."""
        return number(repr(value), value)

    # -- the walk -----------------------------------------------------------------------
    def top(self, shape: Shape) -> tuple[sp.Symbol, ...]:
        """The indices of the expression's own elements (summed: backward with ones)."""
        return self.fresh(shape)

    def build(self, node: Node, idx: tuple[Any, ...]) -> sp.Expr:
        element = self._element(node, idx)
        self.elements.setdefault(id(node), (idx, element))
        return element

    def _element(self, node: Node, idx: tuple[Any, ...]) -> sp.Expr:
        if isinstance(node, Num):
            return number(node.text, node.value)
        if isinstance(node, Const):
            return sp.pi if node.name == "pi" else sp.E
        if isinstance(node, Var):
            base = self.bases[node.name]
            if not idx:
                return base
            return base[pinned(idx, self.shape(node), self.sizes)]
        if isinstance(node, Neg):
            return -self.build(node.operand, idx)
        if isinstance(node, BinOp) and node.op == "@":
            return self._matmul(node, idx)
        if isinstance(node, (BinOp, Compare)):
            left = self.build(node.left, self.align(node.left, idx))
            right = self.build(node.right, self.align(node.right, idx))
            if isinstance(node, Compare):
                return RELATIONS[node.op](left, right)
            return OPERATIONS[node.op](left, right)
        return OPS[node.func].element(self, node, idx)

    def align(self, node: Node, idx: tuple[Any, ...]) -> tuple[Any, ...]:
        """Broadcasting: an operand with fewer axes takes the trailing indices."""
        rank = len(self.shape(node))
        return idx[len(idx) - rank :] if rank else ()

    def _matmul(self, node: BinOp, idx: tuple[Any, ...]) -> sp.Expr:
        """`A @ B` at (i, j) is `Sum(A[i, m]*B[m, j], m)`, as torch.matmul's entry builds it."""
        from gradexplain.ops.linalg import contract, matmul_letters  # that family, when @ is used

        letters = matmul_letters("@", self.shape(node.left), self.shape(node.right), "", node.col)
        return contract(self, (node.left, node.right), letters, idx)
