"""The autograd witness: the same tree as torch operations, then `backward()`.

Constants stay Python floats so torch records `x**2` as `PowBackward0`, as a notebook
would. While building, each operation whose derivative can fail (a kink or a pole, from its
registry entry) records where its argument sits on the bad spot; `story.py` turns that
into words.
"""

from __future__ import annotations

import operator
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

import numpy as np
import torch

from gradexplain.errors import DeviceError
from gradexplain.ir.tree import BinOp, Call, Const, Neg, Node, Num, Var
from gradexplain.ir.values import Values
from gradexplain.ops import OPS

Operand = float | torch.Tensor
DTYPES = {"float64": torch.float64, "float32": torch.float32}
_OPERATORS = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "**": operator.pow,
    "@": operator.matmul,
}


@dataclass
class Hazard:
    """Elements where an operation's derivative does not exist (kind: kink, pole, domain)."""

    node: Node
    kind: str
    mask: np.ndarray  # bool, shape (n,) or () for a scalar argument
    reason: str | None = None  # when the op's kind alone does not say why (b**p)


# Why b**p with a variable exponent p has no derivative, where the kind alone does not say.
NEGATIVE_BASE = (
    "a negative base b has no real derivative in the exponent p: b**p is real "
    "only at integer p, and d(b**p)/dp = b**p*log(b) needs the log of a "
    "negative number"
)
ZERO_TO_ZERO = (
    "0**p jumps from 1 at p = 0 to 0 for p > 0 (and is infinite for p < 0), so "
    "it has no derivative in p at p = 0"
)
ZERO_TO_NEGATIVE = "0**p is infinite for p < 0"


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
        spec = next((d for d in available if d.startswith("cuda")), None) or (
            "mps" if "mps" in available and dtype != "float64" else "cpu"
        )
    wanted = "cuda:0" if spec == "cuda" else spec
    if wanted not in available:
        raise DeviceError(
            f"device {spec!r} is not available here; available: {', '.join(available)}"
        )
    if wanted == "mps" and dtype == "float64":
        raise DeviceError("MPS does not support float64; use --dtype float32 with --device mps")
    return torch.device(wanted)


def run(
    tree: Node,
    values: Mapping[str, Values],
    device: torch.device,
    dtype: str,
    wrt: Collection[str] | None = None,
) -> AutogradRun:
    """Build the computation on `device`, call backward (ones for a vector result).

    Only the variables in `wrt` (default: all) require gradients; the others are data.
    """
    torch_dtype = DTYPES[dtype]
    leaves = {
        name: leaf(value, torch_dtype, device, wrt is None or name in wrt)
        for name, value in values.items()
    }
    builder = TorchBuilder(leaves, torch_dtype, device)
    output = builder.build(tree)
    if not isinstance(output, torch.Tensor) or not output.requires_grad:
        raise AssertionError("the expression does not depend on a variable")
    if output.dim() == 0:  # a gradient argument costs torch's first backward() a 0.04 s import
        output.backward()
    else:
        output.backward(torch.ones_like(output))
    gradients = {name: grad_of(leaf) for name, leaf in leaves.items() if leaf.requires_grad}
    value = float(output.detach().sum().double().cpu())
    return AutogradRun(value, gradients, output, leaves, builder.hazards)


def leaf(
    value: Values, dtype: torch.dtype, device: torch.device, requires_grad: bool = True
) -> torch.Tensor:
    flat = (
        torch.frombuffer(value.data, dtype=torch.float64)
        if value.size
        else torch.zeros(0, dtype=torch.float64)
    )
    tensor = flat.reshape(value.shape).to(device=device, dtype=dtype).clone()
    return tensor.requires_grad_(requires_grad)


def grad_of(leaf: torch.Tensor) -> np.ndarray:
    return to_numpy(leaf.grad if leaf.grad is not None else torch.zeros_like(leaf))


class TorchBuilder:
    """Walks our tree and applies the torch builder of each node."""

    def __init__(
        self, leaves: dict[str, torch.Tensor], dtype: torch.dtype, device: torch.device
    ) -> None:
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
        assert isinstance(node, Call)  # a comparison only in where(), whose entry reads it
        return self._call(node)

    def _binop(self, node: BinOp) -> Operand:
        left, right = self.build(node.left), self.build(node.right)
        if node.op == "/" and self.watching:
            self._watch(node, "pole", to_numpy(right) == 0, left, right)
        if node.op == "**" and self.watching:
            self._watch_power(node, left, right)
        if not isinstance(left, torch.Tensor) and not isinstance(right, torch.Tensor):
            left = self._tensor(left)
        return _OPERATORS[node.op](left, right)  # type: ignore[no-any-return]

    def _call(self, node: Call) -> Operand:
        op = OPS[node.func]
        args = op.torch_args(node)
        watching, self.watching = self.watching, False  # no gradient flows into a comparison
        sides = [self.as_tensor(self.build(arg)) for arg in args[: op.compared]]
        self.watching = watching
        tensors = [*sides, *(self.as_tensor(self.build(arg)) for arg in args[op.compared :])]
        if self.watching and op.may_fail:
            values = [to_numpy(tensor) for tensor in tensors]
            for kind, mask in op.masks(node, values):
                self._watch(node, kind, mask, *(sides or tensors))
        result: Operand = op.apply(torch, tensors, node)
        return result

    def as_tensor(self, value: Operand) -> torch.Tensor:
        return value if isinstance(value, torch.Tensor) else self._tensor(value)

    def _watch_power(self, node: BinOp, base: Operand, exponent: Operand) -> None:
        """Where b**p has no derivative, and why, element by element: each case is
        recorded only when the operand it differentiates is differentiated."""
        b = to_numpy(base)
        if not isinstance(exponent, torch.Tensor):
            if exponent != int(exponent):
                self._watch(node, "domain", b < 0, base)
            if exponent < 1 and exponent != 0:
                self._watch(node, "pole", b == 0, base)
            return
        b, p = np.broadcast_arrays(b, to_numpy(exponent))
        integer = p == np.round(p)
        self._watch(node, "domain", (b < 0) & ~integer, base, exponent)
        self._watch(node, "domain", (b < 0) & integer, exponent, reason=NEGATIVE_BASE)
        self._watch(node, "domain", (b == 0) & (p == 0), exponent, reason=ZERO_TO_ZERO)
        self._watch(node, "pole", (b == 0) & (p < 0), base, exponent, reason=ZERO_TO_NEGATIVE)
        self._watch(node, "pole", (b == 0) & (p > 0) & (p < 1), base)

    def _watch(
        self, node: Node, kind: str, mask: np.ndarray, *operands: Operand, reason: str | None = None
    ) -> None:
        """Record a hazard only where it touches a differentiated value."""
        touches = any(isinstance(op, torch.Tensor) and op.requires_grad for op in operands)
        if touches and np.any(mask):
            self.hazards.append(Hazard(node, kind, np.array(mask), reason))

    def _tensor(self, value: float) -> torch.Tensor:
        return torch.tensor(value, dtype=self.dtype, device=self.device)


def to_numpy(operand: Operand) -> np.ndarray:
    """A tensor's (or a float's) values as a float64 numpy array on the CPU."""
    if isinstance(operand, torch.Tensor):
        return np.asarray(operand.detach().to("cpu", torch.float64).numpy())
    return np.asarray(operand, dtype=np.float64)
