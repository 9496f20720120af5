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

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from typing import TYPE_CHECKING, Any

from gradexplain.ir.axes import Shape
from gradexplain.ir.tree import Call, Node, Param, Var
from gradexplain.ops.reading import NAMESPACES as NAMESPACES
from gradexplain.ops.reading import RULES, Reading
from gradexplain.ops.reading import Keyword as Keyword

if TYPE_CHECKING:
    from gradexplain.ir.notation import Notation


@dataclass(frozen=True)
class Hazard:
    """Where a derivative does not exist: `kind` is kink, pole or domain; `where` takes
    the argument's values (numpy) and returns a bool mask; `reason` says why, in words."""

    kind: str
    where: Callable[..., Any]  # (values, *settings) or, for several operands, (*values)
    reason: str


# Every kept-whole SymPy class made so far, with its spec. A formula can hold no other, so
# the evaluators find a function's numpy rule here without importing every family.
MADE: dict[type, NamedFunction] = {}


class NamedFunction:
    """A SymPy function kept whole, so formulas read as the input (`sigmoid(u)`, not
    `1/(1 + exp(-u))`); its class is made on first use, so this stays light.

    `derivative(sp, *args, argindex)` is its fdiff; `numpy(np, *args)` evaluates it over
    arrays; `explicit(sp, *args)` writes it out in SymPy's own functions, for evalf.
    """

    def __init__(
        self,
        name: str,
        *,
        derivative: Callable[..., Any],
        numpy: Callable[..., Any],
        explicit: Callable[..., Any] | None = None,
        nargs: int | None = 1,
        real: bool = True,
        evaluate: Callable[..., Any] | None = None,
    ) -> None:
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

        attrs: dict[str, Any] = {
            "fdiff": fdiff,
            "__module__": __name__,
            "__doc__": f"{self.name}, kept whole (gradexplain.ops)",
        }
        if self.nargs is not None:
            attrs["nargs"] = self.nargs
        if self.real:
            attrs["_eval_is_real"] = lambda self: self.args[0].is_real
        explicit = self.explicit
        if explicit is not None:  # numbers, so Max/Min can compare relu(2) with 1
            attrs["_eval_evalf"] = lambda self, prec: _evalf(explicit(sp, *self.args), prec)
        if self.evaluate is not None:
            evaluate = self.evaluate
            attrs["eval"] = classmethod(lambda cls, *args: evaluate(sp, *args))
        made = type(self.name, (sp.Function,), attrs)
        MADE[made] = self
        return made

    def __call__(self, *args: Any) -> Any:
        return self.cls(*args)


def _evalf(expr: Any, prec: int) -> Any:
    """A number for a kept-whole function of numbers (`relu(2)`), from its explicit form."""
    value = expr.evalf(max(1, int(prec * 0.30103)))  # bits to decimal digits
    return value if value.is_Number else None


@dataclass(frozen=True)
class RuleForm:
    """A derivative rule as SymPy expressions: `head`, then each `label` followed by its
    printed expression (joined by `joiner`), then `tail` (`; ` and the entry's words).
    An equation is two parts joined by " = ": `d/dx_j sum_i(y_i) = sum_i(dy_i/dx_j)`."""

    head: str
    parts: tuple[tuple[str, Any], ...]
    tail: str = ""
    joiner: str = ", "

    def printed(self, printer: Callable[[Any], str]) -> str:
        shown = self.joiner.join(f"{label}{printer(expr)}" for label, expr in self.parts)
        return f"{self.head}{shown}{self.tail}"


def equation(head: str, derivative: str, value: Any, slope: Any, rule: str = "") -> RuleForm:
    """`head` `derivative` value = slope, then the entry's words: `sum rule: d/dx_j
    sum_i(y_i) = sum_i(dy_i/dx_j)`; without a value, `derivative` is the whole left side
    (`d max(u)/du_k = `)."""
    if value is None:
        return RuleForm(head, ((derivative, slope),), words(rule))
    return RuleForm(head, ((derivative, value), ("", slope)), words(rule), " = ")


def words(rule: str) -> str:
    """The tail that puts an entry's words after its printed formula ("" for none)."""
    return f"; {rule}" if rule else ""


