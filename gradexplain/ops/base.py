"""What an operation is: one entry that holds every rule of it.

JAX defines a primitive once and registers its rules beside it; here an `Op` carries its
spellings and signature (for the parser), its constant folding, its shape rule, its SymPy
rule in a generic element, its torch call, its kinks and poles with their reasons, and
its rule for `--steps`. Every walker asks the entry; none keeps a table of names.

Nothing here imports SymPy, torch or numpy at import time: the parser reads this
registry on the fast path of `--help` and input errors. Rules that need a heavy module
import it when they run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from gradexplain.axes import Shape
from gradexplain.tree import Call


@dataclass(frozen=True)
class Hazard:
    """Where a derivative does not exist: `kind` is kink, pole or domain; `where` takes
    the argument's values (numpy) and returns a bool mask; `reason` says why, in words."""

    kind: str
    where: Callable[[Any], Any]
    reason: str


class NamedFunction:
    """A SymPy function kept whole, so formulas read as the input (`sigmoid(u)`, not
    `1/(1 + exp(-u))`); its class is made on first use, so this stays light.

    `derivative(sp, *args, argindex)` is its fdiff; `numpy(np, *args)` evaluates it over
    arrays; `explicit(sp, *args)` writes it out in SymPy's own functions, for evalf.
    """

    def __init__(self, name: str, *, derivative: Callable[..., Any],
                 numpy: Callable[..., Any], explicit: Callable[..., Any] | None = None,
                 nargs: int | None = 1, real: bool = True,
                 evaluate: Callable[..., Any] | None = None) -> None:
        self.name = name
        self.derivative = derivative
        self.numpy = numpy
        self.explicit = explicit
        self.nargs = nargs
        self.real = real
        self.evaluate = evaluate

    @cached_property
    def cls(self) -> Any:
        import sympy as sp

        spec = self

        def fdiff(self: Any, argindex: int = 1) -> Any:
            return spec.derivative(sp, *self.args, argindex)

        attrs: dict[str, Any] = {"fdiff": fdiff, "__module__": __name__,
                                 "__doc__": f"{self.name}, kept whole (gradexplain.ops)"}
        if self.nargs is not None:
            attrs["nargs"] = self.nargs
        if self.real:
            attrs["_eval_is_real"] = lambda self: self.args[0].is_real
        if self.evaluate is not None:
            evaluate = self.evaluate
            attrs["eval"] = classmethod(lambda cls, *args: evaluate(sp, *args))
        return type(self.name, (sp.Function,), attrs)

    def __call__(self, *args: Any) -> Any:
        return self.cls(*args)


@dataclass(frozen=True)
class Op:
    """One operation. Families (elementwise, reductions, softmax, clamp) subclass it and
    override what differs; an entry is one instance, registered in `gradexplain.ops`."""

    name: str
    rule: str  # the derivative rule, in words a learner reads
    # the parser's handler for the call's arguments: unary, reduction, softmax, clamp
    signature: str = "unary"
    dim: str = "none"  # dim= of the call: none, optional or required
    # spellings besides NAME(...): "torch" torch.NAME(...), "method" x.NAME(...),
    # "functional" F.NAME(...) and torch.nn.functional.NAME(...)
    spellings: tuple[str, ...] = ("torch", "method")
    hazards: tuple[Hazard, ...] = ()
    story: str | None = None  # "L = sum_i y_i": how the story names L at the top
    # how many leading arguments are tensors (mm(A, B): 2); the rest are constants the
    # parser kept (a dim, clamp's bounds)
    operands: int = 1
    linalg_name: str = ""  # torch.linalg.NAME(...) when it is spelled so ("inv")

    # -- parser -------------------------------------------------------------------------
    def fold(self, *values: float) -> float:
        """The value of the call on constants (the parser folds to check them)."""
        raise NotImplementedError(self.name)

    @property
    def second_argument_hint(self) -> str:
        """Said when a second positional argument is not a dim (it may be a tensor)."""
        return ""

    def spelled(self, args: list[str], text: str) -> str:
        """The call as text (`unparse.source`), from its arguments' text."""
        strings = [repr(text)] if text else []
        return f"{self.name}({', '.join(strings + args)})"

    # -- shapes -------------------------------------------------------------------------
    def shape(self, node: Call, parts: list[Shape], text: str) -> Shape:
        return parts[0]

    def needs_axes(self, node: Call) -> bool:
        """True when this call needs the shaped path (a reduction along dim=)."""
        return False

    # -- the symbolic witness -----------------------------------------------------------
    def element(self, b: Any, node: Call, idx: tuple[Any, ...]) -> Any:
        """The SymPy rule: the call's element at indices `idx`, built with `b`."""
        raise NotImplementedError(self.name)

    def named(self) -> Iterator[NamedFunction]:
        """The SymPy functions this op keeps whole, for the evaluators and the Hessian."""
        return iter(())

    # -- the autograd witness -----------------------------------------------------------
    def torch(self, torch: Any, tensor: Any, node: Call) -> Any:
        return getattr(torch, self.name)(tensor)

    def apply(self, torch: Any, tensors: list[Any], node: Call) -> Any:
        """The torch call on the built operands (`operands` of them)."""
        return self.torch(torch, tensors[0], node)

    @property
    def may_fail(self) -> bool:
        """True when the derivative can fail somewhere (the autograd side then looks)."""
        return bool(self.hazards)

    def hazard_masks(self, node: Call, values: Any) -> Iterator[tuple[str, Any]]:
        """(kind, mask) for each hazard; `values` is the argument as a numpy array."""
        for hazard in self.hazards:
            yield hazard.kind, hazard.where(values)

    def reason(self, node: Call, kind: str) -> str:
        for hazard in self.hazards:
            if hazard.kind == kind:
                return hazard.reason
        return f"{self.name} has no derivative here"

    # -- the explanations ---------------------------------------------------------------
    @property
    def adds_up(self) -> bool:
        """True for a plain sum of every element (sum, mean): L = (1/N) sum_i y_i, whose
        terms the sum-rule table and --jacobian show."""
        return False

    @property
    def closed_form(self) -> str:
        """The matrix-level rule the symbolic side uses (the Matrix Cookbook's), said in
        the chain rule's sentence; "" for a rule in generic elements."""
        return ""

    shaped_steps = False  # True when `step` has a rule for the shaped path (else refused)

    def step(self, w: Any, node: Call, idx: tuple[Any, ...],
             depth: int) -> tuple[str, Any, Any]:
        """--steps (`steps.Steps` is w): (words, the element, its derivative)."""
        raise NotImplementedError(self.name)

    def story_sentence(self, name: str, local: str, gradient: str) -> str:
        """At the top of L, its rule for one element x_j: `local` is d(y_j)/dx_j."""
        return f"Chain rule through {self.name}: dL/d{name}_j = {gradient}."

    def graph_rule(self, node: Call) -> str:
        """The rule a backward node applies, for the graph's labels."""
        return f"chain rule, {self.rule}"
