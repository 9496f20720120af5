"""One request, one answer: the command line and every `--cases` case run through `answer()`.

A request is what the options say (expression, values, --wrt, device, dtype, tolerances,
--expect, and the CI extras --check-fd and --hessian); the answer is the explanation, the
expectation checks and the exit status. Printing is the caller's, so a case cannot come to
a different verdict than the same options on the command line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from gradexplain.errors import ExitStatus
from gradexplain.status import exit_status

if TYPE_CHECKING:
    from gradexplain.ir.values import Values
    from gradexplain.result import Explanation
    from gradexplain.teach.extras import Options
    from gradexplain.witnesses.expect import Expectation


@dataclass(frozen=True)
class Request:
    """One explanation to compute. `shown` holds the CLI's display extras (--graph, --steps,
    ...); `check_fd` here, not `shown.check_fd`, decides the finite differences."""

    expression: str
    values: Mapping[str, Values]
    wrt: str | None = None  # "w,b"; None: every variable
    device: str = "cpu"
    dtype: str = "float64"
    rtol: float | None = None
    atol: float | None = None
    expect: Mapping[str, Values] = field(default_factory=dict)
    check_fd: bool = False
    hessian: bool = False
    shown: Options | None = None

    def extras(self) -> Options | None:
        """The teaching extras to compute, --check-fd among them; None when there are none."""
        if self.shown is None and not self.check_fd:  # extras.py need not load
            return None
        from gradexplain.teach.extras import Options

        options = replace(self.shown or Options(), check_fd=self.check_fd)
        return options if options.any() else None


@dataclass(frozen=True)
class Answer:
    """The explanation, the --expect checks (None without --expect) and the exit status."""

    result: Explanation
    checks: list[Expectation] | None
    status: ExitStatus


def answer(request: Request) -> Answer:
    """Check the request, compute, compare with --expect, add the extras: the CLI's order.
    expect.py and extras.py load only when asked for (start-up: README, Performance)."""
    from gradexplain.ir.program import build

    options = request.extras()
    program = build(request.expression, request.values, request.wrt)
    if request.expect:
        from gradexplain.witnesses import expect

        expect.check_shapes(request.expect, list(program.wrt), request.values)
    from gradexplain.api import explain_program  # after the input's checks: they need none of it

    result = explain_program(
        program,
        device=request.device,
        dtype=request.dtype,
        rtol=request.rtol,
        atol=request.atol,
        hessian=request.hessian,
    )
    checks = expect.compare(result, request.expect) if request.expect else None
    if options is not None:
        from gradexplain.teach import extras

        extras.add(result, options)
    return Answer(result, checks, exit_status(result, checks))
