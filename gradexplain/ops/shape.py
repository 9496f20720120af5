"""Shape operations: reshape, view, flatten, squeeze, unsqueeze, transpose, permute, t,
`.T`, flip, roll, repeat, expand, triu, tril, cat and stack.

Each one moves elements without changing them, so in a generic element it is a
re-indexing, as `x[1:3]` is (`indexing.py`): `flip(x)` at i is `x[n - 1 - i]`,
`x.reshape(2, 3)` at (i, p) is `x[3 i + p]`, `cat([a, b])` at i is `a[i]` for i < n_a and
`b[i - n_a]` after. SymPy differentiates that into Kronecker deltas; `deltas.py` resolves
the affine ones, `evaluate.py` evaluates the rest (`floor`, `%`) over whole arrays.

`params` holds the call's integers as the user gave them (a shape, dims, shifts); each
entry's `out` checks them against the input shape and gives the result's shape, and
`source` maps the result's element to the input's. The tool's range is rank <= 2.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gradexplain.ir.axes import Shape, ShapeError, describe
from gradexplain.ir.tree import Call
from gradexplain.ops.base import Op, RuleForm, words
from gradexplain.ops.moves import (
    flipped,
    joined,
    letters,
    rolled,
    same,
    stacked,
    stretched,
    tiled,
    transposed,
    triangle,
)

MAX_RANK = 2
_ROW_MAJOR = "the same elements in row-major order: i and j count them flat"
Index = tuple[Any, ...]  # an element's index symbols, one per axis
Origin = tuple[int, Index]  # which argument, and its element


def _sizes(node: Call) -> tuple[int, ...]:
    """The call's integers, as given (a shape, dims, shifts, a diagonal)."""
    return tuple(node.param("sizes", ()))  # type: ignore[arg-type]


def _axis(node: Call, dim: int, rank: int, text: str) -> int:
    """`dim` counted from 0; -1 is the last axis, as in torch."""
    if not -max(rank, 1) <= dim < max(rank, 1):
        raise ShapeError(
            f"{node.func}(): dim {dim} is out of range for a tensor of "
            f"{rank} dimension{'s' * (rank != 1)}",
            text,
            node.col,
        )
    return dim % max(rank, 1)


def _rank(node: Call, shape: Shape, text: str) -> Shape:
    if len(shape) > MAX_RANK:
        raise ShapeError(
            f"{node.func}() makes a {len(shape)}-D tensor, {describe(shape)}; "
            f"gradexplain handles at most {MAX_RANK} dimensions",
            text,
            node.col,
        )
    return shape


@dataclass(frozen=True)
class Move(Op):
    """An op that moves elements: its element is its argument's at `source(...)`."""

    signature: str = "shape"
    spellings: tuple[str, ...] = ("torch", "method")
    bare: bool = False  # x.t(), torch.t(x); never t(x), so `t` stays a variable's name
    names: tuple[str, ...] = ()  # the keyword spellings of its integers, in order
    listed: bool = False  # its tensors come as one list: torch.cat([a, b], dim=0)
    # its rule as (label, SymPy expression) parts, from the symbols `_letters` gives:
    # `d flip(x)_i/dx_j = delta(j, n - i - 1)`, which element of x each y_i is
    moved: Callable[[Any], tuple[tuple[str, Any], ...]] | None = None

    def fold(self, *values: float) -> float | None:  # type: ignore[override]
        return None

    def rule_form(self, node: Call | None = None) -> RuleForm | None:
        """d y/dx as the Kronecker delta of the element each y element comes from."""
        if self.moved is None:
            return None
        return RuleForm(f"{self.name}: ", self.moved(letters()), words(self.rule))

    def needs_axes(self, node: Call) -> bool:
        return True

    def shape(self, node: Call, parts: list[Shape], text: str) -> Shape:
        return _rank(node, self.out(node, parts, text), text)

    def out(self, node: Call, parts: list[Shape], text: str) -> Shape:
        raise NotImplementedError(self.name)

    def origin(self, sp: Any, node: Call, shapes: list[Shape], out: Shape, idx: Index) -> Origin:
        """(which argument, its element) that the result's element `idx` is."""
        raise NotImplementedError(self.name)

    def element(self, b: Any, node: Call, idx: tuple[Any, ...]) -> Any:
        import sympy as sp

        shapes = [b.shape(arg) for arg in node.args]
        return self._picked(
            sp, node, shapes, b.shape(node), idx, lambda arg, at: b.build(node.args[arg], at)
        )

    def _picked(
        self, sp: Any, node: Call, shapes: list[Shape], out: Shape, idx: tuple[Any, ...], build: Any
    ) -> Any:
        arg, at = self.origin(sp, node, shapes, out, idx)
        return build(arg, at)

    def torch(self, torch: Any, tensor: Any, node: Call, *others: Any) -> Any:
        return getattr(tensor, self.name)(*_sizes(node))

    def apply(self, torch: Any, tensors: list[Any], node: Call) -> Any:
        return self.torch(torch, tensors[0], node, *tensors[1:])

    def step(self, w: Any, node: Call, idx: tuple[Any, ...], depth: int) -> tuple[str, Any, Any]:
        import sympy as sp

        shapes = [w.node_shapes[id(arg)] for arg in node.args]
        arg, at = self.origin(sp, node, shapes, w.node_shapes[id(node)], idx)
        u, du = w.pair(node.args[arg], at, depth)
        return f"{self.name} moves elements: the gradient goes back to where each came from", u, du

    def graph_rule(self, node: Call) -> str:
        return f"{self.name}: the gradient is moved back (same elements, other places)"

    def source(self, node: Call, args: list[str]) -> str:
        return (
            f"{self.name}({', '.join([*args, *map(str, _sizes(node))])})"
            if self.name != "flatten"
            else f"flatten({args[0]})"
        )


