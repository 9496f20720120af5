"""Reading a call as PyTorch reads it: which function a spelling names, and its arguments.

A spelling (`exp(x)`, `torch.exp(x)`, `x.exp()`, `F.relu(x)`, `torch.special.expit(x)`)
names a registry entry through `ops.SPELLED`; the entry's `operands` and `keywords`, as
the index holds them (`ops.reading`: no family module loads for them), say how its
arguments are read: the tensors first, then its settings in PyTorch's order, by
position or by name (`dim=`, `keepdim=`, `axis=` as NumPy's alias...). Settings are
constants and go into the call's `params`; nothing here is evaluated. Anything outside
the language is refused with a message that names it as not supported and, where one
exists, the closest supported spelling.
"""

from __future__ import annotations

import ast
import difflib
import math
from typing import Protocol

from gradexplain.errors import ExpressionError
from gradexplain.ir.fold import check_constants, constant_value
from gradexplain.ir.tree import Call, Compare, Node, Param
from gradexplain.ops import NAMES, OPS, PREFIXES, SPELLED, Keyword, Reading


class Converter(Protocol):
    """What a reader needs of the parser: its text, its errors, and the conversion of an
    argument (the parser passes itself; this module does not import it)."""

    text: str

    def fail(self, message: str, node: ast.AST) -> ExpressionError: ...

    def convert(self, node: ast.AST) -> Node: ...


_FUNCTIONAL_PREFIXES = ("torch.nn.functional.", "nn.functional.", "F.")
_NAMESPACE_PREFIXES = (("torch.special.", "special"), ("torch.linalg.", "linalg"))
_NUMPY_MODULES = ("np", "numpy", "math", "jnp", "scipy")
_PREFIX_OF = {"bare": "", **PREFIXES}
# NumPy names whose torch spelling differs (most are the same name, or a torch alias)
_NUMPY_TO_TORCH = {
    "power": "pow",
    "absolute": "abs",
    "negative": "neg",
    "divide": "div",
    "max": "amax",
    "min": "amin",
    "mod": "remainder",
}
_INF_MODULES = ("math", "torch", "np", "numpy")
_COMPARISONS: dict[type, str] = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
}


def namespace_of(dotted: str) -> tuple[str, str] | None:
    """("functional", "relu") for `F.relu`, ("torch", "exp") for `torch.exp`; None for a
    method call on an expression (`x.exp`, `(x + 1).sum`)."""
    for prefix in _FUNCTIONAL_PREFIXES:
        if dotted.startswith(prefix):
            return "functional", dotted[len(prefix) :]
    for prefix, space in _NAMESPACE_PREFIXES:
        if dotted.startswith(prefix):
            return space, dotted[len(prefix) :]
    head, _, rest = dotted.partition(".")
    if head == "torch":
        return ("torch", rest) if "." not in rest else ("other", dotted)
    if head in _NUMPY_MODULES:
        return "numpy", dotted
    return None


def not_supported(space: str, spelling: str, dotted: str) -> str:
    """`torch.foo is not supported; the closest supported spelling is torch.fmod`."""
    if space == "numpy":
        module, _, name = dotted.partition(".")
        torch_name = _NUMPY_TO_TORCH.get(name, name)
        found = next(
            (
                _PREFIX_OF[s] + torch_name
                for s in ("torch", "functional")
                if torch_name in SPELLED[s]
            ),
            None,
        )
        hint = (
            f"write {found}(...)"
            if found
            else "write the torch spelling (torch.f(x), x.f(), F.f(x))"
        )
        return f"{dotted} is {module}'s, not PyTorch's; gradexplain reads PyTorch: {hint}"
    # the same name in another namespace first (torch.relu6 -> F.relu6(x))
    elsewhere = next(
        (
            s
            for s in ("torch", "functional", "special", "linalg", "method")
            if spelling in SPELLED[s]
        ),
        None,
    )
    if elsewhere is not None:
        return (
            f"{dotted} is not supported; the closest supported spelling is "
            f"{_PREFIX_OF[elsewhere]}{spelling}{'()' if elsewhere == 'method' else '(...)'}"
        )
    known = sorted(SPELLED[space]) if space in SPELLED else []
    close = difflib.get_close_matches(spelling, known, n=1)
    if not close:
        return f"{dotted} is not supported (the README lists every supported function)"
    shown = _PREFIX_OF[space] + close[0] + ("()" if space == "method" else "")
    return f"{dotted} is not supported; the closest supported spelling is {shown}"


