"""Our tree back to text, with only the parentheses it needs: labels for graphs and steps."""

from __future__ import annotations

from gradexplain.ir.axes import dims_text
from gradexplain.ir.tree import BinOp, Call, Compare, Const, Neg, Node, Num, Param, Var
from gradexplain.ops import OPS

_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "@": 2, "**": 4}


def source(node: Node) -> str:
    """`x**2`, `sum(w*x + b)`: readable, not necessarily the user's spelling."""
    return _text(node, 0)


def _text(node: Node, outer: int) -> str:
    if isinstance(node, Num):
        return node.text
    if isinstance(node, (Const, Var)):
        return node.name
    if isinstance(node, Call):  # x[1:3], torch.cat([a, b], dim=0), X.T
        op = OPS[node.func]
        text = op.source(
            node,
            [
                _text(arg, 5 if op.postfix and not position else 0)
                for position, arg in enumerate(node.args)
            ],
        )
        if text is not None:
            return text
        settings = [f"{key}={_setting(value)}" for key, value in node.params]
        return op.spelled(node, [_text(arg, 0) for arg in node.args], settings)
    if isinstance(node, Compare):
        return f"{_text(node.left, 1)} {node.op} {_text(node.right, 1)}"
    if isinstance(node, Neg):
        return _wrap(f"-{_text(node.operand, 3)}", 3, outer)
    assert isinstance(node, BinOp)
    mine = _PRECEDENCE[node.op]
    right_needs = mine + (0 if node.op == "**" else 1)
    left_needs = mine + (1 if node.op == "**" else 0)
    spaced = f" {node.op} " if mine == 1 else node.op
    return _wrap(
        f"{_text(node.left, left_needs)}{spaced}{_text(node.right, right_needs)}", mine, outer
    )


def _wrap(text: str, mine: int, outer: int) -> str:
    return f"({text})" if mine < outer else text


def _setting(value: Param) -> str:
    """dim=0, dim=(0, 1), p=inf, approximate='tanh', keepdim=True."""
    if isinstance(value, tuple):
        return dims_text(value)
    if isinstance(value, float):
        return f"{value:g}"
    return repr(value) if isinstance(value, str) else str(value)
