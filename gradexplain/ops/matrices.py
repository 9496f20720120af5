"""Functions of a whole square matrix: det, logdet, slogdet, inverse and solve.

No generic-element rule exists for them (det is not elementwise), so the symbolic witness
uses the Matrix Cookbook's closed forms at the matrix level, applied by the element-wise
chain rule (`gradexplain/witnesses/matfun.py`): d det(X)/dX = det(X) X^-T, d log|det X|/dX = X^-T,
dX^-1 = -X^-1 dX X^-1; numpy.linalg evaluates det and the inverse. The autograd witness
is torch's own backward of torch.linalg. A singular matrix has no inverse: exit 3, with
the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gradexplain.ir.axes import Shape, ShapeError, describe
from gradexplain.ir.tree import Call
from gradexplain.ops.base import Hazard, Op, RuleForm, words

SINGULAR = "{matrix} is singular: det = 0, the inverse does not exist"


def singular(matrix: Any) -> bool:
    """True when the square matrix has no inverse: its rank (numpy's SVD rule, the
    tolerance of numpy.linalg.matrix_rank) is below its size; False if not finite."""
    import numpy as np

    values = np.asarray(matrix, dtype=np.float64)
    if values.ndim != 2 or not np.all(np.isfinite(values)):
        return False
    return bool(np.linalg.matrix_rank(values) < values.shape[0])


def _singular_everywhere(values: Any) -> Any:
    """Every element of a singular matrix (its inverse is the problem, not one element)."""
    import numpy as np

    return np.full(np.shape(values), singular(values))


def _negative_determinant(values: Any) -> Any:
    import numpy as np

    negative = not singular(values) and bool(np.linalg.det(values) < 0)
    return np.full(np.shape(values), negative)


SINGULAR_HAZARD = Hazard("pole", _singular_everywhere, SINGULAR)


def square(name: str, shape: Shape, text: str, col: int) -> int:
    """The size n of an n x n matrix, or the user's error naming the shape."""
    if len(shape) != 2 or shape[0] != shape[1]:
        raise ShapeError(f"{name}() needs a square matrix, got shape {describe(shape)}", text, col)
    return shape[0]


@dataclass(frozen=True)
class MatrixOp(Op):
    """A function of one square matrix X (the first operand): its Lambda, its hazard."""

    spellings: tuple[str, ...] = ("torch", "method", "linalg")
    reason_text: str = SINGULAR  # why a singular X has no derivative here
    title: str = ""  # the rule's name, before its formula: "Jacobi's formula"
    letter: str = "X"  # the matrix's name in the printed rule

    def fold(self, *values: float) -> float:
        return values[0]  # of a scalar; the shape rule refuses it, as torch does

    def needs_axes(self, node: Call) -> bool:
        return True

    def shape(self, node: Call, parts: list[Shape], text: str) -> Shape:
        square(self.name, parts[0], text, node.col)
        return ()

    def matrix(self, b: Any, node: Call) -> tuple[Any, Any]:
        """`Lambda((i, p), X_ip)` of the first operand, and its size symbol."""
        import sympy as sp

        shape = b.shape(node.args[0])
        i, p = b.fresh(shape)
        return sp.Lambda((i, p), b.build(node.args[0], (i, p))), b.size(shape[0])

    @property
    def closed_form(self) -> str:
        return f"{self.title}: {self.rule}" if self.title else self.rule

    def rule_form(self, node: Call | None = None) -> RuleForm:
        """d f(X)/dX_ab for a generic n x n matrix X, from the same rule the symbolic
        witness and --steps use (`rule_of`), printed as the table prints inv(X)_ba; the
        matrix-level words (the Cookbook's) follow."""
        import sympy as sp

        a, b, r, q = sp.symbols("a b r q", integer=True, nonnegative=True)
        matrix = sp.Lambda((a, b), sp.IndexedBase(self.letter)[a, b])
        call = node if node is not None else Call(self.name, (), 0, (("output", 1),))
        value, slope = self.rule_of(None, call, (r, q), matrix, sp.Symbol("n"))
        head = f"{self.title}: " if self.title else ""
        parts = (("d ", value), (f"/d{self.letter}_ab = ", slope))
        return RuleForm(head, parts, words(self.rule), "")

    def step(self, w: Any, node: Call, idx: tuple[Any, ...], depth: int) -> tuple[str, Any, Any]:
        """--steps (`steps.Steps` is w): X's element u_ab and its du_ab, then the rule."""
        import sympy as sp

        shape = w.node_shapes[id(node.args[0])]
        a, b = w.builder.fresh(shape)
        u, du = w.pair(node.args[0], (a, b), depth)
        matrix, size = sp.Lambda((a, b), u), w.builder.size(shape[0])
        value, slope = self.rule_of(w, node, idx, matrix, size)
        limits = (w.builder.limit(a, shape[0]), w.builder.limit(b, shape[0]))
        rule = self.printed_rule(w.show, node)
        return rule, value, w.sum(w.sum(slope * du, limits[0]), limits[1])

    def rule_of(
        self, w: Any, node: Call, idx: tuple[Any, ...], matrix: Any, size: Any
    ) -> tuple[Any, Any]:
        """The element, and d(element)/dU_ab by the Cookbook (a, b: the Lambda's own)."""
        raise NotImplementedError(self.name)

    hazards: tuple[Hazard, ...] = (SINGULAR_HAZARD,)

    def reason(self, node: Call, kind: str, args: list[str]) -> str:
        return self.reason_text.format(matrix=args[0])


