"""The third witness: float64 central finite differences, from our tree, no autograd.

Per element, where that is affordable (at most MAX_FD_ELEMENTS nudged elements): each
element is nudged by ±eps (eps = 1e-6, `torch.autograd.gradcheck`'s) and the whole
expression is evaluated forward in float64; the nudges go through `torch.vmap` in
batches, one forward pass per batch rather than two per element. A vector result is
summed, as backward(ones) does. The batches are cache-sized (BATCH_NUMBERS) and run on
one torch thread (FD_THREADS): n = 10**4 is 2*10**8 evaluations of the expression, bound
by memory traffic and, with several threads, by their synchronisation on every small op.

Beyond that, per-element differences would cost O(n**2), so --check-fd does what
gradcheck's `fast_mode` does: for DIRECTIONS random directions u (float64, N(0, 1) per
element, seeded), it compares u . (autograd's gradient) with (L(x + eps u) - L(x - eps u))
/ 2 eps: two forward passes per direction, so it works at 10**6 elements. Agreement uses
gradcheck's numbers in `closeness.compare`'s rule either way, with L's round-off divided
by 2*eps as the floor; `mode` and `reason` say which ran and why.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from gradexplain.ir.limits import MAX_FD_ELEMENTS
from gradexplain.ir.tree import Node, variables
from gradexplain.result import Tolerance
from gradexplain.witnesses import autograd, closeness

if TYPE_CHECKING:
    from gradexplain.ir.values import Values
    from gradexplain.result import Explanation

EPS = 1e-6  # gradcheck's eps
RTOL = 1e-3  # gradcheck's rtol
ATOL = 1e-5  # gradcheck's atol
MAX_LISTED = 20  # matrix path: FD values printed in full up to this many elements
DIRECTIONS = 8  # random directions of the directional mode
SEED = 0  # ... drawn from torch.Generator().manual_seed(SEED): the same on every run
BATCH_NUMBERS = 500_000  # nudged copies of the inputs per vmap batch (4 MB of float64)
FD_THREADS = 1  # torch threads while the per-element batches run (restored after)
PER_ELEMENT, DIRECTIONAL = "per element", "directional"

Loss = Callable[[torch.Tensor], torch.Tensor]  # L at one value of a variable


@dataclass(frozen=True)
class FiniteDifferences:
    """dL/d(name) by central differences, and whether autograd lies within tolerance.

    Per element, `values` is shaped like the variable; in the directional mode it holds
    one directional derivative per random direction, and `autograd` the matching u . grad.
    """

    name: str
    values: np.ndarray  # float64
    autograd: np.ndarray  # the run's autograd gradient (float32 stays float32's values)
    close: np.ndarray  # bool per element (per direction)
    max_abs_diff: float
    eps: float = EPS
    rtol: float = RTOL
    atol: float = ATOL
    mode: str = PER_ELEMENT
    reason: str = ""

    @property
    def agree(self) -> bool:
        return bool(self.close.all())


def choose_mode(nudged: int, size: int) -> tuple[str, str]:
    """Per element while the nudged elements are affordable, else directional; why."""
    if nudged <= MAX_FD_ELEMENTS or size == 1:
        return PER_ELEMENT, (
            f"{nudged:,} nudged elements <= MAX_FD_ELEMENTS = "
            f"{MAX_FD_ELEMENTS:,}: each nudged by ±eps, in vmap batches"
        )
    return DIRECTIONAL, (
        f"{nudged:,} nudged elements > MAX_FD_ELEMENTS = "
        f"{MAX_FD_ELEMENTS:,}: per-element differences would cost "
        f"O(n**2), so {DIRECTIONS} random directions u, u . grad against "
        f"(L(x+eps u) - L(x-eps u))/2eps, as gradcheck's fast_mode"
    )


def per_element(loss: Loss, leaf: torch.Tensor, largest: int) -> np.ndarray:
    """(L(x + eps e_j) - L(x - eps e_j)) / 2 eps for every j, batched through vmap; a
    batch holds about BATCH_NUMBERS numbers of the `largest` input's size."""
    flat = leaf.reshape(-1)
    size = flat.numel()
    batch = max(1, min(size, BATCH_NUMBERS // max(size, largest, 1) // 2))
    batched = torch.vmap(lambda point: loss(point.reshape(leaf.shape)))
    out = np.empty(size, dtype=np.float64)
    buffer = torch.empty(2 * batch, size, dtype=torch.float64)
    with torch.no_grad(), _threads(FD_THREADS):
        for start in range(0, size, batch):
            stop = min(size, start + batch)
            rows = torch.arange(stop - start)
            points = buffer[: 2 * (stop - start)]
            points.copy_(flat.expand(2 * (stop - start), size))
            points[rows, start + rows] += EPS
            points[stop - start + rows, start + rows] -= EPS
            try:
                found = batched(points)
            except RuntimeError:  # an op vmap cannot batch: one point at a time
                found = torch.stack([loss(point.reshape(leaf.shape)) for point in points])
            plus, minus = found[: stop - start], found[stop - start :]
            out[start:stop] = ((plus - minus) / (2 * EPS)).numpy()
    return out.reshape(tuple(leaf.shape))


@contextmanager
def _threads(count: int) -> Iterator[None]:
    """torch's intra-op thread count set to `count` for a block, then restored."""
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def directional(
    loss: Loss, leaf: torch.Tensor, grad: np.ndarray, generator: torch.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(central differences along u, u . grad) for DIRECTIONS random u."""
    grad64 = torch.as_tensor(np.asarray(grad, dtype=np.float64)).reshape(leaf.shape)
    fd, dot = np.empty(DIRECTIONS), np.empty(DIRECTIONS)
    with torch.no_grad():
        for k in range(DIRECTIONS):
            u = torch.randn(leaf.shape, generator=generator, dtype=torch.float64)
            fd[k] = float(loss(leaf + EPS * u) - loss(leaf - EPS * u)) / (2 * EPS)
            dot[k] = float((u * grad64).sum())
    return fd, dot


def _leaves(tree: Node, values: Mapping[str, Values]) -> dict[str, torch.Tensor]:
    return {
        name: autograd.leaf(values[name], torch.float64, torch.device("cpu")).detach()
        for name in variables(tree)
    }


def _loss_of(tree: Node, leaves: dict[str, torch.Tensor], name: str) -> Loss:
    """L as a function of one variable's value, the others fixed; forward only."""

    def loss(value: torch.Tensor) -> torch.Tensor:
        builder = autograd.TorchBuilder({**leaves, name: value}, torch.float64, torch.device("cpu"))
        builder.watching = False  # no hazard masks: vmap cannot batch them
        return torch.as_tensor(builder.build(tree), dtype=torch.float64).sum()

    return loss


def compare(
    tree: Node, values: Mapping[str, Values], result: Explanation
) -> dict[str, FiniteDifferences]:
    """FD against the run's autograd gradient, with gradcheck's rule, for the variables
    that have one (`result.gradients`), each in the mode its size allows."""
    chosen = list(result.gradients)
    nudged = sum(values[name].size for name in chosen)
    leaves = _leaves(tree, values)
    largest = max(leaf.numel() for leaf in leaves.values())
    generator = torch.Generator().manual_seed(SEED)
    tolerance = Tolerance(
        RTOL,
        ATOL,
        max(
            closeness.roundoff_floor(result.dtype),
            closeness.finite_difference_floor(result.value, EPS),
        ),
    )
    compared = {}
    for name in chosen:
        mode, reason = choose_mode(nudged, values[name].size)
        loss = _loss_of(tree, leaves, name)
        grad = np.asarray(result.gradients[name].autograd, dtype=np.float64)
        if mode == PER_ELEMENT:
            fd = per_element(loss, leaves[name], largest)
            grad = grad.reshape(fd.shape)
        else:
            fd, grad = directional(loss, leaves[name], grad, generator)
        found = closeness.compare(grad, fd, tolerance, reference=grad)
        compared[name] = FiniteDifferences(
            name, fd, grad, found.close, found.max_abs_diff, mode=mode, reason=reason
        )
    return compared


def listing(fd: FiniteDifferences) -> str:
    from gradexplain.witnesses.vjp import listing as nested

    if fd.mode == DIRECTIONAL:
        return (
            f"  along {len(fd.values)} random directions u: finite differences "
            f"{nested(fd.values)}; u . autograd {nested(fd.autograd)}"
        )
    shown = (
        nested(fd.values)
        if fd.values.size <= MAX_LISTED
        else f"{fd.values.size} elements, each in --format json"
    )
    line = f"  dL/d{fd.name} by finite differences: {shown}"
    wrong = [index for index in np.ndindex(fd.close.shape) if not fd.close[index]]
    if wrong:
        named = ", ".join(f"{fd.name}[{','.join(map(str, i))}]" for i in wrong[:MAX_LISTED])
        line += f"; differs at {named}" + (" ..." if len(wrong) > MAX_LISTED else "")
    return line
