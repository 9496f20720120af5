"""var, std and the vector norms: reductions whose element is more than one Sum.

var(u) = sum_k (u_k - mean(u))**2 / (N - correction), with the mean its own Sum over
fresh indices, so SymPy's derivative is 2 (u_j - mean)/(N - c) in a generic element; std
is its square root. A norm is (sum_k |u_k|**p)**(1/p), sum_k |u_k| for p = 1, and
max_k |u_k| (ties split, as torch does) for p = inf. All reduce over every element or
along `dim=` (an int or a tuple), with `keepdim=`, as the other reductions do.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from gradexplain.ir.axes import reduced_axes
from gradexplain.ir.tree import Call
from gradexplain.ops.base import Keyword, NamedFunction, Op, RuleForm, equation, number
from gradexplain.ops.reductions import (
    DIMS,
    IS_MAX,
    IS_MIN,
    KEEPDIM,
    Reduction,
    inner_indices,
    torch_keywords,
)

SINGULAR = {
    "nuc": "the nuclear norm is the sum of the singular values",
    2.0: "the spectral norm ord=2 is the largest singular value",
    -2.0: "ord=-2 is the smallest singular value",
}


def refusal(name: str, key: str, order: Any) -> str | None:
    """Why an order of a matrix norm is refused, or None."""
    words = SINGULAR.get(order)
    if words is None:
        return None
    shown = repr(order) if isinstance(order, str) else f"{order:g}"
    return (
        f"{key}={shown} of {name}() is not supported: {words}, which has no formula in "
        f"the matrix's elements for the symbolic witness to differentiate (it needs an "
        f"SVD); matrix norms take 'fro', 1, -1, inf or -inf"
    )


def _slices(values: Any, node: Call, test: Any) -> Any:
    """Every element of each slice (along the call's dims) where `test(slice)` holds."""
    import numpy as np

    axes = reduced_axes(node, values.shape)
    if not axes:
        return np.broadcast_to(test(values, ()), values.shape)
    return np.broadcast_to(test(values, axes), values.shape)


@dataclass(frozen=True)
class Variance(Reduction):
    """var (and std, `root=True`), with Bessel's correction by default as in torch."""

    keywords: tuple[Keyword, ...] = (
        DIMS,
        Keyword("unbiased", "bool"),
        KEEPDIM,
        Keyword("correction", "number", positional=False),
    )
    root: bool = False

    def correction(self, node: Call) -> Any:
        unbiased, correction = node.param("unbiased"), node.param("correction")
        if correction is not None:
            return correction
        return 0 if unbiased is False else 1

    def check(self, node: Call, text: str) -> None:
        if node.param("unbiased") is not None and node.param("correction") is not None:
            from gradexplain.errors import ExpressionError

            raise ExpressionError(
                f"{self.name}() takes unbiased= or correction=, not both, "
                f"as torch.{self.name} does",
                text,
                node.col,
            )

    @property
    def adds_up(self) -> bool:
        return False

    def element(self, b: Any, node: Call, idx: tuple[Any, ...]) -> Any:
        import sympy as sp

        shape = b.shape(node.args[0])
        inner, over = inner_indices(b, node, shape, idx)
        others, again = inner_indices(b, node, shape, idx)
        term = b.build(node.args[0], inner)
        # one element: 0/(1 - c), nan for the default c = 1, as in torch
        count = b.count(tuple(size for _, size in over)) if over else sp.Integer(1)
        mean = b.build(node.args[0], others)
        for index, size in again:
            mean = b.Sum(mean, b.limit(index, size))
        deviation = (term - mean / count) ** 2
        for index, size in over:
            deviation = b.Sum(deviation, b.limit(index, size))
        correction = b.number_of(self.correction(node))
        variance = deviation / (count - correction)
        return sp.sqrt(variance) if self.root else variance

    def torch(self, torch: Any, tensor: Any, node: Call) -> Any:
        keywords = torch_keywords(node, tensor)
        return getattr(torch, self.name)(tensor, correction=self.correction(node), **keywords)

    @property
    def may_fail(self) -> bool:
        return True

    def hazard_masks(self, node: Call, values: Any) -> Iterator[tuple[str, Any]]:
        import numpy as np

        axes = reduced_axes(node, values.shape)
        count = math.prod(values.shape[axis] for axis in axes)
        if count <= self.correction(node):
            yield "pole", np.ones(values.shape, dtype=bool)
        elif self.root:
            yield (
                "pole",
                _slices(values, node, lambda v, a: np.ptp(v, axis=a or None, keepdims=True) == 0),
            )

    def reason(self, node: Call, kind: str, args: list[str]) -> str:
        c = self.correction(node)
        return (
            f"{self.name}() with correction {c:g} divides by N - {c:g}, which is 0 or "
            f"less for a slice of N <= {c:g} elements (PyTorch gives nan), or, for std, "
            f"std'(u) = (u_j - mean)/((N - c) std) is 0/0 where every element of a slice "
            f"is equal (std = 0; PyTorch gives 0)"
        )

    def step(self, w: Any, node: Call, idx: tuple[Any, ...], depth: int) -> tuple[str, Any, Any]:
        """d var = sum_k 2 (u_k - mean)(du_k - d mean)/(N - c); d std = d var/(2 std)."""
        import sympy as sp

        u, du, over, again = _pair_twice(w, node, idx, depth)
        count = w.builder.count(tuple(size for _, size in over)) if over else sp.Integer(1)
        swap = {k: m for (k, _), (m, _) in zip(over, again)}
        mean, dmean = u.xreplace(swap), du.xreplace(swap)
        for m, size in again:
            limit = w.builder.limit(m, size)
            mean, dmean = w.builder.Sum(mean, limit), w.sum(dmean, limit)
        deviation = u - mean / count
        value, derivative = deviation**2, 2 * deviation * (du - dmean / count)
        for k, size in over:
            limit = w.builder.limit(k, size)
            value, derivative = w.builder.Sum(value, limit), w.sum(derivative, limit)
        divisor = count - w.builder.number_of(self.correction(node))
        value, derivative = value / divisor, derivative / divisor
        if self.root:
            return self.title, sp.sqrt(value), derivative / (2 * sp.sqrt(value))
        return self.title, value, derivative

    @property
    def title(self) -> str:
        return f"{self.name} rule"

    def rule_form(self, node: Call | None = None) -> RuleForm:
        """d var(u)/du_j = 2*(u_j - mean(u))/(n - correction); std's over 2 std(u)."""
        import sympy as sp

        j = sp.Symbol("j", integer=True, nonnegative=True)
        u, n = sp.IndexedBase("u"), sp.Symbol("n")
        mean, std = sp.Function("mean")(sp.Symbol("u")), sp.Function("std")(sp.Symbol("u"))
        setting = self.correction(node) if node is not None else None
        correction = sp.Symbol("correction") if setting is None else number(repr(setting), setting)
        divisor = n - correction  # one Mul, so 2*(u_j - mean(u)) stays as written
        slope = sp.Mul(2, u[j] - mean, 1 / divisor)
        if self.root:
            slope = sp.Mul(u[j] - mean, 1 / (divisor * std))
        said = "n: how many elements; correction: 1 (Bessel's) by default"
        return equation(f"{self.title}: ", f"d {self.name}(u)/du_j = ", None, slope, said)

    def graph_rule(self, node: Call) -> str:
        return self.title


def _pair_twice(
    w: Any, node: Call, idx: tuple[Any, ...], depth: int
) -> tuple[Any, Any, list[tuple[Any, int]], list[tuple[Any, int]]]:
    """The argument's element and derivative at a bound index k of each reduced axis, and
    a second set of bound indices (m) for an inner sum over the same axes."""
    shape = w.node_shapes[id(node.args[0])]
    inner, over = inner_indices(w.builder, node, shape, idx)
    _, again = inner_indices(w.builder, node, shape, idx)
    u, du = w.pair(node.args[0], inner, depth)
    return u, du, over, again


def _order(node: Call, op: Norm) -> float:
    value = op.setting(node, op.order)
    return 2.0 if value in (None, "fro") else float(value)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Norm(Reduction):
    """torch.norm / x.norm (p=) and torch.linalg.vector_norm (ord=): a vector p-norm of
    every element (Frobenius for a matrix) or along dim=."""

    order: str = "p"

    @property
    def adds_up(self) -> bool:
        return False

    def check(self, node: Call, text: str) -> None:
        if self.setting(node, self.order) == "nuc":
            from gradexplain.errors import ExpressionError

            raise ExpressionError(str(refusal(self.name, self.order, "nuc")), text, node.col)
        p = _order(node, self)
        if not (p > 0 or p == -math.inf):
            from gradexplain.errors import ExpressionError

            raise ExpressionError(
                f"{self.order}={p:g} of {self.name}() is not supported: "
                f"gradexplain takes p > 0 or inf (p = 0 counts nonzero "
                f"elements, whose gradient is 0)",
                text,
                node.col,
            )

    def named(self) -> Iterator[NamedFunction]:
        return iter((IS_MAX, IS_MIN))

    def element(self, b: Any, node: Call, idx: tuple[Any, ...]) -> Any:
        import sympy as sp

        shape = b.shape(node.args[0])
        inner, over = inner_indices(b, node, shape, idx)
        size = sp.Abs(b.build(node.args[0], inner))
        if not over:
            return size
        p = _order(node, self)
        if math.isinf(p):
            indicator = (IS_MAX if p > 0 else IS_MIN)(
                size, *b.compared(tuple(index for index, _ in over))
            )
            top, bottom = size * indicator, indicator
            for index, length in over:
                top, bottom = (
                    b.Sum(top, b.limit(index, length)),
                    b.Sum(bottom, b.limit(index, length)),
                )
            return top / bottom
        exponent = b.number_of(p)
        total = size if p == 1 else size**exponent
        for index, length in over:
            total = b.Sum(total, b.limit(index, length))
        return total if p == 1 else total ** (1 / exponent)

    def torch(self, torch: Any, tensor: Any, node: Call) -> Any:
        keywords = torch_keywords(node, tensor)
        return torch.linalg.vector_norm(tensor, ord=_order(node, self), **keywords)

    @property
    def may_fail(self) -> bool:
        return True

    def hazard_masks(self, node: Call, values: Any) -> Iterator[tuple[str, Any]]:
        import numpy as np

        p = _order(node, self)
        size = np.abs(values)
        if math.isinf(p):
            pick = np.max if p > 0 else np.min

            def tied(v: Any, axes: Any) -> Any:
                top = pick(np.abs(v), axis=axes or None, keepdims=True)
                at = np.abs(v) == top
                return np.where(
                    np.count_nonzero(at, axis=axes or None, keepdims=True) > 1, at, False
                ) | (top == 0)

            yield "kink", _slices(values, node, tied)
        elif p <= 1:
            yield "kink" if p == 1 else "pole", size == 0
        else:
            yield (
                "pole",
                _slices(
                    values, node, lambda v, a: np.max(np.abs(v), axis=a or None, keepdims=True) == 0
                ),
            )

    def reason(self, node: Call, kind: str, args: list[str]) -> str:
        p = _order(node, self)
        if math.isinf(p):
            return (
                f"the {'' if p > 0 else '-'}inf-norm max|u_k| has a kink where elements "
                f"tie for the largest |u_k| (or are 0), so no derivative exists there; "
                f"PyTorch splits the gradient evenly among the tied elements, as does "
                f"the symbolic rule"
            )
        if p == 1:
            return (
                "the 1-norm sum|u_k| has a kink at every element that is 0 (slopes -1 "
                "and 1), so no derivative exists there; PyTorch uses sign(0) = 0"
            )
        if p < 1:
            return (
                f"the {p:g}-norm's derivative |u_k|**({p:g}-1) is infinite at an element that is 0"
            )
        return (
            f"the {p:g}-norm's derivative u_j |u_j|**(p-2)/norm**(p-1) is 0/0 where "
            f"every element (of a slice) is 0, so no derivative exists there; PyTorch "
            f"gives 0"
        )

    def step(self, w: Any, node: Call, idx: tuple[Any, ...], depth: int) -> tuple[str, Any, Any]:
        """d ||u||_p = sum_k d|u_k|**p / (p ||u||**(p-1)); inf: the largest |u_k|'s d|u_k|."""
        import sympy as sp

        u, du, over, _ = _pair_twice(w, node, idx, depth)
        size, dsize = sp.Abs(u), sp.sign(u) * du
        if not over:
            return "the norm of one element is its absolute value", size, dsize
        p = _order(node, self)
        limits = [w.builder.limit(k, length) for k, length in over]
        if math.isinf(p):
            bound = tuple(k for k, _ in over)
            indicator = (IS_MAX if p > 0 else IS_MIN)(size, *w.builder.compared(bound))
            top, dtop, bottom = size * indicator, dsize * indicator, indicator
            for limit in limits:
                top, dtop = w.builder.Sum(top, limit), w.sum(dtop, limit)
                bottom = w.builder.Sum(bottom, limit)
            return (
                "inf-norm rule: only the largest |u_k| passes its derivative (ties share it)",
                top / bottom,
                dtop / bottom,
            )
        exponent = w.builder.number_of(p)
        z = sp.Dummy("z", real=True)
        term = size if p == 1 else size**exponent
        dterm = sp.diff(sp.Abs(z) if p == 1 else sp.Abs(z) ** exponent, z).xreplace({z: u}) * du
        for limit in limits:
            term, dterm = w.builder.Sum(term, limit), w.sum(dterm, limit)
        if p == 1:
            return "1-norm rule: d sum_k |u_k| = sum_k sign(u_k) du_k", term, dterm
        return (
            "p-norm rule: d (sum_k |u_k|**p)**(1/p) = (1/p) S**(1/p - 1) dS",
            term ** (1 / exponent),
            term ** (1 / exponent - 1) * dterm / exponent,
        )

    @property
    def title(self) -> str:
        return "norm rule"

    def rule_form(self, node: Call | None = None) -> RuleForm:
        """d norm(u, p)/du_j = sign(u_j)*|u_j|**(p - 1)/norm(u, p)**(p - 1)."""
        import sympy as sp

        j = sp.Symbol("j", integer=True, nonnegative=True)
        u, p = sp.IndexedBase("u", real=True), sp.Symbol("p", positive=True)
        norm = sp.Function("norm")(sp.Symbol("u"), p)
        slope = sp.sign(u[j]) * sp.Abs(u[j]) ** (p - 1) / norm ** (p - 1)
        return equation(f"{self.title}: ", "d norm(u, p)/du_j = ", None, slope, self.rule)

    def graph_rule(self, node: Call) -> str:
        return self.title


NORM_WORDS = "p = 2: u_j/norm(u); p = inf: sign(u_j) at the largest |u_j|, 0 elsewhere"
VECTOR_NORM = Norm(
    "vector_norm",
    NORM_WORDS,
    order="ord",
    spellings=("linalg",),
    keywords=(Keyword("ord", "order", 2.0), DIMS, KEEPDIM),
)

ENTRIES: tuple[Op, ...] = (
    Variance("var", ""),
    Variance("std", "", root=True),
    Norm("norm", NORM_WORDS, keywords=(Keyword("p", "order", "fro"), DIMS, KEEPDIM)),
    VECTOR_NORM,
)
