"""JUnit XML for `--cases --junit-xml PATH`: one testcase per case, as CI systems show it.

A disagreement, an expectation mismatch or an undefined gradient is a <failure> whose text
lists the differing elements (of the gradient, the Hessian with `hessian`, the finite
differences with `check_fd`); an invalid case is an <error> with its message. Every
string is `safetext.visible()`: a control character in a case name is shown escaped, so
the document stays well-formed XML 1.0.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, Any

from gradexplain.errors import ExitStatus
from gradexplain.safetext import visible

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
    from gradexplain.formatting import fmt

    result = outcome.result
    assert result is not None
    lines = [result.verdict()]
    for gradient in result.gradients.values():
        wrong = [i for i, ok in enumerate(gradient.close.reshape(-1)) if not ok]
        for i in wrong[:MAX_LISTED]:
            symbolic = gradient.symbolic.reshape(-1)[i]
            autograd = gradient.autograd.reshape(-1)[i]
            lines.append(
                f"dL/d{gradient.name}{_index(gradient.shape, i)}: SymPy "
                f"{fmt(symbolic)}, autograd {fmt(autograd)}, |difference| "
                f"{fmt(abs(autograd - symbolic))}"
            )
        lines += _more(len(wrong))
    lines += _second_derivatives(result.hessian)
    for fd in result.extras.get("finite_differences", {}).values():  # check_fd
        wrong = [i for i, ok in enumerate(fd.close.reshape(-1)) if not ok]
        for i in wrong[:MAX_LISTED]:
            lines.append(
                f"dL/d{fd.name}{_index(fd.values.shape, i)}: finite differences "
                f"{fmt(fd.values.reshape(-1)[i])}, autograd "
                f"{fmt(fd.autograd.reshape(-1)[i])}"
            )
        lines += _more(len(wrong))
    for singularity in result.singularities:
        lines.append(
            f"undefined: {singularity.function} at column "
            f"{singularity.column + 1}: {singularity.reason}"
        )
    for check in outcome.checks or []:
        wrong = [i for i, ok in enumerate(check.match.reshape(-1)) if not ok]
        for i in wrong[:MAX_LISTED]:
            lines.append(
                f"expected dL/d{check.name}{_index(check.expected.shape, i)} = "
                f"{fmt(check.expected.reshape(-1)[i])}, SymPy "
                f"{fmt(check.symbolic.reshape(-1)[i])}, autograd "
                f"{fmt(check.autograd.reshape(-1)[i])}"
            )
        lines += _more(len(wrong))
    return lines


def _second_derivatives(hessian: Any) -> list[str]:
    """hessian: the entries where SymPy and torch.func.hessian differ."""
    from gradexplain.formatting import fmt

    if hessian is None or hessian.undefined is not None:
        return []
    size = len(hessian.labels)
    wrong = [(i, j) for i in range(size) for j in range(size) if not hessian.close[i, j]]
    lines = [
        f"d2L/d{hessian.labels[i]}d{hessian.labels[j]}: SymPy "
        f"{fmt(hessian.symbolic[i, j])}, autograd {fmt(hessian.autograd[i, j])}, "
        f"|difference| {fmt(abs(hessian.autograd[i, j] - hessian.symbolic[i, j]))}"
        for i, j in wrong[:MAX_LISTED]
    ]
    return lines + _more(len(wrong))


def _message(outcome: Outcome) -> str:
    """The witnesses' verdict, or the expectation's when only that fails."""
    from gradexplain import expect

    assert outcome.result is not None
    if outcome.checks and outcome.result.status == ExitStatus.AGREE:
        return expect.verdict(outcome.checks)
    return outcome.result.verdict()


def _index(shape: tuple[int, ...], i: int) -> str:
    return "" if shape == () else f"[{i}]"


def _more(count: int) -> list[str]:
    return [f"... and {count - MAX_LISTED} more"] if count > MAX_LISTED else []


def write(outcomes: list[Outcome], path: str, seconds: float) -> None:
    """The report, written atomically (`outputs.write`)."""
    from gradexplain import outputs

    root = build(outcomes, seconds)
    ET.indent(root)
    text = ET.tostring(root, encoding="utf-8", xml_declaration=True).decode("utf-8")
    outputs.write(path, text + "\n", "--junit-xml")