class CallReader:
    """Turns one `ast.Call` into our `Call` node, by its registry entry."""

    def __init__(self, converter: Converter) -> None:
        self.converter = converter
        self.text = converter.text

    def fail(self, message: str, node: ast.AST) -> ExpressionError:
        return self.converter.fail(message, node)

    # -- arguments by the entry --------------------------------------------------------
    def read(self, name: str, args: list[ast.expr], node: ast.Call) -> Node:
        """`name` is canonical; args are the positional arguments (a method's receiver
        first)."""
        op = NAMES[name]
        if op.signature == "clamp":
            return self.clamp(args, node)
        if op.signature == "condition":
            return self.condition(op, args, node)
        pairwise = _pairwise(op, args)
        if pairwise is not None:  # torch.max(a, b) is torch.maximum(a, b)
            return self.read(pairwise, args, node)
        tensors, given = self._split(op, args, node)
        params = tuple(
            (spec.name, self._value(op, spec, given[spec.name]))
            for spec in op.keywords
            if spec.name in given
        )
        params = tuple((key, value) for key, value in params if value is not None)
        if op.dim == "required" and not any(key == "dim" for key, _ in params):
            raise self.fail(
                f"{name}() needs a dim, as in {name}(x, dim=0): torch.{name} has no default", node
            )
        result = Call(
            name, tuple(self.converter.convert(t) for t in tensors), node.col_offset, params
        )
        if _keepdim_without_dim(op, result):
            raise ExpressionError(
                f"keepdim= of {name}() needs a dim, as torch.{name} takes it: "
                f"{name}(x, dim=0, keepdim=True)",
                self.text,
                result.col,
            )
        if "check" in op.rules:  # the entry's own check: its family loads here
            OPS[name].check(result, self.text)
        check_constants(result, self.text)
        return result

    def clamp(self, args: list[ast.expr], node: ast.Call) -> Node:
        """clamp(x, min=None, max=None): bounds are numbers or tensors, either may be left
        out (then it is clamp_min or clamp_max); lo > hi gives hi everywhere, as in torch."""
        if not args or len(args) > 3:
            raise self.fail(
                f"clamp() takes a tensor and then at most min, max, got "
                f"{len(args)} argument{'s' * (len(args) != 1)}",
                node,
            )
        bounds: dict[str, ast.expr] = dict(zip(("min", "max"), args[1:]))
        for keyword in node.keywords:
            if keyword.arg not in ("min", "max"):
                raise ExpressionError(
                    _unknown_keyword(NAMES["clamp"], keyword.arg), self.text, keyword.col_offset
                )
            if keyword.arg in bounds:
                raise ExpressionError(
                    f"clamp() got {keyword.arg}= twice", self.text, keyword.col_offset
                )
            bounds[keyword.arg] = keyword.value
        given = {
            key: value
            for key, value in bounds.items()
            if not (isinstance(value, ast.Constant) and value.value is None)
        }
        if not given:
            raise self.fail("clamp() needs min= or max= (or both), as in clamp(x, min=0)", node)
        name = "clamp" if len(given) == 2 else f"clamp_{next(iter(given))}"
        operands = [args[0], *(given[key] for key in ("min", "max") if key in given)]
        result = Call(name, tuple(self.converter.convert(arg) for arg in operands), node.col_offset)
        check_constants(result, self.text)
        return result

    def condition(self, op: Reading, args: list[ast.expr], node: ast.Call) -> Node:
        """`where(cond, a, b)`: cond is one comparison, kept as a `Compare` node (the only
        place the language has one); a and b are read as every operand is."""
        if node.keywords:
            keyword = node.keywords[0]
            raise ExpressionError(_unknown_keyword(op, keyword.arg), self.text, keyword.col_offset)
        if len(args) != 3:
            raise self.fail(f"{op.name}() takes 3 arguments, got {len(args)}", node)
        condition = args[0]
        if (
            not isinstance(condition, ast.Compare)
            or len(condition.ops) != 1
            or type(condition.ops[0]) not in _COMPARISONS
        ):
            raise self.fail(
                f"{op.name}() needs one comparison as its first argument, as in "
                f"{op.name}(t == 1, a, b)",
                condition,
            )
        convert = self.converter.convert
        compare = Compare(
            _COMPARISONS[type(condition.ops[0])],
            convert(condition.left),
            convert(condition.comparators[0]),
            condition.col_offset,
        )
        return Call(op.name, (compare, convert(args[1]), convert(args[2])), node.col_offset)

    def _split(
        self, op: Reading, args: list[ast.expr], node: ast.Call
    ) -> tuple[list[ast.expr], dict[str, ast.expr]]:
        """The tensors, and each setting's value by name (positional or keyword)."""
        count = op.operands
        positional = [spec for spec in op.keywords if spec.positional]
        if len(args) < count or len(args) > count + len(positional):
            raise self.fail(
                f"{op.name}() takes {_takes(op, positional)}, got {len(args)} "
                f"argument{'s' * (len(args) != 1)}",
                node,
            )
        given = {spec.name: value for spec, value in zip(positional, args[count:])}
        for keyword in node.keywords:
            spec = _keyword(op, keyword.arg)
            if spec is None:
                raise ExpressionError(
                    _unknown_keyword(op, keyword.arg), self.text, keyword.col_offset
                )
            if spec.name in given:
                raise ExpressionError(
                    f"{op.name}() got {spec.name}= twice", self.text, keyword.col_offset
                )
            given[spec.name] = keyword.value
        return args[:count], given

    def _value(self, op: Reading, spec: Keyword, value: ast.expr) -> Param:
        reader = getattr(self, f"_{spec.kind}")
        return reader(op, spec, value)  # type: ignore[no-any-return]

    def _dims(self, op: Reading, spec: Keyword, value: ast.expr) -> Param:
        """An int, a tuple (or list) of ints, or None; () is every dim, as None."""
        if isinstance(value, ast.Constant) and value.value is None:
            return None
        items = value.elts if isinstance(value, (ast.Tuple, ast.List)) else [value]
        dims = tuple(self._integer(op, item) for item in items)
        return dims or None

    def _dim(self, op: Reading, spec: Keyword, value: ast.expr) -> Param:
        if isinstance(value, (ast.Tuple, ast.List)):
            raise self.fail(
                f"dim of {op.name}() is one integer, not a tuple, as torch.{op.name} takes it",
                value,
            )
        if isinstance(value, ast.Constant) and value.value is None:
            return None
        return (self._integer(op, value),)

    def _integer(self, op: Reading, value: ast.expr) -> int:
        found = _signed_integer(value)
        if found is None:
            hint = (
                " (a tuple of them for several dims)"
                if op.keywords and op.keywords[0].kind == "dims"
                else ""
            )
            raise self.fail(
                f"dim of {op.name}() must be an integer such as 0, 1 or -1{hint}", value
            )
        return found

    def _int(self, op: Reading, spec: Keyword, value: ast.expr) -> Param:
        """One integer, negative allowed (a diagonal's offset, a dim of diagonal())."""
        found = _signed_integer(value)
        if found is None:
            raise self.fail(f"{spec.name}= of {op.name}() must be an integer", value)
        return found

    def _bool(self, op: Reading, spec: Keyword, value: ast.expr) -> Param:
        if not isinstance(value, ast.Constant) or not isinstance(value.value, bool):
            raise self.fail(f"{spec.name}= of {op.name}() must be True or False", value)
        return value.value

    def _false(self, op: Reading, spec: Keyword, value: ast.expr) -> Param:
        if not isinstance(value, ast.Constant) or value.value is not False:
            raise self.fail(
                f"{spec.name}=True of {op.name}() is not supported: it changes "
                f"the tensor in place; leave it out",
                value,
            )
        return None  # the default: nothing to keep

    def _number(self, op: Reading, spec: Keyword, value: ast.expr) -> Param:
        if (
            isinstance(value, ast.Constant)
            and isinstance(value.value, bool)
            and spec.default is not None
            and isinstance(spec.default, bool)
        ):
            return value.value
        number = constant_value(self.converter.convert(value), self.text)
        if number is None:
            raise self.fail(f"{spec.name}= of {op.name}() must be a number", value)
        if spec.nonzero and number == 0:
            raise self.fail(f"{spec.name}=0 of {op.name}() divides by zero", value)
        return number

    def _order(self, op: Reading, spec: Keyword, value: ast.expr) -> Param:
        """A norm's p: a number, inf or -inf (float('inf'), math.inf, torch.inf...), 'fro'."""
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            if value.value in ("fro", "nuc"):  # matrix norms; each entry says what it takes
                return value.value
            raise self.fail(
                f"{spec.name}={value.value!r} of {op.name}() is not supported: "
                f"norms take a number, inf, -inf, 'fro' or (for a matrix) 'nuc'",
                value,
            )
        sign = 1.0
        if isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.USub):
            sign, value = -1.0, value.operand
        if _is_infinity(value):
            return sign * math.inf
        number = constant_value(self.converter.convert(value), self.text)
        if number is None:
            raise self.fail(f"{spec.name}= of {op.name}() must be a number, inf or 'fro'", value)
        return sign * number

    def _choice(self, op: Reading, spec: Keyword, value: ast.expr) -> Param:
        if not isinstance(value, ast.Constant) or value.value not in spec.choices:
            allowed = " or ".join(repr(choice) for choice in spec.choices)
            raise self.fail(f"{spec.name}= of {op.name}() must be {allowed}", value)
        return None if value.value == spec.default else str(value.value)


