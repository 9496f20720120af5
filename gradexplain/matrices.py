"""`explain()` for matrices: the two witnesses when a value is 2-D or `@`/`.T` is used.

The 1-D path (`api._compute`) is untouched, so its output stays as it was; this module
runs the torch build, the matrix SymPy model (`tensorsym`) and its array evaluator
(`tensoreval`), and words the chain rule through `@`.
"""

from __future__ import annotations

import warnings

import numpy as np

from gradexplain import limits
from gradexplain.deadline import deadline
from gradexplain.result import Decomposition, Explanation, Tolerance
from gradexplain.shapes import Shape, describe, element
from gradexplain.tree import BinOp, Node, Var, variables, walk
from gradexplain.values import Values

ONES_NOTE = (
    "The expression is a {shape} array y, and y.backward() needs a v shaped like y: with "
    "v = torch.ones_like(y) it computes the gradient of L = sum of every element of y.")


def compute(expression: str, tree: Node, values: dict[str, Values],
            node_shapes: dict[int, Shape], device: str, dtype: str, tolerance: Tolerance,
            wrt: list[str]) -> Explanation:
    """Both witnesses for a tree with matrices, compared per element."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from gradexplain import autograd, story, tensorsym
        from gradexplain.api import _gradient
        from gradexplain.tensoreval import TensorEvaluator

        torch_device = autograd.resolve_device(device, dtype)
        shapes = {name: v.shape for name, v in values.items()}
        arrays = {name: np.frombuffer(v.data, dtype=np.float64).reshape(v.shape)
                  for name, v in values.items() if v.shape}
        scalars = {name: v.data[0] for name, v in values.items() if not v.shape}
        run = autograd.run(tree, values, torch_device, dtype, set(wrt))
        with deadline(limits.MAX_SYMBOLIC_SECONDS, "the symbolic derivation",
                      "MAX_SYMBOLIC_SECONDS"):
            model = tensorsym.build(tree, shapes, node_shapes)
            evaluator = TensorEvaluator(arrays, scalars, model.sizes)
            gradients = {}
            for name in wrt:
                derivative, targets = tensorsym.gradient(model, name)
                symbolic_values = evaluator.tensor(derivative, targets, shapes[name])
                text = tensorsym.formula(derivative)
                gradients[name] = _gradient(
                    values[name], text, symbolic_values, run.gradients[name], tolerance,
                    sentence(tree, node_shapes, name, shapes[name], text))
            value_symbolic = float(evaluator.tensor(model.loss, (), ()))
            summary = f"L = {tensorsym.formula(model.loss)}"
        top = node_shapes[id(tree)]
        notes = (ONES_NOTE.format(shape=describe(top)),) if top else ()
        decomposition = Decomposition("sum" if top else "derivative", summary, bool(top),
                                      None, None, notes)
        return Explanation(
            expression=expression, device=str(torch_device), dtype=dtype, n=None,
            scalars=scalars, value=run.value, value_symbolic=value_symbolic,
            gradients=gradients, tolerance=tolerance, decomposition=decomposition,
            singularities=tuple(story.singularity(h.node, h.kind, h.mask)
                                for h in run.hazards),
            data={name: arrays[name] if name in arrays else np.asarray(scalars[name])
                  for name in variables(tree) if name not in wrt},
            shapes=shapes)


def sentence(tree: Node, node_shapes: dict[int, Shape], name: str, shape: Shape,
             text: str) -> str:
    """The chain rule through the `@` that uses `name` directly, or the general rule."""
    lead = f"dL/d{element(name, shape)} = {text}"
    from gradexplain.unparse import source

    for node in walk(tree):
        if not (isinstance(node, BinOp) and node.op == "@"):
            continue
        left, right = (_operand_name(node.left), _operand_name(node.right))
        mine, theirs = (node.left, node.right) if left == name else (node.right, node.left)
        other = source(theirs)
        outer = f" (an outer product: {other} is a vector)" \
            if len(node_shapes[id(mine)]) == 2 and len(node_shapes[id(theirs)]) == 1 else ""
        if left == name:
            return (f"Chain rule through @: with y = {source(node)}, dL/d{name} = dL/dy @ "
                    f"{_transposed(other)}{outer}, so {lead}.")
        if right == name:
            return (f"Chain rule through @: with y = {source(node)}, dL/d{name} = "
                    f"{_transposed(other)} @ dL/dy{outer}, so {lead}.")
    return f"Chain rule, element by element: {lead}."


def _operand_name(node: Node) -> str | None:
    """`W` when the operand is the variable itself (not `W.T`, nor an expression)."""
    return node.name if isinstance(node, Var) else None


def _transposed(text: str) -> str:
    return text[:-2] if text.endswith(".T") else (f"{text}.T" if text.isidentifier()
                                                    else f"({text}).T")
