"""The autograd witness: the same tree as torch operations, then `backward()`.

Constants stay Python floats so torch records `x**2` as `PowBackward0`, as a notebook
would. While building, each operation whose derivative can fail (a kink or a pole)
records where its argument sits on the bad spot; `singular.py` turns that into words.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Any, Collection, Union

import numpy as np
import torch

from gradexplain.errors import DeviceError
from gradexplain.functions import FUNCTIONS
from gradexplain.tree import BinOp, Call, Compare, Const, Neg, Node, Num, Var
from gradexplain.values import Values

Operand = Union[float, torch.Tensor]
DTYPES = {"float64": torch.float64, "float32": torch.float32}
_HAZARDS: dict[str, tuple[tuple[str, Any], ...]] = {
    "relu": (("kink", lambda v: v == 0),),
    "abs": (("kink", lambda v: v == 0),),
    "sqrt": (("pole", lambda v: v == 0), ("domain", lambda v: v < 0)),
    "log": (("pole", lambda v: v == 0), ("domain", lambda v: v < 0)),
    "max": (("kink", lambda v: _ties(v, v.max())),),
    "min": (("kink", lambda v: _ties(v, v.min())),),
}


def _ties(values: np.ndarray, extreme: float) -> np.ndarray:
    """Elements tied for the largest (smallest) value; no tie, no kink."""
    at = values == extreme
    return at if np.count_nonzero(at) > 1 else np.zeros_like(at)


def _ties_along(values: np.ndarray, func: str, dim: int) -> np.ndarray:
    """Elements tied for the largest (smallest) value of their row (column), per row."""
    if values.ndim == 0:
        return np.zeros((), dtype=bool)
    extreme = (np.max if func == "max" else np.min)(values, axis=dim, keepdims=True)
    at = values == extreme
    return at & (np.count_nonzero(at, axis=dim, keepdims=True) > 1)


# max(X, dim=d) is torch.amax: the values only (torch.max's (values, indices) has no
# single tensor), and its gradient splits evenly among ties, as the full max() does.
_ALONG = {"max": "amax", "min": "amin"}
_COMPARISONS = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
                ">": operator.gt, ">=": operator.ge}
_OPERATORS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
              "**": operator.pow, "@": operator.matmul}


@dataclass
class Hazard:
    """Elements where an operation's derivative does not exist (kind: kink, pole, domain)."""

    node: Node
    kind: str
    mask: np.ndarray  # bool, shape (n,) or () for a scalar argument


@dataclass
class AutogradRun:
    """What torch computed: L, the leaf gradients, the output tensor and the hazards."""

    value: float
    gradients: dict[str, np.ndarray]
    output: torch.Tensor
    leaves: dict[str, torch.Tensor]
    hazards: list[Hazard] = field(default_factory=list)


def available_devices() -> list[str]:
    """Devices this torch can use here, for messages and for `auto`."""
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices += [f"cuda:{index}" for index in range(torch.cuda.device_count())]
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        devices.append("mps")
    return devices


def resolve_device(spec: str, dtype: str) -> torch.device:
    """Turn `--device` into a torch device, or explain which devices exist."""
    available = available_devices()
    if spec == "auto":
        spec = next((d for d in available if d.startswith("cuda")), None) \
            or ("mps" if "mps" in available and dtype != "float64" else "cpu")
    wanted = "cuda:0" if spec == "cuda" else spec
    if wanted not in available:
        raise DeviceError(f"device {spec!r} is not available here; available: "
                          f"{', '.join(available)}")
    if wanted == "mps" and dtype == "float64":
        raise DeviceError("MPS does not support float64; use --dtype float32 with "
                          "--device mps")
    return torch.device(wanted)


def run(tree: Node, values: dict[str, Values], device: torch.device, dtype: str,
        wrt: Collection[str] | None = None) -> AutogradRun:
    """Build the computation on `device`, call backward (ones for a vector result).

    Only the variables in `wrt` (default: all) require gradients; the others are data.
    """
    torch_dtype = DTYPES[dtype]
    leaves = {name: _leaf(value, torch_dtype, device, wrt is None or name in wrt)
              for name, value in values.items()}
    builder = _TorchBuilder(leaves, torch_dtype, device)
    output = builder.build(tree)
    if not isinstance(output, torch.Tensor) or not output.requires_grad:
        raise AssertionError("the expression does not depend on a variable")
    if output.dim() == 0:
        output.backward()
    else:
        output.backward(torch.ones_like(output))
    gradients = {name: _grad(leaf) for name, leaf in leaves.items() if leaf.requires_grad}
    value = float(output.detach().sum().double().cpu())
    return AutogradRun(value, gradients, output, leaves, builder.hazards)


def _leaf(value: Values, dtype: torch.dtype, device: torch.device,
          requires_grad: bool = True) -> torch.Tensor:
    flat = torch.frombuffer(value.data, dtype=torch.float64) if value.size else \
        torch.zeros(0, dtype=torch.float64)
    tensor = flat.reshape(value.shape).to(device=device, dtype=dtype).clone()
    return tensor.requires_grad_(requires_grad)