def _pairwise(op: Reading, args: list[ast.expr]) -> str | None:
    """torch.max(a, b) with a tensor b is torch.maximum(a, b) (an int b is a dim)."""
    if op.pairwise is None or len(args) != 2:
        return None
    second = args[1].operand if isinstance(args[1], ast.UnaryOp) else args[1]
    integer = (
        isinstance(second, ast.Constant)
        and isinstance(second.value, int)
        and not isinstance(second.value, bool)
    )
    return None if integer else op.pairwise


def _keepdim_without_dim(op: Reading, call: Call) -> bool:
    """keepdim=True without a dim, where dim is one integer: torch.max and torch.prod
    refuse it (where dim takes a tuple, keepdim alone keeps every dim)."""
    one_dim = any(spec.name == "dim" and spec.kind == "dim" for spec in op.keywords)
    return one_dim and bool(call.param("keepdim", False)) and call.param("dim") is None


def _keyword(op: Reading, name: str | None) -> Keyword | None:
    return next((spec for spec in op.keywords if name in (spec.name, *spec.aliases)), None)


def _unknown_keyword(op: Reading, name: str | None) -> str:
    if name is None:
        return f"unpacking **kwargs into {op.name}() is not supported"
    names = [spec.name for spec in op.keywords]
    if not names:
        return f"keyword {name}= of {op.name}() is not supported: {op.name}() takes no keywords"
    close = difflib.get_close_matches(name, names, n=1)
    hint = f"; did you mean {close[0]}=?" if close else ""
    return (
        f"keyword {name}= of {op.name}() is not supported{hint} ({op.name}() takes "
        f"{', '.join(n + '=' for n in names)})"
    )


def _takes(op: Reading, positional: list[Keyword]) -> str:
    tensors = "a tensor" if op.operands == 1 else f"{op.operands} tensors"
    if not positional:
        return f"{op.operands} argument{'s' * (op.operands != 1)}"
    return f"{tensors} and then at most {', '.join(spec.name for spec in positional)}"


def _is_infinity(value: ast.expr) -> bool:
    if (
        isinstance(value, ast.Attribute)
        and value.attr == "inf"
        and isinstance(value.value, ast.Name)
        and value.value.id in _INF_MODULES
    ):
        return True
    return (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name)
        and value.func.id == "float"
        and len(value.args) == 1
        and not value.keywords
        and isinstance(value.args[0], ast.Constant)
        and value.args[0].value in ("inf", "infinity")
    )


def _signed_integer(value: ast.expr) -> int | None:
    """An integer literal, or its negation (`-1`); None for anything else (True too)."""
    negated = isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.USub)
    number = value.operand if isinstance(value, ast.UnaryOp) and negated else value
    if (
        not isinstance(number, ast.Constant)
        or isinstance(number.value, bool)
        or not isinstance(number.value, int)
    ):
        return None
    return -number.value if negated else number.value
