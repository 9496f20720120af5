"""The program of one run: the parsed tree, every node's shape, the values and the
differentiated variables, built once and carried by the result.

`build()` parses the expression once and checks everything a user can get wrong about
it and its values, before SymPy or torch is imported, so input errors are fast. The
witnesses, `--expect`, the extras and the Hessian all read the `Program`; nothing after
`build()` sees the user's string again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from gradexplain.errors import UsageError, ValuesError, not_a_variable
from gradexplain.ir import limits
from gradexplain.ir.parser import parse
from gradexplain.ir.shapes import Shape, infer, uses_matrices
from gradexplain.ir.tree import (
    BinOp,
    Call,
    Compare,
    Neg,
    Node,
    Var,
    first_column,
    variables,
    walk,
)
from gradexplain.ir.values import Values
from gradexplain.ops import NAMES, OPS

if TYPE_CHECKING:
    from gradexplain.ir.notation import Notation
    from gradexplain.witnesses.symbolic import Model


@dataclass(frozen=True)
class Program:
    """What one run computes with. `node_shapes` is keyed by `id(node)` of `tree`'s nodes;
    what is derived from them (the SymPy model, the notation) is computed once, on first use."""

    text: str
    tree: Node
    values: Mapping[str, Values]
    wrt: tuple[str, ...]  # the differentiated variables, in the expression's order
    node_shapes: Mapping[int, Shape]

    @cached_property
    def model(self) -> Model:
        """The SymPy model of the tree (L in generic elements), built on first use and
        kept: the gradient, the story, the Hessian, --v and --jacobian all read this one.
        Only the symbolic witness reads it; autograd walks the tree itself."""
        from gradexplain.witnesses import symbolic

        return symbolic.build(self.tree, self.shapes, self.node_shapes, pin=self.shaped)

    @cached_property
    def shapes(self) -> dict[str, Shape]:
        return {name: value.shape for name, value in self.values.items()}

    @cached_property
    def shaped(self) -> bool:
        """True when the output lays out each value by its shape (a matrix, @, .T, dim=,
        a stretched vector); else it reads in one length n. Display only: every rank
        is computed alike."""
        return uses_matrices(self.tree, self.shapes)

    @cached_property
    def notation(self) -> Notation:
        """The index and size letters this program writes, clear of its variable names;
        a program of vectors of one length shows it as n (notation.py loads here, not on
        the way to an input error)."""
        from gradexplain.ir.notation import choose

        return choose(variables(self.tree), None if self.shaped else self.length)

    @property
    def length(self) -> int | None:
        """The length of the first vector, None when every value is a scalar."""
        return next((v.size for v in self.values.values() if not v.is_scalar), None)


def build(
    expression: str, values: Mapping[str, Values], wrt: Sequence[str] | str | None = None
) -> Program:
    """Parse once, match the values, infer the shapes, choose the variables (`--wrt`)."""
    tree = parse(expression)
    tree, values = _bind_counts(tree, values)
    node_shapes = _matched(tree, expression, values)
    _check_values(tree, expression, values, node_shapes)
    values = _counted_from_0(tree, expression, values, node_shapes)
    return Program(
        expression, tree, dict(values), tuple(differentiated(tree, wrt, node_shapes)), node_shapes
    )


def from_tree(tree: Node, text: str, values: Mapping[str, Values], wrt: Sequence[str]) -> Program:
    """A program for a tree built from another program's (matrixform's z for `A@w`):
    checked and shaped like `build()`, without parsing anything again."""
    node_shapes = _matched(tree, text, values)
    return Program(
        text, tree, dict(values), tuple(differentiated(tree, wrt, node_shapes)), node_shapes
    )


def differentiated(
    tree: Node, wrt: Sequence[str] | str | None, node_shapes: Mapping[int, Shape] | None = None
) -> list[str]:
    """The variables that get gradients (`--wrt`), in the expression's order; the rest are data."""
    data = data_variables(tree, node_shapes)
    names = [name for name in variables(tree) if name not in data]
    if not names:
        raise ValuesError(
            f"the expression has no variable to differentiate: "
            f"{', '.join(data)} index tensors, so they are integer data"
        )
    if wrt is None:
        _check_conditions(tree, names)
        return names
    wanted = [w.strip() for w in wrt.split(",")] if isinstance(wrt, str) else list(wrt)
    if not wanted or any(not w for w in wanted):
        raise UsageError("--wrt needs variable names separated by commas, as in --wrt w,b")
    for name in wanted:
        if name in data:
            raise ValuesError(
                f"--wrt {name}: {name} indexes a tensor (column "
                f"{data[name] + 1}), so it is integer data and cannot be "
                f"differentiated"
            )
        if name not in names:
            raise ValuesError(not_a_variable(f"--wrt {name}:", name, names))
    if len(set(wanted)) != len(wanted):
        raise UsageError(f"--wrt names a variable twice: {','.join(wanted)}")
    chosen = [name for name in names if name in wanted]
    _check_conditions(tree, chosen)
    return chosen


