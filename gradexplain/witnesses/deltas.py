"""Kronecker deltas out of a derivative in generic elements, without SymPy's `.doit()`.

`diff(L, W[j, k])` leaves `Sum(f*KroneckerDelta(m, j), m)` wherever L sums over W's
elements; the gradient is f at m = j. `Sum.doit()` would do that and more: it also tries
closed forms (Gosper's algorithm, `solve`, the simplifier), which crashed on
`log_softmax(X@W + b, dim=1)` and can run for minutes. We never need a closed form (numpy
evaluates the sums), so the deltas are resolved here by substitution, and nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping

import sympy as sp

from gradexplain.witnesses.scoped import ScopedSum

Ranges = Mapping[sp.Symbol, sp.Expr]  # a target index (j, k) -> the last value it takes


def derivative(loss: sp.Expr, target: sp.Expr, ranges: Ranges | None = None) -> sp.Expr:
    """dL/d target in generic elements, every rank: SymPy's diff, deltas resolved here.
    `ranges` gives the target indices' last values, to guard a sliced sum (`x[:2]`)."""
    return resolve_deltas(real_parts(name_dummies(sp.diff(loss, target))), ranges)


def real_parts(expr: sp.Expr) -> sp.Expr:
    """re(u) is u and im(u) is 0: every value here is real.

    SymPy cannot always tell that a Sum of real terms is real, so `diff(abs(u))` can come
    back as `(re(u)*re(du) + im(u)*im(du))*sign(u)/u`, with the deltas of `du` shut away
    inside re() and im(), where no sum can resolve them.
    """
    return expr.replace(sp.re, lambda arg: arg).replace(sp.im, lambda arg: sp.S.Zero)


def name_dummies(expr: sp.Expr) -> sp.Expr:
    """Product's derivative sums over a Dummy; make it an index like ours (h, g, f, h4...)."""
    dummies = sorted(expr.atoms(sp.Dummy), key=lambda d: d.dummy_index)
    names = [*_DUMMY_LETTERS, *(f"h{n + 1}" for n in range(len(_DUMMY_LETTERS), len(dummies)))]
    return expr.xreplace(
        {d: sp.Symbol(name, integer=True, nonnegative=True) for d, name in zip(dummies, names)}
    )


_DUMMY_LETTERS = "hgf"


def resolve_deltas(expr: sp.Expr, ranges: Ranges | None = None) -> sp.Expr:
    """Sum over m of `f * KroneckerDelta(m, t)` is `f` at m = t, innermost sums first.

    The delta may sit deep in the summand: in an inner Sum, as `@` builds them, or in a
    where(). Where both indices run over axes of equal length (the shape pass checked
    it), t is always in range and no guard is needed. An index re-indexed by a slice
    (`x[1:3]` is `x[m + 1]`, `x[:2]` runs m over 0..1 only) gives `f` at m = t - 1 where
    1 <= t <= 2, and 0 elsewhere: a guard, `where(1 <= t <= 2, f, 0)`. Sums without a
    delta stay as they are.
    """
    known = dict(ranges or {})
    resolved = expr.replace(
        lambda e: isinstance(e, sp.Sum), lambda total: _resolve_sum(total, known)
    )
    return resolved.replace(lambda e: isinstance(e, sp.Add), _merge_wheres)


def _resolve_sum(total: sp.Sum, ranges: Ranges) -> sp.Expr:
    """Resolve the limits of one Sum, innermost first; SymPy merges nested Sums into one."""
    result: sp.Expr = total.function
    for limit in total.limits:
        result = _resolve_limit(result, limit, ranges)
    return result


def _resolve_limit(function: sp.Expr, limit: tuple[sp.Expr, ...], ranges: Ranges) -> sp.Expr:
    """The deltas' terms at their partner index; a term free of the index, times the count."""
    index = limit[0]
    if index not in function.free_symbols:
        return function * _count(limit)
    kept, resolved = [], []
    for term in _terms(function, index):
        value = _at_delta(term, limit, ranges)
        if value is not None:
            resolved.append(value)
        elif index not in term.free_symbols:
            resolved.append(term * _count(limit))
        else:
            kept.append(term)
    if not resolved:
        return ScopedSum(function, limit)
    return sp.Add(*resolved) + (ScopedSum(sp.Add(*kept), limit) if kept else 0)


