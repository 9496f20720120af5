"""Shapes and axes, the vocabulary the shape pass and every op's shape rule share.

Kept apart from `shapes.py` so an op's entry (`gradexplain/ops/`) can state its shape
rule without importing the pass that calls it.
"""

from __future__ import annotations

from gradexplain.errors import ExpressionError
from gradexplain.ir.tree import Call, Node

Shape = tuple[int, ...]


class ShapeError(ExpressionError):
    """Operand shapes that do not fit together (`@` with mismatched inner sizes...)."""

    kind = "shape"


def describe(shape: Shape) -> str:
    """`(2, 3)` as a learner reads it: `2x3`; a vector `(3,)`: `3`; a scalar: `scalar`."""
    return "x".join(map(str, shape)) if shape else "scalar"


def dims_of(node: Call) -> tuple[int, ...] | None:
    """The `dim=` the parser kept in the call's params, as a tuple (None: every element)."""
    dims = node.param("dim")
    assert dims is None or isinstance(dims, tuple)
    return dims


def dim_of(node: Call) -> int:
    """The one `dim=` of a call that takes a single dim (softmax, cumsum)."""
    dims = dims_of(node)
    assert dims is not None and len(dims) == 1
    return dims[0]


def along(node: Call) -> bool:
    """True when the call was given a dim= (it reduces or normalises along axes)."""
    return node.param("dim") is not None


def reduced_axes(node: Call, shape: Shape) -> tuple[int, ...]:
    """The axes `sum(X, dim=d)` removes, sorted (d may count from the end); every axis
    without a dim. A scalar takes dim 0 or -1 and has no axis to remove, as in torch."""
    dims = dims_of(node)
    if dims is None:
        return tuple(range(len(shape)))
    rank = max(len(shape), 1)
    return tuple(sorted({dim + rank if dim < 0 else dim for dim in dims} & set(range(len(shape)))))


def reduced_axis(node: Call, shape: Shape) -> int:
    """The one axis a single-dim call works along."""
    dim = dim_of(node)
    return dim + len(shape) if dim < 0 else dim


def check_dims(node: Call, shape: Shape, text: str) -> None:
    """A dim outside the shape is the user's error (a scalar takes 0 and -1, as in torch)."""
    dims = dims_of(node) or ()
    rank = max(len(shape), 1)
    for dim in dims:
        if not -rank <= dim < rank:
            where = f"shape {describe(shape)}" if shape else "a scalar"
            raise ShapeError(
                f"{node.func}(dim={dims_text(dims)}) of {where}: dim must be "
                f"in -{rank}..{rank - 1}",
                text,
                node.col,
            )
    normalised = [dim % rank for dim in dims]
    if len(set(normalised)) != len(normalised):
        raise ShapeError(f"{node.func}(dim={dims_text(dims)}): a dim appears twice", text, node.col)


def dims_text(dims: tuple[object, ...]) -> str:
    """`0` for one dim, `(0, 1)` for several: as a call's `dim=` is written."""
    return str(dims[0]) if len(dims) == 1 else "(" + ", ".join(map(str, dims)) + ")"


def reduced(node: Call, shape: Shape, text: str) -> Shape:
    """The shape after the reduction: the axes removed, or kept as 1 with keepdim=True."""
    check_dims(node, shape, text)
    axes = reduced_axes(node, shape)
    if node.param("keepdim", False):
        return tuple(1 if axis in axes else size for axis, size in enumerate(shape))
    return tuple(size for axis, size in enumerate(shape) if axis not in axes)


def broadcast(node: Node, parts: list[Shape], text: str) -> Shape:
    """PyTorch's rule: align shapes on the right; each axis has equal sizes or a size 1,
    which stretches (a scalar fits anything)."""
    result: Shape = ()
    for shape in parts:
        if len(shape) > len(result):
            result, shape = shape, result
        pairs = list(zip(result[len(result) - len(shape) :], shape))
        if any(big != small and 1 not in (big, small) for big, small in pairs):
            raise ShapeError(
                f"shapes {describe(result)} and {describe(shape)} cannot be "
                f"broadcast together: {_broadcast_hint(result, shape)}",
                text,
                node.col,
            )
        stretched = tuple(max(pair) for pair in pairs)
        result = result[: len(result) - len(shape)] + stretched
    return result


_AXES = {2: ("rows", "columns"), 1: ("lengths",)}


def _broadcast_hint(big: Shape, small: Shape) -> str:
    """Which axis does not fit, in the words a learner uses for it."""
    if len(big) == 2 and len(small) == 1:
        return (
            f"a vector is added to each row, so its length ({small[0]}) must equal "
            f"the number of columns ({big[1]}), or one of them must be 1"
        )
    names = _AXES[len(big)]
    for name, one, other in zip(names, big, small):
        if one != other and 1 not in (one, other):
            return f"the {name} ({one} and {other}) must be equal, or one of them 1"
    raise AssertionError("no mismatched axis")
