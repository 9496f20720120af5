"""JUnit XML for `--cases --junit-xml PATH`: one testcase per case, as CI systems show it.

A disagreement, an expectation mismatch or an undefined gradient is a <failure> whose text
lists the differing elements (of the gradient, the Hessian with `hessian`, the finite
differences with `check_fd`); an invalid case is an <error> with its message. Every
string is `safetext.visible()`: a control character in a case name is shown escaped, so
the document stays well-formed XML 1.0.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from gradexplain.errors import ExitStatus
from gradexplain.output.safetext import visible

if TYPE_CHECKING:
    from gradexplain.cases import Outcome

MAX_LISTED = 50  # elements listed per gradient in a failure's text


def build(outcomes: list[Outcome], seconds: float) -> ET.Element:
    """The <testsuites> tree."""
    failures = sum(o.status in (ExitStatus.DISAGREE, ExitStatus.UNDEFINED) for o in outcomes)
    errors = sum(o.status == ExitStatus.INVALID for o in outcomes)
    counts = {
        "tests": str(len(outcomes)),
        "failures": str(failures),
        "errors": str(errors),
        "skipped": "0",
        "time": f"{seconds:.3f}",
    }
    root = ET.Element("testsuites", {"name": "gradexplain", **counts})
    suite = ET.SubElement(root, "testsuite", {"name": "gradexplain", **counts})
    for outcome in outcomes:
        attributes = {
            "classname": "gradexplain",
            "name": visible(outcome.case.name),
            "time": f"{outcome.seconds:.3f}",
        }
        if outcome.case.line:
            attributes["line"] = str(outcome.case.line)
        case = ET.SubElement(suite, "testcase", attributes)
        if outcome.error is not None:
            message = visible(outcome.error.message)
            error = ET.SubElement(case, "error", {"type": outcome.error.kind, "message": message})
            error.text = message
        elif outcome.status != ExitStatus.AGREE:
            assert outcome.result is not None
            failure = ET.SubElement(
                case, "failure", {"type": outcome.label(), "message": visible(_message(outcome))}
            )
            failure.text = "\n".join(map(visible, differences(outcome)))
    return root


def differences(outcome: Outcome) -> list[str]:
    """Per element: the witnesses that differ, and expected values that do not match."""
    from gradexplain.output.formatting import fmt

    result = outcome.result
    assert result is not None
    lines, hessian = [result.verdict()], result.hessian
    compared: list[tuple[Callable[[int], str], Any]] = [
        (partial(_label, g.name, g.shape), g) for g in result.gradients.values()
    ]
    if hessian is not None and hessian.undefined is None:  # SymPy's against torch.func's
        names = [f"d2L/d{a}d{b}" for a in hessian.labels for b in hessian.labels]
        compared.append((names.__getitem__, hessian))
    for label, found in compared:
        symbolic, autograd = found.symbolic.reshape(-1), found.autograd.reshape(-1)
        wrong, more = _wrong(found.close)
        lines += [
            f"{label(i)}: SymPy {fmt(symbolic[i])}, autograd {fmt(autograd[i])}, "
            f"|difference| {fmt(abs(autograd[i] - symbolic[i]))}"
            for i in wrong
        ] + more
    for fd in result.extras.get("finite_differences", {}).values():  # check_fd
        values, autograd = fd.values.reshape(-1), fd.autograd.reshape(-1)
        wrong, more = _wrong(fd.close)
        lines += [
            f"{_label(fd.name, fd.values.shape, i)}: finite differences "
            f"{fmt(values[i])}, autograd {fmt(autograd[i])}"
            for i in wrong
        ] + more
    lines += [
        f"undefined: {item.function} at column {item.column + 1}: {item.reason}"
        for item in result.singularities
    ]
    for check in outcome.checks or []:
        expected, symbolic, autograd = (
            m.reshape(-1) for m in (check.expected, check.symbolic, check.autograd)
        )
        wrong, more = _wrong(check.match)
        lines += [
            f"expected {_label(check.name, check.expected.shape, i)} = "
            f"{fmt(expected[i])}, SymPy {fmt(symbolic[i])}, autograd {fmt(autograd[i])}"
            for i in wrong
        ] + more
    return lines


def _wrong(close: Any) -> tuple[list[int], list[str]]:
    """The first MAX_LISTED flat indices where `close` is False, and the line that says
    how many more there are (none when none)."""
    wrong = [i for i, ok in enumerate(close.reshape(-1)) if not ok]
    more = [f"... and {len(wrong) - MAX_LISTED} more"] if len(wrong) > MAX_LISTED else []
    return wrong[:MAX_LISTED], more


def _message(outcome: Outcome) -> str:
    """The witnesses' verdict, or the expectation's when only that fails."""
    from gradexplain.witnesses import expect

    assert outcome.result is not None
    if outcome.checks and outcome.result.status == ExitStatus.AGREE:
        return expect.verdict(outcome.checks)
    return outcome.result.verdict()


def _label(name: str, shape: tuple[int, ...], i: int) -> str:
    return f"dL/d{name}" + ("" if shape == () else f"[{i}]")


def write(outcomes: list[Outcome], path: str, seconds: float) -> None:
    """The report, written atomically (`files.write`)."""
    from gradexplain.output import files

    root = build(outcomes, seconds)
    ET.indent(root)
    text = ET.tostring(root, encoding="utf-8", xml_declaration=True).decode("utf-8")
    files.write(path, text + "\n", "--junit-xml")
