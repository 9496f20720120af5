"""Parse an expression string into our tree through an allowlist. Nothing is evaluated.

The string goes through three gates before any tree exists: a character scan (ASCII only,
bounded parentheses and number literals), Python's `ast.parse`, and an iterative size and
depth check. Only then is the ast converted, node type by node type, from the tables
below; any node type not in them is refused with a named error and its column.
"""

from __future__ import annotations

import ast
import difflib
import math
import re
import unicodedata
import warnings
from collections.abc import Callable

from gradexplain import limits
from gradexplain.cost import check_cost
from gradexplain.errors import ExpressionError, LimitError
from gradexplain.fold import constant_value
from gradexplain.ops import (
    CONSTANTS,
    FUNCTIONAL,
    LINALG,
    METHODS,
    OPS,
    RESERVED_NAMES,
    TORCH_FUNCTIONS,
    WITH_DIM,
)
from gradexplain.ops.einsum import SubscriptError, subscripts
from gradexplain.tree import BinOp, Call, Compare, Const, Neg, Node, Num, Var

_ALLOWED_CHARS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.,()+-*/^%@ \t")

# Characters refused with a hint, because people try them for a reason.
_CHAR_HINTS = {
    ";": "statements are not allowed",
    "=": "assignments and keyword arguments are not allowed",
    ":": "lambda, slices and the walrus are not allowed",
    "[": "subscripts and lists are not allowed",
    "]": "subscripts and lists are not allowed",
    "{": "sets, dicts and f-string fields are not allowed",
    "}": "sets, dicts and f-string fields are not allowed",
    "'": "strings are not allowed",
    '"': "strings are not allowed",
    "\n": "the expression must be one line",
}

_BINOPS: dict[type, str] = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/",
                            ast.Pow: "**", ast.MatMult: "@"}

_COMPARISONS: dict[type, str] = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=",
                                 ast.Gt: ">", ast.GtE: ">="}
# Comparison characters reach Python's parser only when the text calls where(...);
# the ast gate then keeps comparisons to where's first argument.
_COMPARISON_CHARS = frozenset("=<>!")
_WHERE_CALL = re.compile(r"(?<![A-Za-z0-9_])where\s*\(")
_EINSUM_CALL = re.compile(r"(?<![A-Za-z0-9_])einsum\s*\(")
_SLOGDET_CALL = re.compile(r"(?<![A-Za-z0-9_])slogdet\s*\(")
# slogdet's two outputs, by attribute and by position (negative positions as Python's)
_SLOGDET_PARTS = {"sign": 0, "logabsdet": 1}
_SLOGDET_POSITIONS = {0: 0, 1: 1, -2: 0, -1: 1}
_DIM_KEYWORD = re.compile(r"(?<![A-Za-z0-9_])dim\s*=(?!=)")
_FUNCTIONAL_PREFIXES = ("torch.nn.functional.", "nn.functional.", "F.")
_LINALG_PREFIX = "torch.linalg."

_BINOP_HINTS: dict[type, str] = {
    ast.BitXor: "operator ^ is not supported; use ** for powers",
    ast.Mod: "operator % is not supported",
    ast.FloorDiv: "operator // is not supported; use /",
}

# What to call refused node types in messages; anything absent is named by its class.
_NODE_NAMES: dict[type, str] = {
    ast.Lambda: "lambda", ast.IfExp: "conditional expressions",
    ast.Compare: "comparisons outside where(cond, a, b)",
    ast.BoolOp: "and/or", ast.NamedExpr: "the walrus :=",
    ast.ListComp: "comprehensions", ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions", ast.GeneratorExp: "generator expressions",
    ast.JoinedStr: "f-strings", ast.Subscript: "subscripts", ast.Tuple: "tuples",
    ast.List: "lists", ast.Dict: "dicts", ast.Set: "sets", ast.Starred: "unpacking",
    ast.Attribute: "attribute access", ast.Await: "await", ast.Yield: "yield",
    ast.Slice: "slices",
}


def parse(text: str) -> Node:
    """Parse `text` into our tree, or raise an `ExpressionError` naming the column."""
    if not isinstance(text, str):
        raise TypeError(f"expression must be a str, not {type(text).__name__}")
    text = text.strip(" \t")
    _scan_characters(text)
    module = _ast_parse(text)
    _check_size(module.body, text)
    tree = _Converter(text).convert(module.body)
    check_cost(tree, text)
    return tree


