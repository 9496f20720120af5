"""Parse an expression string into our tree through an allowlist. Nothing is evaluated.

The string goes through three gates before any tree exists: a character scan (ASCII only,
bounded parentheses and number literals), Python's `ast.parse`, and an iterative size and
depth check. Only then is the ast converted, node type by node type, from the tables
below; any node type not in them is refused with a named error and its column.
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
import math
import re
import unicodedata
import warnings
from collections.abc import Callable

from gradexplain import limits
from gradexplain.calls import CallReader, namespace_of, not_supported
from gradexplain.cost import check_cost
from gradexplain.errors import ExpressionError, LimitError
from gradexplain.fold import check_constants, constant_value
from gradexplain.ops import CONSTANTS, OPS, RESERVED_NAMES, SPELLED
from gradexplain.tree import BinOp, Call, Compare, Const, Neg, Node, Num, Var

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

_COMPARISONS: dict[type, str] = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
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
            ast.Subscript: self._subscript,  # type: ignore[dict-item]
        }
        # entries that read their own arguments (the rest: `calls.CallReader`)
        self.readers: dict[str, Callable[[str, list[ast.expr], ast.Call], Node]] = {
            "arange": self._arange,
            "loss": self._loss,
            "shape": self._shape_op,
            "literal": self._literal,
            "einsum": self._einsum,
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
            return self._output(node, node.value)
        if isinstance(node, ast.Attribute) and node.attr == "T":
            return Call("T", (self.convert(node.value),), _attr_column(self.text, node))
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
        """The registry entry reads its arguments (`calls.CallReader`); pow and where are
        read here."""
        if space == "bare" and spelling == "range":
            spelling = "arange"
        name = SPELLED[space].get(spelling) if spelling != "arange" or space != "bare" else "arange"
        if name is None and space == "bare" and spelling in OPS and OPS[spelling].spellings:
            spelled = (
                f"x.{spelling}()"
                if "method" in OPS[spelling].spellings
                else f"torch.{spelling}(...)"
            )
            raise self.fail(f"{spelling}() alone is not a spelling; write {spelled}", node)
        if name is None:
            raise self.fail(_unknown_function(spelling), node)
        if name in ("pow", "where") and node.keywords:
            keyword = node.keywords[0]
            raise ExpressionError(
                f"keyword {keyword.arg}= of {name}() is not supported: {name}() takes no keywords",
                self.text,
                keyword.col_offset,
            )
        if name == "pow":
            self._arity(name, args, 2, node)
            return self._binop(ast.BinOp(args[0], ast.Pow(), args[1], col_offset=node.col_offset))
        if name == "where":
            return self._where(args, node)
        reader = self.readers.get(OPS[name].signature) if name in OPS else None
        if reader is not None:
            return reader(name, args, node)
        return CallReader(self).read(name, args, node)

    def _einsum(self, name: str, args: list[ast.expr], node: ast.Call) -> Node:
        """`einsum('ij,jk->ik', A, B)`: a constant subscript string, read by our own parser
        (`ops.einsum.subscripts`) and kept as the call's setting, then one or two tensors."""
        spec = args[0] if args else None
        if not isinstance(spec, ast.Constant) or not isinstance(spec.value, str):
            raise self.fail(
                "einsum() takes a subscript string first, as in einsum('ij,jk->ik', A, B)",
                spec or node,
            )
        if node.keywords:
            raise ExpressionError(
                "einsum() takes no keywords", self.text, node.keywords[0].col_offset
            )
        from gradexplain.ops.einsum import SubscriptError, subscripts

        try:
            inputs, _ = subscripts(spec.value)
        except SubscriptError as exc:
            raise self.fail(f"einsum subscripts {spec.value!r}: {exc}", spec) from None
        if len(args) - 1 != len(inputs):
            raise self.fail(
                f"einsum({spec.value!r}, ...) names {len(inputs)} operand"
                f"{'s' * (len(inputs) > 1)}, got {len(args) - 1}",
                node,
            )
        result = Call(
            "einsum",
            tuple(self.convert(arg) for arg in args[1:]),
            node.col_offset,
            (("subscripts", spec.value),),
        )
        check_constants(result, self.text)
        return result

    def _output(self, node: ast.Subscript | ast.Attribute, called: ast.Call) -> Node:
        """`slogdet(X)[1]`, `slogdet(X).logabsdet` (and [0], .sign): one of the outputs the
        entry names, kept as the call's setting `output` (the shape pass refuses the call
        without one)."""
        name = _called_name(called)
        outputs = _outputs(name)
        part: int | None = None
        if isinstance(node, ast.Attribute):
            part = outputs.index(node.attr) if node.attr in outputs else None
        elif isinstance(node.slice, (ast.Constant, ast.UnaryOp)):
            value = constant_value(self.convert(node.slice), self.text)
            if value is not None and value == int(value) and -len(outputs) <= value < len(outputs):
                part = int(value) % len(outputs)
        if part is None:
            count = {2: "two", 3: "three"}.get(len(outputs), str(len(outputs)))
            listed = ", ".join(f"[{i}] or .{output}" for i, output in enumerate(outputs))
            raise self.fail(f"{name}() has {count} outputs: {listed}", node)
        call = self.convert(node.value)
        assert isinstance(call, Call) and call.func == name
        return dataclasses.replace(call, params=(("output", part),))

    def _loss(self, name: str, args: list[ast.expr], node: ast.Call) -> Node:
        """`F.mse_loss(x, y, reduction='sum')`: the input, the target, the entry's
        keywords (constants); the entry expands it into the tree it stands for."""
        op = OPS[name]
        if len(args) != 2:
            raise self.fail(
                f"{name}() takes an input and a target, as in {name}(x, y); got "
                f"{len(args)} positional argument{'s' * (len(args) != 1)}",
                node,
            )
        options = dict(op.settings)  # type: ignore[attr-defined]
        for keyword in node.keywords:
            if keyword.arg not in options:
                allowed = ", ".join(f"{key}=" for key in options)
                raise ExpressionError(
                    f"keyword argument {keyword.arg or '**'}= of {name}() "
                    f"is not supported (only {allowed})",
                    self.text,
                    keyword.col_offset,
                )
            options[str(keyword.arg)] = self._option(name, str(keyword.arg), keyword.value, op)
        return op.expand(  # type: ignore[attr-defined, no-any-return]
            self.convert(args[0]),
            self.convert(args[1]),
            options,
            node.col_offset,
        )

    def _option(self, name: str, key: str, value: ast.expr, op: object) -> object:
        """reduction= is one of the entry's strings; log_target= True or False; beta= and
        delta= numbers (beta >= 0, delta > 0, as torch requires)."""
        if key == "reduction":
            choices = op.reductions()  # type: ignore[attr-defined]
            if not isinstance(value, ast.Constant) or value.value not in choices:
                raise self.fail(
                    f"reduction= of {name}() must be {_or(tuple(repr(c) for c in choices))}", value
                )
            return value.value
        if key == "log_target":
            if not isinstance(value, ast.Constant) or not isinstance(value.value, bool):
                raise self.fail("log_target= must be True or False", value)
            return value.value
        number = constant_value(self.convert(value), self.text)
        if number is None or number < 0 or (key == "delta" and number == 0):
            raise self.fail(
                f"{key}= of {name}() must be a number {'> 0' if key == 'delta' else '>= 0'}", value
            )
        return number

    def _shape_op(self, name: str, args: list[ast.expr], node: ast.Call) -> Node:
        """`x.reshape(2, 3)`, `torch.flip(x, [0])`, `torch.cat([a, b], dim=1)`: tensors,
        then integers (given one by one or as a tuple or list), kept as the call's params."""
        if not args:
            raise self.fail(f"{name}() needs a tensor", node)
        joined = OPS[name].listed  # type: ignore[attr-defined]
        if joined and not isinstance(args[0], (ast.List, ast.Tuple)):
            raise self.fail(
                f"{name}() takes a list of tensors, as in torch.{name}([a, b])", args[0]
            )
        tensors = [*args[0].elts] if joined else [args[0]]  # type: ignore[attr-defined]
        given = {keyword.arg: keyword.value for keyword in node.keywords}
        allowed = OPS[name].names  # type: ignore[attr-defined]
        for key in given:
            if key not in allowed:
                only = f" (only {', '.join(f'{k}=' for k in allowed)})" if allowed else ""
                raise self.fail(
                    f"keyword argument {key or '**'}= of {name}() is not supported{only}", node
                )
        rest = [*args[1:], *(given[key] for key in allowed if key in given)]
        numbers: list[int] = []
        for arg in rest:
            for part in arg.elts if isinstance(arg, (ast.Tuple, ast.List)) else [arg]:
                numbers.append(self._integer(part, f"an argument of {name}()"))
        if joined and not numbers:
            numbers = [0]
        if not tensors:
            raise self.fail(f"{name}() of no tensors", node)
        return Call(
            name,
            tuple(self.convert(tensor) for tensor in tensors),
            node.col_offset,
            (("sizes", tuple(numbers)),),
        )

    def _literal(self, name: str, args: list[ast.expr], node: ast.Call) -> Node:
        """`torch.tensor([1., 2.])`, `torch.tensor([[1, 2], [3, 4]])`: numbers only."""
        if len(args) != 1 or node.keywords:
            raise self.fail(
                "torch.tensor() takes one list of numbers, as in torch.tensor([1., 2., 3.])", node
            )
        return self._constant_tensor(args[0], node.col_offset)

    def _constant_tensor(self, data: ast.expr, col: int) -> Node:
        """A number, a list of numbers or a list of equal rows, as a `tensor` call."""
        from gradexplain.ops.indexing import MAX_LITERAL

        rows = data.elts if isinstance(data, (ast.List, ast.Tuple)) else None
        shape: tuple[int, ...]
        if rows and all(isinstance(row, (ast.List, ast.Tuple)) for row in rows):
            width = len(rows[0].elts)  # type: ignore[attr-defined]
            if not width or any(len(row.elts) != width for row in rows):  # type: ignore
                raise self.fail("the rows of a tensor must have equal, nonzero lengths", data)
            items = [item for row in rows for item in row.elts]  # type: ignore
            shape = (len(rows), width)
        elif rows is not None:
            items, shape = list(rows), (len(rows),)
        else:
            items, shape = [data], ()
        if not items:
            raise self.fail("a tensor needs at least one number", data)
        if len(items) > MAX_LITERAL:
            raise LimitError(
                f"a literal tensor has more than MAX_LITERAL = {MAX_LITERAL} "
                f"numbers; give data as a variable",
                self.text,
                data.col_offset,
            )
        values, texts = [], []
        for item in items:
            converted = self.convert(item)
            value = constant_value(converted, self.text)
            if value is None:
                raise self.fail(
                    "a literal tensor holds numbers only; give data as a variable (--NAME 1,2,3)",
                    item,
                )
            values.append(value)
            texts.append(_fmt_exact(converted, value))
        return Call(
            "tensor",
            (Num(0.0, "0", col),),
            col,
            (("shape", shape), ("values", tuple(values)), ("texts", tuple(texts))),
        )

    def _subscript(self, node: ast.Subscript) -> Node:
        """`x[0]`, `x[1:3]`, `X[:, 1]`, `x[idx]`, `sm[range(n), t]`: one item per axis."""
        value = self.convert(node.value)
        parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        items: list[tuple[object, ...]] = []
        arrays: list[Node] = []
        for part in parts:
            if isinstance(part, ast.Slice):
                bounds = [
                    None if bound is None else self._integer(bound, "a slice bound")
                    for bound in (part.lower, part.upper, part.step)
                ]
                items.append(("slice", *bounds, part.col_offset))
                continue
            if isinstance(part, ast.Constant) and (part.value is None or part.value is Ellipsis):
                raise self.fail(
                    f"{'None' if part.value is None else '...'} in an index is "
                    f"not supported; write each axis, as in X[:, 1] (and "
                    f"unsqueeze() for a new axis)",
                    part,
                )
            index = (
                self._constant_tensor(part, part.col_offset)
                if isinstance(part, ast.List)
                else self.convert(part)
            )
            if _integer_data(index):
                items.append(("array", len(arrays), part.col_offset))
                arrays.append(index)
                continue
            items.append(("at", self._integer(part, "an index", index), part.col_offset))
        return Call("getitem", (value, *arrays), node.col_offset, (("index", tuple(items)),))

    def _integer(self, part: ast.expr, what: str, converted: Node | None = None) -> int:
        """A constant integer (`2`, `-1`, `1+1`) for an index or a slice bound."""
        node = self.convert(part) if converted is None else converted
        value = constant_value(node, self.text)
        if value is None or value != int(value):
            raise self.fail(
                f"{what} must be an integer such as 0, 2 or -1"
                + (", an integer variable, or range(n)" if what == "an index" else ""),
                part,
            )
        return int(value)

    def _arange(self, name: str, args: list[ast.expr], node: ast.Call) -> Node:
        """`range(3)`, `range(len(t))`, `torch.arange(3)`: 0, 1, ..., n-1."""
        spelled = "range" if isinstance(node.func, ast.Name) else "torch.arange"
        if (
            len(args) == 1
            and isinstance(args[0], ast.Call)
            and isinstance(args[0].func, ast.Name)
            and args[0].func.id == "len"
            and len(args[0].args) == 1
            and not args[0].keywords
        ):
            return Call("arange", (self.convert(args[0].args[0]),), node.col_offset)
        if len(args) == 1:
            count = self.convert(args[0])
            if isinstance(count, Var):  # range(n): n's value, a count, is bound in program.py
                return Call("arange", (count,), node.col_offset, (("count", True),))
            value = constant_value(count, self.text)
            if value is not None and value == int(value) and 1 <= value <= limits.MAX_VECTOR_LENGTH:
                return Call(
                    "arange", (Num(float(int(value)), str(int(value)), count.col),), node.col_offset
                )
        raise self.fail(
            f"{spelled}() takes one count, a positive integer, n or len(t), "
            f"as in {spelled}(len(t))",
            node,
        )

    def _where(self, args: list[ast.expr], node: ast.Call) -> Node:
        """`where(cond, a, b)`: a where cond holds, else b; cond is one comparison."""
        self._arity("where", args, 3, node)
        condition = args[0]
        if (
            not isinstance(condition, ast.Compare)
            or len(condition.ops) != 1
            or type(condition.ops[0]) not in _COMPARISONS
        ):
            raise self.fail(
                "where() needs one comparison as its first argument, as in where(t == 1, a, b)",
                condition,
            )
        compare = Compare(
            _COMPARISONS[type(condition.ops[0])],
            self.convert(condition.left),
            self.convert(condition.comparators[0]),
            condition.col_offset,
        )
        return Call(
            "where", (compare, self.convert(args[1]), self.convert(args[2])), node.col_offset
        )

    def _arity(self, name: str, args: list[ast.expr], wanted: int, node: ast.Call) -> None:
        if len(args) != wanted:
            raise self.fail(
                f"{name}() takes {wanted} argument{'s' * (wanted > 1)}, got {len(args)}", node
            )


