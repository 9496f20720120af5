"""explain() takes what PyTorch users hold (issue 14, item 7): a float32 tensor of the
literals a list holds gives the list's result; bool, sparse and lists of tensors work;
a tensor with no values is a named error."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gradexplain import explain
from gradexplain.errors import ValuesError
from gradexplain.ir import held

LITERALS = [0.1, -0.2, 0.3]


def _same(held_result, listed) -> None:
    for name, gradient in listed.gradients.items():
        other = held_result.gradients[name]
        np.testing.assert_array_equal(other.point, gradient.point)
        np.testing.assert_array_equal(other.autograd, gradient.autograd)
        np.testing.assert_array_equal(other.symbolic, gradient.symbolic)


@pytest.mark.parametrize(
    "make",
    [
        lambda: torch.tensor(LITERALS),
        lambda: torch.tensor(LITERALS, requires_grad=True),
        lambda: torch.tensor(LITERALS, dtype=torch.float16),
        lambda: torch.tensor(LITERALS, dtype=torch.bfloat16),
        lambda: np.array(LITERALS, dtype=np.float32),
        lambda: np.array(LITERALS, dtype=np.float16),
        lambda: [np.float32(v) for v in LITERALS],
        lambda: [torch.tensor(v) for v in LITERALS],
    ],
    ids=["f32", "f32 requires_grad", "f16", "bf16", "np f32", "np f16", "np scalars", "0-d list"],
)
def test_narrow_floats_read_as_the_decimals_they_were_made_from(make):
    """torch.tensor([0.1]) holds 0.100000001490116...; the table shows 0.1 and the
    gradient is the list's (not 0.1000000015's)."""
    listed = explain("sum(sigmoid(w)*w)", w=LITERALS)
    _same(explain("sum(sigmoid(w)*w)", w=make()), listed)


def test_a_float32_matrix_and_scalar_too():
    listed = explain("sum(X@w) + b", X=[[0.1, 0.2], [0.3, 0.7]], w=[1.1, 2.3], b=0.05)
    found = explain(
        "sum(X@w) + b",
        X=torch.tensor([[0.1, 0.2], [0.3, 0.7]]),
        w=np.array([1.1, 2.3], dtype=np.float32),
        b=np.float32(0.05),
    )
    _same(found, listed)


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_shortest_decimals_round_trip_and_match_numpys(dtype):
    rng = np.random.default_rng(0)
    normal = rng.standard_normal(20_000).astype(dtype)
    read = np.array(held.plain("x", normal))
    np.testing.assert_array_equal(read.astype(dtype), normal)  # the very same values
    numpys = np.array([float(np.format_float_scientific(v, unique=True)) for v in normal])
    np.testing.assert_array_equal(read, numpys)  # numpy's shortest repr, as a float64
    extreme = np.array([1e-30, -3.3e29, 1e-40, 3e38, 6.1e-5], dtype=np.float32)
    np.testing.assert_array_equal(np.array(held.plain("x", extreme)).astype(np.float32), extreme)


def test_bfloat16_reads_the_shortest_decimal_that_rounds_to_it():
    values = torch.tensor([0.1, 1 / 3, 3.14159, 123.4], dtype=torch.bfloat16)
    read = held.plain("x", values)
    assert read == [0.1, 0.334, 3.14, 123.5]
    assert torch.equal(torch.tensor(read, dtype=torch.bfloat16), values)


@pytest.mark.parametrize(
    "mask",
    [torch.tensor([True, False, True]), np.array([True, False, True])],
    ids=["torch", "numpy"],
)
def test_bool_tensors_and_arrays_count_as_0_and_1(mask):
    listed = explain("sum(w*m)", w=[1.5, 2.0, 3.0], m=[1, 0, 1], wrt="w")
    _same(explain("sum(w*m)", w=[1.5, 2.0, 3.0], m=mask, wrt="w"), listed)


def test_rows_of_tensors_sparse_and_non_contiguous_tensors():
    listed = explain("sum(X**2)", X=[[1.0, 2.0], [3.0, 4.0]])
    rows = [torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0])]
    _same(explain("sum(X**2)", X=rows), listed)
    _same(explain("sum(X**2)", X=torch.tensor([[1.0, 2.0], [3.0, 4.0]]).to_sparse()), listed)
    _same(explain("sum(X**2)", X=torch.tensor([[1.0, 3.0], [2.0, 4.0]]).T), listed)


def test_a_meta_tensor_is_a_named_error():
    with pytest.raises(ValuesError, match="meta device holds no values"):
        explain("sum(x)", x=torch.empty(3, device="meta"))


def test_the_held_tensor_is_left_as_it_was():
    x = torch.tensor(LITERALS, requires_grad=True)
    explain("sum(x**2)", x=x)
    assert x.grad is None and x.requires_grad and x.dtype == torch.float32
