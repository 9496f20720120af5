"""Reductions: one number from many, over every element or along `dim=`.

sum, mean and prod are Sums and Products over a bound index; logsumexp is the log of a
Sum of exps; max and min use an indicator, `is_max(u_k)`, that is 1 at the largest
element. Each is written once here, for every rank: the builder (`builder.Builder`)
supplies the index names and the kind of Sum its path uses.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gradexplain.ir.axes import Shape, along, dims_of, reduced, reduced_axes
from gradexplain.ir.tree import Call
from gradexplain.ops.base import Hazard, Keyword, NamedFunction, Op, RuleForm, equation

if TYPE_CHECKING:
    from gradexplain.ir.notation import Notation

DIMS = Keyword("dim", "dims", aliases=("axis",))
ONE_DIM = Keyword("dim", "dim", aliases=("axis",))
KEEPDIM = Keyword("keepdim", "bool", False)


def inner_indices(
    b: Any, node: Call, shape: Shape, idx: tuple[Any, ...]
) -> tuple[tuple[Any, ...], list[tuple[Any, int]]]:
    """The argument's indices inside the reduction: a fresh bound index on each reduced
    axis, the output's own index elsewhere (keepdim's size-1 axes are skipped); and the
    (bound index, size) pairs to sum over."""
    axes = reduced_axes(node, shape)
    bound = iter(b.fresh(tuple(shape[axis] for axis in axes)))
    keep = bool(node.param("keepdim", False))
    inner, over, position = [], [], 0
    for axis, size in enumerate(shape):
        if axis in axes:
            index = next(bound)
            inner.append(index)
            over.append((index, size))
            position += keep
        else:
            inner.append(idx[position])
            position += 1
    return tuple(inner), over


def torch_keywords(node: Call, tensor: Any) -> dict[str, Any]:
    """dim= and keepdim= as the call gave them, for torch (keepdim alone: every dim)."""
    found: dict[str, Any] = {}
    if along(node):
        found["dim"] = dims_of(node)
    if node.param("keepdim", False):
        found["keepdim"] = True
        found.setdefault("dim", tuple(range(tensor.dim())))
    return found


@dataclass(frozen=True)
class Reduction(Op):
    """sum/mean/prod/logsumexp: a Sum (or Product) of `inner(u)`, then `outer`, then /N
    for a mean; over all elements, or along dim=."""

    dim: str = "optional"
    keywords: tuple[Keyword, ...] = (DIMS, KEEPDIM)
    product: bool = False
    inner: Callable[[Any, Any], Any] | None = None  # (sympy, u_k) -> the summand
    outer: Callable[[Any, Any], Any] | None = None  # (sympy, the Sum) -> the element

    def fold(self, *values: float) -> float:
        return values[0]  # of one element: the element itself (log(exp(u)) = u)

    @property
    def combines(self) -> str:
        """How the story names the reduction of y: s = sum_i y_i, prod_i y_i, max_i y_i."""
        return "prod" if self.product else "sum"

    @property
    def adds_up(self) -> bool:
        return not self.product and self.inner is None and self.outer is None

    def story_sentence(self, name: str, local: str, gradient: str, nt: Notation) -> str:
        if self.product:
            template = (
                "Product rule: only the factor i = j contains {x}_j, so dL/d{x}_j "
                "= (product of the other factors) * {local} = {gradient}."
            )
        elif self.average:
            template = (
                "Sum rule with the factor 1/n: only the term i = j contains {x}_j, "
                "so dL/d{x}_j = (1/n) * {local} = {gradient}."
            )
        elif self.adds_up:
            template = (
                "Sum rule: only the term i = j contains {x}_j, so dL/d{x}_j = {local} = {gradient}."
            )
        else:
            return super().story_sentence(name, local, gradient, nt)
        return nt.words(template).format(x=name, local=local, gradient=gradient)

    def shape(self, node: Call, parts: list[Shape], text: str) -> Shape:
        return reduced(node, parts[0], text)

    @property
    def title(self) -> str:
        """The rule's name, said before its formula and on the graph's edges."""
        if self.product:
            return "product rule"
        if self.inner is not None:
            return f"{self.name} rule"
        return "sum rule with the factor 1/n" if self.average else "sum rule"

    def rule_form(self, node: Call | None = None) -> RuleForm:
        """d/dx_j of the reduction of y_i, as the table's printer writes sums:
        `sum_i(dy_i/dx_j)`, `exp(u_k)/sum_i(exp(u_i))` (logsumexp's softmax)."""
        import sympy as sp

        i, j, k, m = sp.symbols("i j k m", integer=True, nonnegative=True)
        n = sp.Symbol("n", integer=True, positive=True)
        y, dy, dx, u = (sp.IndexedBase(name) for name in ("y", "dy", "dx", "u"))
        rate = dy[i] / dx[j]
        if self.product:
            before, after = sp.Product(y[m], (m, 0, i - 1)), sp.Product(y[m], (m, i + 1, n - 1))
            total = sp.Sum(rate * before * after, (i, 0, n - 1))
            return equation(f"{self.title}: ", "d/dx_j ", sp.Product(y[i], (i, 0, n - 1)), total)
        if self.inner is not None:  # f(sum_i g(u_i)): the chain rule through f and g
            s, z = sp.Symbol("s"), sp.Dummy("z", real=True)
            summed = sp.Sum(self.inner(sp, u[i]), (i, 0, n - 1))
            outer = self.outer(sp, s) if self.outer is not None else s
            slope = sp.diff(outer, s).subs(s, summed) * sp.diff(self.inner(sp, z), z).subs(z, u[k])
            return equation(f"{self.title}: ", "d/du_k ", outer.subs(s, summed), slope, self.rule)
        value, slope = sp.Sum(y[i], (i, 0, n - 1)), sp.Sum(rate, (i, 0, n - 1))
        if self.average:
            value, slope = value / n, slope / n
        return equation(f"{self.title}: ", "d/dx_j ", value, slope, self.rule)

    def needs_axes(self, node: Call) -> bool:
        return along(node) or bool(node.param("keepdim", False))

    def torch(self, torch: Any, tensor: Any, node: Call) -> Any:
        keywords = torch_keywords(node, tensor)
        if self.product and "dim" in keywords:  # torch.prod takes one int dim
            keywords["dim"] = keywords["dim"][0]
        return getattr(torch, self.name)(tensor, **keywords)

    def element(self, b: Any, node: Call, idx: tuple[Any, ...]) -> Any:
        import sympy as sp

        shape = b.shape(node.args[0])
        inner, over = inner_indices(b, node, shape, idx)
        term = b.build(node.args[0], inner)
        if not over:  # a reduction of a scalar is the scalar itself, as in torch
            return term
        total = self._combine(sp, b, term, over, tuple(size for _, size in over))
        if self.story is not None and not self.needs_axes(node):
            b.record(node, tuple(index for index, _ in over), term, total)
        return total

    def _combine(
        self, sp: Any, b: Any, term: Any, over: list[tuple[Any, int]], shape: Shape
    ) -> Any:
        total = self.inner(sp, term) if self.inner is not None else term
        for index, size in over:
            total = (b.Product if self.product else b.Sum)(total, b.limit(index, size))
        if self.outer is not None:
            total = self.outer(sp, total)
        return total / b.count(shape) if self.average else total

    def step(self, w: Any, node: Call, idx: tuple[Any, ...], depth: int) -> tuple[str, Any, Any]:
        """Over all elements or along one axis: the sum rule, a bound index each, with the
        chain rule through `inner` and `outer` (logsumexp's exp and log); prod's product
        rule, one axis at a time (a product of products, as the builder writes it)."""
        import sympy as sp

        shape = w.node_shapes[id(node.args[0])]
        if not reduced_axes(node, shape):
            u, du = w.pair(node.args[0], (), depth)
            return f"{self.name} of a scalar is the scalar", u, du
        if self.needs_axes(node):
            inner, over = inner_indices(w.builder, node, shape, idx)
        else:
            inner = w.bounds(shape)
            over = list(zip(inner, shape))
        u, du = w.pair(node.args[0], tuple(inner), depth)
        if self.product:
            for index, size in over:
                u, du = self._product_rule(w, u, du, w.builder.limit(index, size))
            each = ", one axis at a time" if len(over) > 1 else ""
            return f"product rule over the factors{each}: sum_k u_k' prod_{{m!=k}} u_m", u, du
        u, du = _chain(sp, self.inner, u, du)
        for index, size in over:
            limit = w.builder.limit(index, size)
            u, du = w.builder.Sum(u, limit), w.sum(du, limit)
        u, du = _chain(sp, self.outer, u, du)
        if self.inner is not None:
            return self.title, u, du
        if self.average:
            count = w.builder.count(tuple(size for _, size in over))
            shown = math.prod(size for _, size in over)  # n itself in one length n
            said = "" if w.notation.length is not None else f", n = {shown}"
            return f"sum rule with the factor 1/n{said}", u / count, du / count
        return "sum rule: the derivative of a sum is the sum of derivatives", u, du

    @staticmethod
    def _product_rule(w: Any, u: Any, du: Any, limit: tuple[Any, ...]) -> tuple[Any, Any]:
        """prod_k u_k and sum_k du_k prod_{m!=k} u_m, over one axis."""
        k, _, high = limit
        (m,) = w.builder.fresh((w.builder.sizes[k],))  # k's partner
        product = w.builder.Product  # the builder's, as the gradient's
        others = product(u.subs(k, m), (m, 0, k - 1)) * product(u.subs(k, m), (m, k + 1, high))
        return product(u, limit), w.sum(du * others, limit)

    def graph_rule(self, node: Call) -> str:
        return self.title


def _chain(sp: Any, f: Callable[[Any, Any], Any] | None, u: Any, du: Any) -> tuple[Any, Any]:
    """(f(u), f'(u) du), f' from SymPy's derivative of f; (u, du) when there is no f."""
    if f is None:
        return u, du
    z = sp.Dummy("z", real=True)
    return f(sp, u), sp.diff(f(sp, z), z).xreplace({z: u}) * du


def _extreme(largest: bool) -> NamedFunction:
    """is_max(u_k, *over): 1 where u_k is the largest (over the listed indices, or the
    whole vector), else 0; piecewise constant, so its derivative is 0."""
    name = "is_max" if largest else "is_min"
    return NamedFunction(
        name,
        derivative=lambda sp, *args: sp.Integer(0),
        nargs=None,
        real=False,
        numpy=lambda np, u: _at(np, u, largest),
    )


def _at(np: Any, u: Any, largest: bool) -> Any:
    values = np.asarray(u, dtype=np.float64)
    return (values == (np.max if largest else np.min)(values)).astype(np.float64)


IS_MAX, IS_MIN = _extreme(True), _extreme(False)


def compared_shown(expr: Any) -> tuple[Any, ...]:
    """The indices `is_max(u, *over)` shows as its subscript (both printers): none where
    it compares one index and that is its argument's only one (`is_max(x_k)`: x_k among
    all of x), else every index compared over (`is_max_m(X_jm)`)."""
    argument, *over = expr.args
    indices = {s for s in argument.free_symbols if s.is_integer and not s.is_positive}
    return () if len(over) == 1 and indices == set(over) else tuple(over)


def _ties(largest: bool) -> Callable[[Any], Any]:
    """Elements tied for the largest (smallest) value; no tie, no kink."""

    def ties(values: Any) -> Any:
        import numpy as np

        at = values == (values.max() if largest else values.min())
        return at if np.count_nonzero(at) > 1 else np.zeros_like(at)

    return ties


def _ties_along(values: Any, largest: bool, axes: tuple[int, ...]) -> Any:
    """Elements tied for the largest (smallest) value of their slice (row, column...)."""
    import numpy as np

    if not axes:
        return np.zeros(values.shape, dtype=bool)
    extreme = (np.max if largest else np.min)(values, axis=axes, keepdims=True)
    at = values == extreme
    return at & (np.count_nonzero(at, axis=axes, keepdims=True) > 1)


@dataclass(frozen=True)
class Extremum(Reduction):
    """max/min: sum_k u_k*is_max(u_k) / sum_k is_max(u_k), so ties share the gradient as
    torch's max() splits it; along dim= it is torch.amax (values only, ties split)."""

    largest: bool = True

    @property
    def combines(self) -> str:
        return self.name

    @property
    def adds_up(self) -> bool:
        return False

    def story_sentence(self, name: str, local: str, gradient: str, nt: Notation) -> str:
        largest = "largest" if self.largest else "smallest"
        i, j = nt.i, nt.j
        return (
            f"{self.name.capitalize()} rule: only the {largest} term y_{i} passes the "
            f"gradient (is_{self.kind}(y_{j}) = 1 there, 0 elsewhere; ties share it "
            f"evenly), so dL/d{name}_{j} = is_{self.kind}(y_{j})/(number of ties) * {local} "
            f"= {gradient}."
        )

    @property
    def indicator(self) -> NamedFunction:
        return IS_MAX if self.largest else IS_MIN

    def named(self) -> Iterator[NamedFunction]:
        return iter((self.indicator,))

    @property
    def kind(self) -> str:
        """max or min, for the names of the torch functions and the indicator."""
        return "max" if self.largest else "min"

    def torch(self, torch: Any, tensor: Any, node: Call) -> Any:
        if self.needs_axes(node):  # torch.max(X, dim) is (values, indices): amax has one
            return getattr(torch, "a" + self.kind)(tensor, **torch_keywords(node, tensor))
        return getattr(torch, self.kind)(tensor)

    def hazard_masks(self, node: Call, values: Any) -> Iterator[tuple[str, Any]]:
        if along(node):  # ties within one slice, not over the whole array
            yield "kink", _ties_along(values, self.largest, reduced_axes(node, values.shape))
        else:
            yield from super().hazard_masks(node, values)

    def reason(self, node: Call, kind: str, args: list[str]) -> str:
        if not along(node):
            return super().reason(node, kind, args)
        largest, rises = ("largest", "rises") if self.largest else ("smallest", "falls")
        dims = dims_of(node) or ()
        dim = dims[0] if len(dims) == 1 else dims
        return (
            f"{self.name}(dim={dim}) has a kink where elements of one slice along dim "
            f"{dim} tie for its {largest} value (slope 1 if one of them {rises}, 0 "
            f"otherwise), so no derivative exists there; PyTorch's a{self.kind}() "
            f"splits the gradient evenly among the tied elements, so does the symbolic "
            f"rule is_{self.kind}_m(u_jm)/sum_m is_{self.kind}_m(u_jm)"
        )

    def element(self, b: Any, node: Call, idx: tuple[Any, ...]) -> Any:
        shape = b.shape(node.args[0])
        inner, over = inner_indices(b, node, shape, idx)
        term = b.build(node.args[0], inner)
        if not over:  # the max of a scalar is the scalar, as in torch
            return term
        bound = tuple(index for index, _ in over)
        indicator = self.indicator(term, *b.compared(bound))
        top, bottom = term * indicator, indicator
        for index, size in over:
            limit = b.limit(index, size)
            top, bottom = b.Sum(top, limit), b.Sum(bottom, limit)
        if not self.needs_axes(node):
            b.record(node, bound, term, top / bottom)
        return top / bottom

    def step(self, w: Any, node: Call, idx: tuple[Any, ...], depth: int) -> tuple[str, Any, Any]:
        """d max(u) = sum_k is_max(u_k) du_k / sum_k is_max(u_k): the arg-max's du, over
        every element or in each slice along dim."""
        shape = w.node_shapes[id(node.args[0])]
        if not reduced_axes(node, shape):
            u, du = w.pair(node.args[0], (), depth)
            return f"{self.name} of a scalar is the scalar", u, du
        inner, over = inner_indices(w.builder, node, shape, idx)
        u, du = w.pair(node.args[0], inner, depth)
        indicator = self.indicator(u, *w.builder.compared(tuple(index for index, _ in over)))
        top, bottom = indicator * du, indicator
        for index, size in over:
            limit = w.builder.limit(index, size)
            top, bottom = w.sum(top, limit), w.builder.Sum(bottom, limit)
        each = "in each slice along dim, " if along(node) else ""
        return (
            f"{self.name} rule: {each}only the arg-{self.kind} element's derivative passes "
            "(ties share it)",
            w.builder.build(node, idx),
            top / bottom,
        )

    @property
    def title(self) -> str:
        return f"{self.name} rule"

    def rule_form(self, node: Call | None = None) -> RuleForm:
        """d max(u)/du_k = is_max(u_k)/sum_i(is_max(u_i)): the table's own indicator."""
        import sympy as sp

        i, k = sp.symbols("i k", integer=True, nonnegative=True)
        n = sp.Symbol("n", integer=True, positive=True)
        u = sp.IndexedBase("u")
        slope = self.indicator(u[k]) / sp.Sum(self.indicator(u[i]), (i, 0, n - 1))
        return equation(f"{self.title}: ", f"d {self.name}(u)/du_k = ", None, slope, self.rule)


def _kink_words(word: str, largest: str, rises: str, falls: str) -> str:
    return (
        f"{word} has a kink where elements tie for the {largest} value (slope 1 if one "
        f"of them {rises}, 0 if it {falls}), so no derivative exists there; PyTorch's "
        f"{word}() splits the gradient evenly among the tied elements, so does the "
        f"symbolic rule is_{word[-3:]}(u_j)/sum_k is_{word[-3:]}(u_k), and SymPy's "
        f"{word[-3:].capitalize()}(a, b) gives Heaviside(0) = 1/2 each for two"
    )


ENTRIES: tuple[Op, ...] = (
    Reduction("sum", "where y_i is x_i, only the term i = j is left", story="L = sum_i y_i"),
    Reduction(
        "mean", "n: how many elements it averages", average=True, story="L = (1/n) sum_i y_i"
    ),
    Reduction("prod", "", product=True, story="L = prod_i y_i", keywords=(ONE_DIM, KEEPDIM)),
    Reduction(
        "logsumexp",
        "that is softmax(u)_k",
        dim="required",
        inner=lambda sp, u: sp.exp(u),
        outer=lambda sp, s: sp.log(s),
        spellings=("torch", "method", "special"),
    ),
    Extremum(
        "max",
        "is_max(u_k) is 1 where u_k is largest, 0 elsewhere: ties split it evenly",
        story="L = max_i y_i",
        largest=True,
        keywords=(ONE_DIM, KEEPDIM),
        pairwise="maximum",
        hazards=(Hazard("kink", _ties(True), _kink_words("max", "largest", "rises", "falls")),),
    ),
    Extremum(
        "min",
        "is_min(u_k) is 1 where u_k is smallest, 0 elsewhere: ties split it evenly",
        story="L = min_i y_i",
        largest=False,
        keywords=(ONE_DIM, KEEPDIM),
        pairwise="minimum",
        hazards=(Hazard("kink", _ties(False), _kink_words("min", "smallest", "falls", "rises")),),
    ),
    Extremum(
        "amax",
        "is_max(u_k) is 1 where u_k is largest along dim, 0 elsewhere: ties split it evenly",
        story="L = max_i y_i",
        largest=True,
        hazards=(Hazard("kink", _ties(True), _kink_words("amax", "largest", "rises", "falls")),),
    ),
    Extremum(
        "amin",
        "is_min(u_k) is 1 where u_k is smallest along dim, 0 elsewhere: ties split it evenly",
        story="L = min_i y_i",
        largest=False,
        hazards=(Hazard("kink", _ties(False), _kink_words("amin", "smallest", "falls", "rises")),),
    ),
)
