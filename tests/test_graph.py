"""--graph, --dot, --mermaid: the graph is torch's own, and the pictures say the same."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from gradexplain.cli import app
from gradexplain.ir.parser import parse
from gradexplain.ir.values import from_numbers
from gradexplain.teach import graph

ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}
X = [3.0, 4.0, 10.0]
W = [1.0, -2.0, 0.5]

# (expression, values, the same computation written by hand in torch)
CASES = [
    ("sum(x**2)", {"x": X}, lambda t: (t["x"] ** 2).sum()),
    ("x**2", {"x": X}, lambda t: t["x"] ** 2),
    (
        "mean(sigmoid(w*x+b))",
        {"w": W, "x": X, "b": 0.5},
        lambda t: torch.sigmoid(t["w"] * t["x"] + t["b"]).mean(),
    ),
    ("log(sum(exp(x)))", {"x": X}, lambda t: torch.log(torch.exp(t["x"]).sum())),
    ("prod(x)", {"x": X}, lambda t: t["x"].prod()),
    ("sum(x*sum(x))", {"x": X}, lambda t: (t["x"] * t["x"].sum()).sum()),
    ("sum((x - 2)/(x + 1))", {"x": X}, lambda t: ((t["x"] - 2) / (t["x"] + 1)).sum()),
    ("sum(-x + 3*pi)", {"x": X}, lambda t: (-t["x"] + 3 * torch.pi).sum()),
    ("sin(c)*c", {"c": 0.7}, lambda t: torch.sin(t["c"]) * t["c"]),
]


def _graph(expression, values):
    return graph.build(
        parse(expression), {name: from_numbers(name, v) for name, v in values.items()}
    )


def _torch_names(values, by_hand):
    leaves = {
        name: torch.tensor(v, dtype=torch.float64, requires_grad=True) for name, v in values.items()
    }
    return [type(fn).__name__ for fn in graph.backward_order(by_hand(leaves).grad_fn)]


@pytest.mark.parametrize(
    ("expression", "values", "by_hand"), CASES, ids=[case[0] for case in CASES]
)
def test_node_names_are_torchs_own(expression, values, by_hand):
    built = _graph(expression, values)
    assert [node.name for node in built.nodes] == _torch_names(values, by_hand)


def test_seed_graph_values_and_gradients():
    built = _graph("sum(x**2)", {"x": X})
    assert [(n.name, n.label) for n in built.nodes] == [
        ("SumBackward0", "sum(x**2)"),
        ("PowBackward0", "x**2"),
        ("AccumulateGrad", "x"),
    ]
    assert built.nodes[1].grad.tolist() == [1.0, 1.0, 1.0]  # ones_like, from SumBackward0
    assert built.nodes[2].grad.tolist() == [6.0, 8.0, 20.0]
    assert [(e.parent, e.child, e.rule) for e in built.edges] == [
        (0, 1, "sum rule"),
        (1, 2, "power rule"),
    ]


@pytest.mark.parametrize(
    ("expression", "values", "by_hand"), CASES, ids=[case[0] for case in CASES]
)
def test_dot_and_mermaid_have_every_node_and_edge(expression, values, by_hand):
    built = _graph(expression, values)
    dot = graph.dot(built)
    assert dot.startswith("digraph autograd {") and dot.endswith("}\n")
    assert len(re.findall(r"^  n\d+ \[label=", dot, re.M)) == len(built.nodes)
    assert len(re.findall(r"^  n\d+ -> n\d+ \[label=", dot, re.M)) == len(built.edges)
    mermaid = graph.mermaid(built)
    assert mermaid.startswith("flowchart BT\n")
    assert len(re.findall(r'^  n\d+\["', mermaid, re.M)) == len(built.nodes)
    assert len(re.findall(r"^  n\d+ -- .* --> n\d+$", mermaid, re.M)) == len(built.edges)
    for node in built.nodes:
        assert node.name in dot and node.name in mermaid
    for edge in built.edges:
        assert f'[label="{edge.rule}"]' in dot and f'-- "{edge.rule}" -->' in mermaid


def test_cli_graph_tree_and_dot_file(tmp_path):
    target = tmp_path / "g.dot"
    result = CliRunner().invoke(
        app, ["sum(x**2)", "--x", "3,4,10", "--graph", "--dot", str(target)], env=ENV
    )
    assert result.exit_code == 0, result.output
    assert (
        "[0] SumBackward0  sum(x**2) = 125  grad in: 1\n"
        "└── <- sum rule -- [1] PowBackward0  x**2 = [9, 16, 100]  grad in: [1, 1, 1]\n"
        "    └── <- power rule -- [2] AccumulateGrad  x = [3, 4, 10]  grad in: "
        "[6, 8, 20]\n"
    ) in result.output
    assert target.read_text().count("->") == 2


def test_cli_mermaid():
    result = CliRunner().invoke(app, ["x**2", "--x", "3,4,10", "--mermaid"], env=ENV)
    assert result.exit_code == 0
    assert 'n1 -- "power rule" --> n0' in result.output


def test_json_carries_the_graph():
    import json

    result = CliRunner().invoke(
        app, ["sum(x**2)", "--x", "3,4,10", "--format", "json", "--dot", "/dev/null"], env=ENV
    )
    document = json.loads(result.output)
    assert [n["name"] for n in document["graph"]["nodes"]] == [
        "SumBackward0",
        "PowBackward0",
        "AccumulateGrad",
    ]


def test_svg_saves_the_terminal_output(tmp_path):
    target = tmp_path / "out.svg"
    result = CliRunner().invoke(
        app, ["sum(x**2)", "--x", "3,4,10", "--graph", "--svg", str(target)], env=ENV
    )
    assert result.exit_code == 0
    svg = target.read_text()
    assert svg.startswith("<svg") and "PowBackward0" in svg and "AccumulateGrad" in svg


def test_graph_refused_in_json_mode():
    result = CliRunner().invoke(
        app, ["sum(x**2)", "--x", "3,4,10", "--graph", "--format", "json"], env=ENV
    )
    assert result.exit_code == 2


# ---- matrices: the same graph, labelled with shapes ------------------------------------

XM = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
MATRIX_CASES = [
    (
        "sum(sigmoid(X@w))",
        {"X": XM, "w": [1.0, -1.0]},
        lambda t: torch.sigmoid(t["X"] @ t["w"]).sum(),
    ),
    (
        "sum((A@B).T*2)",
        {"A": XM, "B": [[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]]},
        lambda t: ((t["A"] @ t["B"]).mT * 2).sum(),
    ),
    (
        "X@W + b",
        {"X": XM, "W": [[1.0, -1.0], [0.0, 2.0]], "b": [0.5, -0.5]},
        lambda t: t["X"] @ t["W"] + t["b"],
    ),
    ("mean(X, dim=1)", {"X": XM}, lambda t: t["X"].mean(dim=1)),
]


@pytest.mark.parametrize(
    ("expression", "values", "by_hand"), MATRIX_CASES, ids=[case[0] for case in MATRIX_CASES]
)
def test_matrix_graph_is_torchs_own_with_its_gradients(expression, values, by_hand):
    built = _graph(expression, values)
    assert [node.name for node in built.nodes] == _torch_names(values, by_hand)
    leaves = {
        name: torch.tensor(v, dtype=torch.float64, requires_grad=True) for name, v in values.items()
    }
    output = by_hand(leaves)
    names = list(leaves)
    wanted = torch.autograd.grad(output, [leaves[n] for n in names], torch.ones_like(output))
    for name, grad in zip(names, wanted):
        (leaf,) = [n for n in built.nodes if n.name == "AccumulateGrad" and n.label == name]
        assert leaf.value.shape == grad.shape
        np.testing.assert_allclose(leaf.grad, grad.numpy(), rtol=1e-12)


def test_cli_matrix_graph_shows_shapes_and_small_values():
    result = CliRunner().invoke(
        app,
        ["sum(sigmoid(X@w))", "--X", "1,2;3,4;5,6", "--w", "1,-1", "--graph"],
        env={**ENV, "COLUMNS": "240"},
    )
    assert result.exit_code == 0, result.output
    tree = result.output[
        result.output.index("[0] SumBackward0") : result.output.index("In a notebook")
    ]  # then Python's sum's graph
    assert tree == (
        "[0] SumBackward0  sum(sigmoid(X@w)) = 0.8068242641  grad in: 1\n"
        "└── <- sum rule -- [1] SigmoidBackward0  sigmoid(X@w) (3,) [0.2689414214, "
        "0.2689414214, 0.2689414214]  grad in: (3,) [1, 1, 1]\n"
        "    └── <- chain rule, sigmoid'(u) = (1 - sigmoid(u))*sigmoid(u) -- [2] MvBackward0  "
        "X@w (3,) [-1, -1, -1]  grad in: (3,) [0.1966119332, 0.1966119332, 0.1966119332]\n"
        "        ├── <- matrix product rule: dA = dY @ B.T, dB = A.T @ dY -- [3] "
        "AccumulateGrad  X (3, 2) [[1, 2], [3, 4], [5, 6]]  grad in: (3, 2) [[0.1966119332, "
        "-0.1966119332], [0.1966119332, -0.1966119332], [0.1966119332, -0.1966119332]]\n"
        "        └── <- matrix product rule: dA = dY @ B.T, dB = A.T @ dY -- [4] "
        "AccumulateGrad  w (2,) [1, -1]  grad in: (2,) [1.769507399, 2.359343199]\n"
    )


def test_large_matrices_show_only_their_shape_in_dot_and_mermaid(tmp_path):
    target = tmp_path / "g.dot"
    rows = ";".join(",".join(str(r + c) for c in range(3)) for r in range(4))
    result = CliRunner().invoke(
        app, ["sum(X.T@X)", "--X", rows, "--dot", str(target), "--mermaid"], env=ENV
    )
    assert result.exit_code == 0, result.output
    assert 'n2 [label="TransposeBackward0\\nX.T (3, 4)\\ngrad in: (3, 4)"];' in target.read_text()
    assert 'n1["MmBackward0<br/>X.T@X (3, 3)<br/>grad in: (3, 3)"]' in result.output
    assert 'n3 -- "transpose: the gradient is transposed back" --> n2' in result.output


def test_json_graph_has_nested_values_for_matrices():
    import json

    result = CliRunner().invoke(
        app, ["sum(X*X)", "--X", "1,2;3,4", "--format", "json", "--dot", "/dev/null"], env=ENV
    )
    assert result.exit_code == 0, result.output
    nodes = json.loads(result.output)["graph"]["nodes"]
    leaf = nodes[-1]
    assert (leaf["name"], leaf["value"], leaf["grad"]) == (
        "AccumulateGrad",
        [[1.0, 2.0], [3.0, 4.0]],
        [[2.0, 4.0], [6.0, 8.0]],
    )
    assert leaf["shape"] == [2, 2] and nodes[0]["shape"] == []


def test_svg_saves_a_matrix_graph(tmp_path):
    target = tmp_path / "out.svg"
    result = CliRunner().invoke(
        app, ["sum(X@w)", "--X", "1,2;3,4", "--w", "1,-1", "--graph", "--svg", str(target)], env=ENV
    )
    assert result.exit_code == 0, result.output
    svg = target.read_text()
    assert svg.startswith("<svg") and "MvBackward0" in svg and "AccumulateGrad" in svg


def test_a_shared_node_is_shown_in_full_where_it_is_first_read():
    """x is reached through sigmoid(x) and directly: the first time printed is the full one."""
    result = CliRunner().invoke(
        app, ["sum(sigmoid(x) + x)", "--x", "0,1", "--graph"], env={**ENV, "COLUMNS": "140"}
    )
    assert result.exit_code == 0, result.output
    graph = result.stdout.split("Autograd graph", 1)[1].split("In a notebook")[0]
    assert graph.splitlines()[3:] == [
        "    ├── <- sum rule -- [2] SigmoidBackward0  sigmoid(x) = [0.5, 0.7310585786]  grad "
        "in: [1, 1]",
        "    │   └── <- chain rule, sigmoid'(u) = (1 - sigmoid(u))*sigmoid(u) -- [3] "
        "AccumulateGrad  x = [0, 1]  grad in: [1.25, 1.196611933]",
        "    └── <- sum rule -- [3] AccumulateGrad (above)",
    ]
