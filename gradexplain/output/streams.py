"""The process's standard streams under faults: httpie's `Environment`, in a few lines.

`__main__.run()` calls `install()` before anything is printed. Then
- a failed write to stdout (a closed pipe, a full disk, a closed descriptor) raises
  `StreamFault` (`BrokenPipe` for a pipe), which `status.exit_status` turns into 74 or
  141: never a traceback, never a verdict's exit code;
- a failed write to stderr is dropped: an error message that cannot be shown must not
  change the exit status the run decided;
- a character a stream cannot encode (PYTHONIOENCODING=ascii, latin-1, a Windows code
  page) falls back to ASCII (`...` for `…`, `[ok]` for `✅`, `alpha` for alpha) instead of
  raising UnicodeEncodeError. JSON output is escaped exactly instead (`ascii_json`).
Only the standard library is imported here: it runs before `--help` does.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import re
import sys
import unicodedata
from typing import Any

from gradexplain.errors import BrokenPipe, StreamFault

ERRORS = "gradexplain-ascii"  # the codec error handler `install()` gives both streams
# spellings the rules in ascii_for would not find (… is NFKD's "...", ├ a box drawing's |)
FALLBACK = {
    "✅": "[ok]",
    "❌": "[x]",
    "⚠": "[!]",
    "🚫": "[-]",
    "\ufe0f": "",
    "→": "->",
    "←": "<-",
    "≤": "<=",
    "≥": ">=",
    "≠": "!=",
    "≈": "~",
    "\u00d7": "x",
    "·": "*",
    "\u2212": "-",
    "∂": "d",
    "√": "sqrt",
    "∑": "sum",
    "∞": "inf",
    "±": "+/-",
    "∇": "grad",
    "└": "`",
    "\u201c": '"',
    "\u201d": '"',
    "\u2018": "'",
    "\u2019": "'",
    "\u2013": "-",
    "\u2014": "--",
}
_SUPERSCRIPTS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789"))


def ascii_for(char: str) -> str:
    """One character in ASCII: a known symbol's spelling, a Greek letter's name, a
    decomposition (`é` as `e`, `₂` as `2`), a raw byte of a file name as `\\xff`, or else
    the escape `\\u2203`."""
    if char in FALLBACK:
        return FALLBACK[char]
    if char in _SUPERSCRIPTS:
        return "^" + _SUPERSCRIPTS[char]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (os.fsdecode's surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    name = unicodedata.name(char, "")
    if name.startswith(("GREEK SMALL LETTER ", "GREEK CAPITAL LETTER ")):
        word = name.split()[-1].lower()
        return word if "SMALL" in name else word.capitalize()
    if name.startswith("BOX DRAWINGS "):
        return (
            "|"
            if "VERTICAL" in name and "HORIZONTAL" not in name
            else "-"
            if "HORIZONTAL" in name and "VERTICAL" not in name
            else "+"
        )
    plain = "".join(
        c for c in unicodedata.normalize("NFKD", char) if unicodedata.category(c) != "Mn"
    )
    if plain and plain.isascii() and plain.isprintable():
        return plain
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _fallback(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    return "".join(map(ascii_for, error.object[error.start : error.end])), error.end


codecs.register_error(ERRORS, _fallback)
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def ascii_json(text: str) -> str:
    """JSON text with every non-ASCII character as a `\\uXXXX` escape: the same document,
    for a stream that cannot encode UTF-8 (non-ASCII only occurs inside JSON strings)."""

    def escape(match: re.Match[str]) -> str:
        code = ord(match.group())
        if code <= 0xFFFF:
            return f"\\u{code:04x}"
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"

    return _NON_ASCII.sub(escape, text)


def can_encode(stream: Any, text: str) -> bool:
    """Whether `stream` writes `text` as it is (no fallback needed)."""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


class Guarded:
    """A standard stream whose failures are faults (stdout) or dropped (stderr).

    After the first failure nothing more is written, and the descriptor is pointed at
    os.devnull so the interpreter's own last flush cannot fail (Python's documented
    recipe for SIGPIPE) and print "Exception ignored".
    """

    def __init__(self, stream: Any, name: str, drop_failures: bool) -> None:
        self._stream = stream
        self._name = name
        self._drop = drop_failures
        self.fault: StreamFault | None = None

    def write(self, text: str) -> int:
        self._check()
        try:
            if self._stream is None:
                raise OSError(f"{self._name} is closed")
            self._stream.write(text)
        except OSError as exc:
            self._fail(exc)
        return len(text)

    def flush(self) -> None:
        self._check()
        if self._stream is not None:
            try:
                self._stream.flush()
            except OSError as exc:
                self._fail(exc)

    def _check(self) -> None:
        """After a failure: stdout raises the same fault again (a caller that swallowed it,
        as click's stream probe does, cannot hide it); stderr drops the text."""
        if self.fault is not None and not self._drop:
            raise self.fault

    def isatty(self) -> bool:
        return self._stream is not None and self.fault is None and self._stream.isatty()

    @property
    def encoding(self) -> str:
        return getattr(self._stream, "encoding", None) or "utf-8"

    def __getattr__(self, name: str) -> Any:
        if self._stream is None:
            raise AttributeError(name)
        return getattr(self._stream, name)

    def _fail(self, exc: OSError) -> None:
        _point_at_devnull(self._stream)
        if isinstance(exc, BrokenPipeError):
            self.fault = BrokenPipe(f"{self._name}: the reader went away")
        else:
            self.fault = StreamFault(
                f"cannot write the output to {self._name}: {exc.strerror or exc}"
            )
        if not self._drop:
            raise self.fault


def _point_at_devnull(stream: Any) -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (AttributeError, OSError, ValueError):
        pass  # no descriptor (a test's StringIO, a closed stream): nothing will flush to it


def install() -> None:
    """Guard both streams and give them the ASCII fallback; idempotent."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if isinstance(stream, Guarded):
            continue
        with contextlib.suppress(AttributeError, ValueError, OSError):  # not a TextIOWrapper
            stream.reconfigure(errors=ERRORS)
        setattr(sys, name, Guarded(stream, name, drop_failures=name == "stderr"))


def finish() -> None:
    """Flush stdout while a failure can still become the exit status (a StreamFault)."""
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()


def release() -> None:
    """Give the interpreter its own streams back once the status is decided: its last
    flush then goes to the stream (or to os.devnull after a failure), never to a guard
    that would raise the fault again and turn the status into Python's 120."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if isinstance(stream, Guarded):
            setattr(sys, name, stream._stream)


def report(fault: BaseException) -> None:
    """One line on stderr for a fault worth a word: a full disk, not a closed pipe, not
    Ctrl-C (the terminal already shows ^C)."""
    if (
        isinstance(fault, StreamFault)
        and not isinstance(fault, BrokenPipe)
        and sys.stderr is not None
    ):
        sys.stderr.write(f"gradexplain: error: {fault}\n")
        sys.stderr.flush()
