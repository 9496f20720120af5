"""The autograd graph torch really built, read from `grad_fn` and `next_functions`.

We rebuild the computation from our tree once more (float64 or the run's dtype), remember
which tree node made each tensor, hook every `grad_fn` to catch the gradient flowing into
it on the backward pass, then walk `next_functions` from the output. The result is plain
data (`Graph`) that the terminal tree, DOT and Mermaid renderers share.

With `--wrt`, the other variables are data: their leaves do not require grad, so torch's
graph has no node for them. We add one `data` node per data operand (`xb`, `targets == 1`)
under the operation that used it, with no gradient, so the picture still shows every input.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from gradexplain.ir.tree import BinOp, Call, Compare, Neg, Node, Num, Var, children, variables
from gradexplain.ir.unparse import source
from gradexplain.ir.values import Values
from gradexplain.ops import OPS
from gradexplain.ops.base import Op
from gradexplain.witnesses import autograd
from gradexplain.witnesses.symbolic import formula

SMALL = 6  # values are shown in full up to this many elements, else only the shape
DATA = "data"  # GraphNode.name of a data operand (not differentiated): no torch node, no grad
DATA_RULE = "data (not in --wrt)"  # the edge to a data node: no gradient flows on it


@dataclass(frozen=True)
class GraphNode:
    """One backward node: torch's class name, what it computed, and the two flows."""

    id: int
    name: str  # e.g. "PowBackward0", "AccumulateGrad", or DATA for a data operand
    label: str  # the sub-expression (or variable) whose tensor this node belongs to
    value: np.ndarray | None  # forward value of that tensor
    grad: np.ndarray | None  # gradient flowing into this node on the backward pass
    # which output of a multi-output node `grad` reached (slogdet's 1, logabsdet); 0 for
    # one output
    output: int = 0


@dataclass(frozen=True)
class GraphEdge:
    """Backward flow from `parent` to `child`, with the rule the parent applies."""

    parent: int
    child: int
    rule: str


@dataclass(frozen=True)
class Graph:
    nodes: tuple[GraphNode, ...]  # nodes[0] is the output's grad_fn
    edges: tuple[GraphEdge, ...]
    shaped: bool = False  # a matrix expression: every label says its tensor's shape


def build(
    tree: Node,
    values: dict[str, Values],
    dtype: str = "float64",
    shaped: bool = False,
    wrt: Collection[str] | None = None,
) -> Graph:
    """Run forward and backward (ones for a non-scalar result) with hooks, then read the
    graph. torch's graph is the same for any shape; `shaped` only changes the labels.
    Only the variables in `wrt` (default: all) require grad; the others are data."""
    torch_dtype = autograd.DTYPES[dtype]
    leaves = {
        name: autograd.leaf(
            values[name], torch_dtype, torch.device("cpu"), wrt is None or name in wrt
        )
        for name in variables(tree)
    }
    builder = RecordingBuilder(leaves, torch_dtype, torch.device("cpu"))
    output = builder.build(tree)
    assert isinstance(output, torch.Tensor) and output.grad_fn is not None
    order = backward_order(output.grad_fn)
    grads: dict[int, Any] = {}
    for fn in order:
        fn.register_prehook(catch_gradient(grads, id(fn)))
    output.backward(torch.ones_like(output))
    ids = {id(fn): index for index, fn in enumerate(order)}
    nodes = [graph_node(index, fn, builder.made, grads) for index, fn in enumerate(order)]
    edges = [
        GraphEdge(ids[id(fn)], ids[id(child)], edge_rule(builder.made.get(id(fn))))
        for fn in order
        for child, _ in fn.next_functions
        if child is not None
    ]
    _add_data(nodes, edges, order, builder, set(variables(tree)) if wrt is None else wrt)
    return Graph(tuple(nodes), tuple(edges), shaped)


def _add_data(
    nodes: list[GraphNode],
    edges: list[GraphEdge],
    order: list[Any],
    builder: RecordingBuilder,
    wrt: Collection[str],
) -> None:
    """A DATA node for each operand that uses only data, once per distinct text."""
    seen: dict[str, int] = {}
    for parent, fn in enumerate(order):
        made = builder.made.get(id(fn))
        for operand in children(made[0]) if made is not None else ():
            names = variables(operand)
            if not names or any(name in wrt for name in names):
                continue
            label = source(operand)
            if label not in seen:
                seen[label] = len(nodes)
                nodes.append(
                    GraphNode(len(nodes), DATA, label, _data_value(builder, operand), None)
                )
            edges.append(GraphEdge(parent, seen[label], DATA_RULE))


