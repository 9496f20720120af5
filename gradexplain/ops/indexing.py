"""Indexing: `x[0]`, `x[1:3]`, `X[:, 1]`, `x[idx]`, `sm[range(n), t]`, and `arange`.

An index is a re-indexing in generic elements: `x[1:3]` at i is `x[i + 1]`, `X[:, 1]` at
i is `X[i, 1]`, `sm[range(n), t]` at i is `sm[i, t[i]]`. SymPy's derivative of such an
element is a Kronecker delta (`delta(i + 1, j)`), which `deltas.py` resolves with a guard
(`1 <= j <= 2`) and `evaluate.py` evaluates over whole arrays (a gather), so nothing is a
per-element loop. Integer index arrays are data: they get no gradient, as in torch,
where an index tensor is an integer tensor.

`Call("getitem", (x, *arrays), params=items)` keeps one item per indexed axis:
`("at", c, col)` an integer, `("slice", start, stop, step, col)` a slice (None where
omitted, as Python writes it), `("array", k, col)` the k-th array argument.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from gradexplain.ir.axes import Shape, ShapeError, broadcast, describe
from gradexplain.ir.tree import Call, Num, Var
from gradexplain.ops.base import Op, number

MAX_RANK = 2  # the tool's range: scalars, vectors and matrices


def _index(node: Call) -> tuple[Any, ...]:
    """The call's index items, as the parser kept them."""
    return tuple(node.param("index", ()))  # type: ignore[arg-type]


def _items(node: Call, shape: Shape) -> list[tuple[Any, ...]]:
    """The index items, one per axis of the indexed shape (missing ones are `:`)."""
    items = list(_index(node))
    return items + [("slice", None, None, None, node.col)] * (len(shape) - len(items))


def normalized(
    node: Call, shape: Shape, array_shapes: list[Shape], text: str = ""
) -> list[tuple[Any, ...]]:
    """Each axis as ("at", c), ("slice", start, length, step) or ("array", k): indices
    counted from 0, lengths after Python's slicing rules; errors name the column."""
    if len(_index(node)) > len(shape):
        raise ShapeError(
            f"too many indices: {describe(shape)} has {len(shape)} "
            f"dimension{'s' * (len(shape) != 1)}, the index has "
            f"{len(_index(node))}",
            text,
            node.col,
        )
    result: list[tuple[Any, ...]] = []
    for axis, (item, size) in enumerate(zip(_items(node, shape), shape)):
        if item[0] == "at":
            if not -size <= item[1] < size:
                raise ShapeError(
                    f"index {item[1]} is out of range for dimension {axis} with size {size}",
                    text,
                    item[2],
                )
            result.append(("at", item[1] % size))
        elif item[0] == "slice":
            start, stop, step = item[1:4]
            if step is not None and step <= 0:
                raise ShapeError(
                    "slice step must be positive, as in torch (use flip() to reverse)",
                    text,
                    item[4],
                )
            first, _, stride = slice(start, stop, step).indices(size)
            length = len(range(*slice(start, stop, step).indices(size)))
            if length == 0:
                raise ShapeError(
                    f"the slice selects no element of dimension {axis} with size {size}",
                    text,
                    item[4],
                )
            result.append(("slice", first, length, stride))
        else:
            result.append(("array", item[1]))
    return result


def _group(array_shapes: list[Shape], node: Call, text: str) -> Shape:
    """The broadcast shape of the integer index arrays (vectors or scalars)."""
    for arg, shape in zip(node.args[1:], array_shapes):
        if len(shape) > 1:
            raise ShapeError(
                f"an index array must be a vector, got {describe(shape)}", text, arg.col
            )
    return broadcast(node, array_shapes, text) if array_shapes else ()


