"""The graph of the learner's own spelling: Python's built-in `sum` over a vector.

In a notebook, `def f(q): return sum(q**2)` calls Python's `sum`, not `torch.sum`. It
iterates the tensor (torch's `Tensor.__iter__` unbinds it into elements) and adds the
elements one at a time, starting from 0, so PyTorch records one `AddBackward0` per element
and prints `tensor(125., grad_fn=<AddBackward0>)`. gradexplain reads `sum(...)` as
`torch.sum`, one `SumBackward0`; this module builds the other graph, with the same hooks
and walk as `graph.py`, so `--graph` can show both and say they give the same gradient.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from gradexplain.ir.program import Program
from gradexplain.ir.tree import Call, variables
from gradexplain.ir.unparse import source
from gradexplain.ir.values import Values
from gradexplain.teach import graph
from gradexplain.witnesses import autograd

MAX_ELEMENTS = 8  # one AddBackward0 per element: longer vectors are described, not drawn
GRAD_FN = (
    "grad_fn is the backward function of the last operation that made the tensor "
    "(here an addition, so AddBackward0); backward() starts there and follows "
    "next_functions down to {leaves}."
)


@dataclass(frozen=True)
class BuiltinSum:
    """What Python's built-in sum builds: the graph, the printed line and x.grad."""

    graph: graph.Graph | None  # None when the vector is longer than MAX_ELEMENTS
    printed: str  # repr() of the result in torch's default dtype, as a notebook prints it
    gradients: dict[str, np.ndarray]
    size: int


def applies(program: Program) -> bool:
    """True when the expression is `sum(u)` spelled as the bare `sum`, with u a vector:
    the spelling that in a notebook calls Python's built-in sum."""
    tree = program.tree
    if not (
        isinstance(tree, Call) and tree.func == "sum" and len(tree.args) == 1 and not tree.params
    ):  # sum(x, dim=0) is torch's, not Python's
        return False
    shape = program.node_shapes.get(id(tree.args[0]))
    return (
        shape is not None
        and len(shape) == 1
        and program.text[tree.col :].lstrip().startswith("sum(")
    )


def build(program: Program, dtype: str, wrt: Collection[str]) -> BuiltinSum:
    """Run the built-in sum forward and backward in `dtype` with hooks on every node."""
    tree = program.tree
    assert isinstance(tree, Call)
    values = dict(program.values)
    total, builder, partial = _python_sum(tree, values, autograd.DTYPES[dtype], wrt)
    printed = repr(_python_sum(tree, values, torch.get_default_dtype(), wrt)[0])
    order = graph.backward_order(total.grad_fn)
    grads: dict[int, Any] = {}
    for fn in order:
        fn.register_prehook(_catch_all(grads, id(fn)))
    total.backward(torch.ones_like(total))  # a scalar: the same as backward()
    gradients = {
        name: autograd.to_numpy(leaf.grad)
        for name, leaf in builder.leaves.items()
        if leaf.grad is not None
    }
    size = len(partial)
    if size > MAX_ELEMENTS:
        return BuiltinSum(None, printed, gradients, size)
    term = _bracketed(tree.args[0])
    labels = {id(t.grad_fn): (_partial_label(term, k), t) for k, t in enumerate(partial)}
    nodes, ids = [], {id(fn): index for index, fn in enumerate(order)}
    for index, fn in enumerate(order):
        name = type(fn).__name__
        if id(fn) in labels:  # a partial sum, labelled by the elements it has added
            label, tensor = labels[id(fn)]
        elif name == "UnbindBackward0":
            label, tensor = f"iterating {term}", builder.built_tensor(tree.args[0])
        else:
            nodes.append(graph.graph_node(index, fn, builder.made, grads))
            continue
        nodes.append(
            graph.GraphNode(index, name, label, autograd.to_numpy(tensor), _grad(grads, fn))
        )
    edges = [
        graph.GraphEdge(ids[id(fn)], ids[id(child)], _rule(fn, builder))
        for fn in order
        for child, _ in fn.next_functions
        if child is not None
    ]
    return BuiltinSum(graph.Graph(tuple(nodes), tuple(edges)), printed, gradients, size)


def _python_sum(
    tree: Call, values: dict[str, Values], dtype: torch.dtype, wrt: Collection[str]
) -> tuple[torch.Tensor, _Builder, list[torch.Tensor]]:
    """`builtins.sum(u)`, written out so each partial sum can be labelled: sum() starts
    from 0 and adds the items left to right (tests check the graph is builtins.sum's)."""
    leaves = {
        name: autograd.leaf(values[name], dtype, torch.device("cpu"), name in wrt)
        for name in variables(tree)
    }
    builder = _Builder(leaves, dtype, torch.device("cpu"))
    vector = builder.build(tree.args[0])
    assert isinstance(vector, torch.Tensor)
    total: Any = 0
    partial = []
    for element in vector:  # Tensor.__iter__: unbind(0), one UnbindBackward0
        total = total + element
        partial.append(total)
    return total, builder, partial


def _bracketed(node: Any) -> str:
    """`x` or `(x**2)`: what `[i]` can follow without changing the meaning."""
    text = source(node)
    return text if text.isidentifier() else f"({text})"


def _partial_label(term: str, k: int) -> str:
    shown = (
        " + ".join(f"{term}[{i}]" for i in range(k + 1))
        if k < 2
        else f"{term}[0] + ... + {term}[{k}]"
    )
    return f"0 + {shown}"


def _rule(fn: Any, builder: _Builder) -> str:
    name = type(fn).__name__
    if name == "AddBackward0" and id(fn) not in builder.made:
        return "sum rule (both sides get it)"
    if name == "UnbindBackward0":
        return "unbind (stacked back)"
    return graph.edge_rule(builder.made.get(id(fn)))


def _catch_all(grads: dict[int, Any], key: int) -> Any:
    """Every output's gradient; UnbindBackward0 has one output per element. Kept as
    graph.catch_gradient keeps it, (output, values), with output 0: all of them."""

    def hook(grad_outputs: tuple[torch.Tensor | None, ...]) -> None:
        present = [g for g in grad_outputs if g is not None]
        if len(present) == 1:
            grads[key] = (0, autograd.to_numpy(present[0]))
        elif present:
            grads[key] = (0, np.stack([autograd.to_numpy(g) for g in present]))

    return hook


def _grad(grads: dict[int, Any], fn: Any) -> Any:
    return grads.get(id(fn), (0, None))[1]


class _Builder(graph.RecordingBuilder):
    def built_tensor(self, node: Any) -> torch.Tensor:
        made = self.built[id(node)]
        assert isinstance(made, torch.Tensor)
        return made