def _scan_characters(text: str) -> None:
    """Refuse what must never reach Python's parser: non-ASCII, huge literals, deep parens."""
    if len(text) > limits.MAX_EXPRESSION_CHARS:
        raise LimitError(f"expression is {len(text):,} characters long; the limit is "
                         f"MAX_EXPRESSION_CHARS = {limits.MAX_EXPRESSION_CHARS:,}",
                         text, limits.MAX_EXPRESSION_CHARS)
    if not text.strip():
        raise ExpressionError("expression is empty", text, 0)
    depth = 0
    token_start, numeric = -1, False
    allowed = _ALLOWED_CHARS | _COMPARISON_CHARS if _WHERE_CALL.search(text) else \
        _ALLOWED_CHARS | (frozenset("=") if _DIM_KEYWORD.search(text) else frozenset())
    if _SLOGDET_CALL.search(text):  # slogdet(X)[1]: the ast gate keeps [] to slogdet's
        allowed |= frozenset("[]")
    if _EINSUM_CALL.search(text):  # einsum('ij,jk->ik', ...): the ast gate keeps strings
        allowed |= frozenset("'\">")  # to einsum's first argument
    for col, char in enumerate(text):
        if char not in allowed:
            raise ExpressionError(_describe_char(char), text, col)
        depth += (char == "(") - (char == ")")
        if depth > limits.MAX_DEPTH:
            raise LimitError(f"parentheses nest deeper than MAX_DEPTH = {limits.MAX_DEPTH}",
                             text, col)
        if not (char.isalnum() or char in "_."):
            token_start = -1
        elif token_start < 0:
            token_start, numeric = col, char.isdigit() or char == "."
        elif numeric and col - token_start + 1 > limits.MAX_NUMBER_CHARS:
            raise LimitError(f"number literal is longer than MAX_NUMBER_CHARS = "
                             f"{limits.MAX_NUMBER_CHARS}", text, token_start)


def _describe_char(char: str) -> str:
    if char in _CHAR_HINTS:
        return f"character {char!r} is not allowed: {_CHAR_HINTS[char]}"
    if ord(char) < 128:
        return f"character {char!r} is not allowed"
    name = unicodedata.name(char, "unnamed")
    return (f"character {char!r} (U+{ord(char):04X} {name}) is not allowed: "
            f"expressions are plain ASCII")


def _ast_parse(text: str) -> ast.Expression:
    """Python's parser; its SyntaxWarnings (`1if x`) become errors, never stray stderr."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", SyntaxWarning)
            return ast.parse(text, mode="eval")
    except SyntaxError as exc:
        column = max(0, min(len(text) - 1, (exc.offset or 1) - 1))
        raise ExpressionError(f"syntax error: {exc.msg}", text, column) from None
    except (ValueError, MemoryError, RecursionError) as exc:  # defensive: scan stops these
        raise ExpressionError(f"cannot parse: {exc}", text, 0) from None


def _check_size(root: ast.AST, text: str) -> None:
    """Count nodes and depth iteratively, so no input can overflow Python's stack."""
    stack: list[tuple[ast.AST, int]] = [(root, 1)]
    count = 0
    while stack:
        node, depth = stack.pop()
        count += 1
        column = getattr(node, "col_offset", 0)
        if depth > limits.MAX_DEPTH:
            raise LimitError(f"expression nests deeper than MAX_DEPTH = {limits.MAX_DEPTH}",
                             text, column)
        if count > limits.MAX_NODES:
            raise LimitError(f"expression has more than MAX_NODES = {limits.MAX_NODES} "
                             f"nodes", text, column)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node)
                     if not isinstance(child, (ast.expr_context, ast.operator,
                                               ast.unaryop)))


