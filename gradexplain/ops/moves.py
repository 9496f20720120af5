"""The shape ops' rules as SymPy expressions: each moves elements, so d y/dx is the
Kronecker delta of the element each y element comes from (`flip`: delta(j, n - i - 1)).
`shape.py` names one of these per entry (`Move.moved`); the table's printer prints it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Parts = tuple[tuple[str, Any], ...]


def letters() -> dict[str, Any]:
    """The symbols the printed rules use: indices i, j, k, a, b, lengths n, n_a, a shift
    s, a diagonal d, and the Kronecker delta."""
    import sympy as sp

    found: dict[str, Any] = {
        c: sp.Symbol(c, integer=True, nonnegative=True) for c in ("i", "j", "k", "a", "b")
    }
    found |= {c: sp.Symbol(c, integer=True) for c in ("n", "n_a", "s", "d")}
    found["delta"] = sp.KroneckerDelta
    found["sp"] = sp
    return found


def same(s: dict[str, Any]) -> Parts:
    return (("d y_i/dx_j = ", s["delta"](s["i"], s["j"])),)


def transposed(s: dict[str, Any]) -> Parts:
    i, j, a, b, delta = s["i"], s["j"], s["a"], s["b"], s["delta"]
    return (("d y_ij/dX_ab = ", delta(i, b) * delta(j, a)),)


def flipped(s: dict[str, Any]) -> Parts:
    return (("d y_i/dx_j = ", s["delta"](s["j"], s["n"] - 1 - s["i"])),)


def rolled(s: dict[str, Any]) -> Parts:
    sp = s["sp"]
    return (("d y_i/dx_j = ", s["delta"](s["j"], sp.Mod(s["i"] - s["s"], s["n"]))),)


def tiled(s: dict[str, Any]) -> Parts:
    return (("d y_i/dx_j = ", s["delta"](s["j"], s["sp"].Mod(s["i"], s["n"]))),)


def stretched(s: dict[str, Any]) -> Parts:
    return (("d y_ik/dx_j = ", s["delta"](s["i"], s["j"])),)


def triangle(upper: bool) -> Callable[[dict[str, Any]], Parts]:
    def form(s: dict[str, Any]) -> Parts:
        sp, i, j, a, b, d = s["sp"], s["i"], s["j"], s["a"], s["b"], s["d"]
        kept = sp.Ge(j - i, d) if upper else sp.Le(j - i, d)
        moved = s["delta"](i, a) * s["delta"](j, b)
        return (("d y_ij/dX_ab = ", sp.Piecewise((moved, kept), (0, True))),)

    return form


def joined(s: dict[str, Any]) -> Parts:
    sp, i, j, n_a, delta = s["sp"], s["i"], s["j"], s["n_a"], s["delta"]
    first = sp.Piecewise((delta(i, j), sp.Lt(i, n_a)), (0, True))
    second = sp.Piecewise((delta(i - n_a, j), sp.Ge(i, n_a)), (0, True))
    return (("d y_i/da_j = ", first), ("d y_i/db_j = ", second))


def stacked(s: dict[str, Any]) -> Parts:
    sp, i, j, k, delta = s["sp"], s["i"], s["j"], s["k"], s["delta"]
    return (
        ("d y_ki/da_j = ", sp.Piecewise((delta(i, j), sp.Eq(k, 0)), (0, True))),
        ("d y_ki/db_j = ", sp.Piecewise((delta(i, j), sp.Eq(k, 1)), (0, True))),
    )
