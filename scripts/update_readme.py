"""Regenerate (or, with --check, verify) the example output blocks in README.md.

A block is written as

    <!-- run: gradexplain "sum(x**2)" --x 3,4,10 -->
    ```text
    ...output of the real program at 100 columns, no colour...
    ```
    <!-- end run -->

so README output is never typed by hand. tests/test_readme.py runs the check.
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
# The command is one line: with DOTALL a `.+?` there let a block without its ```text body
# swallow the next block, whose output then came from a garbled command line.
BLOCK = re.compile(
    r"(<!-- run: (?P<command>[^\n]+?) -->\n```text\n)(?P<output>.*?)"
    r"(```\n<!-- end run -->)",
    re.DOTALL,
)
MARKER = "<!-- run: "
ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}


def output_of(command: str) -> str:
    """What the real CLI prints for `command` (stdout, then stderr), as README shows it."""
    return run(command)[1]


def run(command: str) -> tuple[int, str]:
    """The exit code and the output of `command`, as README shows it."""
    from typer.testing import CliRunner

    from gradexplain.cli import app

    args = shlex.split(command)
    assert args[0] == "gradexplain", command
    result = CliRunner().invoke(app, args[1:], env=ENV)
    text = result.stdout + result.stderr
    return result.exit_code, "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


# A number printed with an exponent of -13 or below is round-off (the float64 floor of the
# closeness rule is 2.84e-14); another CPU prints another one, so it is not golden text.
ROUND_OFF = re.compile(r"-?\d(?:\.\d+)?e-(?:1[3-9]|[2-9]\d|\d{3})")
RULES = re.compile(r"[━─═]+")


def stable(text: str) -> str:
    """`text` with round-off numbers as "~0", and column padding and table rules (whose
    widths follow those numbers) collapsed: what must be the same on every CPU."""
    text = RULES.sub("─", ROUND_OFF.sub("~0", text))
    return "\n".join(" ".join(line.split()) for line in text.splitlines())


def regenerate(text: str) -> str:
    text = BLOCK.sub(lambda m: m.group(1) + output_of(m.group("command")) + m.group(4), text)
    return functions_table(text)


def functions_table(text: str) -> str:
    """The table of every function, from the op registry (gradexplain/ops/table.py)."""
    from gradexplain.ops.table import END, START, markdown_table

    start, end = text.index(START), text.index(END) + len(END) + 1
    return text[:start] + markdown_table() + text[end:]


def main() -> int:
    text = README.read_text(encoding="utf-8")
    if text.count(MARKER) != len(BLOCK.findall(text)):
        print("README.md: a <!-- run: ... --> marker lacks its ```text block", file=sys.stderr)
        return 1
    fresh = regenerate(text)
    if "--check" in sys.argv:
        if fresh != text:
            print(
                "README.md output blocks are stale: run python scripts/update_readme.py",
                file=sys.stderr,
            )
            return 1
        return 0
    README.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
