"""Functions of a whole square matrix in SymPy: det, log|det| and the inverse's elements.

det(U) is no elementwise function of U's elements, so it has no generic-element form of
its own. Each function here holds its matrix as `Lambda((i, p), U_ip)` (its element at
bound indices) with its size n, and differentiates by the element-wise chain rule with
the closed forms of the Matrix Cookbook (Petersen & Pedersen, eqs. 49, 57 and 59):

    d det(U)      = sum_ab det(U) (U^-1)_ba dU_ab          (d det(X)/dX = det(X) X^-T)
    d log|det(U)| = sum_ab (U^-1)_ba dU_ab                  (d log|det X|/dX = X^-T)
    d (U^-1)_rq   = -sum_ab (U^-1)_ra dU_ab (U^-1)_bq       (dX^-1 = -X^-1 dX X^-1)

so SymPy's diff, the deltas and the numpy evaluator (`evaluate.py`, which computes the
matrix U and then numpy.linalg's det and inverse of it) work as for every other node.
The autograd witness is torch's own det/inv backward, never these rules.
"""

from __future__ import annotations

import functools
from typing import Any

import sympy as sp

from gradexplain.witnesses.scoped import ScopedSum


class MatrixFunction(sp.Function):
    """f(Lambda((i, p), U_ip), n, ...): a function of the n x n matrix U."""

    @property
    def matrix(self) -> sp.Lambda:
        return self.args[0]

    @property
    def size(self) -> sp.Expr:
        return self.args[1]

    def _eval_is_real(self) -> bool:
        return True

    def slope(self, s: Any) -> tuple[sp.Symbol, sp.Symbol, sp.Expr]:
        """Two fresh bound indices (a, b; a2, b2...; no other walker names an index so:
        the Hessian's second targets are d, e) and dU_ab/ds."""
        taken = {str(symbol) for symbol in self.atoms(sp.Symbol) | s.atoms(sp.Symbol)}
        c, d = (sp.Symbol(_fresh(letter, taken), integer=True, nonnegative=True) for letter in "ab")
        return c, d, sp.diff(self.matrix(c, d), s)

    def summed(self, term: sp.Expr, c: sp.Symbol, d: sp.Symbol) -> sp.Expr:
        """sum over c and d of `term`; of a 1 x 1 matrix, the term at c = d = 0."""
        if self.size == 1 or str(self.size) == "n1":
            return term.xreplace({c: sp.S.Zero, d: sp.S.Zero})
        return ScopedSum(term, (c, 0, self.size - 1), (d, 0, self.size - 1))

    def explicit(self) -> sp.Matrix:
        """U as a SymPy Matrix of its elements, once the size is a number."""
        n = int(self.size)
        return sp.Matrix(n, n, lambda r, q: write_out(self.matrix(r, q)))

    def written(self) -> sp.Expr:
        """The function written out in U's elements (the Hessian's explicit form)."""
        raise NotImplementedError

    def _eval_evalf(self, prec: int) -> sp.Expr:
        return self.written().evalf(prec)

    def _gradexplain_str(self, printer: Any) -> str:
        return f"{type(self).__name__}({matrix_text(printer, self.matrix)})"


def write_out(expr: sp.Expr) -> sp.Expr:
    """Every matrix function of a numeric size in `expr` written out in its matrix's
    elements (det as the polynomial, the inverse's elements as rational functions), for
    `--hessian`, which differentiates the explicit form twice."""
    return expr.replace(
        lambda e: isinstance(e, MatrixFunction) and all(arg.is_Integer for arg in e.args[1:]),
        lambda e: e.written(),
    )


@functools.lru_cache(maxsize=64)
def _inverse(matrix: sp.Lambda, size: sp.Integer) -> sp.Matrix:
    """U^-1 written out (adjugate over det), once per matrix: each element asks for it."""
    explicit = inv(matrix, size, 0, 0).explicit()
    return explicit.adjugate() / explicit.det()


def _fresh(letter: str, taken: set[str]) -> str:
    """a, b; then a2, b2...: a name unused in the expression being differentiated."""
    suffix = ""
    while f"{letter}{suffix}" in taken:
        suffix = str(int(suffix or 1) + 1)
    return f"{letter}{suffix}"


def matrix_text(printer: Any, matrix: sp.Lambda) -> str:
    """`X` for X's own elements, `X.T` for its transpose, else `[U_ip]_ip`, the matrix
    whose element (i, p) is U_ip (render.text keeps rich from reading it as markup)."""
    (i, p), body = matrix.variables, matrix.expr
    if isinstance(body, sp.Indexed) and len(body.indices) == 2:
        if tuple(body.indices) in ((i, p), (0, 0)):  # (0, 0): a 1 x 1 X, pinned
            return str(body.base)
        if tuple(body.indices) == (p, i):
            return f"{body.base}.T"
    return f"[{printer._print(body)}]_{i}{p}"


class det(MatrixFunction):
    """det(U); d det(U)/dU_ab = det(U) (U^-1)_ba (Jacobi's formula)."""

    nargs = 2

    def _eval_derivative(self, s: Any) -> sp.Expr:
        c, d, du = self.slope(s)
        if du == 0:
            return sp.S.Zero
        return self.summed(self * inv(self.matrix, self.size, d, c) * du, c, d)

    def written(self) -> sp.Expr:
        return self.explicit().det()


class logabsdet(MatrixFunction):
    """log|det(U)|, slogdet's second output; d/dU_ab = (U^-1)_ba."""

    nargs = 2

    def _eval_derivative(self, s: Any) -> sp.Expr:
        c, d, du = self.slope(s)
        if du == 0:
            return sp.S.Zero
        return self.summed(inv(self.matrix, self.size, d, c) * du, c, d)

    def written(self) -> sp.Expr:
        return sp.log(sp.Abs(self.explicit().det()))


class signdet(MatrixFunction):
    """sign(det(U)), slogdet's first output: piecewise constant, so its derivative is 0."""

    nargs = 2

    def _eval_derivative(self, s: Any) -> sp.Expr:
        return sp.S.Zero

    def written(self) -> sp.Expr:
        return sp.sign(self.explicit().det())

    def _gradexplain_str(self, printer: Any) -> str:
        return f"sign(det({matrix_text(printer, self.matrix)}))"


class inv(MatrixFunction):
    """(U^-1)_rq, element (r, q) of the inverse; d(U^-1) = -U^-1 dU U^-1."""

    nargs = 4

    def _eval_derivative(self, s: Any) -> sp.Expr:
        c, d, du = self.slope(s)
        if du == 0:
            return sp.S.Zero
        row, column = self.args[2:]
        return -self.summed(
            inv(self.matrix, self.size, row, c) * du * inv(self.matrix, self.size, d, column), c, d
        )

    def written(self) -> sp.Expr:
        row, column = (int(index) for index in self.args[2:])
        return _inverse(self.matrix, self.size)[row, column]

    def _gradexplain_str(self, printer: Any) -> str:
        indices = [printer._print(index) for index in self.args[2:]]
        joined = (
            "".join(indices) if all(len(n) == 1 for n in indices) else "{" + ",".join(indices) + "}"
        )
        return f"inv({matrix_text(printer, self.matrix)})_{joined}"
