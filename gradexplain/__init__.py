"""gradexplain: the gradient of a function you type, symbolically and by autograd.

`from gradexplain import explain` gives the same result the CLI renders. Importing the
package imports neither torch nor SymPy; `explain()` does, when it runs.
"""

from gradexplain.api import explain
from gradexplain.errors import ExitStatus, GradexplainError
from gradexplain.result import Explanation, Gradient

__version__ = "0.1.0"

__all__ = ["ExitStatus", "Explanation", "Gradient", "GradexplainError", "explain",
           "__version__"]
