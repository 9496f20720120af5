"""How a refused or failed run is told: one line on stderr, and the JSON error document on
stdout when the command line asks for JSON, whoever refused it (click's parser, our checks,
the library) and whatever else went wrong on that line.

The JSON request is read from the raw command line, so a usage error that click raises
before any option has a value, or that swallowed `--format=json` as another option's
value, still answers in JSON: the last `--format` before `--` decides, as it does for a run
(click's rule), and `--format JSON`, which is refused, is still read as a wish for JSON.
"""

from __future__ import annotations

import sys
import traceback

from gradexplain.errors import ExitStatus, GradexplainError
from gradexplain.output.safetext import visible
from gradexplain.status import exit_status


def asks_for_json(args: list[str]) -> bool:
    """Whether the last `--format` on the command line (before `--`) says json."""
    wanted = None
    for at, token in enumerate(args):
        if token == "--":
            break
        if token == "--format" and at + 1 < len(args):
            wanted = args[at + 1]
        elif token.startswith("--format="):
            wanted = token.partition("=")[2]
    return wanted is not None and wanted.strip().lower() == "json"  # `--format JSON` too


def report(error: GradexplainError, json_mode: bool) -> ExitStatus:
    """One line on stderr (plus the caret under the expression); JSON on stdout too."""
    if json_mode:
        from gradexplain.output import jsonout

        jsonout.write(sys.stdout, jsonout.error_document(error))
    say(f"gradexplain: error: {error.message}")
    for line in error.caret_lines():
        sys.stderr.write(line + "\n")  # caret_lines() already shows control characters
    return exit_status(error)


def report_bug(bug: Exception, debug: bool, json_mode: bool) -> ExitStatus:
    """Exit 70, not 1 (a verdict) or 2 (the user's fault); the traceback with --debug."""
    message = f"internal error (a bug in gradexplain): {type(bug).__name__}: {bug}"
    status = exit_status(bug)
    if json_mode:
        from gradexplain.output import jsonout

        jsonout.write(sys.stdout, jsonout.bug_document(message, status))
    if debug:
        traceback.print_exc()
    say(
        f"gradexplain: {message}; "
        + ("please report it" if debug else "rerun with --debug for the traceback")
    )
    return status


def say(line: str) -> None:
    """One line on stderr (wrapped in a terminal), its untrusted parts (an expression, a
    name) made visible first, so the wrapping's line breaks stay line breaks."""
    sys.stderr.write(_wrapped(visible(line)) + "\n")


def _wrapped(message: str) -> str:
    """In a terminal, the message wraps at words to its width; piped, it stays one line."""
    if not sys.stderr.isatty():
        return message
    import shutil
    import textwrap

    width = shutil.get_terminal_size().columns
    return (
        textwrap.fill(message, width=max(width, 20), subsequent_indent="  ", break_on_hyphens=False)
        if width > 0
        else message
    )
