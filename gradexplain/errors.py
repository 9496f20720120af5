"""Named errors and the exit codes: each error carries the status it ends with, and
`status.exit_status` is the one function that turns an outcome or an exception into one.

Every error a user can cause is a `GradexplainError` that carries its own message and,
for the expression, the column; the CLI turns it into one line on stderr (or a JSON
object) and an exit code. Anything else that escapes is a bug and is not swallowed.
"""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    """Exit codes of the CLI, documented in --help and README."""

    AGREE = 0  # symbolic and autograd gradients agree within the tolerances
    DISAGREE = 1  # they disagree (or a hand-derived --expect value does not match)
    INVALID = 2  # invalid input or usage, including an unavailable device
    UNDEFINED = 3  # the gradient is undefined or not finite at the point
    INTERNAL = 70  # a bug in gradexplain (sysexits' EX_SOFTWARE); --debug shows it
    OUTPUT = 74  # stdout or an output file could not be written (sysexits' EX_IOERR)
    INTERRUPTED = 130  # Ctrl-C (SIGINT): 128 + 2, as shells report it
    BROKEN_PIPE = 141  # the reader of stdout went away (`| head -1`): 128 + SIGPIPE


def not_a_variable(label: str, name: str, names: list[str], prefix: str = "") -> str:
    """`LABEL is not a variable of the expression; did you mean ...?` (or its variables)."""
    import difflib

    close = difflib.get_close_matches(name, names, n=1)
    hint = (
        f"; did you mean {prefix}{close[0]}?"
        if close
        else f"; its variables are {', '.join(names)}"
    )
    return f"{label} not a variable of the expression{hint}"


class GradexplainError(Exception):
    """Base of every error a user can cause; `exit_status` says how the CLI ends."""

    exit_status: ExitStatus = ExitStatus.INVALID
    kind: str = "error"

    def __init__(
        self, message: str, *, expression: str | None = None, column: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.expression = expression
        self.offset = column  # 0-based offset into `expression` (the caret), or None
        # 1-based, as the message says it ("column 4") and JSON writes it
        self.column = None if column is None else column + 1

    def caret_lines(self) -> list[str]:
        """The expression with a caret under the offending column, for humans."""
        from gradexplain.output.safetext import visible

        if self.expression is None or self.offset is None:
            return []
        long = len(self.expression) > 120
        start = max(0, self.offset - 40) if long else 0
        shown = self.expression[start : start + 80] if long else self.expression
        # control characters are shown escaped (`\x1b`), so the caret counts their escapes
        pad = len(visible(shown[: self.offset - start]))
        return ["  " + visible(shown), "  " + " " * pad + "^"]

    def to_json(self) -> dict[str, object]:
        """The `error` object of the JSON output; the column there is 1-based."""
        out: dict[str, object] = {"type": self.kind, "message": self.message}
        if self.column is not None:
            out["column"] = self.column
        return out


class OutputError(GradexplainError):
    """An output file (--junit-xml, --dot, --svg) could not be written: a full disk,
    a read-only folder. Checked paths (a missing folder, an input's path) are UsageErrors."""

    exit_status = ExitStatus.OUTPUT
    kind = "output"


class StreamFault(Exception):
    """stdout failed under us (a full disk, a closed stream): neither the user's input nor
    a bug. Not a GradexplainError: no JSON error document can follow it on stdout."""

    exit_status: ExitStatus = ExitStatus.OUTPUT


class BrokenPipe(StreamFault):
    """stdout's reader went away (`| head -1`): exit quietly, as a SIGPIPE'd program does."""

    exit_status = ExitStatus.BROKEN_PIPE


class ExpressionError(GradexplainError):
    """The expression is refused: syntax outside the allowlist, or a limit exceeded."""

    kind = "expression"

    def __init__(self, message: str, expression: str, column: int) -> None:
        super().__init__(f"{message} (column {column + 1})", expression=expression, column=column)


class LimitError(ExpressionError):
    """The expression exceeds one of the named limits in `gradexplain.ir.limits`."""

    kind = "limit"


class ValuesError(GradexplainError):
    """A value given for a variable is malformed, missing, unused or mis-shaped."""

    kind = "values"


class UsageError(GradexplainError):
    """An option is unknown, repeated or contradicts another."""

    kind = "usage"


class DeviceError(GradexplainError):
    """The requested device or dtype cannot be used on this machine."""

    kind = "device"


class SymbolicTimeout(GradexplainError):
    """SymPy's derivation ran past MAX_SYMBOLIC_SECONDS (its simplifier can explode)."""

    kind = "limit"
