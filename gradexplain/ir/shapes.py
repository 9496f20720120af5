"""The shape pass: every node's shape from the values' shapes, before any heavy work.

Shapes follow PyTorch: elementwise operations broadcast, aligning shapes on the right
and stretching any axis of size 1 (a scalar over anything, a vector over the rows of a
matrix, a column `n x 1` over the columns of `n x m`); `@` is a
matrix-vector, vector-matrix, matrix-matrix or dot product; `.T` swaps a matrix's axes;
each function's own shape rule is in its registry entry (`gradexplain/ops/`): reductions
over all elements or along `dim=`, softmax keeping the shape. A mismatch is the user's error,
reported with both shapes and a column, so neither SymPy nor torch is imported for it.
"""

from __future__ import annotations

from collections.abc import Mapping

from gradexplain.ir.axes import Shape, ShapeError, broadcast, describe, reduced_axis
from gradexplain.ir.tree import BinOp, Call, Compare, Neg, Node, Var, children, walk
from gradexplain.ops import OPS

__all__ = [
    "Shape",
    "ShapeError",
    "describe",
    "reduced_axis",
    "infer",
    "element",
    "uses_matrices",
    "broadcast",
]


def infer(tree: Node, shapes: Mapping[str, Shape], text: str) -> dict[int, Shape]:
    """The shape of every node, by `id(node)`; raises ShapeError at the first mismatch."""
    found: dict[int, Shape] = {}
    for node in reversed(list(walk(tree))):  # children before parents
        found[id(node)] = _shape(node, [found[id(c)] for c in children(node)], shapes, text)
    return found


def element(name: str, shape: Shape, targets: str = "jk") -> str:
    """`W_jk` for a generic element (`targets`: the program's letters for j and k); a
    size-1 axis is always 0 (`a_j0` for a 3x1 column), which is how the formulas index it."""
    return (
        f"{name}_{''.join('0' if size == 1 else t for t, size in zip(targets, shape))}"
        if shape
        else name
    )


def uses_matrices(tree: Node, shapes: Mapping[str, Shape]) -> bool:
    """True when the matrix path is needed: a 2-D value, `@`, `.T`, or a length-1 vector
    stretched over longer ones (the 1-D path has one common length n)."""
    if any(len(shape) > 1 for shape in shapes.values()):
        return True
    lengths = {shape[0] for shape in shapes.values() if shape}
    if len(lengths) == 2 and 1 in lengths:
        return True
    return any(
        (isinstance(n, BinOp) and n.op == "@")
        or (isinstance(n, Call) and OPS[n.func].needs_axes(n))
        for n in walk(tree)
    )


def _shape(node: Node, parts: list[Shape], shapes: Mapping[str, Shape], text: str) -> Shape:
    if isinstance(node, Var):
        return tuple(shapes[node.name])
    if not parts:
        return ()
    if isinstance(node, Neg):
        return parts[0]
    if isinstance(node, BinOp) and node.op == "@":
        return _matmul(node, parts[0], parts[1], text)
    if isinstance(node, (BinOp, Compare)):
        return broadcast(node, parts, text)
    assert isinstance(node, Call)
    return OPS[node.func].shape(node, parts, text)


def _matmul(node: BinOp, left: Shape, right: Shape, text: str) -> Shape:
    """torch.matmul's rule (`ops/linalg.py`): the inner sizes must agree."""
    from gradexplain.ops.linalg import matmul_letters  # the family loads when @ is used

    matmul_letters("@", left, right, text, node.col)
    return left[:-1] + right[1:]
