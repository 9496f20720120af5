"""Losses of torch.nn.functional, against torch's own functions (autograd at 1e-12) and
float64 central differences, on vectors and matrices, with their kinks, domains and
input errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from gradexplain import ExitStatus, explain
from gradexplain.errors import ExpressionError
from tests.helpers import Reference, assert_matches_torch

U = np.array([1.0, -2.0, 3.5])
Y = np.array([0.2, -1.0, 5.0])  # differences -0.8 (inside beta 1), 1 (the switch), 1.5
UM = np.array([[1.0, -2.0, 3.0], [0.5, 0.0, -1.5]])
YM = np.array([[0.0, -1.5, 2.0], [2.0, 0.2, -1.0]])
P = np.array([0.2, 0.7, 0.9])
B = np.array([0.0, 1.0, 1.0])
Z = np.array([[1.0, 2.0, 0.5], [-1.0, 0.0, 3.0]])
T = np.array([2.0, 0.0])
TP = np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]])
LOGP = np.log(np.array([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]]))
Q = np.array([[0.1, 0.6, 0.3], [0.25, 0.25, 0.5]])

# (expression, values, the differentiated variable, torch's own function of (input, target))
CASES: list[tuple[str, dict[str, object], str, Reference]] = [
    ("F.mse_loss(u, y)", {"u": U, "y": Y}, "u", F.mse_loss),
    (
        "F.mse_loss(u, y, reduction='sum')",
        {"u": UM, "y": YM},
        "u",
        lambda u, y: F.mse_loss(u, y, reduction="sum"),
    ),
    (
        "torch.nn.functional.mse_loss(u, y, reduction='none')",
        {"u": UM, "y": YM},
        "y",
        lambda u, y: F.mse_loss(u, y, reduction="none"),
    ),
    ("F.l1_loss(u, y)", {"u": U, "y": Y}, "u", F.l1_loss),
    (
        "F.l1_loss(u, y, reduction='sum')",
        {"u": UM, "y": YM},
        "u",
        lambda u, y: F.l1_loss(u, y, reduction="sum"),
    ),
    ("F.smooth_l1_loss(u, y)", {"u": U, "y": Y}, "u", F.smooth_l1_loss),
    (
        "F.smooth_l1_loss(u, y, beta=0.5)",
        {"u": UM, "y": YM},
        "u",
        lambda u, y: F.smooth_l1_loss(u, y, beta=0.5),
    ),
    (
        "F.smooth_l1_loss(u, y, beta=2, reduction='sum')",
        {"u": U, "y": Y},
        "y",
        lambda u, y: F.smooth_l1_loss(u, y, beta=2.0, reduction="sum"),
    ),
    ("F.huber_loss(u, y)", {"u": U, "y": Y}, "u", F.huber_loss),
    (
        "F.huber_loss(u, y, delta=0.5, reduction='none')",
        {"u": UM, "y": YM},
        "u",
        lambda u, y: F.huber_loss(u, y, delta=0.5, reduction="none"),
    ),
    ("F.binary_cross_entropy(p, y)", {"p": P, "y": B}, "p", F.binary_cross_entropy),
    (
        "F.binary_cross_entropy(sigmoid(z), y, reduction='sum')",
        {"z": UM, "y": np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.5]])},
        "z",
        lambda z, y: F.binary_cross_entropy(torch.sigmoid(z), y, reduction="sum"),
    ),
    (
        "F.binary_cross_entropy_with_logits(z, y)",
        {"z": U, "y": B},
        "z",
        F.binary_cross_entropy_with_logits,
    ),
    (
        "F.binary_cross_entropy_with_logits(z, y, reduction='none')",
        {"z": UM, "y": np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.5]])},
        "z",
        lambda z, y: F.binary_cross_entropy_with_logits(z, y, reduction="none"),
    ),
    ("F.cross_entropy(z, t)", {"z": Z, "t": T}, "z", lambda z, t: F.cross_entropy(z, t.long())),
    (
        "F.cross_entropy(z, t, reduction='sum')",
        {"z": Z, "t": T},
        "z",
        lambda z, t: F.cross_entropy(z, t.long(), reduction="sum"),
    ),
    (
        "F.cross_entropy(z, t, reduction='none')",
        {"z": Z, "t": T},
        "z",
        lambda z, t: F.cross_entropy(z, t.long(), reduction="none"),
    ),
    (
        "F.cross_entropy(z, t)",
        {"z": U, "t": 1.0},
        "z",  # one sample: C scores
        lambda z, t: F.cross_entropy(z, t.long()),
    ),
    ("F.cross_entropy(z, t)", {"z": Z, "t": TP}, "z", F.cross_entropy),  # probabilities
    ("F.cross_entropy(z, t)", {"z": Z, "t": TP}, "t", F.cross_entropy),
    (
        "F.nll_loss(F.log_softmax(z, dim=1), t)",
        {"z": Z, "t": T},
        "z",
        lambda z, t: F.nll_loss(F.log_softmax(z, dim=1), t.long()),
    ),
    (
        "F.nll_loss(logp, t, reduction='none')",
        {"logp": LOGP, "t": T},
        "logp",
        lambda logp, t: F.nll_loss(logp, t.long(), reduction="none"),
    ),
    (
        "F.kl_div(x, q, reduction='batchmean')",
        {"x": LOGP, "q": Q},
        "x",
        lambda x, q: F.kl_div(x, q, reduction="batchmean"),
    ),
    (
        "F.kl_div(x, q, reduction='sum')",
        {"x": LOGP, "q": Q},
        "q",
        lambda x, q: F.kl_div(x, q, reduction="sum"),
    ),
    ("F.kl_div(x, q)", {"x": LOGP[0], "q": Q[0]}, "x", F.kl_div),
    (  # a target 0 contributes 0 log 0 = 0, as torch's xlogy
        "F.kl_div(x, q, reduction='sum')",
        {"x": LOGP, "q": TP},
        "x",
        lambda x, q: F.kl_div(x, q, reduction="sum"),
    ),
    (
        "F.kl_div(x, q, log_target=True)",
        {"x": LOGP, "q": np.log(Q)},
        "q",
        lambda x, q: F.kl_div(x, q, log_target=True),
    ),
]


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides")  # torch's kl_div note
@pytest.mark.parametrize(
    ("expression", "values", "name", "reference"),
    CASES,
    ids=[f"{case[0]}-{case[2]}" for case in CASES],
)
def test_losses_match_torch_and_finite_differences(
    expression: str, values: dict[str, object], name: str, reference: Reference
) -> None:
    assert_matches_torch(expression, values, reference, wrt=name)


def test_class_indices_are_data_by_default() -> None:
    result = explain("F.cross_entropy(z, t)", {"z": Z, "t": T})
    assert set(result.gradients) == {"z"}


@pytest.mark.parametrize(
    ("expression", "values", "reason"),
    [
        ("F.l1_loss(u, y)", {"u": U, "y": [1.0, 0.0, 0.0]}, "abs has a kink at 0"),
        ("F.binary_cross_entropy(p, y)", {"p": [0.2, 1.5, 0.5], "y": B}, "must lie in [0, 1]"),
        ("F.binary_cross_entropy(p, y)", {"p": [0.2, -0.5, 0.5], "y": B}, "must lie in [0, 1]"),
    ],
)
def test_kinks_and_domains_are_undefined_with_a_reason(
    expression: str, values: dict[str, object], reason: str
) -> None:
    result = explain(expression, values, wrt=next(iter(values)))
    assert result.status is ExitStatus.UNDEFINED
    assert any(reason in item.reason for item in result.singularities)


def test_kl_div_at_a_zero_target_has_a_value_and_an_input_gradient() -> None:
    """torch's kl_div is xlogy(t, t) - t x: finite at t = 0; only d/dt = log t + 1 is not."""
    values = {"x": LOGP, "q": TP}
    result = explain("F.kl_div(x, q, reduction='sum')", values, wrt="x")
    assert result.status is ExitStatus.AGREE
    expected = F.kl_div(torch.tensor(LOGP), torch.tensor(TP), reduction="sum")
    assert float(result.value) == pytest.approx(float(expected), rel=1e-12)
    target = explain("F.kl_div(x, q, reduction='sum')", values, wrt="q")
    assert target.status is ExitStatus.UNDEFINED
    assert any("infinite at v = 0" in item.reason for item in target.singularities)