def _flat(sp: Any, idx: tuple[Any, ...], shape: Shape) -> Any:
    """The row-major flat index of element idx of `shape`."""
    flat = sp.Integer(0)
    for index, size in zip(idx, shape):
        flat = flat * size + index
    return flat


def _unflat(sp: Any, flat: Any, shape: Shape) -> tuple[Any, ...]:
    """Element of `shape` at row-major flat index `flat`."""
    if len(shape) == 2:
        return sp.floor(flat / shape[1]), sp.Mod(flat, shape[1])
    return (flat,) if shape else ()


@dataclass(frozen=True)
class Reshape(Move):
    """reshape/view (a shape, -1 inferred), flatten (1-D): row-major, as torch."""

    def out(self, node: Call, parts: list[Shape], text: str) -> Shape:
        size = math.prod(parts[0])
        if self.name == "flatten":
            return (size,)
        wanted = list(_sizes(node))
        if wanted.count(-1) > 1 or any(n < -1 or n == 0 for n in wanted):
            raise ShapeError(
                f"{self.name}(): sizes must be positive, with at most one -1", text, node.col
            )
        known = math.prod(n for n in wanted if n != -1)
        if -1 in wanted and size % known == 0:
            wanted[wanted.index(-1)] = size // known
        if math.prod(wanted) != size:
            raise ShapeError(
                f"{self.name}(): shape {describe(tuple(_sizes(node)))} is invalid "
                f"for {describe(parts[0])} ({size} elements)",
                text,
                node.col,
            )
        return tuple(wanted)

    def origin(self, sp: Any, node: Call, shapes: list[Shape], out: Shape, idx: Index) -> Origin:
        return 0, _unflat(sp, _flat(sp, idx, out), shapes[0])

    def torch(self, torch: Any, tensor: Any, node: Call, *others: Any) -> Any:
        if self.name == "flatten":
            return tensor.flatten()
        return getattr(tensor, self.name)(*_sizes(node))


