"""Constant folding: the float value of a variable-free sub-expression.

The parser folds every constant it builds, to refuse what exact arithmetic could not
afford (9**9**9) before SymPy sees it; the cost estimate reads exponents the same way.
Each function's value on floats is its registry entry's `fold`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from gradexplain.errors import ExpressionError, LimitError
from gradexplain.ir import limits
from gradexplain.ir.tree import BinOp, Call, Compare, Const, Neg, Node, Num, Var
from gradexplain.ops import OPS


def constant_value(node: Node, text: str) -> float | None:
    """The float value of a variable-free sub-expression, or None if it has a variable."""
    if isinstance(node, Num):
        return node.value
    if isinstance(node, Const):
        return math.pi if node.name == "pi" else math.e
    if isinstance(node, (Var, Compare)):
        return None  # a condition is kept for where(), so where() is never folded
    if isinstance(node, Neg):
        inner = constant_value(node.operand, text)
        return None if inner is None else -inner
    parts = [
        constant_value(child, text)
        for child in ((node.left, node.right) if isinstance(node, BinOp) else node.args)
    ]
    if any(part is None for part in parts):
        return None
    values = [part for part in parts if part is not None]
    try:
        result = _apply(node, values)
    except (OverflowError, ValueError, ZeroDivisionError) as exc:
        raise ExpressionError(
            f"constant sub-expression is undefined or too large ({exc})", text, node.col
        ) from None
    if result is None:  # a constant that is not one number (torch.arange(3))
        return None
    if (
        isinstance(result, complex)
        or not math.isfinite(result)
        or abs(result) > limits.MAX_CONSTANT
    ):
        raise LimitError(
            f"constant sub-expression exceeds MAX_CONSTANT = "
            f"{limits.MAX_CONSTANT} or is not a real number",
            text,
            node.col,
        )
    return float(result)


_FLOAT_BINOPS: dict[str, Callable[[float, float], float]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "**": lambda a, b: math.pow(a, b),
    "@": lambda a, b: a * b,  # the shape pass refuses @ of scalars; this only folds
}


def _apply(node: Node, values: list[float]) -> float | None:
    if isinstance(node, BinOp):
        return _FLOAT_BINOPS[node.op](values[0], values[1])
    assert isinstance(node, Call)
    return OPS[node.func].fold(*values)


def check_constants(node: Node, text: str) -> None:
    """Refuse constant sub-expressions too large for exact arithmetic (9**9**9).

    SymPy computes integer powers exactly, so `9**9**9` would run for minutes; a float
    estimate of each constant, bounded by MAX_CONSTANT and MAX_EXPONENT, stops it first.
    """
    if isinstance(node, BinOp) and node.op == "**":
        exponent = constant_value(node.right, text)
        if exponent is not None and abs(exponent) > limits.MAX_EXPONENT:
            raise LimitError(
                f"exponent {exponent:.6g} exceeds MAX_EXPONENT = {limits.MAX_EXPONENT}",
                text,
                node.right.col,
            )
    if isinstance(node, BinOp) and node.op == "/" and constant_value(node.right, text) == 0:
        raise ExpressionError("division by a constant that is zero", text, node.right.col)
    constant_value(node, text)
