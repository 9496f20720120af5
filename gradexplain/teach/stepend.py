"""The steps end in the table's formula: one form for each derivative in one run.

The rules (steps.py) build dL/dx_j their own way; SymPy's derivative, which the table
prints, may order or group the same terms otherwise (`sign(-w_j + x_j)/n` against
`-sign(w_j - x_j)/n`, or a sum over an axis of length 1 left standing). Where the two
print differently, the derivation gets one more line, the table's formula, once both
give the same numbers at every element of the variable here (the evaluator of the
symbolic witness; autograd is not asked). So the last line of --steps is always the
text the table shows; if the numbers differed, that would be a bug of the rules, and
the line is not added (tests/test_steps.py checks the rules against SymPy).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from gradexplain.teach.steps import Derivation
from gradexplain.witnesses import symbolic
from gradexplain.witnesses.closeness import same_numbers

SAME = "the table's formula, as SymPy writes it (equal at every element here)"


def end_in_table(
    derivations: Mapping[str, Derivation],
    tables: Mapping[str, Any],
    values: Mapping[str, Any],
) -> dict[str, Derivation]:
    """Each derivation, ending in `tables[name]` (SymPy's gradient) where it printed
    otherwise; `values` are the run's `Values`."""
    return {
        name: _ended(derivation, tables.get(name), values)
        for name, derivation in derivations.items()
    }


def _ended(derivation: Derivation, table: Any, values: Mapping[str, Any]) -> Derivation:
    parts = derivation.parts
    if table is None or parts is None:
        return derivation
    text = symbolic.formula(table, parts.notation)
    if text == derivation.formula or not _same_numbers(derivation, table, values):
        return derivation
    line = f"{SAME}: dL/d{parts.target} = {text}"
    return dataclasses.replace(
        derivation,
        lines=(*derivation.lines, line),
        formula=text,
        parts=dataclasses.replace(parts, table=table),
    )


def _same_numbers(derivation: Derivation, table: Any, values: Mapping[str, Any]) -> bool:
    """Both formulas at every element of the variable, by the symbolic evaluator, under
    closeness.same_numbers (our own code against itself, not the witnesses' tolerance;
    both undefined at an element is alike, as numpy's equal_nan was)."""
    from gradexplain.ir.values import arrays_and_scalars
    from gradexplain.witnesses.evaluate import Evaluator

    arrays, scalars = arrays_and_scalars(values)
    shape = values[derivation.name].shape
    targets = symbolic.TARGETS[: len(shape)]
    ours, sympys = (
        Evaluator(arrays, scalars, derivation.sizes).tensor(expr, targets, shape)
        for expr in (derivation.expr, table)
    )
    return same_numbers(ours, sympys, undefined_alike=True)
