"""The typed result of `explain()`: everything the CLI renders, nothing it computes.

Arrays are numpy float64 arrays (a scalar variable's arrays have shape `()`), so a
million-element gradient costs 8 MB, not a list of Python floats.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gradexplain.errors import ExitStatus
from gradexplain.status import exit_status

if TYPE_CHECKING:
    import numpy as np

    from gradexplain.ir.notation import Notation
    from gradexplain.ir.program import Program


@dataclass(frozen=True)
class Tolerance:
    """The rule's numbers (`closeness.compare` states the rule): rtol relative to each
    element, atol relative to the largest |reference| element, and the dtype's round-off
    floor under the absolute term (0: none)."""

    rtol: float
    atol: float
    floor: float = 0.0


@dataclass(frozen=True)
class Gradient:
    """dL/d(name) from both witnesses, element by element."""

    name: str
    shape: tuple[int, ...]
    point: np.ndarray  # the variable's values
    formula: str  # generic element, e.g. "2*x_j"
    symbolic: np.ndarray  # from the formula, float64
    autograd: np.ndarray  # from backward(), converted to float64
    close: np.ndarray  # bool per element: finite on both sides and within tolerance
    max_abs_diff: float  # over finite elements; nan when none is finite on both sides
    sentence: str  # the sum / product / chain rule applied to this variable
    tiny: bool = False  # every element is within round-off of 0 (closeness.Comparison.tiny)
    latex: str = ""  # the same formula as LaTeX (SymPy's latex()), for notebooks
    expr: Any = None  # the formula as SymPy's expression: --steps ends in it (stepend.py)

    @property
    def agree(self) -> bool:
        return bool(self.close.all())

    @property
    def finite(self) -> bool:
        import numpy as np

        return bool(np.isfinite(self.symbolic).all() and np.isfinite(self.autograd).all())


@dataclass(frozen=True)
class Singularity:
    """Elements where the derivative of one operation does not exist."""

    function: str  # "relu", "sqrt", "/", "**", ...
    column: int  # 0-based, in the expression
    kind: str  # "kink", "pole" or "domain"
    reason: str  # one plain sentence, including each library's convention
    elements: tuple[int, ...] | None  # 0-based indices; None: every element (scalar arg)
    shape: tuple[int, ...] = ()  # the argument's: a matrix's elements are flat, row-major

    def place(self, limit: int = 10) -> str:
        """Where, in words: "every element", "element [1]", "elements [0,1], [1,2]"."""
        return (
            "every element" if self.elements is None else _place(self.elements, self.shape, limit)
        )


@dataclass(frozen=True)
class Terms:
    """The array y whose elements L adds up (matrix path), so the sum rule can be shown
    element by element, as the vector table shows y_i."""

    letter: str  # y, or another letter when a variable is called y
    source: str  # the array as the expression writes it, e.g. "X@w"
    formula: str  # its generic element in i (and k), e.g. "sum_m(X_im*w_m)"
    values: np.ndarray  # y, shaped like y, from the SymPy formula (float64)
    rule: str  # how L combines the elements: "sum" or "mean"
    sentence: str  # the rule for dL/dy, e.g. "Sum rule: ... dL/dy_i = 1 for each i ..."


@dataclass(frozen=True)
class Decomposition:
    """How L is put together at the top, as the table explains it."""

    rule: str  # "sum", "mean", "prod", "chain" or "derivative"
    summary: str  # e.g. "L = sum_i y_i with y_i = x_i**2"
    implicit_ones: bool  # the expression was a vector: backward(ones_like(y)) was used
    term: str | None  # y_i, when there is one sum (or product) to decompose
    term_values: np.ndarray | None  # y_i per element
    notes: tuple[str, ...] = ()  # extra sentences (chain rule, backward(v) and ones)
    terms: Terms | None = None  # matrix path: the elements of y that L combines
    inner: float | None = None  # the chain rule's s = sum_i y_i (or prod, max...) at the point


@dataclass(frozen=True)
class NonFinite:
    """Elements of one gradient that are inf or NaN for one cause."""

    gradient: str  # the variable's name: dL/d{gradient}
    kind: str  # "overflow" or "nan"
    reason: str
    elements: tuple[int, ...]  # flat, row-major indices into the gradient
    shape: tuple[int, ...]

    def place(self, limit: int = 10) -> str:
        return (
            _place(self.elements, self.shape, limit)
            if self.shape and self.elements
            else "its value"
        )


def _place(elements: tuple[int, ...], shape: tuple[int, ...], limit: int) -> str:
    """Flat, row-major element indices in words: "element [1]", "elements [0,1], [1,2]"."""
    columns = shape[1] if len(shape) == 2 else 0
    labels = [f"[{i // columns},{i % columns}]" if columns else f"[{i}]" for i in elements[:limit]]
    more = f" and {len(elements) - limit} more" if len(elements) > limit else ""
    return f"element{'s' * (len(elements) > 1)} {', '.join(labels)}{more}"


@dataclass(frozen=True)
class Explanation:
    """Result of `explain()`: the two witnesses, their agreement, and the story."""

    expression: str
    device: str
    dtype: str
    scalars: dict[str, float]
    value: float  # L from autograd
    value_symbolic: float  # L from the SymPy expression
    gradients: dict[str, Gradient]
    tolerance: Tolerance
    decomposition: Decomposition
    # what the run computed with, built once; left out of the repr (its node_shapes are
    # keyed by id(): print(result) differed run to run, and the tree repeats `expression`)
    program: Program = field(repr=False)
    singularities: tuple[Singularity, ...] = ()
    extras: dict[str, Any] = field(default_factory=dict)
    data: dict[str, np.ndarray] = field(default_factory=dict)  # not differentiated (--wrt)
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)  # matrix path only
    hessian: Any = None  # gradexplain.witnesses.hessian.Hessian with --hessian, else None
    nonfinite: tuple[NonFinite, ...] = ()  # inf/NaN no hazard explains: overflow, NaN
    matrix_forms: dict[str, str] = field(default_factory=dict)  # name -> sentence
    # how Jupyter shows it (`notebook.markdown_repr`), handed over by `api`, which made it:
    # the result knows no renderer, so this module imports none
    display: Callable[[Explanation], str] | None = field(default=None, repr=False, compare=False)
    # and how a terminal shows it (IPython's text/plain, rich): (result, width, colour system)
    terminal: Callable[[Explanation, int, str | None], str] | None = field(
        default=None, repr=False, compare=False
    )

    @property
    def notation(self) -> Notation:
        """The index and size letters the formulas use: the program's (`Program.notation`)."""
        return self.program.notation

    @property
    def n(self) -> int | None:
        """The one length shown as n; None where values are laid out by shape, or scalars."""
        return self.program.notation.length

    @property
    def agree(self) -> bool:
        return (
            all(g.agree for g in self.gradients.values())
            and not self.singularities
            and (self.hessian is None or self.hessian.agree)
        )

    @property
    def status(self) -> ExitStatus:
        """0 agree, 1 disagree, 3 undefined or not finite at the point (`exit_status`)."""
        return exit_status(self)

    def _repr_markdown_(self) -> str | None:
        """Jupyter shows the result itself: table, verdict, formulas as math, the graph
        drawn inline (`gradexplain.output.notebook`)."""
        return None if self.display is None else self.display(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """IPython's text/plain (its terminal, `%gradexplain` there): the table, the
        sentences and the verdict, as the command line prints them, not the dataclass."""
        if self.terminal is None or cycle:
            printer.text(repr(self))
        else:
            printer.text(self.terminal(self, printer.max_width, None))

    def __rich_console__(self, console: Any, options: Any) -> Any:
        """`rich.print(result)`: the command line's output, in the console's width and
        colours."""
        from rich.text import Text

        if self.terminal is None:
            yield repr(self)
        else:
            yield Text.from_ansi(self.terminal(self, options.max_width, console.color_system))

    def verdict(self) -> str:
        """One line: the outcome, device, dtype, largest difference and tolerances."""
        diffs = [
            g.max_abs_diff for g in self.gradients.values() if g.max_abs_diff == g.max_abs_diff
        ]  # NaN: no element finite on both sides
        largest = max(diffs) if diffs else 0.0 if not self.gradients else float("nan")
        outcome = {
            ExitStatus.AGREE: "SymPy and autograd agree",
            ExitStatus.DISAGREE: "Finite differences DIFFER (--check-fd); SymPy and autograd agree"
            if self.agree
            else "SymPy and autograd DISAGREE",
            ExitStatus.UNDEFINED: "The gradient is UNDEFINED or not finite at this point",
        }[self.status]
        where = "" if all(g.finite for g in self.gradients.values()) else " where both are finite"
        difference = (
            f"largest |difference| {largest:.3g}{where}"
            if largest == largest
            else "no element is finite in both witnesses"
        )
        return (
            f"{outcome} on {self.device}, {self.dtype}: {difference} (rtol "
            f"{self.tolerance.rtol:g}, atol {self.tolerance.atol:g})"
        )
