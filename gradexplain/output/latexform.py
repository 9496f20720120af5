"""A formula as LaTeX, for notebooks, reading as the one-line formula does.

SymPy's own latex() writes a sum over a whole axis with the axis' size symbol,
`\\sum_{m=0}^{n_{3} - 1}`, a size the reader never saw; `is_max` as `\\operatorname{is}_{max}`;
and det(X) as the Lambda it holds. Here a whole-axis sum is `\\sum_{m}` (the formula's
`sum_m`), a name with an underscore stays one name, a name of several letters is set as a
word (`\\mathit{weights}`), and the matrix functions read `\\det(X)`, `(X^{-1})_{k j}`.
"""

from __future__ import annotations

from typing import Any

import sympy as sp
from sympy.printing.latex import (
    LatexPrinter,
    accepted_latex_functions,
    greek_letters_set,
    other_symbols,
)

from gradexplain.witnesses.builder import is_length


class LatexForm(LatexPrinter):  # type: ignore[misc]  # sympy.printing.latex is untyped
    """SymPy's LaTeX printer with gradexplain's sums, names and matrix functions."""

    def _print_Sum(self, expr: Any) -> str:
        return self._reduction(expr, r"\sum")

    def _print_Product(self, expr: Any) -> str:
        return self._reduction(expr, r"\prod")

    def _reduction(self, expr: Any, sign: str) -> str:
        """`\\sum_{m} ` for the whole axis, `\\sum_{k=j + 1}^{n - 1} ` for part of it,
        outermost first (SymPy lists the innermost limit first), then the body."""
        parts = []
        for index, low, high in reversed(expr.limits):
            if low == 0 and is_length(high + 1):
                parts.append(f"{sign}_{{{self._print(index)}}} ")
            else:
                bound = f"{self._print(index)}={self._print(low)}"
                parts.append(f"{sign}_{{{bound}}}^{{{self._print(high)}}} ")
        body = str(self._print(expr.function))
        if isinstance(expr.function, sp.Add):
            body = rf"\left({body}\right)"
        return "".join(parts) + body

    def _print_Pow(self, expr: Any) -> str:
        """`(\\sum_{k} u_{k})^{2}`: SymPy takes our ScopedSum for an atom and drops the
        parentheses, so the square would read as the summand's."""
        if isinstance(expr.base, (sp.Sum, sp.Product)) and not expr.exp.is_negative:
            return rf"\left({self._print(expr.base)}\right)^{{{self._print(expr.exp)}}}"
        return str(super()._print_Pow(expr))

    def _hprint_Function(self, func: str) -> str:
        """`\\operatorname{is\\_max}`, one name, where SymPy reads `_max` as a subscript."""
        if func in accepted_latex_functions or len(func) == 1:
            return str(super()._hprint_Function(func))
        return r"\operatorname{" + func.replace("_", r"\_") + "}"

    def _print_Symbol(self, expr: Any, style: str = "plain") -> str:
        return _word(expr.name) or str(super()._print_Symbol(expr, style))

    def _print_IndexedBase(self, expr: Any) -> str:
        return _word(str(expr.label)) or str(super()._print_IndexedBase(expr))

    def _print_Indexed(self, expr: Any) -> str:
        indices = ",".join(self._print(index) for index in expr.indices)
        base = str(self._print(expr.base))
        if "_" in base:  # x2 is x_{2}: x_{2} at k is {x_{2}}_{k}, one subscript each
            base = f"{{{base}}}"
        return f"{base}_{{{indices}}}"

    def _print_is_max(self, expr: Any, exp: str | None = None) -> str:
        return _power(self._extreme(r"\operatorname{is\_max}", expr), exp)

    def _print_is_min(self, expr: Any, exp: str | None = None) -> str:
        return _power(self._extreme(r"\operatorname{is\_min}", expr), exp)

    def _extreme(self, name: str, expr: Any) -> str:
        """`is_max_m(X_jm)`: the subscript names the axes compared over; none for a
        whole vector (`compared_shown`)."""
        from gradexplain.ops.reductions import compared_shown

        over = " ".join(self._print(index) for index in compared_shown(expr))
        subscript = f"_{{{over}}}" if over else ""
        return rf"{name}{subscript}\left({self._print(expr.args[0])}\right)"

    def _print_det(self, expr: Any, exp: str | None = None) -> str:
        return _power(rf"\det\left({self._matrix(expr.matrix)}\right)", exp)

    def _print_logabsdet(self, expr: Any, exp: str | None = None) -> str:
        return _power(rf"\log\left|\det {self._matrix(expr.matrix)}\right|", exp)

    def _print_signdet(self, expr: Any, exp: str | None = None) -> str:
        return _power(rf"\operatorname{{sign}}\left(\det {self._matrix(expr.matrix)}\right)", exp)

    def _print_inv(self, expr: Any, exp: str | None = None) -> str:
        indices = " ".join(self._print(index) for index in expr.args[2:])
        return _power(rf"\left({self._matrix(expr.matrix)}^{{-1}}\right)_{{{indices}}}", exp)

    def _matrix(self, matrix: sp.Lambda) -> str:
        """`X`, `X^{T}`, or `[U_{i,p}]_{i p}`, the matrix whose element (i, p) is U_ip."""
        (i, p), body = matrix.variables, matrix.expr
        if isinstance(body, sp.Indexed) and len(body.indices) == 2:
            if tuple(body.indices) in ((i, p), (0, 0)):
                return str(self._print(body.base))
            if tuple(body.indices) == (p, i):
                return f"{self._print(body.base)}^{{T}}"
        return rf"\left[{self._print(body)}\right]_{{{self._print(i)} {self._print(p)}}}"


def _power(text: str, exp: str | None) -> str:
    """`text` raised to `exp`, which SymPy's Pow hands a function's printer: inv(X)_00**2."""
    return text if exp is None else rf"\left({text}\right)^{{{exp}}}"


def _word(name: str) -> str | None:
    """A name of several letters as one italic word (`\\mathit{weights}`), where plain
    math would set w e i g h t s as a product; None for x, x2, alpha (SymPy's own)."""
    stem = name.rstrip("0123456789")
    if len(stem) < 2 or stem.lower() in greek_letters_set or stem in other_symbols:
        return None
    digits = name[len(stem) :]
    word = r"\mathit{" + stem.replace("_", r"\_") + "}"
    return f"{word}_{{{digits}}}" if digits else word


def element(name: str, indices: tuple[str, ...]) -> str:
    """The differentiated element, `\\mathit{weights}_{j}`, `X_{j,k}`; a scalar's name."""
    symbol = sp.Symbol(name)
    if not indices:
        return latex(symbol)
    return latex(sp.Indexed(sp.IndexedBase(symbol), *map(sp.Symbol, indices)))


def latex(expr: sp.Expr) -> str:
    """The formula as LaTeX: `2 x_{j}`, `\\sum_{i} 2 \\left(...\\right) X_{i,j}`."""
    return str(LatexForm().doprint(expr))
