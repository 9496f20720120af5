"""fastai chapter 4, step by step, through the real CLI; gradients derived here by hand."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from gradexplain.cli import app

ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}

T = [0.0, 1.0, 2.0, 3.0, 4.0]
SPEED = [1.2, 2.1, 5.3, 9.8, 16.9]
A, B, C = 1.0, 0.5, 0.2
PREDS = [0.9, 0.4, -0.2]
TARGETS = [1.0, 0.0, 1.0]


def run_json(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(app, [*args, "--format", "json"], env=ENV)
    return result.exit_code, json.loads(result.stdout)


def joined(values: list[float]) -> str:
    return ",".join(str(v) for v in values)


def quadratic_gradients() -> dict[str, float]:
    t, speed = np.array(T), np.array(SPEED)
    residual = A * t**2 + B * t + C - speed
    return {
        "a": float(np.mean(2 * residual * t**2)),
        "b": float(np.mean(2 * residual * t)),
        "c": float(np.mean(2 * residual)),
    }


def mnist_gradient() -> list[float]:
    preds, targets = np.array(PREDS), np.array(TARGETS)
    s = 1 / (1 + np.exp(-preds))
    return (np.where(targets == 1, -s * (1 - s), s * (1 - s)) / len(preds)).tolist()


@pytest.mark.parametrize(
    "args, gradients",
    [
        (["sum(x**2)", "--x", "3,4,10"], {"x": [6.0, 8.0, 20.0]}),
        (["x**2", "--x", "3"], {"x": 6.0}),  # the slope at 3
        (
            [
                "mean((a*t**2 + b*t + c - speed)**2)",
                "--t",
                joined(T),
                "--speed",
                joined(SPEED),
                "--a",
                str(A),
                "--b",
                str(B),
                "--c",
                str(C),
                "--wrt",
                "a,b,c",
            ],
            quadratic_gradients(),
        ),
        (
            [
                "where(targets==1, 1-sigmoid(preds), sigmoid(preds)).mean()",
                "--targets",
                joined(TARGETS),
                "--preds",
                joined(PREDS),
                "--wrt",
                "preds",
            ],
            {"preds": mnist_gradient()},
        ),
    ],
    ids=["seed", "slope-at-3", "quadratic-mse", "mnist-loss"],
)
def test_chapter4_step(args, gradients):
    code, document = run_json(*args)
    assert code == 0, document
    assert list(document["gradients"]) == list(gradients)
    for name, expected in gradients.items():
        for witness in ("symbolic", "autograd"):
            np.testing.assert_allclose(
                document["gradients"][name][witness], expected, rtol=1e-12, atol=1e-15
            )


XB = [[0.5, -1.0, 2.0], [1.5, 0.0, -0.5], [-1.0, 1.0, 1.0], [0.2, 0.3, -0.4]]
WEIGHTS = [0.1, -0.2, 0.3]
BIAS = 0.05
LABELS = [1.0, 0.0, 1.0, 0.0]
LINEAR_MODEL = "where(targets==1, 1-sigmoid(xb@weights + bias), sigmoid(xb@weights + bias)).mean()"


def rows(matrix: list[list[float]]) -> str:
    return ";".join(joined(row) for row in matrix)


def linear_model_gradients() -> dict[str, object]:
    """mnist_loss(sigmoid(xb@w + b)) by hand: dL/dz_i, then dL/dw = xb.T @ dL/dz, dL/db = sum."""
    xb, w, t = np.array(XB), np.array(WEIGHTS), np.array(LABELS)
    s = 1 / (1 + np.exp(-(xb @ w + BIAS)))
    dz = np.where(t == 1, -s * (1 - s), s * (1 - s)) / len(t)
    return {"weights": (xb.T @ dz).tolist(), "bias": float(dz.sum())}


@pytest.mark.parametrize("column", [False, True], ids=["weights-vector", "weights-column"])
def test_chapter4_linear_model(column):
    """`xb@weights + bias` with mnist_loss, w.r.t. weights and bias; fastai's (n, 1) shapes too."""
    weights = rows([[w] for w in WEIGHTS]) if column else joined(WEIGHTS)
    targets = rows([[t] for t in LABELS]) if column else joined(LABELS)
    code, document = run_json(
        LINEAR_MODEL,
        "--xb",
        rows(XB),
        "--weights",
        weights,
        "--bias",
        str(BIAS),
        "--targets",
        targets,
        "--wrt",
        "weights,bias",
    )
    assert code == 0, document
    assert list(document["gradients"]) == ["weights", "bias"]
    expected = linear_model_gradients()
    for witness in ("symbolic", "autograd"):
        got = np.array(document["gradients"]["weights"][witness])
        assert got.shape == ((3, 1) if column else (3,))
        np.testing.assert_allclose(got.reshape(-1), expected["weights"], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(
            document["gradients"]["bias"][witness], expected["bias"], rtol=1e-12, atol=1e-15
        )
