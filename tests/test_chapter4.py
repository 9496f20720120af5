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
    return {"a": float(np.mean(2 * residual * t**2)), "b": float(np.mean(2 * residual * t)),
            "c": float(np.mean(2 * residual))}


def mnist_gradient() -> list[float]:
    preds, targets = np.array(PREDS), np.array(TARGETS)
    s = 1 / (1 + np.exp(-preds))
    return (np.where(targets == 1, -s * (1 - s), s * (1 - s)) / len(preds)).tolist()


@pytest.mark.parametrize("args, gradients", [
    (["sum(x**2)", "--x", "3,4,10"], {"x": [6.0, 8.0, 20.0]}),
    (["x**2", "--x", "3"], {"x": 6.0}),  # the slope at 3
    (["mean((a*t**2 + b*t + c - speed)**2)", "--t", joined(T), "--speed", joined(SPEED),
      "--a", str(A), "--b", str(B), "--c", str(C), "--wrt", "a,b,c"], quadratic_gradients()),
    (["where(targets==1, 1-sigmoid(preds), sigmoid(preds)).mean()", "--targets",
      joined(TARGETS), "--preds", joined(PREDS), "--wrt", "preds"], {"preds": mnist_gradient()}),
], ids=["seed", "slope-at-3", "quadratic-mse", "mnist-loss"])
def test_chapter4_step(args, gradients):
    code, document = run_json(*args)
    assert code == 0, document
    assert list(document["gradients"]) == list(gradients)
    for name, expected in gradients.items():
        for witness in ("symbolic", "autograd"):
            np.testing.assert_allclose(document["gradients"][name][witness], expected,
                                       rtol=1e-12, atol=1e-15)