@dataclass(frozen=True)
class Det(MatrixOp):
    """det(X), by Jacobi's formula."""

    def element(self, b: Any, node: Call, idx: tuple[Any, ...]) -> Any:
        from gradexplain.witnesses.matfun import det

        return det(*self.matrix(b, node))

    def torch(self, torch: Any, tensor: Any, node: Call) -> Any:
        return torch.linalg.det(tensor)

    def rule_of(
        self, w: Any, node: Call, idx: tuple[Any, ...], matrix: Any, size: Any
    ) -> tuple[Any, Any]:
        from gradexplain.witnesses.matfun import det, inv

        a, b = matrix.variables
        return det(matrix, size), det(matrix, size) * inv(matrix, size, b, a)


@dataclass(frozen=True)
class LogDet(MatrixOp):
    """log(det(X)): nan where det(X) < 0, as torch.logdet."""

    def element(self, b: Any, node: Call, idx: tuple[Any, ...]) -> Any:
        import sympy as sp

        from gradexplain.witnesses.matfun import det

        return sp.log(det(*self.matrix(b, node)))

    def torch(self, torch: Any, tensor: Any, node: Call) -> Any:
        return torch.logdet(tensor)

    def rule_of(
        self, w: Any, node: Call, idx: tuple[Any, ...], matrix: Any, size: Any
    ) -> tuple[Any, Any]:
        import sympy as sp

        from gradexplain.witnesses.matfun import det, inv

        a, b = matrix.variables
        return sp.log(det(matrix, size)), inv(matrix, size, b, a)

    def reason(self, node: Call, kind: str, args: list[str]) -> str:
        if kind == "domain":
            return (
                f"det({args[0]}) < 0, and the log of a negative number is "
                f"not real (PyTorch gives nan); slogdet(X)[1] is log|det X|"
            )
        return super().reason(node, kind, args)


@dataclass(frozen=True)
class Slogdet(MatrixOp):
    """slogdet(X)[1] (.logabsdet), log|det X|, is what has a gradient, X^-T;
    slogdet(X)[0] (.sign) is piecewise constant, its gradient 0. The parser keeps which
    output as the call's second argument, a Num."""

    def shape(self, node: Call, parts: list[Shape], text: str) -> Shape:
        if node.param("output") is None:
            raise ShapeError(
                "slogdet() returns two tensors (sign, logabsdet): take "
                "slogdet(X)[1] or slogdet(X).logabsdet, log|det X|, the one "
                "with a gradient (or [0], .sign)",
                text,
                node.col,
            )
        return super().shape(node, parts, text)

    def spelled(self, node: Call, args: list[str], settings: list[str]) -> str:
        return f"slogdet({args[0]})[{node.param('output')}]"

    def element(self, b: Any, node: Call, idx: tuple[Any, ...]) -> Any:
        from gradexplain.witnesses.matfun import logabsdet, signdet

        return (signdet, logabsdet)[part(node)](*self.matrix(b, node))

    def torch(self, torch: Any, tensor: Any, node: Call) -> Any:
        return torch.linalg.slogdet(tensor)[part(node)]

    def rule_of(
        self, w: Any, node: Call, idx: tuple[Any, ...], matrix: Any, size: Any
    ) -> tuple[Any, Any]:
        import sympy as sp

        from gradexplain.witnesses.matfun import inv, logabsdet, signdet

        a, b = matrix.variables
        if part(node) == 0:
            return signdet(matrix, size), sp.S.Zero
        return logabsdet(matrix, size), inv(matrix, size, b, a)


def part(node: Call) -> int:
    """Which output of slogdet: 0 the sign, 1 log|det| (the parser's setting `output`)."""
    which = node.param("output")
    assert isinstance(which, int)
    return which


@dataclass(frozen=True)
class Inverse(MatrixOp):
    """X^-1, element (r, q): inv(X)_rq."""

    def shape(self, node: Call, parts: list[Shape], text: str) -> Shape:
        square(self.name, parts[0], text, node.col)
        return parts[0]

    def element(self, b: Any, node: Call, idx: tuple[Any, ...]) -> Any:
        from gradexplain.witnesses.matfun import inv

        return inv(*self.matrix(b, node), *idx)

    def torch(self, torch: Any, tensor: Any, node: Call) -> Any:
        return torch.linalg.inv_ex(tensor).inverse  # a singular X is exit 3, not a raise

    def rule_of(
        self, w: Any, node: Call, idx: tuple[Any, ...], matrix: Any, size: Any
    ) -> tuple[Any, Any]:
        return inverse_rule(matrix, size, *idx)