def _data_value(builder: RecordingBuilder, operand: Node) -> np.ndarray | None:
    """The operand's forward value (where()'s condition too: a tensor of bools)."""
    if isinstance(operand, Compare):  # where() compares its two sides itself
        sides = (
            builder.as_tensor(builder.built[id(side)]) for side in (operand.left, operand.right)
        )
        return autograd.to_numpy(operand.holds(*sides))
    built = builder.built.get(id(operand))
    return autograd.to_numpy(built) if isinstance(built, torch.Tensor) else None


def catch_gradient(grads: dict[int, Any], key: int) -> Any:
    """The gradient flowing into a node: its output's, or for a node of several outputs
    the first one that got a gradient (slogdet's logabsdet: the sign gets none), kept
    as (output, values)."""

    def hook(grad_outputs: tuple[torch.Tensor | None, ...]) -> None:
        found = [(k, g) for k, g in enumerate(grad_outputs) if g is not None]
        if found:
            grads[key] = (found[0][0], autograd.to_numpy(found[0][1]))

    return hook


def backward_order(root: Any) -> list[Any]:
    """Every grad_fn reachable from `root`, parents first, each once."""
    order: list[Any] = []
    seen: set[int] = set()
    stack = [root]
    while stack:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        order.append(fn)
        stack.extend(child for child, _ in reversed(fn.next_functions) if child is not None)
    return order


def graph_node(
    index: int, fn: Any, made: dict[int, tuple[Node, torch.Tensor]], grads: dict[int, Any]
) -> GraphNode:
    name = type(fn).__name__
    if name == "AccumulateGrad":
        leaf = fn.variable
        label = getattr(leaf, "_gradexplain_name", "leaf")
        caught = grads.get(
            id(fn), (0, autograd.to_numpy(leaf.grad) if leaf.grad is not None else None)
        )
        return GraphNode(index, name, label, autograd.to_numpy(leaf), caught[1])
    node, tensor = made.get(id(fn), (None, None))
    label = source(node) if node is not None else "?"
    value = autograd.to_numpy(tensor) if tensor is not None else None
    output, grad = grads.get(id(fn), (0, None))
    return GraphNode(index, name, label, value, grad, output)


_BINOP_RULES = {
    "+": "sum rule",
    "-": "difference rule",
    "*": "product rule",
    "/": "quotient rule",
    "**": "power rule",
    "@": "matrix product rule: dA = dY @ B.T, dB = A.T @ dY",
}


def edge_rule(made: tuple[Node, torch.Tensor] | None) -> str:
    """The rule a backward node applies, in the words of a calculus course."""
    if made is None:
        return ""
    node = made[0]
    if isinstance(node, Neg):
        return "constant multiple (-1)"
    if isinstance(node, BinOp):
        constant = [not variables(side) for side in (node.left, node.right)]
        if node.op in ("*", "/") and any(constant):
            return "constant multiple"
        if node.op == "**" and constant[0]:
            return "exponential rule: d a**u = a**u log(a) du"
        return _BINOP_RULES[node.op]  # "@" included
    if isinstance(node, Call):
        op = OPS[node.func]
        form = op.rule_form(node)
        if form is None or type(op).graph_rule is not Op.graph_rule:  # its own short words
            return op.graph_rule(node)
        return f"chain rule, {form.printed(formula)}"
    return ""


