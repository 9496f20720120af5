"""The symbolic witness: SymPy derives the gradient once, in generic elements, for every
rank.

Every node is built for a tuple of index symbols, one per axis of its shape (`builder.py`):
a vector `x` is `x[i]`, `X@w` at row i is `Sum(X[i, m]*w[m], (m, 0, n3 - 1))`. `diff(L,
W[j, k])` with its Kronecker deltas resolved (`deltas.py`, never SymPy's `.doit()`) gives
one formula in j (and k), whatever the sizes are; `evaluate.py` evaluates it over whole
arrays with numpy, never with autograd. Differentiating each element's own symbol
instead would cost O(size**2). The letters are chosen when a formula is printed
(`formula`): a program whose values are vectors of one length reads n and bound indices
k, as the learner's seed does; others read their sizes as numbers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partialmethod
from typing import Any

import sympy as sp
from sympy.printing.str import StrPrinter

from gradexplain.ir.notation import PLAIN, Notation
from gradexplain.ir.shapes import Shape
from gradexplain.ir.tree import Node
from gradexplain.witnesses.builder import TARGETS as TARGETS  # steps.py reads symbolic.TARGETS
from gradexplain.witnesses.builder import (
    Builder,
    J,
    Reduction,
    index_name,
    is_length,
    pinned,
    size_symbol,
    sizes_as_numbers,
)
from gradexplain.witnesses.contract import bound_indices
from gradexplain.witnesses.deltas import derivative
from gradexplain.witnesses.scoped import ScopedProduct, ScopedSum


@dataclass(frozen=True)
class Model:
    """L in generic elements, the variables' bases and shapes, and what the story shows."""

    loss: sp.Expr  # scalar; a non-scalar result is already summed (ones as v)
    bases: dict[str, Any]  # variable name -> IndexedBase (array) or Symbol (scalar)
    shapes: dict[str, Shape]
    sizes: dict[sp.Symbol, int]  # every index symbol -> the length it runs over
    implicit_term: sp.Expr | None  # y's element when the expression is not a scalar
    reductions: dict[Node, Reduction]  # each reduction over every element of an array
    elements: dict[int, tuple[tuple[Any, ...], sp.Expr]]  # id(node) -> (its indices, element)
    pin: bool = True  # a gradient's size-1 axis reads element 0 (`gradient`), as shapes lay out

    @property
    def implicit_sum(self) -> bool:
        return self.implicit_term is not None

    def total(self, node: Node, shape: Shape) -> sp.Expr:
        """The sum of `node`'s elements (of this shape), as `build` of that node alone
        writes it: the array a top-level sum or mean adds up (the story's table, the
        Jacobian's y) is read from this one model, never built again."""
        indices, term = self.elements[id(node)]
        return summed(term, indices, shape)


def build(
    tree: Node, shapes: Mapping[str, Shape], node_shapes: Mapping[int, Shape], pin: bool = True
) -> Model:
    """L from our tree; a non-scalar result is summed over all of its elements (ones as v).
    Built once per program (`Program.model`); every extra reads it."""
    builder = Builder(shapes, node_shapes)
    top = node_shapes[id(tree)]
    indices = builder.top(top)
    term = builder.build(tree, indices)
    return Model(
        summed(term, indices, top),
        builder.bases,
        dict(shapes),
        builder.sizes,
        term if top else None,
        builder.reductions,
        builder.elements,
        pin,
    )


def summed(term: sp.Expr, indices: tuple[Any, ...], shape: Shape) -> sp.Expr:
    """An array's element summed over its own indices (backward with ones)."""
    for index, size in zip(indices, shape):
        term = ScopedSum(term, (index, 0, size_symbol(size) - 1))
    return drop_unit_ranges(term)


def drop_unit_ranges(expr: sp.Expr, every: bool = False) -> sp.Expr:
    """A sum or product over a size-1 axis that its term does not use is that term.

    Broadcasting makes such axes (a 3x1 column stretched over 3x4, pinned at element 0,
    `builder.pinned`); without this, `sum(a)` would read `sum_p(sum_i(a_i0))` and its
    gradient `n1`, true but puzzling. A length-1 vector's own index stays (`sum_k(x_k)`),
    except with `every`, for display where sizes read as numbers: any reduction over one
    element is its term at element 0 (`inv(X)_00` of a 1 x 1 X).
    """
    unit = size_symbol(1) - 1

    def dropped(limit: tuple[Any, ...], function: sp.Expr) -> bool:
        return bool(limit[2] == unit and (every or limit[0] not in function.free_symbols))

    def drop(reduction: sp.Expr) -> sp.Expr:
        kept = [limit for limit in reduction.limits if not dropped(limit, reduction.function)]
        function = reduction.function.xreplace(
            {
                limit[0]: sp.S.Zero
                for limit in reduction.limits
                if dropped(limit, reduction.function)
            }
        )
        return type(reduction)(function, *kept) if kept else function

    return expr.replace(
        lambda e: (
            isinstance(e, (sp.Sum, sp.Product))
            and any(dropped(limit, e.function) for limit in e.limits)
        ),
        drop,
    )


