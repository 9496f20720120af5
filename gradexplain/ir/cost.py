"""Static estimates of what SymPy would spend on a tree, checked before SymPy runs.

Two costs escape the parser's per-node limits. Exact arithmetic: `((2*x)**1000)**1000`
makes SymPy compute 2**1000000 exactly, and each constant exponent multiplies the digits
of the base's coefficients. Expression swell: the chain rule inside the product rule
(`sigmoid(x*sigmoid(x*...))`, `x**x**x**...`) makes the derivative grow much faster
than the input. Both are estimated on our tree in one pass, without SymPy.
"""

from __future__ import annotations

import math

from gradexplain.errors import LimitError
from gradexplain.ir import limits
from gradexplain.ir.fold import constant_value
from gradexplain.ir.tree import BinOp, Call, Node, Num, Var, children, walk

_PRODUCTS = ("*", "/")


def check_cost(tree: Node, text: str) -> None:
    """Refuse a tree whose exact numbers or derivative work would exceed the limits."""
    digits: dict[int, float] = {}
    level: dict[int, int] = {}
    has_var: dict[int, bool] = {}
    work = 0
    for node in reversed(list(walk(tree))):  # children before their parents
        kids = children(node)
        has_var[id(node)] = isinstance(node, Var) or any(has_var[id(k)] for k in kids)
        digits[id(node)] = _digits(node, [digits[id(k)] for k in kids], has_var)
        if digits[id(node)] > limits.MAX_EXACT_DIGITS:
            raise LimitError(
                f"exact numbers here would need about "
                f"{digits[id(node)]:,.0f} digits; the limit is "
                f"MAX_EXACT_DIGITS = {limits.MAX_EXACT_DIGITS:,}",
                text,
                node.col,
            )
        level[id(node)] = max((level[id(k)] for k in kids), default=0) + _nonlinear(node, has_var)
        work += level[id(node)] ** 2
        if work > limits.MAX_DERIVATIVE_WORK:
            raise LimitError(
                f"functions, powers and products are nested too deeply to "
                f"differentiate quickly (estimated work over "
                f"MAX_DERIVATIVE_WORK = {limits.MAX_DERIVATIVE_WORK:,})",
                text,
                node.col,
            )


def _digits(node: Node, child_digits: list[float], has_var: dict[int, bool]) -> float:
    """Upper estimate of the decimal digits of the exact numbers SymPy builds for `node`."""
    if isinstance(node, Num):
        return _literal_digits(node)
    if isinstance(node, BinOp) and node.op == "**" and not has_var[id(node.right)]:
        return child_digits[0] * max(1.0, abs(_literal_value(node.right)))
    return sum(child_digits)  # + - * / and calls: numerators and denominators multiply


def _literal_digits(node: Num) -> float:
    if node.text.isascii() and node.text.isdigit():  # `x**2`: no fractions module to load
        parts: tuple[int, int] = (int(node.text), 1)
    else:
        from fractions import Fraction

        try:
            fraction = Fraction(node.text)
        except (ValueError, ZeroDivisionError):
            fraction = Fraction(node.value)
        parts = (abs(fraction.numerator), fraction.denominator)
    return sum(math.log10(part) for part in parts if part > 1)


def _literal_value(node: Node) -> float:
    """A constant exponent's size; the parser has already bounded it by MAX_EXPONENT."""
    value = constant_value(node, "")
    return 0.0 if value is None else value


def _nonlinear(node: Node, has_var: dict[int, bool]) -> int:
    """1 where differentiating copies a variable sub-expression (chain or product rule).

    A product whose factor is itself a product adds nothing: SymPy flattens `x*x*x`.
    """
    if isinstance(node, Call):
        return 1
    if not isinstance(node, BinOp) or not has_var[id(node)]:
        return 0
    if node.op == "**":
        return 1
    if node.op in _PRODUCTS and has_var[id(node.left)] and has_var[id(node.right)]:
        return (
            0
            if any(isinstance(k, BinOp) and k.op in _PRODUCTS for k in (node.left, node.right))
            else 1
        )
    return 0
