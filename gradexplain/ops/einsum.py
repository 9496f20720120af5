"""torch.einsum for one and two operands: the subscripts name each axis, and the element
is the Sum over the letters missing from the output of the operands' product.

The subscript string is a constant the parser reads with `subscripts()` below (our own
small parser, never Python's): letters, one comma, an optional `->` and the output's
letters, at most MAX_EINSUM_CHARS characters. A letter repeated in one operand is a
diagonal (`ii->` is a trace), a letter missing from the output is summed, and without
`->` the output is the letters that appear once, in alphabetical order, as torch does.
Ellipsis and more than two operands are refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gradexplain.ir import limits
from gradexplain.ir.axes import Shape, ShapeError, describe
from gradexplain.ir.tree import Call
from gradexplain.ops.base import Op
from gradexplain.ops.linalg import Contraction, Letters

_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


class SubscriptError(ValueError):
    """Why a subscript string is not one we read; the parser gives it a column."""


def subscripts(text: str) -> Letters:
    """`'ij,jk->ik'` as (("ij", "jk"), "ik"); raises SubscriptError saying why not."""
    if len(text) > limits.MAX_EINSUM_CHARS:
        raise SubscriptError(
            f"the subscripts are longer than MAX_EINSUM_CHARS = {limits.MAX_EINSUM_CHARS}"
        )
    if "." in text:
        raise SubscriptError(
            "ellipsis (...) in einsum subscripts is not supported; name every axis with a letter"
        )
    spaced = "".join(text.split())
    left, arrow, right = spaced.partition("->")
    if "-" in left or ">" in left or "-" in right or ">" in right:
        raise SubscriptError("'->' may appear once, between the inputs and the output")
    inputs = tuple(left.split(","))
    if len(inputs) > 2:
        raise SubscriptError(f"einsum with {len(inputs)} operands is not supported (one or two)")
    for part in (*inputs, right):
        bad = next((char for char in part if char not in _LETTERS), None)
        if bad is not None:
            raise SubscriptError(f"{bad!r} is not a subscript: use letters a-z, A-Z")
    seen = "".join(inputs)
    if not arrow:
        return inputs, "".join(sorted(c for c in set(seen) if seen.count(c) == 1))
    if len(set(right)) != len(right):
        raise SubscriptError(f"the output {right!r} repeats a letter")
    missing = [char for char in right if char not in seen]
    if missing:
        raise SubscriptError(f"the output letter {missing[0]!r} is not in any input")
    return inputs, right


@dataclass(frozen=True)
class Einsum(Contraction):
    """torch.einsum(subscripts, A[, B]); the subscripts are the call's setting."""

    signature: str = "einsum"  # forms.py reads its subscripts (`FormReader.einsum`)
    spellings: tuple[str, ...] = ("torch",)
    words: str = "einsum: an element is sum_{bound} of products, so the product rule inside the sum"

    def fold(self, *values: float) -> float:
        return values[0] if len(values) == 1 else values[0] * values[1]

    def called(self, names: tuple[str, ...], inputs: tuple[str, ...], output: str) -> str:
        return f"einsum('{','.join(inputs)}->{output}', {', '.join(names)})"

    def letters(self, node: Call, parts: list[Shape], text: str) -> Letters:
        inputs, output = subscripts(spec(node))
        if len(inputs) != len(parts):
            raise ShapeError(
                f"einsum('{spec(node)}') names {len(inputs)} operand"
                f"{'s' * (len(inputs) > 1)}, got {len(parts)}",
                text,
                node.col,
            )
        sizes: dict[str, int] = {}
        for number, (letters, shape) in enumerate(zip(inputs, parts), start=1):
            if len(letters) != len(shape):
                raise ShapeError(
                    f"einsum('{spec(node)}'): operand {number} has shape "
                    f"{describe(shape)} but its subscripts "
                    f"{letters!r} name {len(letters)} "
                    f"ax{'i' if len(letters) == 1 else 'e'}s",
                    text,
                    node.col,
                )
            for letter, size in zip(letters, shape):
                if sizes.setdefault(letter, size) != size:
                    raise ShapeError(
                        f"einsum('{spec(node)}'): letter {letter!r} has sizes "
                        f"{sizes[letter]} and {size}",
                        text,
                        node.col,
                    )
        return inputs, output

    def apply(self, torch: Any, tensors: list[Any], node: Call) -> Any:
        return torch.einsum(spec(node), *tensors)

    def spelled(self, node: Call, args: list[str], settings: list[str]) -> str:
        return f"einsum({', '.join([repr(spec(node)), *args])})"


def spec(node: Call) -> str:
    """The subscripts the parser checked, kept as the call's setting."""
    found = node.param("subscripts")
    assert isinstance(found, str)
    return found


ENTRIES: tuple[Op, ...] = (
    Einsum(
        "einsum",
        "for any subscripts, the product rule inside the sum over the summed letters "
        "(a matrix product, a trace, a diagonal...)",
        title="einsum rule",
        written=(("'ij,j->i'",), ""),
    ),
)
