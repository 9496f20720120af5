"""torch.linalg.norm and torch.linalg.matrix_norm: the matrix norms of a matrix.

ord='fro' is the vector 2-norm of every element (statistics.py's rule). ord=1 is the
largest column sum of |X|, max_k sum_i |X_ik|; -1 the smallest; inf and -inf the same
for row sums. In generic elements that is the max rule over column sums:
sum_k s_k is_max(s_k) / sum_k is_max(s_k) with s_k = sum_i |X_ik|, so the gradient is
sign(X_jk) on the largest column, split evenly among tied columns, as torch's amax.
The singular-value norms (ord='nuc', 2, -2) are refused: a singular value has no formula
in the matrix's elements for SymPy to differentiate.

torch.linalg.norm reads its arguments as torch does: without dim and ord it is the 2-norm
of every element; a vector, or one dim, makes it a vector norm (`vector_norm`'s rules);
a matrix with an ord, or two dims, a matrix norm.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from gradexplain.ir.axes import Shape, ShapeError, check_dims, describe, reduced
from gradexplain.ir.tree import Call
from gradexplain.ops.base import Keyword, NamedFunction, Op, RuleForm, equation
from gradexplain.ops.reductions import IS_MAX, IS_MIN, KEEPDIM
from gradexplain.ops.statistics import VECTOR_NORM, refusal

EDGES = (1.0, -1.0, math.inf, -math.inf)  # the orders with a rule in elements


def _shown(order: Any) -> str:
    return repr(order) if isinstance(order, str) else f"{order:g}"


@dataclass(frozen=True)
class MatrixNorm(Op):
    """matrix_norm (always a matrix norm) and linalg_norm (torch.linalg.norm: a vector or
    a matrix norm, by its arguments and the input's rank)."""

    dim: str = "optional"
    vector_too: bool = False  # torch.linalg.norm: a vector norm where torch's is one

    def spelled(self, node: Call, args: list[str], settings: list[str]) -> str:
        name = "torch.linalg.norm" if self.vector_too else self.name
        return f"{name}({', '.join([*args, *settings])})"

    def fold(self, *values: float) -> float:
        return abs(values[0])

    @property
    def vector(self) -> Op:
        return VECTOR_NORM

    def order(self, node: Call) -> Any:
        value = self.setting(node, "ord")
        return value if value is None or isinstance(value, str) else float(value)  # type: ignore[arg-type]

    def dims(self, node: Call, rank: int) -> tuple[int, int]:
        """(the row axis, the column axis) a matrix norm reads (dim=(1, 0): transposed)."""
        dims = node.param("dim")
        if dims is None:
            return 0, 1
        assert isinstance(dims, tuple)
        first, second = (int(dim) % rank for dim in dims)
        return first, second

    def is_vector(self, node: Call, rank: int) -> bool:
        """True where torch.linalg.norm computes a vector norm."""
        if not self.vector_too:
            return False
        dims = node.param("dim")
        if dims is not None:
            return len(dims) == 1  # type: ignore[arg-type]
        return self.order(node) is None or rank != 2

    def check(self, node: Call, text: str) -> None:
        message = refusal(self.spelled_name, "ord", self.order(node))
        if message is not None:
            from gradexplain.errors import ExpressionError

            raise ExpressionError(message, text, node.col)

    @property
    def spelled_name(self) -> str:
        return "torch.linalg.norm" if self.vector_too else "torch.linalg.matrix_norm"

    def shape(self, node: Call, parts: list[Shape], text: str) -> Shape:
        (shape,) = parts
        order = self.order(node)
        if self.is_vector(node, len(shape)):
            if isinstance(order, str):
                raise ShapeError(
                    f"ord={order!r} of {self.spelled_name}() needs a matrix (or dim= with two "
                    f"dims), as in torch; a vector norm takes a number, inf or -inf",
                    text,
                    node.col,
                )
            return self.vector.shape(node, parts, text)
        dims = node.param("dim")
        if len(shape) != 2 or (dims is not None and len(dims) != 2):  # type: ignore[arg-type]
            got = "a scalar" if not shape else f"shape {describe(shape)}"
            raise ShapeError(
                f"a matrix norm ({self.spelled_name}() with ord={_shown(order or 'fro')}) "
                f"needs a matrix and two dims, got {got}"
                + ("" if dims is None else f" and dim={dims}"),
                text,
                node.col,
            )
        check_dims(node, shape, text)
        if order not in (None, "fro", *EDGES):
            raise ShapeError(
                f"ord={_shown(order)} of {self.spelled_name}() is not a matrix norm: "
                f"torch takes 'fro', 'nuc', 1, -1, 2, -2, inf or -inf for a matrix",
                text,
                node.col,
            )
        return reduced(node, shape, text)

    def needs_axes(self, node: Call) -> bool:
        return True

    def named(self) -> Iterator[NamedFunction]:
        return iter((IS_MAX, IS_MIN))

    def frobenius(self, node: Call, rank: int) -> bool:
        """True where the norm is the vector 2-norm of the elements (vector_norm's rules)."""
        return self.is_vector(node, rank) or self.order(node) in (None, "fro")

    def element(self, b: Any, node: Call, idx: tuple[Any, ...]) -> Any:
        import sympy as sp

        shape = b.shape(node.args[0])
        if self.frobenius(node, len(shape)):
            return self.vector.element(b, node, idx)
        summed, picked = self.axes(node, len(shape))
        s, k = b.fresh((shape[summed], shape[picked]))
        at = [s, s]
        at[picked] = k
        line = b.Sum(sp.Abs(b.build(node.args[0], tuple(at))), b.limit(s, shape[summed]))
        order = self.order(node)
        indicator = (IS_MAX if order > 0 else IS_MIN)(line, *b.compared((k,)))
        limit = b.limit(k, shape[picked])
        return b.Sum(line * indicator, limit) / b.Sum(indicator, limit)

    def axes(self, node: Call, rank: int) -> tuple[int, int]:
        """(the axis summed over, the axis whose largest sum is picked): ord=1 sums down
        the rows and picks a column, ord=inf sums along a row and picks a row."""
        rows, columns = self.dims(node, rank)
        return (rows, columns) if abs(self.order(node)) == 1 else (columns, rows)

    def torch(self, torch: Any, tensor: Any, node: Call) -> Any:
        keywords: dict[str, Any] = {"keepdim": bool(node.param("keepdim", False))}
        if node.param("dim") is not None:
            keywords["dim"] = node.param("dim")
        if self.vector_too:
            return torch.linalg.norm(tensor, self.order(node), **keywords)
        return torch.linalg.matrix_norm(tensor, self.order(node) or "fro", **keywords)

    @property
    def may_fail(self) -> bool:
        return True

    def hazard_masks(self, node: Call, values: Any) -> Iterator[tuple[str, Any]]:
        import numpy as np

        if self.frobenius(node, values.ndim):
            yield from self.vector.hazard_masks(node, values)
            return
        summed, _ = self.axes(node, values.ndim)
        sums = np.abs(values).sum(axis=summed, keepdims=True)
        extreme = (np.max if self.order(node) > 0 else np.min)(sums)
        tied = np.broadcast_to(sums == extreme, values.shape)
        several = np.count_nonzero(sums == extreme) > 1
        yield "kink", tied & (several | (values == 0))

    def reason(self, node: Call, kind: str, args: list[str]) -> str:
        vector = self.vector.reason(node, kind, args)
        if self.order(node) in (None, "fro") or (
            self.vector_too and node.param("dim") is not None and self.is_vector(node, 2)
        ):
            return vector
        order = self.order(node)
        line = "column" if abs(order) == 1 else "row"
        largest = "largest" if order > 0 else "smallest"
        matrix = (
            f"the matrix norm ord={_shown(order)} is the {largest} {line} sum of |X|: it "
            f"has a kink where two {line}s tie for the {largest} sum, or where an element "
            f"of that {line} is 0 (|u| has slopes -1 and 1 there), so no derivative exists "
            f"there; PyTorch splits the gradient evenly among tied {line}s and uses "
            f"sign(0) = 0, as the symbolic rule does"
        )
        if self.vector_too and node.param("dim") is None:  # the input's rank decides
            return f"for a matrix, {matrix}; for a vector, {vector}"
        return matrix

    def step(self, w: Any, node: Call, idx: tuple[Any, ...], depth: int) -> tuple[str, Any, Any]:
        """'fro' and vector norms: vector_norm's rule; ord=1 (inf): the max rule over the
        column (row) sums of |X|, with d|u| = sign(u) du inside the picked sum."""
        import sympy as sp

        shape = w.node_shapes[id(node.args[0])]
        if self.frobenius(node, len(shape)):
            return self.vector.step(w, node, idx, depth)
        summed, picked = self.axes(node, len(shape))
        s, k = w.builder.fresh((shape[summed], shape[picked]))
        at = [s, s]
        at[picked] = k
        u, du = w.pair(node.args[0], tuple(at), depth)
        inner = w.builder.limit(s, shape[summed])
        line, dline = w.builder.Sum(sp.Abs(u), inner), w.sum(sp.sign(u) * du, inner)
        indicator = (IS_MAX if self.order(node) > 0 else IS_MIN)(line, *w.builder.compared((k,)))
        limit = w.builder.limit(k, shape[picked])
        count = w.builder.Sum(indicator, limit)
        return (
            "matrix norm rule: only the picked line's sum of |u| passes its derivative "
            "(ties share it), d|u| = sign(u) du",
            w.builder.Sum(line * indicator, limit) / count,
            w.sum(dline * indicator, limit) / count,
        )

    def rule_form(self, node: Call | None = None) -> RuleForm:
        """The Frobenius norm's d norm(U)/dU_jk = U_jk/norm(U); ord=1 and inf in words."""
        import sympy as sp

        j, k = sp.symbols("j k", integer=True, nonnegative=True)
        slope = sp.IndexedBase("U")[j, k] / sp.Function("norm")(sp.Symbol("U"))
        return equation("matrix norm rule: ", "'fro': d norm(U)/dU_jk = ", None, slope, self.rule)

    def graph_rule(self, node: Call) -> str:
        return "matrix norm rule"


RULE = (
    "ord=1 (inf): sign(u_jk) on the column (row) with the largest sum of |u|, 0 elsewhere "
    "(ties split evenly)"
)

ENTRIES: tuple[Op, ...] = (
    MatrixNorm(
        "matrix_norm",
        RULE,
        spellings=("linalg",),
        keywords=(Keyword("ord", "order", "fro"), Keyword("dim", "dims"), KEEPDIM),
    ),
    MatrixNorm(
        "linalg_norm",
        RULE + "; a vector norm for a vector or one dim, as vector_norm",
        spellings=(),
        bare=False,
        aliases=("linalg:norm",),
        vector_too=True,
        keywords=(Keyword("ord", "order"), Keyword("dim", "dims"), KEEPDIM),
    ),
)