@dataclass(frozen=True)
class GetItem(Op):
    """`x[...]`: constants, slices and integer arrays; the parser builds it from `[]`."""

    signature: str = "getitem"
    index_data: str = "source"
    spellings: tuple[str, ...] = ()

    def fold(self, *values: float) -> float | None:  # type: ignore[override]
        return None  # never a constant scalar: kept for the witnesses

    postfix = True

    def source(self, node: Call, args: list[str]) -> str:
        items = []
        for item in _index(node):
            if item[0] == "at":
                items.append(str(item[1]))
            elif item[0] == "slice":
                start, stop, step = ("" if part is None else str(part) for part in item[1:4])
                items.append(f"{start}:{stop}" + (f":{step}" if step else ""))
            else:
                items.append(args[1 + item[1]])
        return f"{args[0]}[{', '.join(items)}]"

    def needs_axes(self, node: Call) -> bool:
        return True

    def shape(self, node: Call, parts: list[Shape], text: str) -> Shape:
        shape, arrays = parts[0], parts[1:]
        items = normalized(node, shape, arrays, text)
        for axis, (item, size) in enumerate(zip(items, shape)):
            array = node.args[1 + item[1]] if item[0] == "array" else None
            if isinstance(array, Call) and array.func == "tensor":  # x[[0, 2]]
                check_indices("", _literal(array)[1], size, axis, text, array.col, True)
            count = array.args[0] if isinstance(array, Call) and array.func == "arange" else None
            if (
                isinstance(count, Num) and isinstance(array, Call) and count.value > size
            ):  # range(4) of 3 rows
                raise ShapeError(
                    f"range({count.text}) indexes dimension {axis} with size "
                    f"{size}: index {count.text} - 1 is out of range",
                    text,
                    array.col,
                )
        group = _group(arrays, node, text)
        result: list[int] = []
        placed = False
        for item in items:
            if item[0] == "slice":
                result.append(item[2])
            elif (item[0] == "array" or arrays) and not placed:
                result.extend(group)  # torch: the advanced indices' axes go here
                placed = True
        if len(result) > MAX_RANK:
            raise ShapeError(
                f"the index makes a {len(result)}-D tensor; gradexplain "
                f"handles at most {MAX_RANK} dimensions",
                text,
                node.col,
            )
        return tuple(result)

    def element(self, b: Any, node: Call, idx: tuple[Any, ...]) -> Any:
        return b.build(node.args[0], self.source_index(b, node, idx))

    def source_index(self, b: Any, node: Call, idx: tuple[Any, ...]) -> tuple[Any, ...]:
        """The indexed tensor's element that the result's element `idx` is."""
        import sympy as sp

        arrays = [b.shape(arg) for arg in node.args[1:]]
        group = _group(arrays, node, "")
        out = list(idx)
        taken: tuple[Any, ...] | None = None
        source: list[Any] = []
        for item in normalized(node, b.shape(node.args[0]), arrays):
            if item[0] == "slice":
                source.append(item[1] + item[3] * out.pop(0))
                continue
            if taken is None:
                taken = tuple(out[: len(group)])
                del out[: len(group)]
            if item[0] == "at":
                source.append(sp.Integer(item[1]))
            else:
                array = node.args[1 + item[1]]
                size = b.shape(node.args[0])[len(source)]
                source.append(b.build(_counted_from_0(array, size), b.align(array, taken)))
        return tuple(source)

    def torch(self, torch: Any, tensor: Any, node: Call, *arrays: Any) -> Any:
        index = []
        for item in _index(node):
            if item[0] == "at":
                index.append(item[1])
            elif item[0] == "slice":
                index.append(slice(*item[1:4]))
            else:
                index.append(torch.as_tensor(arrays[item[1]]).long())
        return tensor[tuple(index)]

    def apply(self, torch: Any, tensors: list[Any], node: Call) -> Any:
        return self.torch(torch, tensors[0], node, *tensors[1:])  # the index arrays

    def data(self, node: Call, shape_of: Callable[[Any], Shape] | None = None) -> Iterator[Var]:
        """The integer index arrays given as variables: data, never differentiated."""
        for arg in node.args[1:]:
            while isinstance(arg, Call) and arg.func == "getitem":  # t[:2]
                arg = arg.args[0]
            if isinstance(arg, Var):
                yield arg

    def check_values(
        self, node: Call, shape_of: Mapping[int, Shape], arrays: Mapping[str, Any], text: str
    ) -> None:
        """Integer index arrays hold integers in range, as torch requires."""
        shape = shape_of[id(node.args[0])]
        for position, item in enumerate(_items(node, shape)):
            if item[0] != "array":
                continue
            var = node.args[1 + item[1]]
            while isinstance(var, Call) and var.func == "getitem":  # every element of t
                var = var.args[0]
            if not isinstance(var, Var):
                continue
            check_indices(
                var.name, arrays[var.name], shape[position], position, text, var.col, True
            )

    def wraps(self, node: Call, shape_of: Mapping[int, Shape]) -> Iterator[tuple[Var, int]]:
        """Each index variable with the size of the axis it indexes: its negative values
        count from that axis's end (-1 is the last), as in torch."""
        shape = shape_of[id(node.args[0])]
        for position, item in enumerate(_items(node, shape)):
            var = node.args[1 + item[1]] if item[0] == "array" else None
            while isinstance(var, Call) and var.func == "getitem":
                var = var.args[0]
            if isinstance(var, Var):
                yield var, shape[position]

    def step(self, w: Any, node: Call, idx: tuple[Any, ...], depth: int) -> tuple[str, Any, Any]:
        u, du = w.pair(node.args[0], self.source_index(w.builder, node, idx), depth)
        return "indexing picks elements: the gradient goes back to the picked ones", u, du

    def graph_rule(self, node: Call) -> str:
        return "indexing: the gradient goes back to the picked elements (0 elsewhere)"


