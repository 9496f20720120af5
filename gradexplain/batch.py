"""`--cases FILE`: many cases in one process, a summary, and a JUnit XML report for CI.

The file is TOML (an array of tables, `[[case]]`) or JSON Lines (one object a line).
A case holds the command line's options (`wrt`, `expect`, `rtol`, `check_fd`, ...) and
runs through `request.answer()`, as the command line does, so both give one verdict.
A file that cannot be read is the user's error (exit 2, naming the line); a case that is
invalid fails that case only. The run exits with the worst status of its cases, in the
order agree < disagree < undefined < invalid.
"""

from __future__ import annotations

import json
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gradexplain.cases import Case, Outcome
from gradexplain.errors import ExitStatus, GradexplainError, UsageError, ValuesError
from gradexplain.ir import limits
from gradexplain.ir.values import refuse_constant
from gradexplain.output.safetext import visible
from gradexplain.status import exit_status, worst_status

if TYPE_CHECKING:
    from rich.console import Console

    from gradexplain.ir.values import Values
    from gradexplain.request import Request

CASE_KEYS = frozenset(
    {
        "name",
        "expression",
        "values",
        "wrt",
        "expect",
        "device",
        "dtype",
        "rtol",
        "atol",
        "check_fd",
        "hessian",
    }
)
_TOML_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*case[ \t]*\]\]", re.MULTILINE)


@dataclass(frozen=True)
class Defaults:
    """The command line's --wrt, --device, --dtype, --rtol, --atol, --check-fd and
    --hessian; a case may override each."""

    device: str = "cpu"
    dtype: str = "float64"
    rtol: float | None = None
    atol: float | None = None
    wrt: str | None = None
    check_fd: bool = False
    hessian: bool = False


def read_cases(path: str) -> list[Case]:
    """Read the file; an unreadable file raises `UsageError` naming the line, a file or
    a batch over a named limit one naming the limit."""
    source = Path(path)
    text = _read_text(source, path)
    if source.suffix.lower() == ".toml":
        cases = _toml_cases(text, path)
    else:
        cases = _jsonl_cases(text, path)
    if not cases:
        raise UsageError(f"--cases: {path} holds no case")
    if len(cases) > limits.MAX_CASES:
        raise UsageError(
            f"--cases: {path} holds {len(cases):,} cases; MAX_CASES = {limits.MAX_CASES:,}"
        )
    total = sum(_numbers_in(case.fields.get(key)) for case in cases for key in ("values", "expect"))
    if total > limits.MAX_BATCH_ELEMENTS:
        raise UsageError(
            f"--cases: {path} holds {total:,} numbers in its values and "
            f"expectations; MAX_BATCH_ELEMENTS = "
            f"{limits.MAX_BATCH_ELEMENTS:,}"
        )
    return cases