def gradient(model: Model, name: str) -> sp.Expr:
    """dL/dW_jk (or dL/dx_j, dL/dc), written in `targets(model, name)`, each size-1 axis
    at its element 0 (`W_j0`, as a table laid out by shape labels it), or, where the
    model is not `pin`, at its own index (`x_j` in a program of one length n, n = 1 too):
    the values are the same, an axis of one element has one."""
    base = model.bases[name]
    targets = target_indices(model, name)
    if model.pin:
        targets = pinned(targets, model.shapes[name])
    return derivative(model.loss, base[targets] if targets else base, target_ranges(model, name))


def target_ranges(model: Model, name: str) -> dict[sp.Symbol, sp.Expr]:
    """The last value of each target index: j runs over 0..n3-1 for a length-3 axis."""
    return {
        index: size_symbol(size) - 1
        for index, size in zip(target_indices(model, name), model.shapes[name])
    }


def target_indices(model: Model, name: str) -> tuple[sp.Symbol, ...]:
    """j (and k): the generic element a gradient is written in, one per axis."""
    return TARGETS[: len(model.shapes[name])]


def canonical_indices(expr: sp.Expr) -> sp.Expr:
    """Name bound indices k where that is safe, so equal sums combine and read alike.

    `sum_k(x_k) + sum_k2(x_k2)` becomes `2*sum_k(x_k)`. A reduction whose limits or
    summand involve another index (SymPy writes prefix sums such as `sum_{k2<k}`) keeps
    its own name, and so does one with an inner k that uses its index (`prod_{k<h}`
    would read `prod_{k<k}`): no index is ever captured. For display only, in a vector
    program's letters (`shown`).
    """
    k = sp.Symbol("k", integer=True, nonnegative=True)

    def rename(reduction: sp.Expr) -> sp.Expr:
        if len(reduction.limits) != 1:  # a denested double sum keeps its own names
            return reduction
        ((index, low, high),) = reduction.limits
        others = {
            s
            for s in (reduction.function.free_symbols | low.free_symbols | high.free_symbols)
            if isinstance(s, sp.Symbol)
            and s.is_integer
            and not s.is_positive
            and s not in (index, J)
        }
        captured = any(
            limit[0] == k and index in inner.free_symbols
            for inner in reduction.function.atoms(sp.Sum, sp.Product)
            for limit in inner.limits
        )
        if others or captured or index == k:
            return reduction
        return type(reduction)(reduction.function.subs(index, k), (k, low, high))

    return expr.replace(lambda e: isinstance(e, (sp.Sum, sp.Product)), rename)


LENGTH = sp.Symbol("n", integer=True, positive=True)  # a vector program's one length, shown


def shown(expr: sp.Expr, notation: Notation = PLAIN, free: bool = False) -> sp.Expr:
    """`expr` in the letters a learner reads, for display only (values come from `expr`
    as built). In a program of vectors of one length (`notation.length`) that length is
    n and the builder's indices i, m, p, ... are k, k2, k3, ... (bound ones k wherever
    that is safe), as the seed reads `sum_k(x_k**2)`; `free` renames them where they
    are free too (a --steps line inside a sum). Elsewhere each size is its number
    (`W_jk/2`, never `W_jk/n2**2`), a sum over one element is that element, and each
    sub-expression's indices are named alike (`stable_indices`)."""
    if notation.length is not None:
        indices = set(filter(_is_builder_index, bound_indices(expr)))
        if free:
            indices |= {s for s in expr.free_symbols if _is_builder_index(s)}
        renames = {
            index: sp.Symbol("k" if c == 0 else f"k{c + 1}", **index.assumptions0)
            for index in indices
            if (c := _creation(index)) is not None
        }
        renames[size_symbol(notation.length)] = LENGTH
        expr = _partners(_unshadowed(canonical_indices(expr.xreplace(renames))))
    else:
        expr = stable_indices(sizes_as_numbers(drop_unit_ranges(expr, every=True)))
        free_indices = frozenset(s for s in expr.free_symbols if _is_builder_index(s))
        expr = _unshadowed(expr, free_indices, _RENAMED)
    return notation.display(expr)