def check_indices(
    name: str, values: Any, size: int, axis: int, text: str, col: int, negatives: bool = False
) -> None:
    """Every element an integer in 0..size-1, or in -size..size-1 where `negatives` (an
    index array, whose -1 is the last element as in torch; class targets take no -1)."""
    import math

    for position, value in enumerate(values):
        where = f"{name}_{position}" if len(values) > 1 or position else name
        if not name:  # a literal list, x[[0, 2]]
            where = "index"
        if not float(value).is_integer():
            raise ShapeError(
                f"{name} indexes a tensor, so it must hold integers; {where} = {value:g}"
                if name
                else f"an index list must hold integers, got {value:g}",
                text,
                col,
            )
        if not (-size if negatives else 0) <= value < size:
            hint = (
                f" (an index array takes {-size} to {size - 1}: -1 is the last)"
                if negatives
                else " (a class index counts from 0)"
                if value < 0 and -size <= value
                else ""
            )
            raise ShapeError(
                f"{where}{' =' * bool(name)} {math.trunc(value)} is out of "
                f"range for "
                f"dimension {axis} with size {size}{hint}",
                text,
                col,
            )


def _counted_from_0(array: Any, size: int) -> Any:
    """A literal index list with its negative entries counted from the end (`x[[-1, 0]]`
    picks x[2], x[0] of three), as torch reads them; any other index array as it is
    (program.build counts a variable's negative values from the end)."""
    if not (isinstance(array, Call) and array.func == "tensor"):
        return array
    shape, values, texts = _literal(array)
    if all(value >= 0 for value in values):
        return array
    wrapped = [value % size for value in values]
    texts = [text if value >= 0 else str(int(value % size)) for text, value in zip(texts, values)]
    params = (("shape", shape), ("values", tuple(wrapped)), ("texts", tuple(texts)))
    return Call("tensor", array.args, array.col, params)