def test_the_switch_of_huber_has_a_gradient() -> None:
    """|u - y| = delta: huber's slope clamp(d, -delta, delta) is continuous there."""
    result = explain("F.huber_loss(u, y)", {"u": [2.0, -1.0], "y": [1.0, 0.0]}, wrt="u")
    assert result.status is ExitStatus.AGREE
    np.testing.assert_allclose(result.gradients["u"].symbolic, [0.5, -0.5])


@pytest.mark.parametrize(
    ("expression", "values", "fragment"),
    [
        (
            "F.mse_loss(u, y, reduction='avg')",
            {"u": U, "y": Y},
            "reduction= of mse_loss() must be 'mean', 'sum' or 'none'",
        ),
        ("F.mse_loss(u, y, reduction=1)", {"u": U, "y": Y}, "reduction= of mse_loss()"),
        ("F.mse_loss(u, y, beta=1)", {"u": U, "y": Y}, "beta= of mse_loss() is not supported"),
        ("F.mse_loss(u)", {"u": U}, "mse_loss() takes an input and a target"),
        ("F.huber_loss(u, y, delta=0)", {"u": U, "y": Y}, "delta= of huber_loss() must be"),
        ("F.smooth_l1_loss(u, y, beta=-1)", {"u": U, "y": Y}, "beta= of smooth_l1_loss()"),
        ("F.kl_div(u, y, log_target=1)", {"u": U, "y": Y}, "log_target= must be True or False"),
        (
            "F.cross_entropy(z, t)",
            {"z": Z, "t": [1.0, 0.0, 2.0]},
            "cross_entropy() of 2x3 scores needs 2 class indices or 2x3 class probabilities",
        ),
        ("F.nll_loss(z, t)", {"z": Z, "t": TP}, "nll_loss() of 2x3 scores needs 2 class indices"),
        (
            "F.cross_entropy(z, t)",
            {"z": Z, "t": [3.0, 0.0]},
            "t_0 = 3 is out of range for dimension 1 with size 3",
        ),
        ("F.cross_entropy(z, t)", {"z": 1.0, "t": 0.0}, "needs class scores"),
    ],
)
def test_bad_loss_calls_are_input_errors(
    expression: str, values: dict[str, object], fragment: str
) -> None:
    with pytest.raises(ExpressionError) as caught:
        explain(expression, values)
    assert fragment in caught.value.message
    assert caught.value.exit_status is ExitStatus.INVALID
