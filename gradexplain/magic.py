"""`%load_ext gradexplain` and `%gradexplain EXPRESSION`: an expression explained over the
notebook's own variables (torch tensors, numpy arrays, lists); the result displays itself
(`notebook.py`).
"""

from __future__ import annotations

from typing import Any

from gradexplain.api import explain
from gradexplain.errors import GradexplainError, ValuesError
from gradexplain.parser import parse
from gradexplain.result import Explanation
from gradexplain.tree import variables


def load(ipython: Any) -> None:
    """Register `%gradexplain EXPRESSION [--wrt NAMES]` on this IPython shell."""

    def magic(line: str) -> Any:
        expression, _, wrt = line.partition(" --wrt ")
        try:
            return explain_here(expression.strip(), ipython.user_ns, wrt.strip() or None)
        except GradexplainError as error:
            print("\n".join([f"gradexplain: error: {error.message}", *error.caret_lines()]))
            return None

    ipython.register_magic_function(magic, magic_kind="line", magic_name="gradexplain")


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