@dataclass(frozen=True)
class Permute(Move):
    """transpose(a, b), permute(dims), t(): the axes in another order."""

    def order(self, node: Call, rank: int, text: str) -> tuple[int, ...]:
        if self.name == "t":
            return (1, 0) if rank == 2 else tuple(range(rank))
        dims = [_axis(node, dim, rank, text) for dim in _sizes(node)]
        if self.name == "transpose":
            if len(dims) != 2:
                raise ShapeError(
                    "transpose() takes two dims, as in X.transpose(0, 1)", text, node.col
                )
            order = list(range(rank))
            order[dims[0]], order[dims[1]] = order[dims[1]], order[dims[0]]
            return tuple(order)
        if sorted(dims) != list(range(rank)):
            raise ShapeError(
                f"permute() needs each of the {rank} dims once, got {tuple(_sizes(node))}",
                text,
                node.col,
            )
        return tuple(dims)

    def out(self, node: Call, parts: list[Shape], text: str) -> Shape:
        if self.name == "t" and len(parts[0]) > 2:
            raise ShapeError("t() takes a tensor of at most 2 dimensions", text, node.col)
        return tuple(parts[0][axis] for axis in self.order(node, len(parts[0]), text))

    def origin(self, sp: Any, node: Call, shapes: list[Shape], out: Shape, idx: Index) -> Origin:
        order = self.order(node, len(shapes[0]), "")
        at: list[Any] = [None] * len(order)
        for position, axis in enumerate(order):
            at[axis] = idx[position]
        return 0, tuple(at)

    def torch(self, torch: Any, tensor: Any, node: Call, *others: Any) -> Any:
        if self.name == "t":
            return tensor.t()
        if self.name == "transpose":
            return tensor.transpose(*_sizes(node))
        return tensor.permute(*_sizes(node))


@dataclass(frozen=True)
class Transpose(Permute):
    """`X.T`: the axes reversed, as torch's `.mT` of a matrix; a vector or scalar as it is."""

    spellings: tuple[str, ...] = ("attribute",)
    postfix = True

    def fold(self, *values: float) -> float:
        return values[0]

    def order(self, node: Call, rank: int, text: str) -> tuple[int, ...]:
        return tuple(reversed(range(rank)))

    def torch(self, torch: Any, tensor: Any, node: Call, *others: Any) -> Any:
        return tensor.mT if tensor.dim() == 2 else tensor

    def step(self, w: Any, node: Call, idx: tuple[Any, ...], depth: int) -> tuple[str, Any, Any]:
        u, du = w.pair(node.args[0], tuple(reversed(idx)), depth)
        return "transpose: (A.T) at (r, c) is A at (c, r)", u, du

    def graph_rule(self, node: Call) -> str:
        return "transpose: the gradient is transposed back"

    def source(self, node: Call, args: list[str]) -> str:
        return f"{args[0]}.T"


@dataclass(frozen=True)
class Squeeze(Move):
    """squeeze() drops size-1 axes (or the one dim given); unsqueeze(d) adds one."""

    def kept(self, node: Call, shape: Shape, text: str) -> list[int]:
        """The input axes that remain (squeeze)."""
        if _sizes(node):
            axis = _axis(node, _sizes(node)[0], len(shape), text)
            return [a for a in range(len(shape)) if a != axis or shape[a] != 1]
        return [a for a in range(len(shape)) if shape[a] != 1]

    def out(self, node: Call, parts: list[Shape], text: str) -> Shape:
        shape = parts[0]
        if self.name == "squeeze":
            return tuple(shape[a] for a in self.kept(node, shape, text))
        if not _sizes(node):
            raise ShapeError("unsqueeze() needs a dim, as in x.unsqueeze(0)", text, node.col)
        axis = _axis(node, _sizes(node)[0], len(shape) + 1, text)
        return (*shape[:axis], 1, *shape[axis:])

    def origin(self, sp: Any, node: Call, shapes: list[Shape], out: Shape, idx: Index) -> Origin:
        shape = shapes[0]
        if self.name == "squeeze":
            at: list[Any] = [sp.Integer(0)] * len(shape)
            for position, axis in enumerate(self.kept(node, shape, "")):
                at[axis] = idx[position]
            return 0, tuple(at)
        axis = _axis(node, _sizes(node)[0], len(shape) + 1, "")
        return 0, (*idx[:axis], *idx[axis + 1 :])


@dataclass(frozen=True)
class Flip(Move):
    """flip(dims): element n - 1 - i along each flipped axis."""

    def out(self, node: Call, parts: list[Shape], text: str) -> Shape:
        for dim in _sizes(node):
            _axis(node, dim, len(parts[0]), text)
        return parts[0]

    def origin(self, sp: Any, node: Call, shapes: list[Shape], out: Shape, idx: Index) -> Origin:
        axes = {_axis(node, dim, len(out), "") for dim in _sizes(node)}
        return 0, tuple(
            size - 1 - index if axis in axes else index
            for axis, (index, size) in enumerate(zip(idx, out))
        )

    def torch(self, torch: Any, tensor: Any, node: Call, *others: Any) -> Any:
        return tensor.flip(_sizes(node))