def inverse_rule(matrix: Any, size: Any, row: Any, column: Any) -> tuple[Any, Any]:
    """(U^-1)_rq and its slope d(U^-1)_rq/dU_ab = -(U^-1)_ra (U^-1)_bq (Cookbook eq. 59)."""
    from gradexplain.witnesses.matfun import inv

    a, b = matrix.variables
    return inv(matrix, size, row, column), -inv(matrix, size, row, a) * inv(matrix, size, b, column)


@dataclass(frozen=True)
class Solve(MatrixOp):
    """torch.linalg.solve(A, B): X with A X = B, that is A^-1 B (B a vector or a matrix)."""

    operands: int = 2
    spellings: tuple[str, ...] = ("linalg",)

    def fold(self, *values: float) -> float:
        return values[1] / values[0]

    def shape(self, node: Call, parts: list[Shape], text: str) -> Shape:
        size = square(self.name, parts[0], text, node.col)
        right = parts[1]
        if len(right) not in (1, 2) or right[0] != size:
            raise ShapeError(
                f"solve() of shapes {describe(parts[0])} and {describe(right)}: "
                f"B must be a vector or a matrix with {size} rows",
                text,
                node.col,
            )
        return right

    def element(self, b: Any, node: Call, idx: tuple[Any, ...]) -> Any:
        """(A^-1 B) at idx: sum_m inv(A)_im B_m(k)."""
        from gradexplain.witnesses.matfun import inv

        size = b.shape(node.args[0])[0]
        (bound,) = b.fresh((size,))
        term = inv(*self.matrix(b, node), idx[0], bound) * b.build(node.args[1], (bound, *idx[1:]))
        return b.Sum(term, b.limit(bound, size))

    def apply(self, torch: Any, tensors: list[Any], node: Call) -> Any:
        return torch.linalg.solve_ex(*tensors).result  # a singular A is exit 3, not a raise

    def step(self, w: Any, node: Call, idx: tuple[Any, ...], depth: int) -> tuple[str, Any, Any]:
        """sum_m inv(A)_im B_m(k): the product rule inside the sum, d inv(A) by eq. 59."""
        size = w.node_shapes[id(node.args[0])][0]
        (m,) = w.builder.fresh((size,))
        v, dv = w.pair(node.args[1], (m, *idx[1:]), depth)
        _, inverse, d_inverse = super().step(w, node, (idx[0], m), depth)
        limit = w.builder.limit(m, size)
        return (
            "solve(A, B) = A^-1 B: the product rule inside the sum",
            w.builder.Sum(inverse * v, limit),
            w.sum(d_inverse * v + inverse * dv, limit),
        )

    def rule_of(
        self, w: Any, node: Call, idx: tuple[Any, ...], matrix: Any, size: Any
    ) -> tuple[Any, Any]:
        return inverse_rule(matrix, size, *idx)


ENTRIES: tuple[Op, ...] = (
    Det(
        "det",
        "d det(X)/dX = det(X) X^-T (Matrix Cookbook eq. 49)",
        title="Jacobi's formula",
        reason_text=SINGULAR + "; the rule d det(X)/dX = det(X) X^-T needs it (det's "
        "derivative there is the cofactor matrix, which PyTorch's det backward does not "
        "always return)",
    ),
    LogDet(
        "logdet",
        "d log det(X)/dX = X^-T (Matrix Cookbook eq. 57)",
        spellings=("torch", "method"),
        hazards=(SINGULAR_HAZARD, Hazard("domain", _negative_determinant, "det < 0")),
        reason_text=SINGULAR + ", and log det({matrix}) = log(0) = -inf",
    ),
    Slogdet(
        "slogdet",
        "d log|det(X)|/dX = X^-T (Matrix Cookbook eq. 57); the sign's gradient is 0",
        written=((), "[1]"),
        outputs=("sign", "logabsdet"),
        reason_text=SINGULAR + ", and log|det({matrix})| = log(0) = -inf",
    ),
    Inverse(
        "inverse",
        "dX^-1 = -X^-1 dX X^-1, so dL/dX = -X^-T G X^-T (Matrix Cookbook eq. 59)",
        spellings=("torch", "method"),
        aliases=("linalg:inv",),
    ),
    Solve(
        "solve",
        "dL/dB = A^-T G, dL/dA = -A^-T G X^T with X = A^-1 B",
        title="solve(A, B) = A^-1 B",
        letter="A",
    ),
)
