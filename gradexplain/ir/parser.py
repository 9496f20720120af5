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
from typing import TYPE_CHECKING

from gradexplain.errors import ExpressionError, LimitError
from gradexplain.ir import limits
from gradexplain.ir.calls import CallReader, namespace_of, not_supported
from gradexplain.ir.cost import check_cost
from gradexplain.ir.fold import check_constants
from gradexplain.ir.tree import BinOp, Call, Const, Neg, Node, Num, Var
from gradexplain.ops import CONSTANTS, NAMES, RESERVED_NAMES, SPELLED

if TYPE_CHECKING:
    from gradexplain.ir.forms import FormReader

_ALLOWED_CHARS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.,()+-*/^%@[]: \t"
)

# Characters refused with a hint, because people try them for a reason.
_CHAR_HINTS = {
    ";": "statements are not allowed",
    "=": "assignments and keyword arguments are not allowed",
    ":": "lambda and the walrus are not allowed (slices are, inside [])",
    "{": "sets, dicts and f-string fields are not allowed",
    "}": "sets, dicts and f-string fields are not allowed",
    "'": "strings are not allowed",
    '"': "strings are not allowed",
    "\n": "the expression must be one line",
}

_BINOPS: dict[type, str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.Pow: "**",
    ast.MatMult: "@",
}

# Comparison characters reach Python's parser only when the text calls where(...);
# the ast gate then keeps comparisons to where's first argument.
_COMPARISON_CHARS = frozenset("=<>!")
_WHERE_CALL = re.compile(r"(?<![A-Za-z0-9_])where\s*\(")
_EINSUM_CALL = re.compile(r"(?<![A-Za-z0-9_])einsum\s*\(")
# `=` reaches Python's parser only as a keyword argument, `f(x, dim=0)`; quotes only as
# the value of a keyword that takes a word (`approximate='tanh'`) or in float('inf')
_KEYWORD = re.compile(r"[(,]\s*[A-Za-z_][A-Za-z0-9_]*\s*=(?!=)")
_WORD_KEYWORD = re.compile(
    r"(?<![A-Za-z0-9_])(approximate|reduction|p|ord)\s*=\s*-?\s*"
    r"(['\"]|float\s*\(\s*['\"])"
    r"|,\s*(['\"])(fro|nuc)\3\s*[,)]"  # a norm's order in its place: norm(X, 'fro')
    r"|,\s*-?\s*float\s*\(\s*['\"]"  # or norm(X, float('inf'))
)

# entries whose calls forms.py reads by their own rules (the rest: `calls.CallReader`)
_OWN_RULES = ("arange", "loss", "shape", "literal", "einsum")

_BINOP_HINTS: dict[type, str] = {
    ast.BitXor: "operator ^ is not supported; use ** for powers",
    ast.FloorDiv: "operator // is not supported; use /",
}