def _count(limit: tuple[sp.Expr, ...]) -> sp.Expr:
    """How many terms a full-range limit has: its size symbol (`n3`), which a program
    of vectors of one length shows as n and any other as its number (`symbolic.shown`)."""
    return limit[2] - limit[1] + 1


def _merge_wheres(total: sp.Add) -> sp.Expr:
    """`where(c, a, 0) + where(c, 0, b)` is `where(c, a, b)`, as the user wrote it.

    Resolving a delta inside one branch of a where() splits it per branch
    (`_branch_terms`); terms whose where() has the same conditions join again here.
    """
    groups: dict[tuple[sp.Expr, ...], list[tuple[sp.Expr, sp.Piecewise]]] = {}
    rest = []
    for term in total.args:
        factors = sp.Mul.make_args(term)
        wheres = [f for f in factors if isinstance(f, sp.Piecewise)]
        if len(wheres) != 1:
            rest.append(term)
            continue
        coefficient = sp.Mul(*(f for f in factors if f is not wheres[0]))
        conditions = tuple(condition for _, condition in wheres[0].args)
        groups.setdefault(conditions, []).append((coefficient, wheres[0]))
    if all(len(group) == 1 for group in groups.values()):
        return total
    for conditions, group in groups.items():
        common = group[0][0] if all(c == group[0][0] for c, _ in group) else sp.S.One
        rest.append(
            common
            * sp.Piecewise(
                *(
                    (sp.Add(*(c / common * where.args[n][0] for c, where in group)), condition)
                    for n, condition in enumerate(conditions)
                )
            )
        )
    return sp.Add(*rest)


def _terms(expr: sp.Expr, index: sp.Symbol) -> list[sp.Expr]:
    """`expr` as a sum of terms, split only where a delta in `index` sits in a sum.

    `(a*delta(i, j) + b)*y` becomes `a*delta(i, j)*y` and `b*y`; Adds and Sums without
    such a delta stay whole, so nothing is expanded that need not be.
    """
    if not _has_delta(expr, index):
        return [expr]
    if isinstance(expr, sp.Add):
        return [term for part in expr.args for term in _terms(part, index)]
    if isinstance(expr, sp.Sum) and not any(
        bound.has(index) for limit in expr.limits for bound in limit[1:]
    ):
        return [ScopedSum(term, *expr.limits) for term in _terms(expr.function, index)]
    if isinstance(expr, sp.Piecewise):
        return [
            term
            for position in range(len(expr.args))
            for term in _branch_terms(expr, position, index)
        ]
    if isinstance(expr, sp.Mul):
        factors = list(expr.args)
        for position, factor in enumerate(factors):
            parts = _terms(factor, index)
            if len(parts) > 1:
                rest = sp.Mul(*factors[:position], *factors[position + 1 :])
                return [term for part in parts for term in _terms(rest * part, index)]
    return [expr]


def _branch_terms(where: sp.Piecewise, position: int, index: sp.Symbol) -> list[sp.Expr]:
    """One where() per term of one branch, 0 in the others: each is linear in its delta.

    `where(c, a*delta + b, 0)` is `where(c, a*delta, 0) + where(c, b, 0)`; the first
    resolves, the second (no delta) stays in the Sum. Keeping the branches whole would
    leave the delta in a where() whose other branch has none.
    """
    value, _ = where.args[position]
    return [
        sp.Piecewise(
            *(
                (term if n == position else sp.S.Zero, condition)
                for n, (_, condition) in enumerate(where.args)
            )
        )
        for term in _terms(value, index)
        if term != 0
    ]


def _has_delta(expr: sp.Expr, index: sp.Symbol) -> bool:
    return any(delta.has(index) for delta in expr.atoms(sp.KroneckerDelta))