@dataclass(frozen=True)
class Arange(Op):
    """`torch.arange(n)`, `range(n)`, `range(len(t))`: 0, 1, ..., n-1, data. Its element at
    i is i itself. The argument is the count (a Num) or a tensor whose length it is."""

    signature: str = "arange"
    spellings: tuple[str, ...] = ("torch",)
    index_data: str = "always"
    bare: bool = False  # range(n) and torch.arange(n)

    def fold(self, *values: float) -> float | None:  # type: ignore[override]
        return None  # a vector, never a constant scalar

    def needs_axes(self, node: Call) -> bool:
        return True

    def count(self, node: Call) -> Var | None:
        arg = node.args[0]
        return arg if node.param("count") and isinstance(arg, Var) else None

    def counted(self, node: Call, count: int) -> Call:
        return Call(self.name, (Num(float(count), str(count), node.args[0].col),), node.col)

    def reads_as_size(self, node: Call) -> Var | None:
        arg = node.args[0]
        return arg if isinstance(arg, Var) else None

    def shape(self, node: Call, parts: list[Shape], text: str) -> Shape:
        count = node.args[0]
        if isinstance(count, Num):
            return (int(count.value),)
        if not parts[0]:
            raise ShapeError("len() of a scalar: it has no length", text, count.col)
        return parts[0][:1]

    def source(self, node: Call, args: list[str]) -> str:
        count = node.args[0]
        return f"torch.arange({args[0] if isinstance(count, Num) else f'len({args[0]})'})"

    def element(self, b: Any, node: Call, idx: tuple[Any, ...]) -> Any:
        import sympy as sp

        return idx[0] if b.shape(node)[0] > 1 else sp.Integer(0)

    def torch(self, torch: Any, tensor: Any, node: Call) -> Any:
        count = node.args[0]
        length = int(count.value) if isinstance(count, Num) else tensor.shape[0]
        return torch.arange(length, dtype=torch.float64, device=tensor.device)

    def step(self, w: Any, node: Call, idx: tuple[Any, ...], depth: int) -> tuple[str, Any, Any]:
        import sympy as sp

        return (
            "arange is data (0, 1, 2, ...): its derivative is 0",
            self.element(w.builder, node, idx),
            sp.Integer(0),
        )

    def graph_rule(self, node: Call) -> str:
        return "arange: data, no gradient"


ENTRIES: tuple[Op, ...] = (
    GetItem("getitem", "indexing: d x[s(i)]/d x_j = 1 where s(i) = j, else 0"),
    Arange("arange", "arange: data 0, 1, ..., n-1 (no gradient)"),
)


MAX_LITERAL = 64  # elements of a literal tensor: a few constants, not data


def _literal(node: Call) -> tuple[Any, Any, Any]:
    """(shape, values, the digits as typed) of a literal tensor."""
    return node.param("shape"), node.param("values"), node.param("texts")


@dataclass(frozen=True)
class Literal(Op):
    """`torch.tensor([1., 2., 3.])`, `torch.tensor([[1, 2], [3, 4]])`, and a list as an
    index (`x[[0, 2]]`): constants, no variable. `params` is (shape, values, texts); the
    element at i is a where() over the positions, so its derivative is 0."""

    signature: str = "literal"
    spellings: tuple[str, ...] = ("torch",)
    bare: bool = False
    index_data: str = "always"

    def fold(self, *values: float) -> float | None:  # type: ignore[override]
        return None

    def needs_axes(self, node: Call) -> bool:
        return True

    def shape(self, node: Call, parts: list[Shape], text: str) -> Shape:
        return tuple(_literal(node)[0])

    def element(self, b: Any, node: Call, idx: tuple[Any, ...]) -> Any:
        import sympy as sp

        shape, values, texts = _literal(node)
        numbers = [number(t, v) for t, v in zip(texts, values)]
        if not shape:
            return numbers[0]
        flat = idx[0] if len(shape) == 1 else idx[0] * shape[1] + idx[1]
        if len(set(numbers)) == 1:
            return numbers[0]
        pieces = [(value, sp.Eq(flat, position)) for position, value in enumerate(numbers[:-1])]
        return sp.Piecewise(*pieces, (numbers[-1], True))

    def torch(self, torch: Any, tensor: Any, node: Call) -> Any:
        shape, values, _ = _literal(node)
        return torch.tensor(values, dtype=torch.float64, device=tensor.device).reshape(shape)

    def step(self, w: Any, node: Call, idx: tuple[Any, ...], depth: int) -> tuple[str, Any, Any]:
        import sympy as sp

        return (
            "a constant tensor: its derivative is 0",
            self.element(w.builder, node, idx),
            sp.Integer(0),
        )

    def source(self, node: Call, args: list[str]) -> str:
        shape, _, texts = _literal(node)
        if len(shape) == 2:
            rows = [texts[r * shape[1] : (r + 1) * shape[1]] for r in range(shape[0])]
            body = "[" + ", ".join("[" + ", ".join(row) + "]" for row in rows) + "]"
        else:
            body = "[" + ", ".join(texts) + "]" if shape else texts[0]
        return f"torch.tensor({body})"

    def graph_rule(self, node: Call) -> str:
        return "a constant tensor: no gradient"


ENTRIES = (*ENTRIES, Literal("tensor", "a constant tensor: derivative 0"))