@dataclass(frozen=True)
class Roll(Move):
    """roll(shift, dim): element (i - shift) mod n along the axis (a 1-D x: dim 0)."""

    def out(self, node: Call, parts: list[Shape], text: str) -> Shape:
        if len(_sizes(node)) == 1 and len(parts[0]) > 1:
            raise ShapeError("roll() of a matrix needs a dim, as in X.roll(1, 0)", text, node.col)
        if len(_sizes(node)) == 2:
            _axis(node, _sizes(node)[1], len(parts[0]), text)
        return parts[0]

    def origin(self, sp: Any, node: Call, shapes: list[Shape], out: Shape, idx: Index) -> Origin:
        shift = _sizes(node)[0]
        axis = _axis(node, _sizes(node)[1], len(out), "") if len(_sizes(node)) == 2 else 0
        return 0, tuple(
            sp.Mod(index - shift, size) if a == axis else index
            for a, (index, size) in enumerate(zip(idx, out))
        )

    def torch(self, torch: Any, tensor: Any, node: Call, *others: Any) -> Any:
        return torch.roll(tensor, *_sizes(node))


@dataclass(frozen=True)
class Tile(Move):
    """repeat(r...) tiles (element i mod n); expand(sizes) stretches size-1 axes."""

    def out(self, node: Call, parts: list[Shape], text: str) -> Shape:
        shape, wanted = parts[0], tuple(_sizes(node))
        if len(wanted) < len(shape):
            raise ShapeError(
                f"{self.name}() needs a size for each of the {len(shape)} dimensions",
                text,
                node.col,
            )
        padded = (1,) * (len(wanted) - len(shape)) + shape
        if self.name == "repeat":
            if any(r < 1 for r in wanted):
                raise ShapeError("repeat() counts must be positive", text, node.col)
            return tuple(r * n for r, n in zip(wanted, padded))
        result = []
        for want, have in zip(wanted, padded):
            if want != -1 and have != 1 and want != have:
                raise ShapeError(
                    f"expand(): size {have} cannot be stretched to {want} "
                    f"(only size-1 axes stretch)",
                    text,
                    node.col,
                )
            result.append(have if want == -1 else want)
        return tuple(result)

    def origin(self, sp: Any, node: Call, shapes: list[Shape], out: Shape, idx: Index) -> Origin:
        shape = shapes[0]
        own = idx[len(idx) - len(shape) :] if shape else ()
        if self.name == "repeat":
            return 0, tuple(
                index if size == out_size else sp.Mod(index, size)
                for index, size, out_size in zip(own, shape, out[len(out) - len(shape) :])
            )
        return 0, tuple(sp.Integer(0) if size == 1 else index for index, size in zip(own, shape))


@dataclass(frozen=True)
class Triangle(Move):
    """triu(d)/tril(d): the matrix with the elements below (above) diagonal d set to 0."""

    def out(self, node: Call, parts: list[Shape], text: str) -> Shape:
        if len(parts[0]) != 2:
            raise ShapeError(
                f"{self.name}() takes a matrix, got {describe(parts[0])}", text, node.col
            )
        return parts[0]

    def _picked(
        self, sp: Any, node: Call, shapes: list[Shape], out: Shape, idx: tuple[Any, ...], build: Any
    ) -> Any:
        diagonal = _sizes(node)[0] if _sizes(node) else 0
        row, column = idx
        keep = (
            sp.Ge(column - row, diagonal) if self.name == "triu" else sp.Le(column - row, diagonal)
        )
        return sp.Piecewise((build(0, idx), keep), (sp.Integer(0), True))

    def step(self, w: Any, node: Call, idx: tuple[Any, ...], depth: int) -> tuple[str, Any, Any]:
        import sympy as sp

        u, du = w.pair(node.args[0], idx, depth)
        keep = self._picked(sp, node, [], (), idx, lambda arg, at: sp.Integer(1))
        return f"{self.name} keeps a triangle: the gradient there, 0 elsewhere", keep * u, keep * du


