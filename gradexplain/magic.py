"""`%load_ext gradexplain` and `%gradexplain EXPRESSION [--wrt NAMES]`: an expression explained
over the notebook's own variables (torch tensors, numpy arrays, lists); the result displays
itself (`notebook.py`).
"""

from __future__ import annotations

import re
from typing import Any

from gradexplain.api import explain
from gradexplain.errors import GradexplainError, UsageError, ValuesError
from gradexplain.ir.parser import parse
from gradexplain.ir.tree import variables
from gradexplain.result import Explanation

# where the options start: ` --word`, after the expression (`x --y` is x - (-y) in Python,
# and is read as an option here; write `x + y`)
_OPTION = re.compile(r"(?:^|\s)--[A-Za-z]")


def load(ipython: Any) -> None:
    """Register `%gradexplain EXPRESSION [--wrt NAMES]` on this IPython shell."""

    def magic(line: str) -> Any:
        try:
            expression, wrt = split(line)
            return explain_here(expression, ipython.user_ns, wrt)
        except GradexplainError as error:
            print("\n".join([f"gradexplain: error: {error.message}", *error.caret_lines()]))
            return None

    ipython.register_magic_function(magic, magic_kind="line", magic_name="gradexplain")


def split(line: str) -> tuple[str, str | None]:
    """The expression and `--wrt`'s names (`--wrt w,b` or `--wrt=w,b`). Any other option
    is the command line's, named as such: `--steps` read as part of the expression made
    `sum(x) - (-steps)` and "the notebook has no variable steps"."""
    found = _OPTION.search(line)
    expression = (line if found is None else line[: found.start()]).strip()
    words = [] if found is None else line[found.start() :].split()
    wrt = None
    while words:
        word = words.pop(0)
        name, equals, value = word.partition("=")
        if name != "--wrt":
            raise UsageError(
                f"%gradexplain takes an expression and --wrt NAMES; {name} is an option "
                f"of the command line only"
            )
        if not equals:
            if not words:
                raise UsageError("--wrt needs the names to differentiate, as in --wrt w,b")
            value = words.pop(0)
        wrt = value
    return expression, wrt


def explain_here(expression: str, namespace: dict[str, Any], wrt: str | None = None) -> Explanation:
    """`explain()` with each variable of the expression taken from `namespace`."""
    names = variables(parse(expression))
    missing = [name for name in names if name not in namespace]
    if missing:
        raise ValuesError(
            f"the notebook has no variable {', '.join(missing)}; define it "
            f"first (a tensor, an array, a list or a number)"
        )
    return explain(expression, {name: namespace[name] for name in names}, wrt=wrt)
