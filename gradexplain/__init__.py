"""gradexplain: the gradient of a function you type, symbolically and by autograd.

`from gradexplain import explain` gives the same result the CLI renders. Importing the
package imports neither torch nor SymPy; `explain()` does, when it runs. `explain` and
the result classes are loaded on first use, so `gradexplain --help` imports no parser.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not `typing`'s: `python -m gradexplain` imports this package first,
# and the less it imports, the shorter the start-up before Ctrl-C ends as exit 130
if TYPE_CHECKING:
    from typing import Any

    from gradexplain.api import explain
    from gradexplain.errors import ExitStatus, GradexplainError
    from gradexplain.result import Explanation, Gradient

__version__ = "0.2.0.dev0"  # CHANGELOG.md: Unreleased, to be 0.2.0

__all__ = ["ExitStatus", "Explanation", "Gradient", "GradexplainError", "explain", "__version__"]

_LAZY = {
    "explain": "gradexplain.api",
    "Explanation": "gradexplain.result",
    "Gradient": "gradexplain.result",
    "ExitStatus": "gradexplain.errors",
    "GradexplainError": "gradexplain.errors",
}


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext gradexplain`: adds the `%gradexplain EXPRESSION` line magic."""
    from gradexplain.magic import load

    load(ipython)


def __getattr__(name: str) -> Any:
    """PEP 562: the library's entry points, imported when first asked for."""
    if name not in _LAZY:
        raise AttributeError(f"module 'gradexplain' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_LAZY[name]), name)