class _Converter:
    """Turns an allowlisted ast into our tree, folding nothing but checking constants."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.handlers: dict[type, Callable[[ast.AST], Node]] = {
            ast.BinOp: self._binop,  # type: ignore[dict-item]
            ast.UnaryOp: self._unary,  # type: ignore[dict-item]
            ast.Constant: self._constant,  # type: ignore[dict-item]
            ast.Name: self._name,  # type: ignore[dict-item]
            ast.Call: self._call,  # type: ignore[dict-item]
        }
        # an op's `signature` names how its arguments are read
        self.signatures: dict[str, Callable[[str, list[ast.expr], ast.Call], Node]] = {
            "unary": self._one_argument, "reduction": self._reduction, "softmax": self._softmax,
            "clamp": self._clamp, "operands": self._operands, "slogdet": self._slogdet,
            "einsum": self._einsum,
        }
        self.slogdet_part: int | None = None  # the output that slogdet(X)[...] picks

    def fail(self, message: str, node: ast.AST) -> ExpressionError:
        return ExpressionError(message, self.text, getattr(node, "col_offset", 0))

    def convert(self, node: ast.AST) -> Node:
        handler = self.handlers.get(type(node))
        if isinstance(node, (ast.Subscript, ast.Attribute)) and isinstance(node.value, ast.Call) \
                and _called_name(node.value.func) == "slogdet":
            return self._slogdet_output(node)
        if isinstance(node, ast.Attribute) and node.attr == "T":
            return Call("T", (self.convert(node.value),), _attr_column(self.text, node))
        if isinstance(node, ast.Attribute):
            raise ExpressionError(f"attribute access .{node.attr} not allowed", self.text,
                                  _attr_column(self.text, node))
        if handler is None:
            name = _NODE_NAMES.get(type(node), f"{type(node).__name__} syntax")
            raise self.fail(f"{name} not allowed", node)
        return handler(node)

    def _binop(self, node: ast.BinOp) -> Node:
        op = _BINOPS.get(type(node.op))
        if op is None:
            hint = _BINOP_HINTS.get(type(node.op), "operator not supported")
            raise ExpressionError(hint, self.text, _operator_column(self.text, node))
        result = BinOp(op, self.convert(node.left), self.convert(node.right), node.col_offset)
        check_constants(result, self.text)
        return result

    def _unary(self, node: ast.UnaryOp) -> Node:
        operand = self.convert(node.operand)
        if isinstance(node.op, ast.UAdd):
            return operand
        if isinstance(node.op, ast.USub):
            return Neg(operand, node.col_offset)
        raise self.fail("operators not, ~ are not allowed", node)

    def _constant(self, node: ast.Constant) -> Node:
        source = ast.get_source_segment(self.text, node) or ""
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            kind = "complex numbers" if isinstance(value, complex) else repr(value)
            raise self.fail(f"{kind} not allowed: only real numbers", node)
        if "_" in source:
            raise self.fail("underscores in numbers are not allowed", node)
        number = float(value)
        if not math.isfinite(number) or abs(number) > limits.MAX_CONSTANT:
            raise self.fail(f"number {source} exceeds MAX_CONSTANT = {limits.MAX_CONSTANT}",
                            node)
        return Num(number, source, node.col_offset)

    def _name(self, node: ast.Name) -> Node:
        name = node.id
        if name in CONSTANTS:
            return Const(name, node.col_offset)
        if name in RESERVED_NAMES:
            raise self.fail(f"{name!r} is a function; call it, as in {name}(x)"
                            if name != "torch" else "'torch' alone is not a value", node)
        if name.startswith("_"):
            raise self.fail(f"names starting with '_' are not allowed: {name!r}", node)
        if len(name) > limits.MAX_NAME_CHARS:
            raise LimitError(f"name is longer than MAX_NAME_CHARS = {limits.MAX_NAME_CHARS}",
                             self.text, node.col_offset)
        return Var(name, node.col_offset)

    def _call(self, node: ast.Call) -> Node:
        for keyword in node.keywords:
            called = OPS.get(_called_name(node.func))
            if keyword.arg != "dim" or len(node.keywords) > 1 or called is None \
                    or called.dim == "none":
                raise ExpressionError(f"keyword argument {keyword.arg or '**'}= not allowed "
                                      f"(only dim= of {_and(WITH_DIM)})",
                                      self.text, keyword.col_offset)
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise self.fail("unpacking not allowed", arg)
        func = node.func
        if isinstance(func, ast.Name):
            return self._function(func.id, node.args, node)
        if isinstance(func, ast.Attribute):
            dotted = _dotted_name(func)
            functional = next((dotted[len(prefix):] for prefix in _FUNCTIONAL_PREFIXES
                               if dotted.startswith(prefix)), None)
            if functional in FUNCTIONAL and node.args:
                return self._function(functional, node.args, node)
            if dotted.startswith(_LINALG_PREFIX) and dotted[len(_LINALG_PREFIX):] in LINALG:
                return self._function(LINALG[dotted[len(_LINALG_PREFIX):]], node.args, node)
            if dotted.startswith("torch.") and dotted.count(".") > 1:
                raise self.fail(f"{dotted} is not allowed; allowed: "
                                f"{_listing(TORCH_FUNCTIONS, 'torch.')}, "
                                f"{_listing(FUNCTIONAL, 'torch.nn.functional.')}, "
                                f"{_listing(frozenset(LINALG), _LINALG_PREFIX)}", func)
            if isinstance(func.value, ast.Name) and func.value.id == "torch":
                if func.attr not in TORCH_FUNCTIONS:
                    raise self.fail(f"torch.{func.attr} is not allowed; allowed: "
                                    f"{_listing(TORCH_FUNCTIONS, 'torch.')}", func)
                return self._function(func.attr, node.args, node)
            if func.attr not in METHODS:
                raise ExpressionError(
                    f"method .{func.attr}() is not allowed; allowed: "
                    f"{_listing(METHODS, '.')}", self.text, _attr_column(self.text, func))
            return self._function(func.attr, [func.value, *node.args], node)
        raise self.fail("only named functions can be called", node)

    def _function(self, name: str, args: list[ast.expr], node: ast.Call) -> Node:
        """The registry entry's signature picks the handler for its arguments."""
        if name == "pow":
            self._arity(name, args, 2, node)
            return self._binop(ast.BinOp(args[0], ast.Pow(), args[1],
                                         col_offset=node.col_offset))
        if name == "where":
            return self._where(args, node)
        if name not in OPS:
            raise self.fail(_unknown_function(name), node)
        return self.signatures[OPS[name].signature](name, args, node)

    def _one_argument(self, name: str, args: list[ast.expr], node: ast.Call) -> Node:
        self._arity(name, args, 1, node)
        result = Call(name, (self.convert(args[0]),), node.col_offset)
        check_constants(result, self.text)
        return result

    def _operands(self, name: str, args: list[ast.expr], node: ast.Call) -> Node:
        """`mm(A, B)`, `A.mm(B)`, `trace(X)`: the entry's number of tensors, no constants."""
        self._arity(name, args, OPS[name].operands, node)
        result = Call(name, tuple(self.convert(arg) for arg in args), node.col_offset)
        check_constants(result, self.text)
        return result

    def _einsum(self, name: str, args: list[ast.expr], node: ast.Call) -> Node:
        """`einsum('ij,jk->ik', A, B)`: a constant subscript string, read by our own parser
        (`ops.einsum.subscripts`), then one or two tensors."""
        spec = args[0] if args else None
        if not isinstance(spec, ast.Constant) or not isinstance(spec.value, str):
            raise self.fail("einsum() takes a subscript string first, as in "
                            "einsum('ij,jk->ik', A, B)", spec or node)
        try:
            inputs, _ = subscripts(spec.value)
        except SubscriptError as exc:
            raise self.fail(f"einsum subscripts {spec.value!r}: {exc}", spec) from None
        if len(args) - 1 != len(inputs):
            raise self.fail(f"einsum({spec.value!r}, ...) names {len(inputs)} operand"
                            f"{'s' * (len(inputs) > 1)}, got {len(args) - 1}", node)
        result = Call(name, tuple(self.convert(arg) for arg in args[1:]), node.col_offset,
                      spec.value)
        check_constants(result, self.text)
        return result

    def _slogdet_output(self, node: ast.Subscript | ast.Attribute) -> Node:
        """`slogdet(X)[1]`, `slogdet(X).logabsdet` (and [0], .sign): one of its outputs."""
        if isinstance(node, ast.Attribute):
            part = _SLOGDET_PARTS.get(node.attr)
        else:
            value = constant_value(self.convert(node.slice), self.text) \
                if isinstance(node.slice, (ast.Constant, ast.UnaryOp)) else None
            part = _SLOGDET_POSITIONS.get(int(value)) \
                if value is not None and value == int(value) else None
        if part is None:
            raise self.fail("slogdet() has two outputs: [0] or .sign, [1] or .logabsdet",
                            node)
        self.slogdet_part = part
        return self.convert(node.value)

    def _slogdet(self, name: str, args: list[ast.expr], node: ast.Call) -> Node:
        """`slogdet(X)` must pick an output; it is kept as a Num (0 sign, 1 log|det|)."""
        part, self.slogdet_part = self.slogdet_part, None
        if part is None:
            raise self.fail("slogdet() returns two tensors (sign, logabsdet): take "
                            "slogdet(X)[1] or slogdet(X).logabsdet, log|det X|, the one "
                            "with a gradient (or [0], .sign)", node)
        self._arity(name, args, 1, node)
        return Call(name, (self.convert(args[0]), Num(float(part), str(part), node.col_offset)),
                    node.col_offset)

    def _reduction(self, name: str, args: list[ast.expr], node: ast.Call) -> Node:
        """Over every element, or along one dim (required where torch requires it)."""
        if len(args) == 2 or node.keywords:
            return self._reduction_along(name, args, node)
        if OPS[name].dim == "required":
            raise self.fail(f"{name}() needs a dim, as in {name}(x, dim=0): torch.{name} "
                            f"has no default", node)
        return self._one_argument(name, args, node)

    def _reduction_along(self, name: str, args: list[ast.expr], node: ast.Call) -> Node:
        """`sum(X, dim=0)`, `X.sum(0)`: the dimension is an integer literal, kept as a Num."""
        dims = [*args[1:], *(k.value for k in node.keywords)]
        if len(args) < 1 or len(dims) != 1:
            raise self.fail(f"{name}() takes a tensor and at most one dim", node)
        dim = self.convert(dims[0])
        value = constant_value(dim, self.text)
        if value is None or value != int(value) or not isinstance(dim, (Num, Neg)):
            hint = OPS[name].second_argument_hint if args[1:] else ""
            raise self.fail(f"dim of {name}() must be an integer such as 0, 1 or -1{hint}",
                            dims[0])
        return Call(name, (self.convert(args[0]), Num(float(int(value)), str(int(value)),
                                                      dim.col)), node.col_offset)

    def _softmax(self, name: str, args: list[ast.expr], node: ast.Call) -> Node:
        """`softmax(x)`, `x.softmax(-1)`, `torch.softmax(x, dim=-1)`: dim kept if given."""
        if not args or len(args) + len(node.keywords) > 2:
            raise self.fail(f"{name}() takes a tensor and at most one dim, as in "
                            f"{name}(x, dim=-1)", node)
        if len(args) + len(node.keywords) == 1:
            return Call(name, (self.convert(args[0]),), node.col_offset)
        along = self._reduction_along(name, args, node)
        assert isinstance(along, Call)
        return along

    def _clamp(self, name: str, args: list[ast.expr], node: ast.Call) -> Node:
        """`clamp(x, lo, hi)`: both bounds are constants, lo <= hi, kept as Num nodes."""
        if len(args) != 3:
            raise self.fail(f"clamp() takes a tensor and two constant bounds, as in "
                            f"clamp(x, 0, 1); got {len(args)} argument"
                            f"{'s' * (len(args) != 1)}", node)
        bounds = []
        for arg in args[1:]:
            bound = self.convert(arg)
            value = constant_value(bound, self.text)
            if value is None:
                raise self.fail("the bounds of clamp() must be numbers, as in "
                                "clamp(x, 0, 1)", arg)
            bounds.append(Num(value, _fmt_exact(bound, value), bound.col))
        if bounds[0].value > bounds[1].value:
            raise self.fail(f"clamp() needs lo <= hi, got lo = {_fmt(bounds[0].value)} and "
                            f"hi = {_fmt(bounds[1].value)}", args[1])
        return Call(name, (self.convert(args[0]), *bounds), node.col_offset)

    def _where(self, args: list[ast.expr], node: ast.Call) -> Node:
        """`where(cond, a, b)`: a where cond holds, else b; cond is one comparison."""
        self._arity("where", args, 3, node)
        condition = args[0]
        if not isinstance(condition, ast.Compare) or len(condition.ops) != 1 \
                or type(condition.ops[0]) not in _COMPARISONS:
            raise self.fail("where() needs one comparison as its first argument, as in "
                            "where(t == 1, a, b)", condition)
        compare = Compare(_COMPARISONS[type(condition.ops[0])],
                          self.convert(condition.left),
                          self.convert(condition.comparators[0]), condition.col_offset)
        return Call("where", (compare, self.convert(args[1]), self.convert(args[2])),
                    node.col_offset)

    def _arity(self, name: str, args: list[ast.expr], wanted: int, node: ast.Call) -> None:
        if len(args) != wanted:
            raise self.fail(f"{name}() takes {wanted} argument{'s' * (wanted > 1)}, "
                            f"got {len(args)}", node)


