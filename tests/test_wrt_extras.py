"""--wrt with the teaching extras: each extra speaks only of the differentiated variables.

Expected gradients are derived here by hand (numpy), J^T v by torch.autograd.grad; the
data variables (targets, x, xb) must get no entry anywhere, and the graph marks them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from gradexplain.cli import app

ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}


def run(*args: str):
    return CliRunner().invoke(app, list(args), env=ENV)


def run_json(*args: str) -> tuple[int, dict]:
    result = run(*args, "--format", "json")
    return result.exit_code, json.loads(result.stdout)


def joined(values) -> str:
    array = np.asarray(values, dtype=float)
    if array.ndim == 2:
        return ";".join(joined(row) for row in array)
    return ",".join(repr(float(v)) for v in array.reshape(-1))


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def mnist_dz(z: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """dL/dz_i of mean(where(t==1, 1-sigmoid(z), sigmoid(z))), by hand."""
    s = sigmoid(z)
    return np.where(targets == 1, -s * (1 - s), s * (1 - s)) / len(z)


@dataclass(frozen=True)
class Case:
    """A mnist_loss-shaped expression, its values, and the gradients derived by hand."""

    expression: str
    values: dict[str, np.ndarray]
    wrt: tuple[str, ...]
    data: tuple[str, ...]  # in the expression's order, as result.data lists them
    data_labels: frozenset[str]  # the graph's data nodes
    gradients: dict[str, np.ndarray]

    def args(self) -> list[str]:
        flags = [
            item for name, value in self.values.items() for item in (f"--{name}", joined(value))
        ]
        return [self.expression, *flags, "--wrt", ",".join(self.wrt)]


def _vector_case() -> Case:
    x, w, b = np.array([0.5, -1.0, 2.0]), np.array([0.3, -0.2, 0.4]), 0.1
    targets = np.array([1.0, 0.0, 1.0])
    dz = mnist_dz(w * x + b, targets)
    return Case(
        "mean(where(targets==1, 1-sigmoid(w*x + b), sigmoid(w*x + b)))",
        {"targets": targets, "w": w, "x": x, "b": np.array(b)},
        ("w", "b"),
        ("targets", "x"),
        frozenset({"targets == 1", "x"}),
        {"w": dz * x, "b": np.array(dz.sum())},
    )


def _matrix_case() -> Case:
    xb = np.array([[0.5, -1.0, 2.0], [1.5, 0.0, -0.5], [-1.0, 1.0, 1.0], [0.2, 0.3, -0.4]])
    weights, bias = np.array([0.1, -0.2, 0.3]), 0.05
    targets = np.array([1.0, 0.0, 1.0, 0.0])
    dz = mnist_dz(xb @ weights + bias, targets)
    return Case(
        "mean(where(targets==1, 1-sigmoid(xb@weights + bias), sigmoid(xb@weights + bias)))",
        {"targets": targets, "xb": xb, "weights": weights, "bias": np.array(bias)},
        ("weights", "bias"),
        ("targets", "xb"),
        frozenset({"targets == 1", "xb"}),
        {"weights": xb.T @ dz, "bias": np.array(dz.sum())},
    )


CASES = [_vector_case(), _matrix_case()]
IDS = ["vector", "matrix"]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_check_fd_only_for_the_differentiated(case):
    code, document = run_json(*case.args(), "--check-fd")
    assert code == 0, document
    assert list(document["gradients"]) == list(case.wrt)
    assert document["data"] == list(case.data)
    for name, expected in case.gradients.items():
        fd = document["gradients"][name]["finite_differences"]
        assert fd["agree"] is True
        np.testing.assert_allclose(fd["values"], expected, rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_check_fd_table_names_only_the_differentiated(case):
    result = run(*case.args(), "--check-fd")
    assert result.exit_code == 0, result.output
    named = [
        line.split(" (float64")[0]
        for line in result.stdout.splitlines()
        if line.startswith("Finite differences of")
    ]
    assert named == [f"Finite differences of dL/d{name}" for name in case.wrt]
    assert all(f"dL/d{name}" not in result.stdout for name in case.data)


def test_check_fd_counts_only_the_nudged_elements(tmp_path: Path):
    """A big data vector does not count against MAX_FD_ELEMENTS: it is never nudged.
    Nudging it is past the per-element limit, so random directions are checked."""
    from gradexplain.ir.limits import MAX_FD_ELEMENTS

    big = tmp_path / "x.txt"
    big.write_text("\n".join("1" for _ in range(MAX_FD_ELEMENTS + 1)))
    ok = run("sum(w*x)", "--w", "2", "--x", f"@{big}", "--wrt", "w", "--check-fd", "-q")
    assert ok.exit_code == 0, ok.output
    directional = run("sum(w*x)", "--w", "2", "--x", f"@{big}", "--wrt", "x", "--check-fd")
    assert directional.exit_code == 0
    assert "Directional: 10,001 nudged elements > MAX_FD_ELEMENTS" in directional.stdout


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_graph_marks_data_and_gives_gradients_only_to_the_differentiated(case, tmp_path):
    dot = tmp_path / "g.dot"
    code, document = run_json(*case.args(), "--dot", str(dot))
    assert code == 0, document
    nodes = document["graph"]["nodes"]
    leaves = {node["label"]: node for node in nodes if node["name"] == "AccumulateGrad"}
    assert set(leaves) == set(case.wrt)
    for name, expected in case.gradients.items():
        np.testing.assert_allclose(leaves[name]["grad"], expected, rtol=1e-12, atol=1e-15)
    data = [node for node in nodes if node["name"] == "data"]
    assert {node["label"] for node in data} == case.data_labels
    assert all(node["grad"] is None for node in data)
    by_label = {node["label"]: node for node in data}
    np.testing.assert_array_equal(
        by_label["targets == 1"]["value"], (case.values["targets"] == 1).astype(float)
    )
    data_ids = {node["id"] for node in data}
    assert {edge["rule"] for edge in document["graph"]["edges"] if edge["from"] in data_ids} == {
        "data (not in --wrt)"
    }
    text = dot.read_text(encoding="utf-8")
    assert "no gradient (data)" in text and "AccumulateGrad\\ntargets" not in text


def test_graph_tree_shows_a_data_leaf_without_a_gradient():
    result = run(
        "torch.sum(w*x)", "--w", "1,2", "--x", "3,4", "--wrt", "w", "--graph", "--mermaid"
    )  # torch.sum: no built-in sum graph between the two
    assert result.exit_code == 0, result.output
    tail = result.stdout.split("Autograd graph", 1)[1]
    assert tail == (
        " (backward runs from the top; grad in = what flows into each node):\n"
        "[0] SumBackward0  sum(w*x) = 11  grad in: 1\n"
        "└── <- sum rule -- [1] MulBackward0  w*x = [3, 8]  grad in: [1, 1]\n"
        "    ├── <- product rule -- [2] AccumulateGrad  w = [1, 2]  grad in: [3, 4]\n"
        "    └── <- data (not in --wrt) -- [3] data  x = [3, 4]  no gradient (data)\n"
        "flowchart BT\n"
        '  n0["SumBackward0<br/>sum(w*x) = 11<br/>grad in: 1"]\n'
        '  n1["MulBackward0<br/>w*x = [3, 8]<br/>grad in: [1, 1]"]\n'
        '  n2["AccumulateGrad<br/>w = [1, 2]<br/>grad in: [3, 4]"]\n'
        '  n3["data<br/>x = [3, 4]<br/>no gradient (data)"]\n'
        '  n1 -- "sum rule" --> n0\n'
        '  n2 -- "product rule" --> n1\n'
        '  n3 -- "data (not in --wrt)" --> n1\n'
    )


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_graph_in_the_terminal_and_as_svg(case, tmp_path):
    svg = tmp_path / "out.svg"
    result = run(*case.args(), "--graph", "--svg", str(svg))
    assert result.exit_code == 0, result.output
    assert "data  targets" in result.stdout and "no gradient (data)" in result.stdout
    assert f"AccumulateGrad  {case.data[1]}" not in result.stdout
    assert svg.read_text(encoding="utf-8").startswith("<svg")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_steps_only_for_the_differentiated_and_end_in_the_tables_formula(case):
    code, document = run_json(*case.args(), "--steps")
    assert code == 0, document
    assert list(document["steps"]) == list(case.wrt)
    for name in case.wrt:
        formula = document["gradients"][name]["formula"]
        assert document["steps"][name]["formula"] == formula
        assert document["steps"][name]["lines"][-1].endswith(f" = {formula}")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_steps_formula_evaluates_to_the_hand_gradient(case):
    from gradexplain.ir.program import build
    from gradexplain.ir.values import from_numbers
    from gradexplain.teach import steps
    from gradexplain.witnesses.builder import TARGETS
    from gradexplain.witnesses.evaluate import Evaluator

    values = {name: from_numbers(name, value.tolist()) for name, value in case.values.items()}
    arrays = {name: value for name, value in case.values.items() if value.ndim}
    scalars = {name: float(value) for name, value in case.values.items() if not value.ndim}
    found = steps.derive_all(build(case.expression, values, list(case.wrt)))
    assert list(found) == list(case.wrt)
    for name, derivation in found.items():
        shape = case.values[name].shape
        got = Evaluator(arrays, scalars, derivation.sizes).tensor(
            derivation.expr, TARGETS[: len(shape)], shape
        )
        np.testing.assert_allclose(got, case.gradients[name], rtol=1e-12, atol=1e-15)


def test_chapter4_mnist_loss_steps_end_in_the_tables_formula():
    """The learner's command: the last step line says the formula the table shows."""
    args = [
        "mean(where(targets==1, 1-sigmoid(xb@weights + bias), sigmoid(xb@weights + bias)))",
        "--xb",
        "1,2;3,4;5,6;7,8",
        "--weights",
        "0.1,-0.2",
        "--bias",
        "0.3",
        "--targets",
        "1,0,1,0",
        "--wrt",
        "weights,bias",
        "--steps",
    ]
    code, document = run_json(*args)
    assert code == 0, document
    weights = document["gradients"]["weights"]["formula"]
    assert weights == (
        "sum_i(where(targets_i == 1, -(1 - sigmoid(bias + sum_m(weights_m*xb_im)))*sigmoid("
        "bias + sum_m(weights_m*xb_im))*xb_ij, (1 - sigmoid(bias + sum_m(weights_m*xb_im)))"
        "*sigmoid(bias + sum_m(weights_m*xb_im))*xb_ij))/4"
    )  # one x@w, one index name
    table = run(*args)
    assert table.exit_code == 0, table.output
    # the derivation ends in the table's formula (JSON keeps its lines written out) ...
    assert document["steps"]["weights"]["formula"] == weights
    assert document["steps"]["bias"]["formula"] == document["gradients"]["bias"]["formula"]
    # ... and the screen says it with z = xb@weights and s = sigmoid(bias + z) named
    ends = [
        line
        for line in table.stdout.splitlines()
        if "each delta keeps" in line or line.startswith("  collect terms")
    ]
    assert "Names: z_i = sum_m(weights_m*xb_im), the elements of z = xb@weights; " in table.stdout
    assert ends == [
        "  each delta keeps only the terms whose indices meet: dL/dweights_j = "
        "sum_i(where(targets_i == 1, -(1 - s_i)*s_i*xb_ij, (1 - s_i)*s_i*xb_ij))/4",
        "  collect terms: dL/dbias = sum_i(where(targets_i == 1, -(1 - s_i)*s_i, (1 - s_i)*s_i))/4",
    ]
    assert "Steps for dL/dxb" not in table.stdout and "Steps for dL/dtargets" not in table.stdout


