"""Kronecker deltas out of a derivative in generic elements, without SymPy's `.doit()`.

`diff(L, W[j, k])` leaves `Sum(f*KroneckerDelta(m, j), m)` wherever L sums over W's
elements; the gradient is f at m = j. `Sum.doit()` would do that and more: it also tries
closed forms (Gosper's algorithm, `solve`, the simplifier), which crashed on
`log_softmax(X@W + b, dim=1)` and can run for minutes. We never need a closed form (numpy
evaluates the sums), so the deltas are resolved here by substitution, and nothing else.
"""

from __future__ import annotations

import sympy as sp

from gradexplain.scoped import ScopedSum


def derivative(loss: sp.Expr, target: sp.Expr) -> sp.Expr:
    """dL/d target in generic elements, every rank: SymPy's diff, deltas resolved here."""
    return resolve_deltas(real_parts(name_dummies(sp.diff(loss, target))))


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
    names = [_DUMMY_LETTERS[n] if n < len(_DUMMY_LETTERS) else f"h{n + 1}"
             for n in range(len(dummies))]
    return expr.xreplace({dummy: sp.Symbol(name, integer=True, nonnegative=True)
                          for dummy, name in zip(dummies, names)})


_DUMMY_LETTERS = "hgf"


def resolve_deltas(expr: sp.Expr) -> sp.Expr:
    """Sum over m of `f * KroneckerDelta(m, t)` is `f` at m = t, innermost sums first.

    The delta may sit deep in the summand: in an inner Sum, as `@` builds them, or in a
    where(). Both indices run over axes of equal length (the shape pass checked it), so t
    is always in range and no guard is needed. Sums without a delta stay as they are.
    """
    resolved = expr.replace(lambda e: isinstance(e, sp.Sum), _resolve_sum)
    return resolved.replace(lambda e: isinstance(e, sp.Add), _merge_wheres)


def _resolve_sum(total: sp.Sum) -> sp.Expr:
    """Resolve the limits of one Sum, innermost first; SymPy merges nested Sums into one."""
    result: sp.Expr = total.function
    for limit in total.limits:
        result = _resolve_limit(result, limit)
    return result


def _resolve_limit(function: sp.Expr, limit: tuple[sp.Expr, ...]) -> sp.Expr:
    """The deltas' terms at their partner index; a term free of the index, times the count."""
    index = limit[0]
    if index not in function.free_symbols:
        return function * _count(limit)
    kept, resolved = [], []
    for term in _terms(function, index):
        value = _at_delta(term, index)
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
    """How many terms a full-range limit has: n on the 1-D path, the number (not `n3`)
    on the shaped one."""
    count = limit[2] - limit[1] + 1
    if isinstance(count, sp.Symbol) and count.name[1:].isdigit():
        return sp.Integer(int(count.name[1:]))
    return count


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
        rest.append(common * sp.Piecewise(*(
            (sp.Add(*(c / common * where.args[n][0] for c, where in group)), condition)
            for n, condition in enumerate(conditions))))
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
            bound.has(index) for limit in expr.limits for bound in limit[1:]):
        return [ScopedSum(term, *expr.limits) for term in _terms(expr.function, index)]
    if isinstance(expr, sp.Piecewise):
        return [term for position in range(len(expr.args))
                for term in _branch_terms(expr, position, index)]
    if isinstance(expr, sp.Mul):
        factors = list(expr.args)
        for position, factor in enumerate(factors):
            parts = _terms(factor, index)
            if len(parts) > 1:
                rest = sp.Mul(*factors[:position], *factors[position + 1:])
                return [term for part in parts for term in _terms(rest * part, index)]
    return [expr]


def _branch_terms(where: sp.Piecewise, position: int, index: sp.Symbol) -> list[sp.Expr]:
    """One where() per term of one branch, 0 in the others: each is linear in its delta.

    `where(c, a*delta + b, 0)` is `where(c, a*delta, 0) + where(c, b, 0)`; the first
    resolves, the second (no delta) stays in the Sum. Keeping the branches whole would
    leave the delta in a where() whose other branch has none.
    """
    value, _ = where.args[position]
    return [sp.Piecewise(*((term if n == position else sp.S.Zero, condition)
                           for n, (_, condition) in enumerate(where.args)))
            for term in _terms(value, index) if term != 0]


def _has_delta(expr: sp.Expr, index: sp.Symbol) -> bool:
    return any(index in delta.args for delta in expr.atoms(sp.KroneckerDelta))


def _at_delta(term: sp.Expr, index: sp.Symbol) -> sp.Expr | None:
    """`term` with its factor delta(index, t) removed and index set to t; None if none.

    The delta may sit in an inner Sum or in a where() (`_terms` split it so that each
    branch is 0 or one term with the delta): both are linear in it. (SymPy's
    piecewise_fold would pull a where() out of a Sum, which is wrong here; see scoped.py.)
    """
    if term == 0:
        return sp.S.Zero
    if isinstance(term, sp.Add):
        parts = [_at_delta(part, index) for part in term.args]
        return None if any(p is None for p in parts) else sp.Add(*parts)
    factors = sp.Mul.make_args(term)
    for position, factor in enumerate(factors):
        rest = sp.Mul(*factors[:position], *factors[position + 1:])
        if isinstance(factor, sp.KroneckerDelta) and index in factor.args:
            other = factor.args[1] if factor.args[0] == index else factor.args[0]
            return None if other.has(index) else rest.subs(index, other)
        inner = _inside(factor, index)
        if inner is not None:
            return rest.subs(index, _delta_partner(factor, index)) * inner
    return None


def _inside(factor: sp.Expr, index: sp.Symbol) -> sp.Expr | None:
    """A Sum or where() factor with the delta resolved inside it, or None."""
    if isinstance(factor, sp.Sum) and not any(
            bound.has(index) for limit in factor.limits for bound in limit[1:]):
        inner = _at_delta(factor.function, index)
        return None if inner is None else ScopedSum(inner, *factor.limits)
    if isinstance(factor, sp.Piecewise) and any(
            index in delta.args for delta in factor.atoms(sp.KroneckerDelta)):
        partner = _delta_partner(factor, index)
        pieces = [(_at_delta(value, index), condition) for value, condition in factor.args]
        if any(value is None for value, _ in pieces):
            return None
        return sp.Piecewise(*((value, condition.subs(index, partner))
                              for value, condition in pieces))
    return None


def _delta_partner(expr: sp.Expr, index: sp.Symbol) -> sp.Expr:
    """The other index of the first delta that involves `index`."""
    for delta in expr.atoms(sp.KroneckerDelta):
        if index in delta.args:
            return delta.args[1] if delta.args[0] == index else delta.args[0]
    raise AssertionError("no delta")