class RecordingBuilder(autograd.TorchBuilder):
    """The autograd builder, remembering which tree node made each grad_fn."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.made: dict[int, tuple[Node, torch.Tensor]] = {}
        self.built: dict[int, autograd.Operand] = {}  # every node's result, for data nodes
        for name, leaf in self.leaves.items():
            leaf._gradexplain_name = name  # type: ignore[attr-defined]

    def build(self, node: Node) -> autograd.Operand:
        result = super().build(node)
        self.built.setdefault(id(node), result)
        if (
            isinstance(result, torch.Tensor)
            and result.grad_fn is not None
            and not isinstance(node, (Var, Num))
        ):
            self.made.setdefault(id(result.grad_fn), (node, result))
        return result


# ---- renderers -------------------------------------------------------------------------

ROUNDOFF = 64 * 2.0**-52  # |v| below this (times the array's scale, at least 1): round-off


def _formatter(values: np.ndarray) -> tuple[Callable[[float], str], str]:
    """fmt, except that round-off next to the array's scale reads `~0`; and the note
    that says so, with the largest such value ("" when there is none)."""
    from gradexplain.output.formatting import fmt

    finite = np.abs(values[np.isfinite(values)])
    limit = ROUNDOFF * max(1.0, float(finite.max()) if finite.size else 1.0)
    tiny = finite[(finite > 0) & (finite < limit)]
    note = f" (~0: round-off, |v| <= {float(tiny.max()):.3g})" if tiny.size else ""

    def text(v: float) -> str:
        return "~0" if 0 < abs(float(v)) < limit else fmt(float(v))

    return text, note


def describe(values: np.ndarray | None, shaped: bool = False) -> str:
    """Values when small, else the shape; round-off shows as `~0` and says so. `shaped`
    (matrix expressions): the shape, then the values nested by rows when small."""
    if values is None:
        return "-"
    if values.size > SMALL:
        return str(tuple(values.shape)) if shaped else f"shape {tuple(values.shape)}"
    text, note = _formatter(values)
    if values.ndim == 0:
        return text(float(values)) + note
    if shaped:
        return f"{tuple(values.shape)} {_nested(values, text)}{note}"
    return "[" + ", ".join(text(v) for v in values.reshape(-1)) + "]" + note


def _nested(values: np.ndarray, fmt: Any) -> str:
    inner = (fmt(float(v)) if values.ndim == 1 else _nested(v, fmt) for v in values)
    return "[" + ", ".join(inner) + "]"


def texts(graph: Graph, node: GraphNode) -> tuple[str, str]:
    """`(label, grad in)`: `x**2 = [9, 16]` and `[6, 8]`, or `X@w (3,) [..]` for matrices."""
    if not graph.shaped:
        return f"{node.label} = {describe(node.value)}", describe(node.grad)
    value = describe(node.value, shaped=True)
    joiner = " = " if node.value is None or node.value.ndim == 0 else " "
    return f"{node.label}{joiner}{value}", describe(node.grad, shaped=True)


def flow(node: GraphNode, grad: str) -> str:
    """`grad in: [6, 8]`, or, for a data operand, that no gradient flows to it; a node of
    several outputs says which one the gradient reached: slogdet(X)[1] gets `grad in: 1
    (to output 1; output 0 gets none)`."""
    if node.name == DATA:
        return "no gradient (data)"
    if not node.output:
        return f"grad in: {grad}"
    before = "output 0 gets" if node.output == 1 else f"outputs 0-{node.output - 1} get"
    return f"grad in: {grad} (to output {node.output}; {before} none)"


def node_text(node: GraphNode, graph: Graph | None = None) -> str:
    label, grad = texts(graph or Graph((), ()), node)
    return f"{node.name}  {label}  {flow(node, grad)}"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def dot(graph: Graph) -> str:
    """Graphviz DOT text: the backward graph, edges labelled with their rule."""
    lines = ["digraph autograd {", "  rankdir=BT;", "  node [shape=box];"]
    for node in graph.nodes:
        text, grad = texts(graph, node)
        label = f"{node.name}\\n{_escape(text)}\\n{_escape(flow(node, grad))}"
        lines.append(f'  n{node.id} [label="{label}"];')
    for edge in graph.edges:
        lines.append(f'  n{edge.child} -> n{edge.parent} [label="{_escape(edge.rule)}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;")


def mermaid(graph: Graph) -> str:
    """A Mermaid flowchart (paste into Markdown), the same nodes, edges and labels."""
    lines = ["flowchart BT"]
    for node in graph.nodes:
        text, grad = texts(graph, node)
        label = _mermaid_text(f"{node.name}<br/>{text}<br/>{flow(node, grad)}")
        lines.append(f'  n{node.id}["{label}"]')
    for edge in graph.edges:
        lines.append(f'  n{edge.child} -- "{_mermaid_text(edge.rule)}" --> n{edge.parent}')
    return "\n".join(lines) + "\n"