def _bind_counts(tree: Node, values: Mapping[str, Values]) -> tuple[Node, Mapping[str, Values]]:
    """`range(n)` with `--n 3`: the count becomes the number 3 (the shape needs it before
    anything runs), so n is data; a value used nowhere else leaves the values."""
    counts = {
        var.name
        for node in walk(tree)
        if isinstance(node, Call) and _counts(node.func)
        for var in [OPS[node.func].count(node)]
        if var is not None
    }
    if not counts:
        return tree, values
    bound: dict[str, int] = {}
    for name in counts:
        value = values.get(name)
        if value is None:
            continue  # reported by _matched: no values for n
        number = value.data[0] if value.is_scalar else None
        if number is None or number != int(number) or not 1 <= number <= limits.MAX_VECTOR_LENGTH:
            raise ValuesError(
                f"--{name} counts range({name}): it must be one positive integer, as in --{name} 3"
            )
        bound[name] = int(number)

    def rebuilt(node: Node) -> Node:
        var = OPS[node.func].count(node) if isinstance(node, Call) and _counts(node.func) else None
        if isinstance(node, Call) and var is not None and var.name in bound:
            return OPS[node.func].counted(node, bound[var.name])
        if isinstance(node, Call):
            return dataclasses.replace(node, args=tuple(rebuilt(arg) for arg in node.args))
        if isinstance(node, (BinOp, Compare)):
            return dataclasses.replace(node, left=rebuilt(node.left), right=rebuilt(node.right))
        if isinstance(node, Neg):
            return dataclasses.replace(node, operand=rebuilt(node.operand))
        return node

    tree = rebuilt(tree)
    left = set(variables(tree))
    return tree, {
        name: value for name, value in values.items() if name not in bound or name in left
    }


def _counts(func: str) -> bool:
    """True for a function whose entry has a count of its own (range's): only those load
    their family before the values are matched."""
    return "count" in NAMES[func].rules


def data_variables(tree: Node, node_shapes: Mapping[int, Shape] | None = None) -> dict[str, int]:
    """Variables read as integer data (index arrays), each with its first column: they
    get no gradient, as an integer index tensor in torch."""
    found: dict[str, int] = {}
    shape_of = None if node_shapes is None else (lambda node: node_shapes[id(node)])
    for node in walk(tree):
        if isinstance(node, Call):
            for var in OPS[node.func].data(node, shape_of):
                found.setdefault(var.name, var.col)
    return found


def _check_values(
    tree: Node, expression: str, values: Mapping[str, Values], node_shapes: Mapping[int, Shape]
) -> None:
    """Each op's own check of the values it reads (an index array in range)."""
    arrays = {name: value.data for name, value in values.items()}
    for node in walk(tree):
        if isinstance(node, Call):
            OPS[node.func].check_values(node, node_shapes, arrays, expression)


