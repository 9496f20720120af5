"""Untrusted text made harmless before it reaches a terminal, a CI log, Markdown or XML.

An expression, a case name, a value's key, a file name or a message quoting any of them
may hold ESC (`\\x1b[2J` clears a screen, OSC 8 forges a link), BEL, a carriage return
that overwrites the line, or a bidi override (U+202E) that shows text in another order.
`visible()` is the one neutralising function: every character `str.isprintable()`
refuses, except the space, is replaced by an escape that shows it, as `repr()` does
(`\\x1b`, `\\r`, `\\u202e`). The result holds no control, format or separator character,
so it is also valid in XML 1.0 and cannot end a Markdown table row.
"""

from __future__ import annotations

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape(char: str) -> str:
    """The visible escape of one character."""
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    if code < 0x100:
        return f"\\x{code:02x}"
    if 0xDC80 <= code <= 0xDCFF:  # a raw byte of a non-UTF-8 file name (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def visible(text: str) -> str:
    """`text` with every non-printable character (but the space) escaped visibly."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else escape(char) for char in text)
