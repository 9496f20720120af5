"""The calls and subscripts that read their arguments by rules of their own: `x[...]`,
slogdet's outputs, the losses, the shape operations, `torch.tensor([...])`, `range(n)`
and `einsum('ij,jk->ik', ...)`.

The parser hands such a node to a `FormReader` over itself (as `calls.CallReader` reads
an ordinary call) and loads this module only then: an expression without one, and so
every input error it has, needs none of it (start-up: README, Performance).
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Callable

from gradexplain.errors import ExpressionError, LimitError
from gradexplain.ir import limits
from gradexplain.ir.calls import Converter
from gradexplain.ir.fold import check_constants, constant_value
from gradexplain.ir.tree import Call, Neg, Node, Num, Var
from gradexplain.ops import OPS


class FormReader:
    """Reads one such node for the parser (`converter`), which converts its operands."""

    def __init__(self, converter: Converter) -> None:
        self.converter = converter
        self.text = converter.text

    def fail(self, message: str, node: ast.AST) -> ExpressionError:
        return self.converter.fail(message, node)

    def convert(self, node: ast.AST) -> Node:
        return self.converter.convert(node)

    def read(self, signature: str, name: str, args: list[ast.expr], node: ast.Call) -> Node:
        """A call of an entry whose `signature` is one of READS."""
        return READS[signature](self, name, args, node)

    def einsum(self, name: str, args: list[ast.expr], node: ast.Call) -> Node:
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

    def output(self, node: ast.Subscript | ast.Attribute, name: str) -> Node:
        """`slogdet(X)[1]`, `slogdet(X).logabsdet` (and [0], .sign): one of the outputs the
        entry `name` names, kept as the call's setting `output` (the shape pass refuses the
        call without one)."""
        outputs = OPS[name].outputs
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

    def loss(self, name: str, args: list[ast.expr], node: ast.Call) -> Node:
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
            self.convert(args[0]), self.convert(args[1]), options, node.col_offset
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

    def shape_op(self, name: str, args: list[ast.expr], node: ast.Call) -> Node:
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

    def literal(self, name: str, args: list[ast.expr], node: ast.Call) -> Node:
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

    def subscript(self, node: ast.Subscript) -> Node:
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

    def arange(self, name: str, args: list[ast.expr], node: ast.Call) -> Node:
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


# an entry's signature -> how its calls are read (the others: `calls.CallReader`)
READS: dict[str, Callable[[FormReader, str, list[ast.expr], ast.Call], Node]] = {
    "arange": FormReader.arange,
    "loss": FormReader.loss,
    "shape": FormReader.shape_op,
    "literal": FormReader.literal,
    "einsum": FormReader.einsum,
}


def _integer_data(node: Node) -> bool:
    """An index array: a variable (`idx`), `range(n)`, or a part of one (`t[:2]`)."""
    while isinstance(node, Call) and OPS[node.func].index_data == "source":
        node = node.args[0]
    return isinstance(node, Var) or (
        isinstance(node, Call) and OPS[node.func].index_data == "always"
    )


def _or(names: tuple[str, ...]) -> str:
    """ "a, b or c"."""
    return f"{', '.join(names[:-1])} or {names[-1]}" if len(names) > 1 else names[0]


def _fmt_exact(node: Node, value: float) -> str:
    """The literal's own digits for a plain number (so SymPy keeps 0.1 exact), else repr."""
    if isinstance(node, Num):
        return node.text
    if isinstance(node, Neg) and isinstance(node.operand, Num):
        return "-" + node.operand.text
    return repr(value)