def _unshadowed(
    expr: sp.Expr, bound: frozenset[sp.Symbol] = frozenset(), spare: str = ""
) -> sp.Expr:
    """A sum inside a sum over the same index reads the next free k2, k3... (or letter of
    `spare`): var's `sum_k((x_k - sum_k2(x_k2)/n)**2)`, never `sum_k(... sum_k(x_k) ...)`,
    which is right (the inner k is its own) but reads as one index; `bound` starts with
    the indices free in a --steps line (`X_im*sum_p(X_ip)`, never `sum_m(X_im)`)."""
    if not expr.has(sp.Sum, sp.Product):
        return expr
    if not isinstance(expr, (sp.Sum, sp.Product)):
        return expr.func(*(_unshadowed(arg, bound, spare) for arg in expr.args))
    taken = {s.name for s in expr.atoms(sp.Symbol)} | {s.name for s in bound}
    names = [*spare, *(f"k{n}" for n in range(2, 64))]
    fresh = (name for name in names if name not in taken)
    renames = {
        limit[0]: sp.Symbol(next(fresh), **limit[0].assumptions0)
        for limit in expr.limits
        if limit[0] in bound
    }
    limits = [(renames.get(index, index), low, high) for index, low, high in expr.limits]
    inner = bound | {limit[0] for limit in limits}
    return type(expr)(_unshadowed(expr.function.xreplace(renames), inner, spare), *limits)


def _partners(expr: sp.Expr) -> sp.Expr:
    """An index that runs up to or from another one reads m (m2, ...): the product
    rule's `prod_{m<k}(x_m)`, as its words `prod_{m!=k} u_m` say."""
    partners = sorted(
        {
            index
            for reduction in expr.atoms(sp.Sum, sp.Product)
            for index, low, high in reduction.limits
            if re.fullmatch(r"k\d+", index.name)
            and any(s.is_integer and not s.is_positive for s in (low - high).free_symbols)
        },
        key=lambda s: int(s.name[1:]),
    )
    taken = {s.name for s in expr.free_symbols | bound_indices(expr)}
    names = (f"m{n}" if n > 1 else "m" for n in range(1, 64))
    free = [name for name in names if name not in taken]
    return expr.xreplace(
        {index: sp.Symbol(name, **index.assumptions0) for index, name in zip(partners, free)}
    )


def _is_builder_index(symbol: sp.Basic) -> bool:
    return isinstance(symbol, sp.Symbol) and _creation(symbol) is not None


def _creation(symbol: sp.Symbol) -> int | None:
    """Which fresh index the builder made this one as (`builder.index_name`): i is 0,
    m 1, ..., i9 9, m10 10; None for any other symbol."""
    if not (symbol.is_integer and symbol.is_nonnegative):
        return None
    for count in range(64):
        if index_name(count) == symbol.name:
            return count
    return None


