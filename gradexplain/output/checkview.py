"""The --expect table and the --cases summary as `view` blocks, so the terminal fits and
draws them with the main table's code (`render.draw`, `fit.py`): numbers shorten, then
one line per row, at any width.

Nothing here imports rich; `report.show` hands the blocks to `render.draw` for the
terminal and to `markdown.write` for Markdown, so both formats show one table.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from gradexplain.errors import ExitStatus
from gradexplain.output.formatting import fmt
from gradexplain.output.safetext import visible
from gradexplain.output.view import Block, Column, Grid, Label, Mark, Verdict
from gradexplain.status import worst_status as worst_status_of

if TYPE_CHECKING:
    from gradexplain.cases import Outcome
    from gradexplain.witnesses.expect import Expectation

_TONES = {  # the style of a case's verdict, named as the main table's marks are
    ExitStatus.AGREE: "ok",
    ExitStatus.DISAGREE: "DIFFERS",
    ExitStatus.UNDEFINED: "UNDEFINED",
    ExitStatus.INVALID: "DIFFERS",
}


def expectations(checks: list[Expectation]) -> tuple[Block, ...]:
    """Expected against both witnesses per element, then one verdict line."""
    from gradexplain.witnesses.expect import rows, verdict

    columns = (
        Column(Label("gradient"), right=False, code=True),
        Column(Label("i")),
        Column(Label("expected")),
        Column(Label("SymPy")),
        Column(Label("autograd")),
        Column(Label(""), right=False, mark=True),
    )
    body = tuple(
        (
            f"dL/d{check.name}",
            index,
            fmt(wanted),
            fmt(symbolic),
            fmt(autograd),
            Mark("ok") if ok else Mark("MISMATCH", "DIFFERS"),
        )
        for check in checks
        for index, wanted, symbolic, autograd, ok in rows(check)
    )
    matched = all(check.matches for check in checks)
    return (
        Grid(Label("Expected gradient (--expect)"), columns, body),
        Verdict(ExitStatus.AGREE if matched else ExitStatus.DISAGREE, verdict(checks)),
    )


def cases(outcomes: list[Outcome], path: str) -> tuple[Block, ...]:
    """One row per case (an error message wraps in its cell), then the counts."""
    columns = (
        Column(Label("case"), right=False, wrap=True, quoted=True),
        Column(Label("verdict"), right=False, mark=True),
        Column(Label("largest difference"), right=False, wrap=True, quoted=True),
    )
    body = tuple(
        (
            visible(outcome.case.name),
            Mark(outcome.label(), _TONES[outcome.status]),
            visible(difference(outcome)),
        )
        for outcome in outcomes
    )
    title = Label("gradexplain --cases", note=visible(path), quoted=True)
    worst_status = worst_status_of(outcome.status for outcome in outcomes)
    tone = ExitStatus.DISAGREE if worst_status == ExitStatus.INVALID else worst_status
    return Grid(title, columns, body), Verdict(tone, counts(outcomes))


def difference(outcome: Outcome) -> str:
    if outcome.error is not None:
        return outcome.error.message
    return f"{outcome.largest_difference:.3g}"


def counts(outcomes: list[Outcome]) -> str:
    tally = Counter(outcome.status.name.lower() for outcome in outcomes)
    order = ("agree", "disagree", "undefined", "invalid")
    return f"{len(outcomes)} cases: " + ", ".join(f"{tally[k]} {k}" for k in order if k in tally)
