"""Our tree as SymPy, in generic elements: one builder for every rank.

`Builder.build(node, idx)` is the node's element at the index symbols `idx`, one per
axis of its shape (none for a scalar): `x` at `(i,)` is `x[i]`, `X@w` at `(i,)` is
`Sum(X[i, m]*w[m], (m, 0, n3 - 1))`. Operators and `where` are built here; every function
is built by its registry entry (`Op.element`), which asks this builder for fresh indices,
limits and the kind of Sum.

A `Dialect` is all that differs between a 1-D program and a shaped one; the model, its
gradient, the evaluator and --steps are the same code for both. The 1-D dialect (one
common length n) bounds every index by the symbol n, names bound indices k, k2, ... and
uses SymPy's own Sum, so its formulas read as the learner's seed (`sum_k(...)`); the
shaped one gives each axis length its own symbol (`n3`), names indices i, m, p, ...,
keeps where() inside the sums that bind it (`ScopedSum`) and pins size-1 axes to
element 0, as broadcasting stretches them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sympy as sp

from gradexplain.axes import Shape
from gradexplain.ops import OPS
from gradexplain.ops.base import number
from gradexplain.scoped import ScopedProduct, ScopedSum
from gradexplain.tree import BinOp, Call, Compare, Const, Neg, Node, Num, Var

N = sp.Symbol("n", integer=True, positive=True)  # the common length of every vector
I = sp.Symbol("i", integer=True, nonnegative=True)  # noqa: E741 - the top sum's index
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
    """The symbol of an axis length on the shaped path; equal lengths share one."""
    return sp.Symbol(f"n{size}", integer=True, positive=True)


@dataclass(frozen=True)
class Dialect:
    """What one path writes differently: index names, bounds, the Sum, pinning."""

    Sum: Any
    Product: Any
    bound: Callable[[int], Any]  # an axis of this length runs to bound(length) - 1
    count: Callable[[Shape], Any]  # how many elements a mean divides by
    index_name: Callable[[int], str]  # the name of the n-th fresh index (from 0)
    pin: bool  # size-1 axes are element 0 (broadcasting)
    compare_over: bool  # is_max(u, m) names the indices it compares over


_LETTERS = "impqrstuv"  # bound indices of the shaped path; j and k are the gradient's own

VECTOR = Dialect(
    ScopedSum,
    ScopedProduct,
    lambda size: N,
    lambda shape: N,
    lambda count: "k" if count == 0 else f"k{count + 1}",
    pin=False,
    compare_over=False,
)
SHAPED = Dialect(
    ScopedSum,
    ScopedProduct,
    size_symbol,
    math.prod,
    lambda count: _LETTERS[count % len(_LETTERS)] + (str(count) if count >= len(_LETTERS) else ""),
    pin=True,
    compare_over=True,
)


@dataclass(frozen=True)
class Reduction:
    """One reduction over every element of a vector: its bound index, summand and form."""

    index: sp.Symbol
    term: sp.Expr
    expr: sp.Expr  # the Sum or Product itself (mean's 1/n stays outside)


def pinned(idx: tuple[sp.Expr, ...], shape: Shape) -> tuple[sp.Expr, ...]:
    """A size-1 axis is always element 0: that is how it stretches when broadcast.

    So `a` of shape 3x1 in `a + B` (3x4) is `a[i, 0]` at element (i, p), and its
    gradient, taken at `a[j, 0]`, sums over the stretched p with no delta left to resolve.
    """
    return tuple(sp.S.Zero if size == 1 else index for index, size in zip(idx, shape))


class Builder:
    """Walks our tree; `build(node, idx)` is the node's element at those indices."""

    def __init__(
        self, dialect: Dialect, shapes: Mapping[str, Shape], node_shapes: dict[int, Shape]
    ) -> None:
        self.dialect = dialect
        self.Sum, self.Product = dialect.Sum, dialect.Product
        self.bases: dict[str, Any] = {
            name: sp.IndexedBase(name, real=True) if shape else sp.Symbol(name, real=True)
            for name, shape in sorted(shapes.items())
        }
        self.node_shapes = node_shapes
        self.sizes: dict[sp.Symbol, int] = dict(zip(TARGETS, (0, 0)))
        self.reductions: dict[Node, Reduction] = {}
        self.made = 0

    # -- what an op's rule asks for -----------------------------------------------------
    def shape(self, node: Node) -> Shape:
        return self.node_shapes[id(node)]

    def fresh(self, shape: Shape) -> tuple[sp.Symbol, ...]:
        """New bound indices, one per axis of `shape`."""
        found = []
        for size in shape:
            index = sp.Symbol(self.dialect.index_name(self.made), integer=True, nonnegative=True)
            self.made += 1
            self.sizes[index] = size
            found.append(index)
        return tuple(found)

    def limit(self, index: sp.Symbol, size: int) -> tuple[Any, ...]:
        return (index, 0, self.dialect.bound(size) - 1)

    def count(self, shape: Shape) -> Any:
        return self.dialect.count(shape)

    def compared(self, over: tuple[sp.Symbol, ...]) -> tuple[sp.Symbol, ...]:
        return over if self.dialect.compare_over else ()

    def record(
        self, node: Node, over: tuple[sp.Symbol, ...], term: sp.Expr, total: sp.Expr
    ) -> None:
        """A reduction over all of a vector, for the story's sum-rule table."""
        if len(over) == 1:
            self.reductions[node] = Reduction(over[0], term, total)

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
        if self.dialect is VECTOR:
            return (I,) if shape else ()
        return self.fresh(shape)

    def build(self, node: Node, idx: tuple[Any, ...]) -> sp.Expr:
        if isinstance(node, Num):
            return number(node.text, node.value)
        if isinstance(node, Const):
            return sp.pi if node.name == "pi" else sp.E
        if isinstance(node, Var):
            base = self.bases[node.name]
            if not idx:
                return base
            return base[pinned(idx, self.shape(node)) if self.dialect.pin else idx]
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
        assert isinstance(node, Call)
        if node.func == "T":
            return self.build(node.args[0], tuple(reversed(idx)))
        if node.func == "where":
            compare, if_true, if_false = node.args
            return sp.Piecewise(
                (
                    self.build(if_true, self.align(if_true, idx)),
                    self.build(compare, self.align(compare, idx)),
                ),
                (self.build(if_false, self.align(if_false, idx)), True),
            )
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
