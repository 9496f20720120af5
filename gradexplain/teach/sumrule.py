"""The sum-rule table: the array y whose elements L adds up (or averages), element by
element from its own SymPy formula, and dL/dy in words (`story.py` tells the rest).

y and its element come from the run's one SymPy model, for every rank (`array`); a
program of vectors of one length shows y as columns of the gradient's table instead.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import sympy as sp

from gradexplain.ir.notation import PLAIN, Notation
from gradexplain.ir.shapes import Shape, describe
from gradexplain.ir.tree import Call, Node, variables
from gradexplain.ops import OPS
from gradexplain.result import Terms
from gradexplain.witnesses.evaluate import Evaluator
from gradexplain.witnesses.symbolic import Model, formula

ONES_NOTE = (
    "The expression's value {y} is {shape}, and {y}.backward() needs a v shaped like {y}: "
    "with v = torch.ones_like({y}) it computes the gradient of L = sum of every element of "
    "{y}."
)


_ARRAY_LETTERS = ("y", "u", "v", "r")  # the first one that is not a variable's name
_PRODUCT_LETTERS = ("z", "h", "g", "q")
INDICES = tuple(  # y's own indices, as the table labels them (i, or i,k)
    sp.Symbol(name, integer=True, nonnegative=True) for name in ("i", "k")
)


def kind(shape: Shape) -> str:
    """ "a 2x3 matrix" or "a vector of 3 elements", for a sentence."""
    if len(shape) == 2:
        return f"a {describe(shape)} matrix"
    return f"a vector of {shape[0]} element{'s' * (shape[0] != 1)}"


@dataclass(frozen=True)
class Array:
    """The array y that L combines at the top, and y's element at its own indices, read
    from the run's one SymPy model."""

    node: Node
    rule: str  # how L combines y: "sum" (a non-scalar result), or the reduction's name
    element: sp.Expr
    own: tuple[sp.Symbol, ...]


def array(tree: Node, node_shapes: dict[int, Shape], model: Model) -> Array | None:
    """y for every rank: the expression itself where it is not a scalar (backward(ones)
    sums it), or the argument of a reduction over every element (sum, mean, prod, max);
    None for anything else (a scalar formula, a chain through a reduction). y's element
    is the one the model built (`Model.elements`)."""
    if node_shapes[id(tree)]:
        node, rule = tree, "sum"
    elif isinstance(tree, Call) and tree in model.reductions:
        node, rule = tree.args[0], tree.func
    else:
        return None
    own, element = model.elements[id(node)]
    return Array(node, rule, element, tuple(own))


def terms(
    tree: Node,
    node_shapes: dict[int, Shape],
    found: Array,
    evaluator: Evaluator,
    wrt: list[str],
    nt: Notation = PLAIN,
) -> Terms | None:
    """y element by element, for the sum-rule table, where L sums or averages y (the
    table's sentence has no product rule yet)."""
    from gradexplain.ir.unparse import source

    if not OPS[found.rule].adds_up:
        return None
    shape = node_shapes[id(found.node)]
    generic = generic_element(found.element, found.own, shape)
    y = letters(tree)[0]
    return Terms(
        y,
        source(found.node),
        formula(generic, nt),
        evaluator.tensor(found.element, found.own, shape),
        found.rule,
        _terms_sentence(y, found.rule, shape, wrt, nt),
    )


def generic_element(
    element: sp.Expr, own: tuple[sp.Symbol, ...], shape: Shape, pin: bool = True
) -> sp.Expr:
    """y's element with its own indices renamed i (and k), as the table labels them
    (`INDICES`); with `pin`, a size-1 axis at element 0, as the label `y_ik` of a 3x1 y
    reads `a_i0`."""
    return element.xreplace(
        {
            index: sp.S.Zero if pin and size == 1 else name
            for index, name, size in zip(own, INDICES, shape)
        }
    )


def letters(tree: Node) -> tuple[str, str]:
    """Names for the array L combines and for a product inside it, that no variable has:
    `sum((X@w - y)**2)` has its own y."""
    taken = set(variables(tree))
    array = _free(_ARRAY_LETTERS, taken)
    return array, _free(_PRODUCT_LETTERS, taken | {array})


def _free(candidates: tuple[str, ...], taken: set[str]) -> str:
    numbered = (f"{candidates[0]}{n}" for n in itertools.count(1))
    return next(name for name in itertools.chain(candidates, numbered) if name not in taken)


def _terms_sentence(y: str, rule: str, shape: Shape, wrt: list[str], nt: Notation = PLAIN) -> str:
    """dL/dy in words: the factor that the chain rule then carries back to each variable."""
    index = ",".join((nt.i, nt.k)[: len(shape)])
    entry = f"{y}_{index.replace(',', '')}"
    count = int(np.prod(shape))
    names = wrt[0] if len(wrt) == 1 else f"{', '.join(wrt[:-1])} and {wrt[-1]}"
    back = f"the chain rule carries it back to {names} below."
    if OPS[rule].average:
        return (
            f"Sum rule with the factor 1/{nt.n}: L = (1/{count}) sum_{index} {entry} "
            f"averages the {nt.n} = {count} elements of {y}, so dL/d{entry} = 1/{count} for "
            f"each {index}; {back}"
        )
    return (
        f"Sum rule: L = sum_{index} {entry} adds the {count} elements of {y}, so "
        f"dL/d{entry} = 1 for each {index}; {back}"
    )
