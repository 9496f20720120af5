"""Devices: the choice logic everywhere, and the real accelerators where present.

Tests marked `gpu` need CUDA or MPS and are skipped on a machine without one (such as
CI's); run them on a GPU machine with `python -m pytest -q -m gpu`.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_core import CASES

from gradexplain import ExitStatus, explain
from gradexplain.errors import DeviceError
from gradexplain.witnesses import autograd

HAS_CUDA = torch.cuda.is_available()
HAS_MPS = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
ACCELERATORS = (["cuda"] if HAS_CUDA else []) + (["mps"] if HAS_MPS else [])


def test_auto_prefers_cuda_then_mps_then_cpu(monkeypatch):
    monkeypatch.setattr(autograd, "available_devices", lambda: ["cpu", "cuda:0", "mps"])
    assert str(autograd.resolve_device("auto", "float64")) == "cuda:0"
    monkeypatch.setattr(autograd, "available_devices", lambda: ["cpu", "mps"])
    assert str(autograd.resolve_device("auto", "float32")) == "mps"
    assert str(autograd.resolve_device("auto", "float64")) == "cpu"  # MPS has no float64
    monkeypatch.setattr(autograd, "available_devices", lambda: ["cpu"])
    assert str(autograd.resolve_device("auto", "float64")) == "cpu"


def test_float64_on_mps_is_a_clear_message_not_a_crash(monkeypatch):
    monkeypatch.setattr(autograd, "available_devices", lambda: ["cpu", "mps"])
    with pytest.raises(DeviceError, match="MPS does not support float64; use --dtype float32"):
        autograd.resolve_device("mps", "float64")


def test_a_missing_cuda_index_names_the_available_devices(monkeypatch):
    monkeypatch.setattr(autograd, "available_devices", lambda: ["cpu", "cuda:0"])
    with pytest.raises(
        DeviceError,
        match=r"device 'cuda:3' is not available here; "
        r"available: cpu, cuda:0",
    ):
        autograd.resolve_device("cuda:3", "float64")


@pytest.mark.gpu
@pytest.mark.skipif(not ACCELERATORS, reason="needs a CUDA or MPS device")
@pytest.mark.parametrize("device", ACCELERATORS)
@pytest.mark.parametrize(
    ("expression", "values", "expected"), CASES, ids=[case[0] for case in CASES]
)
def test_core_table_on_the_accelerator(device, expression, values, expected):
    dtype = "float32" if device == "mps" else "float64"
    result = explain(expression, values, device=device, dtype=dtype)
    assert result.device.startswith(device)
    assert result.status is ExitStatus.AGREE, result.verdict()
    for name, want in expected.items():
        np.testing.assert_allclose(
            result.gradients[name].autograd,
            want,
            rtol=1e-5 if dtype == "float32" else 1e-12,
            atol=1e-6,
        )


@pytest.mark.gpu
@pytest.mark.skipif(not HAS_CUDA, reason="needs CUDA")
def test_seed_in_float32_on_cuda_and_auto():
    result = explain("sum(x**2)", x=[3, 4, 10], device="auto", dtype="float32")
    assert result.device.startswith("cuda")
    assert result.gradients["x"].autograd.tolist() == [6.0, 8.0, 20.0]
    assert result.status is ExitStatus.AGREE
