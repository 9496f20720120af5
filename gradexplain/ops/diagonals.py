"""diagonal and diag: a matrix's diagonal at any offset, of any rectangle; a vector on one.

`diagonal(X, offset=k)` at i is `X[i, i + k]` (`X[i - k, i]` below the main diagonal),
with min(rows, columns - k) elements as torch counts them; `dim1=1, dim2=0` reads the
transpose. `diag(X, k)` is the same for a matrix, and for a vector v it is the square
matrix of side n + |k| with v on diagonal k: element (r, c) is v_r delta(c, r + k)
(v_c delta(r, c - k) below). Each is a re-indexing in generic elements, as `x[1:3]` is,
so SymPy's derivative is a Kronecker delta that `deltas.py` resolves with a guard.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gradexplain.ir.axes import Shape, ShapeError, describe
from gradexplain.ir.tree import Call
from gradexplain.ops.base import Keyword, Op, RuleForm, words


@dataclass(frozen=True)
class Diagonal(Op):
    """diagonal(X, offset, dim1, dim2) and diag(X, diagonal): see the module's docstring."""

    spellings: tuple[str, ...] = ("torch", "method")
    offset: str = "offset"  # the keyword that names the offset: offset= or diagonal=

    def fold(self, *values: float) -> float:
        return values[0]

    def needs_axes(self, node: Call) -> bool:
        return True

    def shift(self, node: Call) -> int:
        return int(self.setting(node, self.offset) or 0)  # type: ignore[arg-type]

    def swapped(self, node: Call, text: str = "") -> bool:
        """True when dim1= and dim2= read the transpose (dim1=1, dim2=0)."""
        if self.name != "diagonal":
            return False
        dims = []
        for name in ("dim1", "dim2"):
            dim = int(self.setting(node, name))  # type: ignore[arg-type]
            if not -2 <= dim < 2:
                raise ShapeError(
                    f"{name}={dim} of diagonal() is out of range for a matrix (-2 to 1)",
                    text,
                    node.col,
                )
            dims.append(dim % 2)
        if dims[0] == dims[1]:
            raise ShapeError(
                f"diagonal() needs two different dims, got dim1 and dim2 both {dims[0]} "
                f"(torch: diagonal dimensions cannot be identical)",
                text,
                node.col,
            )
        return dims[0] > dims[1]

    def shape(self, node: Call, parts: list[Shape], text: str) -> Shape:
        (shape,) = parts
        k = self.shift(node)
        if self.name == "diag" and len(shape) == 1:
            return (shape[0] + abs(k),) * 2
        if len(shape) != 2:
            kinds = "a matrix" if self.name == "diagonal" else "a vector or a matrix"
            raise ShapeError(
                f"{self.name}() needs {kinds}, got shape {describe(shape)}", text, node.col
            )
        rows, columns = reversed(shape) if self.swapped(node, text) else shape
        length = min(rows, columns - k) if k >= 0 else min(rows + k, columns)
        if length <= 0:
            raise ShapeError(
                f"{self.name}() at offset {k} of a {describe(shape)} matrix selects no "
                f"element (torch gives an empty tensor); offsets run from {-(rows - 1)} "
                f"to {columns - 1}",
                text,
                node.col,
            )
        return (length,)

    def at(self, node: Call, i: Any) -> tuple[Any, Any]:
        """The matrix element that diagonal element i is."""
        k = self.shift(node)
        row, column = (i, i + k) if k >= 0 else (i - k, i)
        return (column, row) if self.swapped(node) else (row, column)

    def placed(self, sp: Any, node: Call, idx: tuple[Any, ...]) -> tuple[Any, Any]:
        """diag of a vector at (r, c): the vector's index there and the delta that is 1 on
        diagonal k."""
        r, c = idx
        k = self.shift(node)
        return (r, sp.KroneckerDelta(c, r + k)) if k >= 0 else (c, sp.KroneckerDelta(r, c - k))

    def element(self, b: Any, node: Call, idx: tuple[Any, ...]) -> Any:
        import sympy as sp

        if len(b.shape(node.args[0])) == 2:
            return b.build(node.args[0], self.at(node, idx[0]))
        index, delta = self.placed(sp, node, idx)
        return b.build(node.args[0], (index,)) * delta

    def torch(self, torch: Any, tensor: Any, node: Call) -> Any:
        if self.name == "diag":
            return torch.diag(tensor, self.shift(node))
        dim1, dim2 = (self.setting(node, name) for name in ("dim1", "dim2"))
        return torch.diagonal(tensor, offset=self.shift(node), dim1=dim1, dim2=dim2)

    def step(self, w: Any, node: Call, idx: tuple[Any, ...], depth: int) -> tuple[str, Any, Any]:
        import sympy as sp

        if len(w.node_shapes[id(node.args[0])]) == 2:
            u, du = w.pair(node.args[0], self.at(node, idx[0]), depth)
            row, column = self.at(node, sp.Symbol("i"))
            return f"{self.name} picks a diagonal: element i is X[{row}, {column}]", u, du
        index, delta = self.placed(sp, node, idx)
        u, du = w.pair(node.args[0], (index,), depth)
        words = f"diag of a vector: v placed on diagonal {self.shift(node)}"
        return words, u * delta, du * delta

    def rule_form(self, node: Call | None = None) -> RuleForm:
        """The delta of the diagonal element each result element is (k: the offset);
        diag of a vector, the delta of where each element is placed."""
        import sympy as sp

        i, a, b = sp.symbols("i a b", integer=True, nonnegative=True)
        k, delta = sp.Symbol("k", integer=True), sp.KroneckerDelta
        parts = [(f"d {self.name}(X)_i/dX_ab = ", delta(a, i) * delta(b, i + k))]
        if self.offset == "diagonal":  # diag also places a vector
            parts.append(("d diag(v)_ab/dv_i = ", delta(a, i) * delta(b, i + k)))
        return RuleForm(f"{self.name} rule: ", tuple(parts), words(self.rule))

    def graph_rule(self, node: Call) -> str:
        return f"{self.name}: the gradient goes back to the diagonal's elements (0 elsewhere)"


ENTRIES: tuple[Op, ...] = (
    Diagonal(
        "diagonal",
        "k = offset >= 0 (below the main diagonal, X[i - k, i]); the gradient lands there, 0 "
        "elsewhere",
        spellings=("torch", "method", "linalg"),
        keywords=(
            Keyword("offset", "int", 0),
            Keyword("dim1", "int", 0),
            Keyword("dim2", "int", 1),
        ),
    ),
    Diagonal(
        "diag",
        "k = diagonal >= 0: a matrix's diagonal k (as diagonal), or a vector placed on "
        "diagonal k; the gradient goes back to where each element came from",
        offset="diagonal",
        keywords=(Keyword("diagonal", "int", 0),),
    ),
)
