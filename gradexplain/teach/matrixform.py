"""Matrix form beside the element form: the linear-model shape, a quadratic form, and
softmax cross-entropy over a matrix (the last two are matched on the tree, below).

When a differentiated vector w appears only as `A@w` (A a data matrix, the same product
each time), the chain rule through @ gives the Matrix Cookbook form dL/dw = A.T @ g with
g = dL/dz and z = A@w. We find g honestly: the tree with z in place of `A@w` is a
program of its own, differentiated by SymPy as the table's formulas are, g's element
formula is written as a vector formula where it has no other index, and the form is
shown only when A.T @ g equals the table's SymPy values. Anything else (w used outside
`A@w`, a matrix W, `w@A`) gets no matrix form: the element form stands alone, as before.
"""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING

import numpy as np

from gradexplain.ir.tree import BinOp, Call, Compare, Neg, Node, Var, variables, walk
from gradexplain.ir.unparse import source
from gradexplain.ir.values import from_numbers
from gradexplain.witnesses.closeness import same_numbers

if TYPE_CHECKING:
    from gradexplain.result import Explanation

_FRESH = ("z", "z1", "z2", "u1", "u2")
MAX_ELEMENTS = 100_000  # g is derived once more: only for tables a person reads


def forms(result: Explanation) -> dict[str, str]:
    """One sentence per differentiated vector that has a checked matrix form."""
    program = result.program
    if not program.shaped or sum(v.size for v in program.values.values()) > MAX_ELEMENTS:
        return {}
    found = {}
    values = {name: _array(value) for name, value in program.values.items()}
    for pattern in (_quadratic, _cross_entropy):
        for name, (text, value) in (pattern(program.tree, values) or {}).items():
            if name in result.gradients and same_numbers(value, result.gradients[name].symbolic):
                found[name] = f"Matrix form: dL/d{name} = {text} (this gives the table's values)."
    explained: dict[str, tuple[str, np.ndarray, str] | None] = {}  # per product, once
    for name in program.wrt:
        sentence = None if name in found else _form(result, name, explained)
        if sentence is not None:
            found[name] = sentence
    return found


Forms = dict[str, tuple[str, np.ndarray]]  # name -> (the form, its value at the point)


def _quadratic(tree: Node, values: dict[str, np.ndarray]) -> Forms | None:
    """L = x@A@x (or x@(A@x)): dL/dx = (A + A.T) @ x, dL/dA = outer(x, x)."""
    if not (isinstance(tree, BinOp) and tree.op == "@"):
        return None
    if isinstance(tree.left, BinOp) and tree.left.op == "@":
        first, matrix, last = tree.left.left, tree.left.right, tree.right
    elif isinstance(tree.right, BinOp) and tree.right.op == "@":
        first, matrix, last = tree.left, tree.right.left, tree.right.right
    else:
        return None
    if (
        not (isinstance(first, Var) and isinstance(matrix, Var) and isinstance(last, Var))
        or first.name != last.name
        or values[first.name].ndim != 1
        or values[matrix.name].ndim != 2
    ):
        return None
    x, a, xs, big = values[first.name], values[matrix.name], first.name, matrix.name
    return {
        xs: (f"({big} + {big}.T) @ {xs}", (a + a.T) @ x),
        big: (f"outer({xs}, {xs})", np.outer(x, x)),
    }


def _signed(node: Node) -> tuple[int, Node]:
    sign = 1
    while isinstance(node, Neg):
        sign, node = -sign, node.operand
    return sign, node


def _cross_entropy(tree: Node, values: dict[str, np.ndarray]) -> Forms | None:
    """L = -sum(log_softmax(Z, dim=d) * Y) over matrices: dL/dZ = softmax(Z, dim=d) *
    Y.sum(d, keepdim=True) - Y (softmax(Z) - Y where Y's rows are one-hot)."""
    sign, top = _signed(tree)
    if not (isinstance(top, Call) and top.func == "sum" and len(top.args) == 1):
        return None
    inner_sign, product = _signed(top.args[0])
    if not (isinstance(product, BinOp) and product.op == "*"):
        return None
    (s1, a), (s2, b) = _signed(product.left), _signed(product.right)
    log, data = (a, b) if isinstance(a, Call) else (b, a)
    if (
        sign * inner_sign * s1 * s2 != -1
        or not isinstance(data, Var)
        or not (
            isinstance(log, Call) and log.func == "log_softmax" and isinstance(log.args[0], Var)
        )
    ):
        return None
    dims = dict(log.params).get("dim")
    if not (isinstance(dims, tuple) and len(dims) == 1 and isinstance(dims[0], int)):
        return None
    z_name, y_name, axis = log.args[0].name, data.name, dims[0]
    z, y = values[z_name], values[y_name]
    if z.ndim != 2 or z.shape != y.shape or axis not in (0, 1, -1):
        return None
    shifted = np.exp(z - z.max(axis=axis, keepdims=True))
    softmax = shifted / shifted.sum(axis=axis, keepdims=True)
    totals = y.sum(axis=axis, keepdims=True)
    text = f"softmax({z_name}, dim={axis}) * {y_name}.sum({axis}, keepdim=True) - {y_name}"
    if same_numbers(totals, np.ones_like(totals)):
        along = "column" if axis == 0 else "row"
        text += (
            f", which is softmax({z_name}, dim={axis}) - {y_name} here (each {along} of "
            f"{y_name} sums to 1)"
        )
    return {
        z_name: (text, softmax * totals - y),
        y_name: (f"-log_softmax({z_name}, dim={axis})", -np.log(softmax)),
    }


