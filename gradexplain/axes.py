"""Shapes and axes, the vocabulary the shape pass and every op's shape rule share.

Kept apart from `shapes.py` so an op's entry (`gradexplain/ops/`) can state its shape
rule without importing the pass that calls it.
"""

from __future__ import annotations

from gradexplain.errors import ExpressionError
from gradexplain.tree import Call, Num

Shape = tuple[int, ...]


class ShapeError(ExpressionError):
    """Operand shapes that do not fit together (`@` with mismatched inner sizes...)."""

    kind = "shape"


def describe(shape: Shape) -> str:
    """`(2, 3)` as a learner reads it: `2x3`; a vector `(3,)`: `3`; a scalar: `scalar`."""
    return "x".join(map(str, shape)) if shape else "scalar"


def dim_of(node: Call) -> int:
    """The `dim=` the parser kept as the call's second argument, an integer literal."""
    dim = node.args[1]
    assert isinstance(dim, Num)
    return int(dim.value)


def reduced_axis(node: Call, shape: Shape) -> int:
    """The axis that `sum(X, dim=d)` removes (d may count from the end)."""
    dim = dim_of(node)
    return dim + len(shape) if dim < 0 else dim


def reduced(node: Call, shape: Shape, text: str) -> Shape:
    """The shape after removing axis `dim`; a dim outside the shape is the user's error."""
    axis = reduced_axis(node, shape)
    if not 0 <= axis < len(shape):
        raise ShapeError(f"{node.func}(dim={dim_of(node)}) of shape {describe(shape)}: dim "
                         f"must be in -{len(shape)}..{len(shape) - 1}" if shape else
                         f"{node.func}(dim=...) of a scalar: it has no dimension",
                         text, node.args[1].col)
    return shape[:axis] + shape[axis + 1:]
