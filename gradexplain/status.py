"""How a run ends: the one place that turns an outcome or an exception into an exit status.

httpie's model: an `ExitStatus` enum (in `errors.py`) and one function from what happened
to the status. Everything that ends a run (the CLI, `--cases`, JSON's error document, the
library's `Explanation.status`) asks `exit_status`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from gradexplain.errors import ExitStatus, GradexplainError, StreamFault


class Check(Protocol):
    """An `--expect` check (expect.Expectation): did the expected gradient match?"""

    @property
    def matches(self) -> bool: ...


class Run(Protocol):
    """What the status needs of an explanation (result.Explanation); read-only, as it is."""

    @property
    def singularities(self) -> Sequence[Any]: ...

    @property
    def gradients(self) -> Mapping[str, Any]: ...

    @property
    def agree(self) -> bool: ...

    @property
    def extras(self) -> Mapping[str, Any]: ...


def exit_status(outcome: Run | BaseException, checks: Sequence[Check] | None = None) -> ExitStatus:
    """How a run ends: from its explanation (and `--expect` checks), or from what it raised.

    Undefined or not finite beats everything (3); then the witnesses' disagreement (SymPy
    and autograd, the Hessian's two, and finite differences with --check-fd: a third
    witness that differs fails the run, as gradcheck does) or an expected value that does
    not match (1). A user's error ends as it says (2); a fault of
    the streams or of an output file as it says (74, 141); Ctrl-C is 130, as shells and
    httpie report it; any other exception is a bug in gradexplain (70).
    """
    if isinstance(outcome, (GradexplainError, StreamFault)):
        return outcome.exit_status
    if isinstance(outcome, KeyboardInterrupt):
        return ExitStatus.INTERRUPTED
    if isinstance(outcome, BaseException):
        return ExitStatus.INTERNAL
    if outcome.singularities or not all(g.finite for g in outcome.gradients.values()):
        return ExitStatus.UNDEFINED
    if not (
        outcome.agree and third_witness_agrees(outcome) and all(c.matches for c in checks or ())
    ):
        return ExitStatus.DISAGREE
    return ExitStatus.AGREE


def third_witness_agrees(outcome: Run) -> bool:
    """--check-fd's finite differences agree with autograd (True when none were asked for)."""
    return all(fd.agree for fd in outcome.extras.get("finite_differences", {}).values())


# --cases ends with its worst case's status: ranked, not by number (invalid 2 is worst).
RANKED = (ExitStatus.AGREE, ExitStatus.DISAGREE, ExitStatus.UNDEFINED, ExitStatus.INVALID)


def worst_status(statuses: Iterable[ExitStatus]) -> ExitStatus:
    """The worst of several runs' statuses (agree < disagree < undefined < invalid)."""
    return max(statuses, key=RANKED.index, default=ExitStatus.AGREE)