class FormulaPrinter(StrPrinter):
    """Prints `W[j, k]` as `W_jk`, sums as `sum_m(...)` and where() as the user wrote it."""

    printmethod = "_gradexplain_str"  # no object defines it: our _print_* methods win

    def _print_Abs(self, expr: sp.Abs) -> str:
        return f"abs({self._print(expr.args[0])})"

    def _print_Piecewise(self, expr: sp.Piecewise) -> str:
        """`where(cond, a, b)`, as the user wrote it (nested for more pieces)."""
        (value, condition), *rest = expr.args
        if not rest:
            return str(self._print(value))
        otherwise = rest[0][0] if len(rest) == 1 and rest[0][1] is sp.true else sp.Piecewise(*rest)
        return f"where({self._print(condition)}, {self._print(value)}, {self._print(otherwise)})"

    def _print_Relational(self, expr: sp.Expr) -> str:
        return f"{self._print(expr.lhs)} {expr.rel_op} {self._print(expr.rhs)}"

    def _print_KroneckerDelta(self, expr: Any) -> str:
        """d x_k/d x_j, as --steps writes it; delta(k, t_j) when an index is not a letter."""
        names = [self._print(arg) for arg in expr.args]
        if all(re.fullmatch(r"[a-z]\d*|\d+", name) for name in names):
            return f"delta_{''.join(names)}"
        return f"delta({', '.join(names)})"

    def _print_And(self, expr: Any) -> str:
        """A slice's guard, `1 <= j <= 2`, as Python chains it; else the parts with `and`."""
        parts = list(expr.args)
        lows = [p for p in parts if isinstance(p, sp.GreaterThan)]
        highs = [p for p in parts if isinstance(p, sp.LessThan)]
        if len(parts) == 2 and len(lows) == 1 and len(highs) == 1 and lows[0].lhs == highs[0].lhs:
            return (
                f"{self._print(lows[0].rhs)} <= {self._print(lows[0].lhs)} <= "
                f"{self._print(highs[0].rhs)}"
            )
        return " and ".join(self._print(part) for part in parts)

    def _print_Mod(self, expr: Any) -> str:
        return f"{self.parenthesize(expr.args[0], 50)} % {self.parenthesize(expr.args[1], 50)}"

    def _print_Indexed(self, expr: sp.Indexed) -> str:
        names = [self._print(index) for index in expr.indices]
        if len(names) == 1 and not names[0].isalnum():
            return f"{expr.base}_{{{names[0]}}}"  # x_{i + 1}, x_{t_i}
        joined = "".join(names) if all(len(n) == 1 for n in names) else ",".join(names)
        return (
            f"{expr.base}_{joined}"
            if len(names) == 1 or len(joined) == len(names)
            else f"{expr.base}_{{{joined}}}"
        )

    def _print_Sum(self, expr: sp.Sum) -> str:
        text: str = self._print(expr.function)
        for index, _, _ in expr.limits:  # the first limit is the innermost sum
            text = f"sum_{index}({text})"
        return text

    def _print_Product(self, expr: sp.Product) -> str:
        text: str = self._print(expr.function)
        for index, low, high in expr.limits:
            text = f"prod_{self._range(index, low, high)}({text})"
        return text

    def _range(self, index: sp.Symbol, low: sp.Expr, high: sp.Expr) -> str:
        """`m` for the whole axis, `{m<k}` and `{m>k}` for the product rule's parts."""
        whole = is_length(high + 1)
        if low == 0 and whole:
            return str(index)
        if low == 0:
            return f"{{{index}<{self._print(high + 1)}}}"
        if whole:
            return f"{{{index}>{self._print(low - 1)}}}"
        return f"{{{index}={self._print(low)}..{self._print(high)}}}"

    def _extreme(self, name: str, expr: sp.Expr) -> str:
        """`is_max(x_k)`, `is_max_m(X_jm)`: the subscript names the axes compared over, as
        in sum_m (`compared_shown`)."""
        from gradexplain.ops.reductions import compared_shown

        named = "".join(self._print(index) for index in compared_shown(expr))
        subscript = f"_{named}" if named else ""
        return f"{name}{subscript}({self._print(expr.args[0])})"

    _print_is_max = partialmethod(_extreme, "is_max")
    _print_is_min = partialmethod(_extreme, "is_min")


NOT_REAL = "not real (a negative number raised to a variable power)"


def formula(expr: sp.Expr, notation: Notation = PLAIN, free: bool = False) -> str:
    """A readable one-line formula, e.g. `2*x_j`, in the program's letters; never a
    complex one: SymPy's derivative of (-2)**x, (-2)**x*(log(2) + I*pi), is not a real
    gradient (exit 3 says why)."""
    if expr.has(sp.I):
        return NOT_REAL
    return str(FormulaPrinter().doprint(shown(expr, notation, free)))


def latex(expr: sp.Expr, notation: Notation = PLAIN) -> str:
    """The formula as LaTeX, for notebooks: `2 x_{j}`, `\\sum_{i} ...` (`latexform`)."""
    from gradexplain.output import latexform

    return latexform.latex(shown(expr, notation))


_RENAMED = "mpqrstuv"  # the shaped path's fresh bound indices (builder._LETTERS but i)


def stable_indices(expr: sp.Expr) -> sp.Expr:
    """One sub-expression, one index name: the shaped path gives each `@` a fresh index,
    so `xb@weights` written twice read `sum_m(...)` and `sum_p(...)`. Each bound index
    (inner sums first) becomes the first letter free in its reduction and not bound
    inside it, so equal sums are written alike. For display only: values come from the
    expression as built."""

    def rename(reduction: Any) -> Any:
        if len(reduction.limits) != 1:
            return reduction
        ((index, low, high),) = reduction.limits
        if index.name not in _RENAMED:
            return reduction
        taken = {
            s.name
            for s in reduction.function.free_symbols | low.free_symbols | high.free_symbols
            if s != index
        }
        taken |= {s.name for s in bound_indices(reduction.function)}
        name = next((c for c in _RENAMED if c not in taken), index.name)
        if name == index.name:
            return reduction
        new = sp.Symbol(name, **index.assumptions0)
        return type(reduction)(reduction.function.subs(index, new), (new, low, high))

    return expr.replace(lambda e: isinstance(e, (ScopedSum, ScopedProduct)), rename)