# ---- --v and --jacobian: a non-scalar result ------------------------------------------

X, W, B = np.array([0.5, -1.0, 2.0]), np.array([0.3, -0.2, 0.4]), 0.1
XB = np.array([[0.5, -1.0, 2.0], [1.5, 0.0, -0.5], [-1.0, 1.0, 1.0], [0.2, 0.3, -0.4]])
WEIGHTS, BIAS = np.array([0.1, -0.2, 0.3]), 0.05

# (expression, values, wrt, data, v, y(params) in torch with data fixed)
VJP_CASES = [
    (
        "sigmoid(w*x + b)",
        {"w": W, "x": X, "b": np.array(B)},
        ("w", "b"),
        ("x",),
        np.array([1.0, 2.0, -3.0]),
        lambda p: torch.sigmoid(p["w"] * torch.tensor(X) + p["b"]),
    ),
    (
        "sigmoid(xb@weights + bias)",
        {"xb": XB, "weights": WEIGHTS, "bias": np.array(BIAS)},
        ("weights", "bias"),
        ("xb",),
        np.array([1.0, -1.0, 2.0, 0.5]),
        lambda p: torch.sigmoid(torch.tensor(XB) @ p["weights"] + p["bias"]),
    ),
]


def _vjp_args(expression, values, wrt) -> list[str]:
    return [
        expression,
        *(item for name, value in values.items() for item in (f"--{name}", joined(value))),
        "--wrt",
        ",".join(wrt),
    ]


