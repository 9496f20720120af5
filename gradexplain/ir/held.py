"""What PyTorch users hold, as Python numbers: a torch tensor (any dtype, device, layout
or requires_grad; 0-d too) or a numpy array or scalar becomes a float or nested lists, so
`explain()` gives the same result as it does for the list.

Duck-typed: neither library is imported here; numpy is loaded already when one of them
is given (torch's `.numpy()` makes numpy arrays).

A float32, float16 or bfloat16 value is read as the shortest decimal that rounds to it in
its own dtype: `torch.tensor([0.1])` holds 0.100000001490116..., the float32 nearest 0.1,
and is read as 0.1, as the list `[0.1]` is, so the table shows 0.1 and the gradient is the
list's, not 0.1000000015's. The run then computes in float64 (or `dtype=`), as for a list.
Bool tensors and arrays count as 0 and 1, as in PyTorch's arithmetic.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gradexplain.errors import ValuesError

_SHORT_FLOATS = 8  # bytes: a float dtype narrower than float64 is read at its precision


def plain(where: str, numbers: object) -> object:
    """`numbers` with each tensor or array in it (also inside a list) as Python numbers."""
    if _is_tensor(numbers):
        return _from_tensor(where, numbers)
    if _is_array(numbers):
        return _from_array(where, numbers)
    if isinstance(numbers, (list, tuple)) and any(map(_is_held, numbers)):
        return [plain(where, item) for item in numbers]  # [tensor(1.), tensor(2.)]
    return numbers


def _is_tensor(value: object) -> bool:
    return hasattr(value, "detach") and hasattr(value, "cpu") and hasattr(value, "is_meta")


def _is_array(value: object) -> bool:
    return hasattr(value, "ndim") and hasattr(value, "tolist") and hasattr(value, "dtype")


def _is_held(value: object) -> bool:
    return _is_tensor(value) or _is_array(value)


def _from_tensor(where: str, held: Any) -> object:
    tensor = held.detach()
    if tensor.is_meta:
        raise ValuesError(f"{where}: a tensor on the meta device holds no values")
    if tensor.is_complex():
        raise ValuesError(f"{where}: complex tensors are not supported")
    if str(tensor.layout) != "torch.strided":  # sparse COO, CSR...: the same numbers
        tensor = tensor.to_dense()
    tensor = tensor.cpu()
    if tensor.is_floating_point() and tensor.element_size() < _SHORT_FLOATS:
        exact = tensor.double().numpy()
        _check_rank(where, exact.ndim)
        return _shortest(exact, lambda a: tensor.new_tensor(a).double().numpy()).tolist()
    return _from_array(where, tensor.double().numpy())


def _from_array(where: str, array: Any) -> object:
    import numpy as np

    array = np.asarray(array)  # a numpy scalar (np.float32(0.1)) as a 0-d array
    if array.dtype.kind not in "biuf":
        raise ValuesError(f"{where}: an array of dtype {array.dtype} is not numbers")
    _check_rank(where, array.ndim)
    exact = array.astype(np.float64)
    if array.dtype.kind == "f" and array.dtype.itemsize < _SHORT_FLOATS:
        exact = _shortest(exact, lambda a: a.astype(array.dtype).astype(np.float64))
    return exact.tolist()  # a 0-d array gives its Python number


def _check_rank(where: str, ndim: int) -> None:
    if ndim > 2:
        raise ValuesError(f"{where}: a {ndim}-D array; give a number, a vector or a matrix")


def _shortest(exact: Any, round_trip: Callable[[Any], Any]) -> Any:
    """Each element as the float64 of the shortest decimal (1 to 17 significant digits)
    that `round_trip` (to the source dtype and back) maps to the element itself."""
    import numpy as np

    value_of = exact.reshape(-1)  # 0-d too
    out = value_of.copy()
    todo = np.isfinite(value_of) & (value_of != 0)
    for digits in range(1, 18):
        if not todo.any():
            break
        where = np.flatnonzero(todo)
        value = value_of[where]
        power = digits - 1 - np.floor(np.log10(np.abs(value)))  # 10**power * value ~ digits
        exact_power = np.abs(power) <= 22  # 10.0**power is exact: the candidate is too
        up, down = np.where(exact_power, np.maximum(power, 0), 0), np.maximum(-power, 0)
        down = np.where(exact_power, down, 0)
        candidate = np.round(value * 10.0**up / 10.0**down) / 10.0**up * 10.0**down
        with np.errstate(over="ignore"):  # 7e4 is inf in float16: not found, go on
            found = (round_trip(candidate) == value) & exact_power
        out[where[found]] = candidate[found]
        todo[where[found]] = False
    for index in np.flatnonzero(todo):  # beyond 1e+-22, where a power of ten is inexact
        out[index] = next(
            float(text)
            for text in (f"{value_of[index]:.{digits}g}" for digits in range(1, 18))
            if round_trip(np.array([float(text)]))[0] == value_of[index]
        )
    return out.reshape(exact.shape)