def _at_delta(term: sp.Expr, limit: tuple[sp.Expr, ...], ranges: Ranges) -> sp.Expr | None:
    """`term` with its factor delta(index, t) removed and index set to t; None if none.

    The delta may sit in an inner Sum or in a where() (`_terms` split it so that each
    branch is 0 or one term with the delta): both are linear in it. (SymPy's
    piecewise_fold would pull a where() out of a Sum, which is wrong here; see scoped.py.)
    """
    index = limit[0]
    if term == 0:
        return sp.S.Zero
    if isinstance(term, sp.Add):
        parts = [_at_delta(part, limit, ranges) for part in term.args]
        return None if any(p is None for p in parts) else sp.Add(*parts)
    factors = sp.Mul.make_args(term)
    for position, factor in enumerate(factors):
        rest = sp.Mul(*factors[:position], *factors[position + 1 :])
        solved = (
            _solve(factor, limit, ranges)
            if isinstance(factor, sp.KroneckerDelta) and factor.has(index)
            else None
        )
        if solved is not None:
            return _guarded(rest.subs(index, solved[0]), solved[1])
        inner = _inside(factor, limit, ranges)
        found = None if inner is None else _delta_partner(factor, limit, ranges)
        if found is not None:
            solution, guard = found
            return _guarded(rest.subs(index, solution) * inner, guard)
    return None


def _solve(
    delta: sp.Expr, limit: tuple[sp.Expr, ...], ranges: Ranges
) -> tuple[sp.Expr, sp.Expr] | None:
    """delta(a*m + c, t) holds at m = (t - c)/a: (that m, where it lies in m's range).

    a is a nonzero integer (a slice's step, -1 for a flip); the guard is true where m's
    range and t's are the same axis, as `@` and broadcasting make them (t an index or a
    data element, not an expression such as r + 1, which can run past m's range).
    """
    index, low, high = limit
    one, other = delta.args
    if other.has(index):
        one, other = other, one
    if other.has(index):
        return None
    slope = sp.diff(one, index)
    offset = sp.expand(one - slope * index)
    if not slope.is_Integer or slope == 0 or offset.has(index):
        return None
    solution = (other - offset) / slope
    if (
        slope == 1
        and offset == 0
        and isinstance(other, (sp.Symbol, sp.Indexed))  # a partner r + 1 may leave the range
        and ranges.get(other, high) == high
        and low == 0
        and all(symbol.is_positive for symbol in high.free_symbols)  # a length: not m < j
    ):
        return solution, sp.true
    low, high = _numbers(low), _numbers(high)
    guard = sp.And(sp.Ge(solution, low), sp.Le(solution, high))
    if abs(slope) != 1:
        guard = sp.And(guard, sp.Eq(sp.Mod(other - offset, slope), 0))
    return solution, guard


def _numbers(expr: sp.Expr) -> sp.Expr:
    """The shaped path's length symbols as numbers (n2 - 1 is 1), for a guard that reads."""
    return expr.xreplace(
        {
            symbol: sp.Integer(int(symbol.name[1:]))
            for symbol in expr.free_symbols
            if symbol.is_positive and symbol.name[1:].isdigit()
        }
    )


def _guarded(value: sp.Expr, guard: sp.Expr) -> sp.Expr:
    """`value` where the guard holds, else 0 (a where(): no 0*inf at excluded elements)."""
    if guard is sp.true or value == 0:
        return value
    return sp.Piecewise((value, guard), (sp.S.Zero, True))


def _inside(factor: sp.Expr, limit: tuple[sp.Expr, ...], ranges: Ranges) -> sp.Expr | None:
    """A Sum or where() factor with the delta resolved inside it, or None."""
    index = limit[0]
    if isinstance(factor, sp.Sum) and not any(
        bound.has(index) for inner in factor.limits for bound in inner[1:]
    ):
        inner = _at_delta(factor.function, limit, ranges)
        return None if inner is None else ScopedSum(inner, *factor.limits)
    if isinstance(factor, sp.Piecewise) and _has_delta(factor, index):
        found = _delta_partner(factor, limit, ranges)
        if found is None:  # only deltas of floor/% (a repeat): left for the evaluator
            return None
        partner = found[0]
        pieces = [(_at_delta(value, limit, ranges), condition) for value, condition in factor.args]
        if any(value is None for value, _ in pieces):
            return None
        return sp.Piecewise(
            *((value, condition.subs(index, partner)) for value, condition in pieces)
        )
    return None


def _delta_partner(
    expr: sp.Expr, limit: tuple[sp.Expr, ...], ranges: Ranges
) -> tuple[sp.Expr, sp.Expr] | None:
    """Where the first solvable delta that involves the index holds, and its guard."""
    for delta in expr.atoms(sp.KroneckerDelta):
        solved = _solve(delta, limit, ranges) if delta.has(limit[0]) else None
        if solved is not None:
            return solved
    return None