@dataclass(frozen=True)
class Join(Move):
    """cat(tensors, dim) puts them one after another; stack(tensors, dim) on a new axis."""

    spellings: tuple[str, ...] = ("torch",)
    listed: bool = True

    def out(self, node: Call, parts: list[Shape], text: str) -> Shape:
        first = parts[0]
        rank = len(first) + (self.name == "stack")
        axis = _axis(node, _sizes(node)[0], rank, text)
        for arg, shape in zip(node.args[1:], parts[1:]):
            same = (
                shape == first
                if self.name == "stack"
                else len(shape) == len(first)
                and all(a == b for n, (a, b) in enumerate(zip(shape, first)) if n != axis)
            )
            if not same:
                raise ShapeError(
                    f"{self.name}(): shapes {describe(first)} and "
                    f"{describe(shape)} do not fit together along dim "
                    f"{_sizes(node)[0]}",
                    text,
                    arg.col,
                )
        if self.name == "stack":
            return (*first[:axis], len(parts), *first[axis:])
        if not first:
            raise ShapeError("cat() of scalars: use stack()", text, node.col)
        return (*first[:axis], sum(shape[axis] for shape in parts), *first[axis + 1 :])

    def _picked(
        self, sp: Any, node: Call, shapes: list[Shape], out: Shape, idx: tuple[Any, ...], build: Any
    ) -> Any:
        axis = _axis(node, _sizes(node)[0], len(out), "")
        index = idx[axis]
        pieces, start = [], 0
        for arg, shape in enumerate(shapes):
            if self.name == "stack":
                at = (*idx[:axis], *idx[axis + 1 :])
                pieces.append((build(arg, at), sp.Eq(index, arg)))
                continue
            at = (*idx[:axis], index - start, *idx[axis + 1 :])
            pieces.append((build(arg, at), sp.Lt(index, start + shape[axis])))
            start += shape[axis]
        pieces[-1] = (pieces[-1][0], sp.true)
        return sp.Piecewise(*pieces)

    def step(self, w: Any, node: Call, idx: tuple[Any, ...], depth: int) -> tuple[str, Any, Any]:
        import sympy as sp

        shapes = [w.node_shapes[id(arg)] for arg in node.args]
        out = w.node_shapes[id(node)]
        value = self._picked(
            sp, node, shapes, out, idx, lambda arg, at: w.pair(node.args[arg], at, depth)[0]
        )
        derivative = self._picked(
            sp, node, shapes, out, idx, lambda arg, at: w.pair(node.args[arg], at, depth)[1]
        )
        return (
            f"{self.name}: each element's derivative is that of the tensor it comes from",
            value,
            derivative,
        )

    def torch(self, torch: Any, tensor: Any, node: Call, *others: Any) -> Any:
        return getattr(torch, self.name)([tensor, *others], dim=_sizes(node)[0])

    def source(self, node: Call, args: list[str]) -> str:
        return f"torch.{self.name}([{', '.join(args)}], dim={_sizes(node)[0]})"


ENTRIES: tuple[Op, ...] = (
    Reshape("reshape", _ROW_MAJOR, moved=same),
    Reshape("view", _ROW_MAJOR, spellings=("method",), moved=same),
    Reshape("flatten", _ROW_MAJOR, moved=same),
    Permute("transpose", "two axes swapped", names=("dim0", "dim1"), moved=transposed),
    Permute(
        "permute",
        "the axes in another order (a matrix's: swapped)",
        names=("dims",),
        moved=transposed,
    ),
    Permute("t", "a matrix transposed", moved=transposed),
    Transpose("T", "the axes reversed: a matrix transposed, a vector as it is", moved=transposed),
    Squeeze("squeeze", "size-1 axes dropped, the elements kept", names=("dim",), moved=same),
    Squeeze("unsqueeze", "a size-1 axis added, the elements kept", names=("dim",), moved=same),
    Flip("flip", "the order reversed along dims (n long)", names=("dims",), moved=flipped),
    Roll("roll", "elements shifted cyclically by s", names=("shifts", "dims"), moved=rolled),
    Tile("repeat", "the tensor (n long) tiled", spellings=("method",), moved=tiled),
    Tile("expand", "size-1 axes stretched (here k)", spellings=("method",), moved=stretched),
    Triangle(
        "triu", "the upper triangle kept, d: diagonal=", names=("diagonal",), moved=triangle(True)
    ),
    Triangle(
        "tril", "the lower triangle kept, d: diagonal=", names=("diagonal",), moved=triangle(False)
    ),
    Join("cat", "tensors one after another (a has n_a)", names=("dim",), moved=joined),
    Join("stack", "tensors along a new axis", names=("dim",), moved=stacked),
)