def _integer_data(node: Node) -> bool:
    """An index array: a variable (`idx`), `range(n)`, or a part of one (`t[:2]`)."""
    while isinstance(node, Call) and node.func in OPS and OPS[node.func].index_data == "source":
        node = node.args[0]
    return isinstance(node, Var) or (
        isinstance(node, Call) and node.func in OPS and OPS[node.func].index_data == "always"
    )


def _or(names: tuple[str, ...]) -> str:
    """ "a, b or c"."""
    return f"{', '.join(names[:-1])} or {names[-1]}" if len(names) > 1 else names[0]


def _unknown_function(name: str) -> str:
    close = difflib.get_close_matches(name, sorted(SPELLED["bare"]), n=1)
    hint = (
        f"; did you mean {close[0]}?" if close else " (the README lists every supported function)"
    )
    return f"unknown function {name!r}{hint}"


def _outputs(name: str) -> tuple[str, ...]:
    """The outputs of a function that returns several tensors (its entry's `outputs`)."""
    return OPS[name].outputs if name in OPS else ()


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


def _fmt_exact(node: Node, value: float) -> str:
    """The literal's own digits for a plain number (so SymPy keeps 0.1 exact), else repr."""
    if isinstance(node, Num):
        return node.text
    if isinstance(node, Neg) and isinstance(node.operand, Num):
        return "-" + node.operand.text
    return repr(value)


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