@dataclass(frozen=True)
class Op:
    """One operation. Families (elementwise, reductions, softmax, clamp) subclass it and
    override what differs; an entry is one instance, registered in `gradexplain.ops`."""

    name: str
    # the derivative rule, in words a learner reads; where SymPy writes the rule
    # (`printed_rule`), only the words said after its formula ("" when it says it all)
    rule: str
    # how the parser reads the call's arguments: unary, reduction, softmax, clamp... by
    # `calls.CallReader`; arange, loss, shape, literal, einsum by `forms.FormReader`
    signature: str = "unary"
    dim: str = "none"  # dim= of the call: none, optional or required
    # spellings besides NAME(...): "torch" torch.NAME(...), "method" x.NAME(...),
    # "functional" F.NAME(...) and torch.nn.functional.NAME(...), "attribute" x.NAME
    spellings: tuple[str, ...] = ("torch", "method")
    bare: bool = True  # NAME(...) alone is a spelling too (so NAME is no variable's name)
    hazards: tuple[Hazard, ...] = ()
    story: str | None = None  # "L = sum_i y_i": how the story names L at the top
    # said when y.backward(ones) runs through it at the top: what L = sum_i y_i means there
    ones_note: str = ""
    average: bool = False  # L = (1/N) sum_i y_i (mean): each dL/dy_i is 1/N
    operands: int = 1  # how many tensors it takes, before its constant settings
    keywords: tuple[Keyword, ...] = ()  # its settings, in PyTorch's positional order
    # other names of it, "namespace:name" (NAMESPACES, or "bare"): "torch:arcsinh"
    aliases: tuple[str, ...] = ()
    pairwise: str | None = None  # torch.max(a, b) with a tensor b is this op (maximum)
    # a call that returns several tensors (slogdet): their attribute names in torch's
    # order; the parser keeps which one `f(X)[1]` / `f(X).name` takes as the setting "output"
    outputs: tuple[str, ...] = ()
    # as an index (`x[...]`), its result is integer data: "always" (arange, a literal
    # tensor), "source" when its first argument is (a part of an index array, `t[:2]`)
    index_data: str = ""
    # how its spellings are shown: constants before the tensors, text after the call
    # (einsum's `'ij,j->i'`, slogdet's `[1]`)
    written: tuple[tuple[str, ...], str] = ((), "")

    def reading(self, family: str) -> Reading:
        """This entry's row of the index (`index.py`): what the parser reads of it."""
        return Reading(
            self.name,
            family,
            self.bare,
            self.spellings,
            self.aliases,
            self.signature,
            self.operands,
            self.dim,
            self.pairwise,
            self.outputs,
            self.index_data,
            tuple(rule for rule in RULES if getattr(type(self), rule) is not getattr(Op, rule)),
            self.keywords,
        )

    def setting(self, node: Call, name: str) -> Param:
        """The value of keyword `name` in this call, or its default."""
        default = next((k.default for k in self.keywords if k.name == name), None)
        return node.param(name, default)

    # -- parser -------------------------------------------------------------------------
    def fold(self, *values: float) -> float:
        """The value of the call on constants (the parser folds to check them)."""
        raise NotImplementedError(self.name)

    def check(self, node: Call, text: str) -> None:
        """Refuse, with an ExpressionError, settings that torch refuses (the parser asks)."""

    def spelled(self, node: Call, args: list[str], settings: list[str]) -> str:
        """The call as text (`unparse.source`), from its arguments' and settings' text."""
        return f"{self.name}({', '.join([*args, *settings])})"

    def data(self, node: Call, shape_of: Callable[[Any], Shape] | None = None) -> Iterator[Var]:
        """Variables this call reads as integer data (index arrays): never differentiated.
        `shape_of` gives a node's shape where the shapes are known."""
        return iter(())

    def check_values(
        self, node: Call, shape_of: Mapping[int, Shape], arrays: Mapping[str, Any], text: str
    ) -> None:
        """Refuse values the call cannot take (an index out of range), as input errors;
        `arrays` holds each variable's values as a flat sequence of floats."""

    def count(self, node: Call) -> Var | None:
        """A variable whose value this call reads as a count (`range(n)`): program.build
        binds it to that number before the shapes (`counted`); None for other calls."""
        return None

    def counted(self, node: Call, count: int) -> Call:
        """The call with its count (`count()`) bound to the number `count`."""
        return node

    def reads_as_size(self, node: Call) -> Var | None:
        """A variable this call reads as a size, not as values (`range(len(t))`, `range(n)`)."""
        return None

    def wraps(self, node: Call, shape_of: Mapping[int, Shape]) -> Iterator[tuple[Var, int]]:
        """Index variables of this call whose negative values count from the end of an
        axis of the given size, as torch reads them (program.build counts them from 0)."""
        return iter(())

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
        """The torch call on every operand; one-operand ops define `torch` instead."""
        return self.torch(torch, tensors[0], node)

    # how many of `torch_args` (the first) are only compared, as where()'s two sides: no
    # gradient flows through them, so the op's hazards count only where they are
    # differentiated, and nothing inside them is watched
    compared: int = 0

    def torch_args(self, node: Call) -> tuple[Node, ...]:
        """The nodes whose tensors `apply` and `masks` take, in order (where() takes its
        comparison's two sides in the comparison's place)."""
        return node.args

    @property
    def may_fail(self) -> bool:
        """True when the derivative can fail somewhere (the autograd side then looks)."""
        return bool(self.hazards)

    def hazard_masks(self, node: Call, values: Any) -> Iterator[tuple[str, Any]]:
        """(kind, mask) for each hazard; `values` is the argument as a numpy array."""
        for hazard in self.hazards:
            yield hazard.kind, hazard.where(values)

    def masks(self, node: Call, values: list[Any]) -> Iterator[tuple[str, Any]]:
        """(kind, mask) for each hazard, given every operand's values (numpy)."""
        return self.hazard_masks(node, values[0])

    def reason(self, node: Call, kind: str, args: list[str]) -> str:
        """Why there is no derivative here; `args` are the call's arguments as text (the
        caller prints them, so an entry needs no printer of its own)."""
        for hazard in self.hazards:
            if hazard.kind == kind:
                return hazard.reason
        return f"{self.name} has no derivative here"

    postfix = False  # written after its first argument, as `x[1:3]` (binds tightly)

    def source(self, node: Call, args: list[str]) -> str | None:
        """The call as text, for graphs and steps, when it is not `name(args, key=value)`;
        `args` are its arguments' texts."""
        return None

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

    def step(self, w: Any, node: Call, idx: tuple[Any, ...], depth: int) -> tuple[str, Any, Any]:
        """--steps (`steps.Steps` is w): (words, the element, its derivative)."""
        raise NotImplementedError(self.name)

    def story_sentence(self, name: str, local: str, gradient: str, nt: Notation) -> str:
        """At the top of L, its rule for one element x_j: `local` is d(y_j)/dx_j."""
        return f"Chain rule through {self.name}: dL/d{name}_{nt.j} = {gradient}."

    def rule_form(self, node: Call | None = None) -> RuleForm | None:
        """The rule as SymPy expressions, for families whose rule is a formula: --steps,
        the graph and README's table print it with the printer of the table's formulas
        (`node`'s settings filled in; without one, each setting by its name). None: the
        rule is `rule`, in words."""
        return None

    def printed_rule(self, printer: Callable[[Any], str], node: Call | None = None) -> str:
        """The rule as shown: `rule_form` printed by `printer` (symbolic.formula), or the
        words."""
        form = self.rule_form(node)
        return self.rule if form is None else form.printed(printer)

    def graph_rule(self, node: Call) -> str:
        """The rule a backward node applies, for the graph's labels (graph.py prints
        `rule_form` itself where there is one)."""
        return f"chain rule, {self.rule}"


def number(text: str, value: float) -> Any:
    """Exact SymPy numbers from the literal's digits, so `0.1*x` prints as `x/10`."""
    import sympy as sp

    try:
        fraction = Fraction(text)
    except (ValueError, ZeroDivisionError):
        fraction = Fraction(value)
    return sp.Rational(fraction.numerator, fraction.denominator)