# What to call refused node types in messages; anything absent is named by its class.
_NODE_NAMES: dict[type, str] = {
    ast.Lambda: "lambda",
    ast.IfExp: "conditional expressions",
    ast.Compare: "comparisons outside where(cond, a, b)",
    ast.BoolOp: "and/or",
    ast.NamedExpr: "the walrus :=",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "generator expressions",
    ast.JoinedStr: "f-strings",
    ast.Subscript: "subscripts",
    ast.Tuple: "tuples",
    ast.List: "lists",
    ast.Dict: "dicts",
    ast.Set: "sets",
    ast.Starred: "unpacking",
    ast.Attribute: "attribute access",
    ast.Await: "await",
    ast.Yield: "yield",
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
        raise LimitError(
            f"expression is {len(text):,} characters long; the limit is "
            f"MAX_EXPRESSION_CHARS = {limits.MAX_EXPRESSION_CHARS:,}",
            text,
            limits.MAX_EXPRESSION_CHARS,
        )
    if not text.strip():
        raise ExpressionError("expression is empty", text, 0)
    depth = 0
    token_start, numeric = -1, False
    allowed = (
        _ALLOWED_CHARS | _COMPARISON_CHARS
        if _WHERE_CALL.search(text)
        else _ALLOWED_CHARS | (frozenset("=") if _KEYWORD.search(text) else frozenset())
    )
    if _WORD_KEYWORD.search(text):
        allowed = allowed | frozenset("'\"")
    if _EINSUM_CALL.search(text):  # einsum('ij,jk->ik', ...): the ast gate keeps strings
        allowed = allowed | frozenset("'\">")  # to einsum's first argument
    brackets = 0
    for col, char in enumerate(text):
        if char not in allowed or (char == ":" and brackets <= 0):
            raise ExpressionError(_describe_char(char), text, col)
        depth += (char == "(") - (char == ")")
        brackets += (char == "[") - (char == "]")
        if depth > limits.MAX_DEPTH:
            raise LimitError(
                f"parentheses nest deeper than MAX_DEPTH = {limits.MAX_DEPTH}", text, col
            )
        if not (char.isalnum() or char in "_."):
            token_start = -1
        elif token_start < 0:
            token_start, numeric = col, char.isdigit() or char == "."
        elif numeric and col - token_start + 1 > limits.MAX_NUMBER_CHARS:
            raise LimitError(
                f"number literal is longer than MAX_NUMBER_CHARS = {limits.MAX_NUMBER_CHARS}",
                text,
                token_start,
            )


def _describe_char(char: str) -> str:
    if char in _CHAR_HINTS:
        return f"character {char!r} is not allowed: {_CHAR_HINTS[char]}"
    if ord(char) < 128:
        return f"character {char!r} is not allowed"
    name = unicodedata.name(char, "unnamed")
    return (
        f"character {char!r} (U+{ord(char):04X} {name}) is not allowed: expressions are plain ASCII"
    )


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
            raise LimitError(
                f"expression nests deeper than MAX_DEPTH = {limits.MAX_DEPTH}", text, column
            )
        if count > limits.MAX_NODES:
            raise LimitError(
                f"expression has more than MAX_NODES = {limits.MAX_NODES} nodes", text, column
            )
        stack.extend(
            (child, depth + 1)
            for child in ast.iter_child_nodes(node)
            if not isinstance(child, (ast.expr_context, ast.operator, ast.unaryop))
        )


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
            ast.Subscript: lambda node: self._forms().subscript(node),  # type: ignore[arg-type]
        }

    def fail(self, message: str, node: ast.AST) -> ExpressionError:
        return ExpressionError(message, self.text, getattr(node, "col_offset", 0))

    def convert(self, node: ast.AST) -> Node:
        handler = self.handlers.get(type(node))
        if (
            isinstance(node, (ast.Subscript, ast.Attribute))
            and isinstance(node.value, ast.Call)
            and _outputs(_called_name(node.value))
        ):
            return self._forms().output(node, _called_name(node.value))
        if isinstance(node, ast.Attribute) and node.attr in SPELLED["attribute"]:
            name = SPELLED["attribute"][node.attr]
            return Call(name, (self.convert(node.value),), _attr_column(self.text, node))
        if isinstance(node, ast.Attribute):
            raise ExpressionError(
                f"attribute access .{node.attr} not allowed",
                self.text,
                _attr_column(self.text, node),
            )
        if handler is None:
            name = _NODE_NAMES.get(type(node), f"{type(node).__name__} syntax")
            raise self.fail(f"{name} not allowed", node)
        return handler(node)

    def _binop(self, node: ast.BinOp) -> Node:
        if isinstance(node.op, ast.Mod):  # u % v on tensors is torch.remainder(u, v)
            call = Call(
                "remainder",
                (self.convert(node.left), self.convert(node.right)),
                _operator_column(self.text, node),
            )
            check_constants(call, self.text)
            return call
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
        if isinstance(value, str):
            raise self.fail(
                "strings are not allowed here: only as the value of "
                "approximate=, p= or ord=, or as einsum's subscripts",
                node,
            )
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            kind = "complex numbers" if isinstance(value, complex) else repr(value)
            raise self.fail(f"{kind} not allowed: only real numbers", node)
        if "_" in source:
            raise self.fail("underscores in numbers are not allowed", node)
        number = float(value)
        if not math.isfinite(number) or abs(number) > limits.MAX_CONSTANT:
            raise self.fail(f"number {source} exceeds MAX_CONSTANT = {limits.MAX_CONSTANT}", node)
        return Num(number, source, node.col_offset)

    def _name(self, node: ast.Name) -> Node:
        name = node.id
        if name in CONSTANTS:
            return Const(name, node.col_offset)
        if name in RESERVED_NAMES:
            raise self.fail(
                f"{name!r} is a function; call it, as in {name}(x)"
                if name != "torch"
                else "'torch' alone is not a value",
                node,
            )
        if name.startswith("_"):
            raise self.fail(f"names starting with '_' are not allowed: {name!r}", node)
        if len(name) > limits.MAX_NAME_CHARS:
            raise LimitError(
                f"name is longer than MAX_NAME_CHARS = {limits.MAX_NAME_CHARS}",
                self.text,
                node.col_offset,
            )
        return Var(name, node.col_offset)

    def _call(self, node: ast.Call) -> Node:
        """A spelling names a registry entry (`ops.SPELLED`); the entry reads the rest."""
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise self.fail("unpacking not allowed", arg)
        func = node.func
        if isinstance(func, ast.Name):
            return self._function("bare", func.id, node.args, node)
        if not isinstance(func, ast.Attribute):
            if type(func) in _NODE_NAMES:  # `(lambda: 0)()`: name what is refused
                raise self.fail(f"{_NODE_NAMES[type(func)]} not allowed", func)
            raise self.fail("only named functions can be called", node)
        dotted = _dotted_name(func)
        found = namespace_of(dotted)
        if found is not None:
            space, spelling = found
            if space in SPELLED and spelling in SPELLED[space]:
                return self._function(space, spelling, node.args, node)
            # `F.sum()` is a method of a variable F; torch.nn.functional has no sum
            if not (dotted.startswith("F.") and func.attr in SPELLED["method"]):
                raise self.fail(not_supported(space, spelling, dotted), func)
        if func.attr not in SPELLED["method"]:
            raise ExpressionError(
                not_supported("method", func.attr, f"method .{func.attr}()"),
                self.text,
                _attr_column(self.text, func),
            )
        return self._function("method", func.attr, [func.value, *node.args], node)

    def _function(self, space: str, spelling: str, args: list[ast.expr], node: ast.Call) -> Node:
        """The registry entry reads its arguments (`calls.CallReader`); pow is read here."""
        if space == "bare" and spelling == "range":
            spelling = "arange"
        name = SPELLED[space].get(spelling) if spelling != "arange" or space != "bare" else "arange"
        if name is None and space == "bare" and spelling in NAMES:
            spaces = NAMES[spelling].spellings  # t(X) is x.t(); T(X) is no call: .T is not one
            if "method" in spaces or "torch" in spaces:
                spelled = f"x.{spelling}()" if "method" in spaces else f"torch.{spelling}(...)"
                raise self.fail(f"{spelling}() alone is not a spelling; write {spelled}", node)
        if name is None:
            raise self.fail(_unknown_function(spelling), node)
        if name == "pow":  # an operator: a ** b
            if node.keywords:
                keyword = node.keywords[0]
                raise ExpressionError(
                    f"keyword {keyword.arg}= of pow() is not supported: pow() takes no keywords",
                    self.text,
                    keyword.col_offset,
                )
            if len(args) != 2:
                raise self.fail(f"pow() takes 2 arguments, got {len(args)}", node)
            return self._binop(ast.BinOp(args[0], ast.Pow(), args[1], col_offset=node.col_offset))
        signature = NAMES[name].signature
        if signature in _OWN_RULES:
            return self._forms().read(signature, name, args, node)
        return CallReader(self).read(name, args, node)

    def _forms(self) -> FormReader:
        """forms.py loads with the first node that needs it."""
        from gradexplain.ir.forms import FormReader

        return FormReader(self)