def _products(tree: Node, name: str) -> list[BinOp] | None:
    """Every `A@v` that uses `name` (as A or as v; both variables), or None when `name`
    is used any other way or the products differ."""
    products = [
        node
        for node in walk(tree)
        if isinstance(node, BinOp)
        and node.op == "@"
        and isinstance(node.left, Var)
        and isinstance(node.right, Var)
        and name in (node.left.name, node.right.name)
    ]
    uses = sum(1 for node in walk(tree) if isinstance(node, Var) and node.name == name)
    if not products or uses != len(products) or len({source(p) for p in products}) != 1:
        return None
    return products


def _form(
    result: Explanation, name: str, explained: dict[str, tuple[str, np.ndarray, str] | None]
) -> str | None:
    program = result.program
    products = _products(program.tree, name)
    if products is None:
        return None
    left, right = products[0].left, products[0].right
    assert isinstance(left, Var) and isinstance(right, Var)
    if (
        left.name == right.name
        or len(program.values[left.name].shape) != 2
        or len(program.values[right.name].shape) != 1
    ):
        return None
    matrix, vector = _array(program.values[left.name]), _array(program.values[right.name])
    key = source(products[0])
    if key not in explained:
        explained[key] = _g(result, products, matrix @ vector)
    found = explained[key]
    if found is None:
        return None
    z, g, formula = found
    if name == right.name:
        value, shown = matrix.T @ g, f"{left.name}.T @ g"
    else:
        value, shown = np.outer(g, vector), f"outer(g, {right.name})"
    if not same_numbers(value, result.gradients[name].symbolic):
        return None
    return (
        f"Matrix form, with {z} = {source(products[0])}: dL/d{name} = {shown}, where "
        f"g = dL/d{z} = {formula} (this gives the table's values)."
    )


def _g(
    result: Explanation, products: list[BinOp], z_values: np.ndarray
) -> tuple[str, np.ndarray, str] | None:
    """(z's name, g = dL/dz at the point, g's formula): the tree with z for the product
    is a program of its own, whose one model gives g's formula and, evaluated, its
    values (the symbolic side only: the form is checked against the table's SymPy
    values); the formula expanded where that is shorter."""
    import sympy as sp

    from gradexplain.errors import GradexplainError
    from gradexplain.ir import limits
    from gradexplain.ir.program import from_tree
    from gradexplain.ir.values import arrays_and_scalars
    from gradexplain.witnesses import symbolic
    from gradexplain.witnesses.deadline import deadline
    from gradexplain.witnesses.evaluate import Evaluator, check_work

    program = result.program
    z = next(fresh for fresh in _FRESH if fresh not in variables(program.tree))
    tree = _substitute(program.tree, {id(p) for p in products}, Var(z, 0))
    values = {n: program.values[n] for n in variables(tree) if n != z}
    values[z] = from_numbers(z, z_values.tolist())
    try:  # the derived tree is checked and shaped, never parsed from text again
        sub = from_tree(tree, source(tree), values, [z])
        with deadline(
            limits.MAX_SYMBOLIC_SECONDS, "the symbolic derivation", "MAX_SYMBOLIC_SECONDS"
        ):
            derivative = symbolic.gradient(sub.model, z)
            evaluator = Evaluator(*arrays_and_scalars(values), sub.model.sizes)
            targets = symbolic.target_indices(sub.model, z)
            check_work(evaluator.largest(derivative, targets, z_values.shape))
            g = evaluator.tensor(derivative, targets, z_values.shape)
    except GradexplainError:
        return None
    nt = dataclasses.replace(program.notation, length=sub.notation.length)
    formula = symbolic.formula(derivative, nt)
    simpler = symbolic.formula(sp.together(sp.expand(derivative)), nt)
    if len(simpler) < 0.8 * len(formula):  # (sigmoid(b + z) - y)/n, not its expansion
        formula = simpler
    vectors = [n for n, v in values.items() if len(v.shape) == 1]
    written = _vector_formula(formula, vectors, nt.j)
    if nt.length is not None and re.search(rf"\b{nt.n}\b", formula):
        written += f", {nt.n} = {len(z_values)}"
    return z, g, written


def _vector_formula(formula: str, vectors: list[str], j: str = "j") -> str:
    """`2*(-y_j + z_j)` as `2*(-y + z)`, elementwise; kept per element (`g_j = ...`)
    when another index is left."""
    written = formula
    for name in sorted(vectors, key=len, reverse=True):
        written = re.sub(rf"\b{re.escape(name)}_{j}\b", name, written)
    if re.search(r"_[a-z]\w*\b|\bsum_|\bprod_", written):
        return f"g_{j} with g_{j} = {formula}"
    return f"{written} (elementwise)"


def _array(values: object) -> np.ndarray:
    data = values.data  # type: ignore[attr-defined]
    return np.frombuffer(data, dtype=np.float64).reshape(values.shape)  # type: ignore[attr-defined]


def _substitute(node: Node, targets: set[int], replacement: Node) -> Node:
    """The tree with each node whose id is in `targets` replaced (depth <= MAX_DEPTH)."""
    if id(node) in targets:
        return replacement
    if isinstance(node, Neg):
        return dataclasses.replace(node, operand=_substitute(node.operand, targets, replacement))
    if isinstance(node, (BinOp, Compare)):
        return dataclasses.replace(
            node,
            left=_substitute(node.left, targets, replacement),
            right=_substitute(node.right, targets, replacement),
        )
    if isinstance(node, Call):
        return dataclasses.replace(
            node, args=tuple(_substitute(arg, targets, replacement) for arg in node.args)
        )
    return node