def _read_text(source: Path, path: str) -> str:
    """The file as UTF-8, read only one byte past MAX_CASES_FILE_BYTES (/dev/zero ends)."""
    try:
        with source.open("rb") as handle:
            raw = handle.read(limits.MAX_CASES_FILE_BYTES + 1)
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the name (the API's)
        reason = getattr(exc, "strerror", None) or exc
        raise UsageError(f"--cases: cannot read {path}: {reason}") from None
    if len(raw) > limits.MAX_CASES_FILE_BYTES:
        raise UsageError(
            f"--cases: {path} is larger than MAX_CASES_FILE_BYTES = {limits.MAX_CASES_FILE_BYTES:,}"
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"--cases: {path}: not UTF-8 text: byte {raw[exc.start]:#04x} at offset {exc.start}"
        ) from None


def _numbers_in(value: object) -> int:
    """How many numbers a case's values or expectations hold, at any depth, counted
    without recursion (a file may nest 10,000 deep); a string spec counts its commas."""
    count, pending = 0, [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str):
            count += item.count(",") + 1
        elif item is not None:
            count += 1
    return count


def _toml_cases(text: str, path: str) -> list[Case]:
    if sys.version_info >= (3, 11):
        import tomllib  # novermin - only reached on 3.11 and later
    else:  # the same parser, before it joined the standard library
        import tomli as tomllib
    try:
        loaded = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"--cases: {path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise UsageError(f"--cases: {path}: nested too deeply to read") from None
    tables = loaded.get("case")
    unknown = sorted(set(loaded) - {"case"})
    if unknown or not isinstance(tables, list):
        raise UsageError(
            f"--cases: {path}: expected an array of tables [[case]]"
            + (f", found {unknown[0]!r}" if unknown else "")
        )
    lines = [text.count("\n", 0, m.start()) + 1 for m in _TOML_HEADER.finditer(text)]
    return [_case(table, lines[i] if i < len(lines) else None, i) for i, table in enumerate(tables)]


def _jsonl_cases(text: str, path: str) -> list[Case]:
    cases: list[Case] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            loaded = json.loads(line, parse_constant=refuse_constant)
        except RecursionError:
            raise UsageError(f"--cases: {path}: line {number}: nested too deeply to read") from None
        except ValueError as exc:
            raise UsageError(f"--cases: {path}: line {number}: not valid JSON: {exc}") from None
        cases.append(_case(loaded, number, len(cases)))
    return cases


def _case(table: object, line: int | None, index: int) -> Case:
    fields = table if isinstance(table, dict) else {"__not_a_table__": table}
    name = fields.get("name")
    label = name if isinstance(name, str) and name else f"case {index + 1}"
    return Case(label, line, fields)


def run_case(case: Case, defaults: Defaults) -> Outcome:
    """Check and run one case as the command line runs the same options (`answer()`);
    its own errors fail it and nothing else."""
    from gradexplain.request import answer

    start = time.perf_counter()
    try:
        answered = answer(_checked_request(case, defaults))
    except GradexplainError as error:
        return Outcome(case, exit_status(error), error=error, seconds=time.perf_counter() - start)
    return Outcome(
        case, answered.status, answered.result, answered.checks, seconds=time.perf_counter() - start
    )


def _checked_request(case: Case, defaults: Defaults) -> Request:
    """`_request`; a value nested deeper than Python's stack fails this case, by name."""
    try:
        return _request(case, defaults)
    except RecursionError:  # only the file's own nesting recurses here: no SymPy, no torch
        raise ValuesError(
            "a value is nested too deeply; values are numbers, lists of numbers or lists of rows"
        ) from None


def _request(case: Case, defaults: Defaults) -> Request:
    """The case's fields, type-checked, over the defaults; the caller names the case."""
    from gradexplain.ir.values import from_numbers
    from gradexplain.request import Request

    fields = case.fields
    if "__not_a_table__" in fields:
        raise ValuesError("a case must be a table (object)")
    _check_keys(fields)
    expression = fields.get("expression")
    if not isinstance(expression, str):
        raise ValuesError("'expression' must be a string")
    table = fields.get("values", {})
    if not isinstance(table, dict) or not all(isinstance(k, str) for k in table):
        raise ValuesError("'values' must be a table of name = numbers")
    values = {name: from_numbers(name, v) for name, v in table.items()}
    device, dtype = (_field(fields, key, defaults, str, "a string") for key in ("device", "dtype"))
    rtol, atol = (_tolerance(fields, key, defaults) for key in ("rtol", "atol"))
    check_fd, hessian = (
        _field(fields, key, defaults, bool, "true or false") for key in ("check_fd", "hessian")
    )
    return Request(
        expression,
        values,
        _wrt(fields, defaults),
        device,
        dtype,
        rtol,
        atol,
        _expected(fields.get("expect", {})),
        check_fd,
        hessian,
    )


def _check_keys(fields: dict[str, Any]) -> None:
    """A misspelt key (`hesian`) is refused, never ignored: the check would not run."""
    import difflib

    unknown = sorted(set(fields) - CASE_KEYS)
    if not unknown:
        return
    close = difflib.get_close_matches(unknown[0], sorted(CASE_KEYS), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ValuesError(
        f"unknown key {unknown[0]!r}{hint}; a case has {', '.join(sorted(CASE_KEYS))}"
    )


def _field(fields: dict[str, Any], key: str, defaults: Defaults, kind: type, described: str) -> Any:
    value = fields.get(key, getattr(defaults, key))
    if not isinstance(value, kind):
        raise ValuesError(f"{key!r} must be {described}")
    return value


def _tolerance(fields: dict[str, Any], key: str, defaults: Defaults) -> float | None:
    value = fields.get(key, getattr(defaults, key))
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise ValuesError(f"{key!r} must be a number")
    return None if value is None else float(value)


def _wrt(fields: dict[str, Any], defaults: Defaults) -> str | None:
    """`wrt = "w,b"` as on the command line, or `wrt = ["w", "b"]`."""
    wrt = fields.get("wrt", defaults.wrt)
    if isinstance(wrt, list) and all(isinstance(name, str) for name in wrt):
        return ",".join(wrt)
    if wrt is not None and not isinstance(wrt, str):
        raise ValuesError("'wrt' must be a string (\"w,b\") or a list of names")
    return wrt


def _expected(expect: object) -> dict[str, Values]:
    """A table of name = numbers, as the JSON output writes them, or a list of what
    --expect takes (`["x=6,8,20", "W=1,2;3,4", "b=@b.txt"]`), parsed by the same code."""
    from gradexplain.witnesses.expect import from_mapping, parse_specs

    if isinstance(expect, list) and all(isinstance(spec, str) for spec in expect):
        return parse_specs(expect, _no_stdin)
    if not isinstance(expect, dict) or not all(isinstance(k, str) for k in expect):
        raise ValuesError(
            "'expect' must be a table of name = numbers or a list of \"NAME=VALUES\" strings"
        )
    return from_mapping(expect)


def _no_stdin() -> str:
    raise UsageError("a case cannot read stdin: give the numbers or @FILE")


def run_file(
    path: str,
    defaults: Defaults,
    output_format: str,
    console: Console | None,
    junit_path: str | None,
) -> ExitStatus:
    """Run every case; print the summary; write JUnit XML; return the worst status."""
    cases = read_cases(path)
    started = time.perf_counter()
    outcomes = [run_case(case, defaults) for case in cases]
    elapsed = time.perf_counter() - started
    for outcome in outcomes:  # invalid cases are errors: say so on stderr, as one run does
        if outcome.error is not None:
            case, message = outcome.case, outcome.error.message
            where = f"case {case.name!r}" + (f" (line {case.line})" if case.line else "")
            sys.stderr.write(visible(f"gradexplain: error: {where}: {message}") + "\n")
    if junit_path is not None:
        from gradexplain.output.junit import write

        write(outcomes, junit_path, elapsed)
    if console is not None and output_format == "json":
        from gradexplain.output import jsonout

        jsonout.write(console.file, [case_document(o) for o in outcomes])
    elif console is not None:  # the summary, fitted to the console as the main table is
        from gradexplain.output import checkview, report, view

        report.show([view.Section(None, checkview.cases(outcomes, path))], output_format, console)
    return worst_status(o.status for o in outcomes)


def case_document(outcome: Outcome) -> dict[str, Any]:
    """One element of the JSON array: the case's name and line, then its document."""
    from gradexplain.output.jsonout import error_document
    from gradexplain.output.report import json_document

    head: dict[str, Any] = {"case": outcome.case.name, "line": outcome.case.line}
    if outcome.error is not None:
        return {**head, **error_document(outcome.error)}
    assert outcome.result is not None
    return {**head, **json_document(outcome.result, outcome.checks)}