def _unknown_function(name: str) -> str:
    close = difflib.get_close_matches(name, sorted(SPELLED["bare"]), n=1)
    hint = (
        f"; did you mean {close[0]}?" if close else " (the README lists every supported function)"
    )
    return f"unknown function {name!r}{hint}"


def _outputs(name: str) -> tuple[str, ...]:
    """The outputs of a function that returns several tensors (its entry's `outputs`)."""
    return NAMES[name].outputs if name in NAMES else ()


def _called_name(call: ast.Call) -> str:
    """`slogdet` for `slogdet(X)`, `torch.linalg.slogdet(X)` and `X.slogdet()`."""
    func = call.func
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


def names_a_variable(text: str, name: str) -> bool:
    """Whether `text` uses `name` as a variable, read from Python's tokens (nothing is
    parsed into a tree or evaluated): the CLI asks this of `--v` before the one parse."""
    import io
    import tokenize

    try:
        tokens = [
            t
            for t in tokenize.generate_tokens(io.StringIO(text).readline)
            if t.type not in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER)
        ]
    except (tokenize.TokenError, SyntaxError):
        return False
    return any(
        token.type == tokenize.NAME
        and token.string == name
        and (at == 0 or tokens[at - 1].string != ".")
        and (at + 1 == len(tokens) or tokens[at + 1].string != "(")
        for at, token in enumerate(tokens)
    )
