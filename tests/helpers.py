"""Checks that several test files share: a gradient from `explain()` against a third
witness (a closed form by hand, or torch's own function) and float64 central differences;
a refusal by the CLI.

Each table of cases stays in its own file; only the check lives here, once.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Collection, Mapping

import numpy as np
import pytest
import torch
from rich.console import Console
from typer.testing import CliRunner

from gradexplain import ExitStatus, explain
from gradexplain.cli import app

Reference = Callable[..., torch.Tensor]


def central_differences(loss, arrays: Mapping[str, np.ndarray], name: str, h: float = 1e-6):
    """d loss / d arrays[name] by central differences; `loss` takes the arrays by name."""
    grad = np.zeros_like(arrays[name], dtype=np.float64)
    for index in np.ndindex(arrays[name].shape):
        plus = {k: v.copy() for k, v in arrays.items()}
        minus = {k: v.copy() for k, v in arrays.items()}
        plus[name][index] += h
        minus[name][index] -= h
        grad[index] = (loss(**plus) - loss(**minus)) / (2 * h)
    return grad


def assert_matches_closed_form(
    expression: str,
    values: Mapping[str, np.ndarray],
    loss: Callable[..., float],
    expected: Mapping[str, np.ndarray],
) -> None:
    """Both witnesses equal the hand-derived gradient (1e-12) and central differences of
    `loss` (1e-6); the value equals `loss` at `values`."""
    result = explain(expression, values)
    assert result.status is ExitStatus.AGREE, result.verdict()
    assert result.value == pytest.approx(loss(**values), rel=1e-12)
    for name, want in expected.items():
        gradient = result.gradients[name]
        np.testing.assert_allclose(gradient.symbolic, gradient.autograd, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(gradient.symbolic, want, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(gradient.autograd, want, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(
            gradient.symbolic, central_differences(loss, values, name), rtol=1e-6, atol=1e-7
        )


def torch_gradients(
    reference: Reference, values: Mapping[str, object], wrt: Collection[str]
) -> dict[str, np.ndarray]:
    """torch's own gradient of sum(reference(*values)) for each name in `wrt` it reaches."""
    leaves = {
        key: torch.tensor(np.asarray(value, dtype=np.float64), requires_grad=key in wrt)
        for key, value in values.items()
    }
    output = reference(*leaves.values())
    output.backward(torch.ones_like(output))
    return {key: leaf.grad.numpy() for key, leaf in leaves.items() if leaf.grad is not None}


def torch_central_differences(
    reference: Reference, values: Mapping[str, object], name: str, eps: float = 1e-6
) -> np.ndarray:
    """Central differences of sum(reference(*values)) along values[name], in float64."""
    base = {key: np.asarray(value, dtype=np.float64) for key, value in values.items()}
    found = np.zeros_like(base[name])
    for flat in range(found.size):
        total = []
        for sign in (1, -1):
            moved = base[name].copy()
            moved.flat[flat] += sign * eps
            args = [torch.tensor(moved if key == name else value) for key, value in base.items()]
            total.append(float(reference(*args).sum()))
        found.flat[flat] = (total[0] - total[1]) / (2 * eps)
    return found


def assert_matches_torch(
    expression: str,
    values: Mapping[str, object],
    reference: Reference,
    wrt: str | None = None,
) -> None:
    """Both witnesses equal torch's gradient of `reference` (1e-12) and its central
    differences (1e-6), for `wrt` or, without it, for every variable explain() reports."""
    result = explain(expression, values, wrt=wrt)
    assert result.status is ExitStatus.AGREE, result.verdict()
    names = [wrt] if wrt is not None else list(result.gradients)
    expected = torch_gradients(reference, values, names)
    for name in names:
        gradient = result.gradients[name]
        np.testing.assert_allclose(gradient.symbolic, expected[name], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(gradient.autograd, expected[name], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(
            gradient.symbolic,
            torch_central_differences(reference, values, name),
            rtol=1e-6,
            atol=1e-6,
        )


def assert_cli_refuses(
    expression: str, values: Mapping[str, str], message: str, env: Mapping[str, str]
) -> None:
    """The CLI, given each value as `--NAME TEXT`, exits 2 with `message` on its first line."""
    args = [expression]
    for name, text in values.items():
        args += [f"--{name}", text]
    result = CliRunner().invoke(app, args, env=dict(env))
    assert result.exit_code == 2, result.output
    assert result.output.splitlines()[0] == f"gradexplain: error: {message}"


def cli_at_width(monkeypatch, command: str, width: int) -> str:
    """The real CLI's stdout, printed to a terminal-like console of a fixed width (prose
    wraps); stderr is not a terminal here."""
    from gradexplain.output import report

    def make_console(no_color: bool = False, file=None) -> Console:
        return Console(width=width, soft_wrap=False, color_system=None, highlight=False, file=file)

    monkeypatch.setattr(report, "make_console", make_console)
    result = CliRunner().invoke(app, shlex.split(command), env={"NO_COLOR": "1"})
    assert result.exit_code in (0, 1, 2, 3), result.output
    return result.stdout