@pytest.mark.parametrize(("expression", "values", "wrt", "data", "v", "y"), VJP_CASES, ids=IDS)
def test_v_gives_jt_v_only_for_the_differentiated(expression, values, wrt, data, v, y):
    params = {name: torch.tensor(values[name], requires_grad=True) for name in wrt}
    expected = torch.autograd.grad(
        y(params), [params[name] for name in wrt], grad_outputs=torch.tensor(v)
    )
    code, document = run_json(*_vjp_args(expression, values, wrt), "--v", joined(v))
    assert code == 0, document
    found = document["vjp"]["gradients"]
    assert list(found) == list(wrt)
    for name, grad in zip(wrt, expected):
        assert found[name]["agree"] is True
        for witness in ("autograd", "symbolic"):
            np.testing.assert_allclose(found[name][witness], grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(("expression", "values", "wrt", "data", "v", "y"), VJP_CASES, ids=IDS)
def test_jacobian_only_for_the_differentiated(expression, values, wrt, data, v, y):
    params = {name: torch.tensor(values[name], requires_grad=True) for name in wrt}
    expected = torch.autograd.functional.jacobian(
        lambda w: y({**params, wrt[0]: w}), params[wrt[0]]
    ).numpy()
    code, document = run_json(*_vjp_args(expression, values, wrt), "--jacobian")
    assert code == 0, document
    matrices = document["jacobian"]["matrices"]
    assert list(matrices) == [wrt[0]]  # the scalar bias has no J, as without --wrt
    np.testing.assert_allclose(matrices[wrt[0]], expected, rtol=1e-12, atol=1e-15)
    table = run(*_vjp_args(expression, values, wrt), "--jacobian", "--v", joined(v))
    assert table.exit_code == 0, table.output
    assert f"Jacobian dy_i/d{wrt[0]}_j" in table.stdout
    assert all(
        f"Jacobian dy_i/d{name}_j" not in table.stdout and f"  {name}: autograd" not in table.stdout
        for name in data
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            [
                "sigmoid(w*x + b)",
                "--w",
                "1,2",
                "--x",
                "3,4",
                "--b",
                "0.5",
                "--wrt",
                "b",
                "--jacobian",
            ],
            "--jacobian forms dy_i/dx_j for vector and matrix variables; --wrt differentiates only "
            "scalars here (b), whose gradients the table shows",
        ),
        (
            [
                "sigmoid(X@w + b)",
                "--X",
                "1,2;3,4",
                "--w",
                "1,2",
                "--b",
                "0.5",
                "--wrt",
                "b",
                "--jacobian",
            ],
            "--jacobian forms dy_i/dx_j for vector and matrix variables; --wrt differentiates only "
            "scalars here (b), whose gradients the table shows",
        ),
        (
            [
                "mean(where(t==1, 1-sigmoid(p), sigmoid(p)))",
                "--t",
                "1,0",
                "--p",
                "0.5,1",
                "--wrt",
                "t,p",
                "--graph",
            ],
            "t is only compared (in where() at column 12), so it is data and cannot be "
            "differentiated; differentiate the others with --wrt p",
        ),
    ],
    ids=["jacobian-vector-only-scalars", "jacobian-matrix-only-scalars", "compared-is-data"],
)
def test_wrt_with_extras_refusals(args, message):
    result = run(*args)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == f"gradexplain: error: {message}"
