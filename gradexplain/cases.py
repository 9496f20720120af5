"""A case of `--cases` and what it came to: the records the batch run, its summary and
the JUnit report share (`batch.py` runs them, `junit.py` writes them)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gradexplain.errors import ExitStatus, GradexplainError

if TYPE_CHECKING:
    from gradexplain.result import Explanation
    from gradexplain.witnesses.expect import Expectation


@dataclass(frozen=True)
class Case:
    """One case as read from the file, before any check."""

    name: str
    line: int | None  # 1-based line of the case in the file
    fields: dict[str, Any]


@dataclass(frozen=True)
class Outcome:
    """What one case came to: an explanation (and expectations), or an error."""

    case: Case
    status: ExitStatus
    result: Explanation | None = None
    checks: list[Expectation] | None = None
    error: GradexplainError | None = None
    seconds: float = 0.0

    @property
    def largest_difference(self) -> float:
        """The largest |difference| between witnesses (gradients, Hessian), or against an
        expectation."""
        if self.result is None:
            return math.nan
        diffs = [g.max_abs_diff for g in self.result.gradients.values()]
        diffs += [c.max_abs_diff for c in self.checks or []]
        if self.result.hessian is not None:
            diffs.append(self.result.hessian.max_abs_diff)
        finite = [d for d in diffs if not math.isnan(d)]
        return max(finite) if finite else math.nan

    def label(self) -> str:
        """The verdict in a word or two, for the summary."""
        if self.error is not None:
            return f"invalid ({self.error.kind})"
        if self.checks and not all(c.matches for c in self.checks):
            return (
                "expect mismatch" if self.result and self.result.agree else self.status.name.lower()
            )
        return self.status.name.lower()