def _counted_from_0(
    tree: Node, expression: str, values: Mapping[str, Values], node_shapes: Mapping[int, Shape]
) -> Mapping[str, Values]:
    """An index array's negative values count from the end of the axis it indexes (-1 is
    the last), as in torch: they become 0-based here, once, for every reader of the values.
    A variable that also indexes an axis of another size, or is used as a number, has no
    single meaning for -1 and is refused."""
    sizes: dict[str, set[int]] = {}
    for node in walk(tree):
        if isinstance(node, Call):
            for var, size in OPS[node.func].wraps(node, node_shapes):
                sizes.setdefault(var.name, set()).add(size)
    changed = dict(values)
    for name, found in sizes.items():
        value = values.get(name)
        if value is None or all(number >= 0 for number in value.data):
            continue
        if len(found) > 1 or _uses(tree, name) > _uses_as_index(tree, name, node_shapes):
            also = (
                f"indexes axes of sizes {' and '.join(map(str, sorted(found)))}"
                if len(found) > 1
                else "is used as a number too"
            )
            raise ValuesError(
                f"--{name} holds negative indices, which count from the end of the axis "
                f"they index (-1 is the last, as in torch); {name} {also}, where -1 has "
                f"no single meaning: give its indices counted from 0"
            )
        (size,) = found
        changed[name] = dataclasses.replace(
            value, data=type(value.data)("d", (number % size for number in value.data))
        )
    return changed


def _uses(tree: Node, name: str) -> int:
    """How often `name` is read for its values (range(len(t)) reads t's length only)."""
    lengths = sum(_size_read(node) == name for node in walk(tree))
    return sum(isinstance(node, Var) and node.name == name for node in walk(tree)) - lengths


def _size_read(node: Node) -> str | None:
    """The variable a call reads as a size only (its entry's `reads_as_size`), if any."""
    var = OPS[node.func].reads_as_size(node) if isinstance(node, Call) else None
    return None if var is None else var.name


def _uses_as_index(tree: Node, name: str, node_shapes: Mapping[int, Shape]) -> int:
    return sum(
        var.name == name
        for node in walk(tree)
        if isinstance(node, Call)
        for var, _ in OPS[node.func].wraps(node, node_shapes)
    )


def _check_conditions(tree: Node, chosen: list[str]) -> None:
    """A variable read only in where()'s comparisons is on no gradient path (PyTorch
    leaves its .grad None), so it is data; read elsewhere too, it is differentiated, and
    the comparison only picks the branch (where's entry: a kink on its boundary)."""
    compares = [node for node in walk(tree) if isinstance(node, Compare)]
    compared = {id(sub) for node in compares for sub in walk(node)}
    elsewhere = {sub.name for sub in walk(tree) if isinstance(sub, Var) and id(sub) not in compared}
    for node in compares:
        for sub in walk(node):
            if isinstance(sub, Var) and sub.name in chosen and sub.name not in elsewhere:
                others = [name for name in chosen if name in elsewhere]
                hint = f"; differentiate the others with --wrt {','.join(others)}" if others else ""
                raise ValuesError(
                    f"{sub.name} is only compared (in where() at column "
                    f"{node.col + 1}), so it is data and cannot be "
                    f"differentiated{hint}"
                )


def _matched(tree: Node, expression: str, values: Mapping[str, Values]) -> dict[int, Shape]:
    """Match values to variables and infer every node's shape; every error here is the
    user's, and cheap."""
    names = variables(tree)
    if not names:
        raise ValuesError("the expression has no variable to differentiate")
    if len(names) > limits.MAX_VARIABLES:
        raise ValuesError(f"{len(names)} variables exceed MAX_VARIABLES = {limits.MAX_VARIABLES}")
    for name in values:
        if name not in names:
            raise ValuesError(not_a_variable(f"--{name} is", name, names, prefix="--"))
    for name in names:
        if name not in values:
            raise ValuesError(
                f"no values for variable {name!r} (column "
                f"{(first_column(tree, name) or 0) + 1}); give --{name} 1,2,3 "
                f"or --var {name}=1,2,3"
            )
    shapes = {name: v.shape for name, v in values.items()}
    if uses_matrices(tree, shapes):
        return infer(tree, shapes, expression)  # shape errors are input errors, with a column
    lengths = {v.size for v in values.values() if not v.is_scalar}
    if len(lengths) > 1:
        described = ", ".join(f"{v.name} has {v.size}" for v in values.values() if not v.is_scalar)
        raise ValuesError(f"vectors must have the same length: {described}")
    return infer(tree, shapes, expression)  # softmax(x, dim=d) of a vector: d is 0 or -1