def _grad(leaf: torch.Tensor) -> np.ndarray:
    grad = leaf.grad if leaf.grad is not None else torch.zeros_like(leaf)
    return np.asarray(grad.detach().to("cpu", torch.float64).numpy())


class _TorchBuilder:
    """Walks our tree and applies the torch builder of each node."""

    def __init__(self, leaves: dict[str, torch.Tensor], dtype: torch.dtype,
                 device: torch.device) -> None:
        self.leaves = leaves
        self.dtype = dtype
        self.device = device
        self.hazards: list[Hazard] = []
        self.watching = True  # off under torch.func, whose tensors have no data to read

    def build(self, node: Node) -> Operand:
        if isinstance(node, Num):
            return node.value
        if isinstance(node, Const):
            return float(np.pi if node.name == "pi" else np.e)
        if isinstance(node, Var):
            return self.leaves[node.name]
        if isinstance(node, Neg):
            return -self.build(node.operand)
        if isinstance(node, BinOp):
            return self._binop(node)
        return self._call(node)

    def _binop(self, node: BinOp) -> Operand:
        left, right = self.build(node.left), self.build(node.right)
        if node.op == "/" and self.watching:
            self._watch(node, "pole", _values(right) == 0, left, right)
        if node.op == "**" and self.watching:
            self._watch_power(node, left, right)
        if not isinstance(left, torch.Tensor) and not isinstance(right, torch.Tensor):
            left = self._tensor(left)
        return _OPERATORS[node.op](left, right)  # type: ignore[no-any-return]

    def _call(self, node: Call) -> Operand:
        if node.func == "where":
            return self._where(node)
        arg = self.build(node.args[0])
        tensor = arg if isinstance(arg, torch.Tensor) else self._tensor(arg)
        if node.func == "T":
            return tensor.mT if tensor.dim() == 2 else tensor
        if node.func == "clamp":
            return self._clamp(node, tensor)
        if len(node.args) == 2:  # sum(X, dim=d); the parser made d an integer literal
            return self._along(node, tensor, int(node.args[1].value))  # type: ignore
        for kind, test in _HAZARDS.get(node.func, ()) if self.watching else ():
            self._watch(node, kind, test(_values(tensor)), tensor)
        return FUNCTIONS[node.func].torch(torch, tensor)  # type: ignore[no-any-return]

    def _along(self, node: Call, tensor: torch.Tensor, dim: int) -> torch.Tensor:
        """sum/mean/prod/softmax/log_softmax/max/min along one dim; ties in a row kink."""
        if node.func in _ALONG and self.watching:
            self._watch(node, "kink", _ties_along(_values(tensor), node.func, dim), tensor)
        function = getattr(torch, _ALONG.get(node.func, node.func))
        return function(tensor, dim=dim)  # type: ignore[no-any-return]

    def _clamp(self, node: Call, tensor: torch.Tensor) -> torch.Tensor:
        """torch.clamp with constant bounds; each bound is a kink (torch's slope there: 1)."""
        lo, hi = (float(b.value) for b in node.args[1:])  # type: ignore[union-attr]
        if self.watching:
            values = _values(tensor)
            self._watch(node, "kink", (values == lo) | (values == hi), tensor)
        return torch.clamp(tensor, lo, hi)

    def _where(self, node: Call) -> torch.Tensor:
        """torch.where(cond, a, b); the condition compares data, never a gradient path."""
        compare, if_true, if_false = node.args
        assert isinstance(compare, Compare)
        left, right = self.build(compare.left), self.build(compare.right)
        condition = _COMPARISONS[compare.op](self._as_tensor(left), self._as_tensor(right))
        return torch.where(condition, self._as_tensor(self.build(if_true)),
                           self._as_tensor(self.build(if_false)))

    def _as_tensor(self, value: Operand) -> torch.Tensor:
        return value if isinstance(value, torch.Tensor) else self._tensor(value)

    def _watch_power(self, node: BinOp, base: Operand, exponent: Operand) -> None:
        base_values = _values(base)
        if isinstance(exponent, torch.Tensor):
            self._watch(node, "domain", base_values <= 0, base, exponent)
            return
        if exponent != int(exponent):
            self._watch(node, "domain", base_values < 0, base)
        if exponent < 1 and exponent != 0:
            self._watch(node, "pole", base_values == 0, base)

    def _watch(self, node: Node, kind: str, mask: np.ndarray, *operands: Operand) -> None:
        """Record a hazard only where it touches a differentiated value."""
        touches = any(isinstance(op, torch.Tensor) and op.requires_grad for op in operands)
        if touches and np.any(mask):
            self.hazards.append(Hazard(node, kind, np.asarray(mask)))

    def _tensor(self, value: float) -> torch.Tensor:
        return torch.tensor(value, dtype=self.dtype, device=self.device)


def _values(operand: Operand) -> np.ndarray:
    if isinstance(operand, torch.Tensor):
        return np.asarray(operand.detach().to("cpu", torch.float64).numpy())
    return np.asarray(operand, dtype=np.float64)
