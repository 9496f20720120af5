"""Our own expression tree: the single source of truth after parsing.

Small frozen nodes that remember where they came from (`col`, a 0-based offset into the
expression). The SymPy expression, the torch computation and the explanations are all
built by walking this tree; nothing downstream ever sees the user's string.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Num:
    """A numeric literal; `text` keeps the digits the user typed, for exact SymPy numbers."""

    value: float
    text: str
    col: int


@dataclass(frozen=True, slots=True)
class Const:
    """A named mathematical constant: `pi` or `e`."""

    name: str
    col: int


@dataclass(frozen=True, slots=True)
class Var:
    """A variable whose values come from the command line or the API."""

    name: str
    col: int


@dataclass(frozen=True, slots=True)
class Neg:
    """Unary minus."""

    operand: Node
    col: int


@dataclass(frozen=True, slots=True)
class BinOp:
    """One of `+ - * / **`, elementwise with scalar broadcasting."""

    op: str
    left: Node
    right: Node
    col: int


Param = int | float | bool | str | tuple[Any, ...] | None  # tuples: an index, a shape


@dataclass(frozen=True, slots=True)
class Call:
    """A function of the op registry (`gradexplain.ops.OPS`), by its canonical name.

    `args` are the tensor operands (sub-expressions); `params` the call's constant
    settings as the parser read them (`("dim", (0,))`, `("keepdim", True)`, ...), by name.
    """

    func: str
    args: tuple[Node, ...]
    col: int
    params: tuple[tuple[str, Param], ...] = ()

    def param(self, name: str, default: Param = None) -> Param:
        """The setting `name` of this call, or `default` when the call does not give it."""
        return next((value for key, value in self.params if key == name), default)


@dataclass(frozen=True, slots=True)
class Compare:
    """One of `== != < <= > >=`; only as the condition of `where(cond, a, b)`."""

    op: str
    left: Node
    right: Node
    col: int

    def holds(self, left: Any, right: Any) -> Any:
        """The comparison of its two sides' values (floats, arrays or tensors)."""
        return COMPARISONS[self.op](left, right)


COMPARISONS = {  # where()'s comparisons, for floats, numpy arrays and tensors alike
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}

Node = Num | Const | Var | Neg | BinOp | Call | Compare


def children(node: Node) -> tuple[Node, ...]:
    """The direct sub-expressions of `node`, left to right."""
    if isinstance(node, Neg):
        return (node.operand,)
    if isinstance(node, (BinOp, Compare)):
        return (node.left, node.right)
    if isinstance(node, Call):
        return node.args
    return ()


def walk(node: Node) -> Iterator[Node]:
    """Every node, parents before children, without recursion."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(children(current)))


def variables(node: Node) -> list[str]:
    """Variable names in order of first appearance."""
    seen: dict[str, None] = {}
    for sub in walk(node):
        if isinstance(sub, Var):
            seen.setdefault(sub.name, None)
    return list(seen)


def first_column(node: Node, name: str) -> int | None:
    """Where variable `name` first appears, for messages."""
    for sub in walk(node):
        if isinstance(sub, Var) and sub.name == name:
            return sub.col
    return None