def _unknown_function(name: str) -> str:
    known = frozenset(OPS) | {"pow"}
    close = difflib.get_close_matches(name, sorted(known), n=1)
    hint = f"; did you mean {close[0]}?" if close else f"; allowed: {_listing(known, '')}"
    return f"unknown function {name!r}{hint}"


def _and(names: tuple[str, ...]) -> str:
    """"a, b and c"."""
    return f"{', '.join(names[:-1])} and {names[-1]}" if len(names) > 1 else names[0]


def _listing(names: frozenset[str], prefix: str) -> str:
    return ", ".join(prefix + name for name in sorted(names))


def _called_name(func: ast.expr) -> str:
    """`sum` for `sum(...)`, `torch.sum(...)` and `X.sum(...)`."""
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _dotted_name(node: ast.expr) -> str:
    """`torch.nn.functional.relu` for a chain of names, else "" (`(x+1).sum`)."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return ".".join([node.id, *reversed(parts)]) if isinstance(node, ast.Name) else ""


def _operator_column(text: str, node: ast.BinOp) -> int:
    """The column of the operator itself, found between the two operands."""
    start = getattr(node.left, "end_col_offset", node.col_offset) or node.col_offset
    end = node.right.col_offset
    gap = text[start:end]
    stripped = len(gap) - len(gap.lstrip(" \t()"))
    return start + stripped if start + stripped < end else node.col_offset


def _attr_column(text: str, node: ast.Attribute) -> int:
    end = node.end_col_offset or len(text)
    return max(node.col_offset, end - len(node.attr))


def check_constants(node: Node, text: str) -> None:
    """Refuse constant sub-expressions too large for exact arithmetic (9**9**9).

    SymPy computes integer powers exactly, so `9**9**9` would run for minutes; a float
    estimate of each constant, bounded by MAX_CONSTANT and MAX_EXPONENT, stops it first.
    """
    if isinstance(node, BinOp) and node.op == "**":
        exponent = constant_value(node.right, text)
        if exponent is not None and abs(exponent) > limits.MAX_EXPONENT:
            raise LimitError(f"exponent {_fmt(exponent)} exceeds MAX_EXPONENT = "
                             f"{limits.MAX_EXPONENT}", text, node.right.col)
    if isinstance(node, BinOp) and node.op == "/" and constant_value(node.right, text) == 0:
        raise ExpressionError("division by a constant that is zero", text, node.right.col)
    constant_value(node, text)


def _fmt_exact(node: Node, value: float) -> str:
    """The literal's own digits for a plain number (so SymPy keeps 0.1 exact), else repr."""
    if isinstance(node, Num):
        return node.text
    if isinstance(node, Neg) and isinstance(node.operand, Num):
        return "-" + node.operand.text
    return repr(value)


def _fmt(value: float) -> str:
    return f"{value:.6g}"


def names_a_variable(text: str, name: str) -> bool:
    """Whether `text` uses `name` as a variable, read from Python's tokens (nothing is
    parsed into a tree or evaluated): the CLI asks this of `--v` before the one parse."""
    import io
    import tokenize

    try:
        tokens = [t for t in tokenize.generate_tokens(io.StringIO(text).readline)
                  if t.type not in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER)]
    except (tokenize.TokenError, SyntaxError):
        return False
    return any(token.type == tokenize.NAME and token.string == name
               and (at == 0 or tokens[at - 1].string != ".")
               and (at + 1 == len(tokens) or tokens[at + 1].string != "(")
               for at, token in enumerate(tokens))
