"""Issue 15's rows: matrices, Hessians, Jacobians and --check-fd at the sizes a learner's
model has, each against its baseline in the same run (`run.py` times and prints them).

The bare scripts import torch (not SymPy) and read the same text files the way a short
script would (`float()` over `str.split`), then print the same numbers as JSON.
"""

from __future__ import annotations

import math
import statistics
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np

READ = """\
import json, sys
import torch
def read(path, rows=None):
    with open(path) as f:
        t = torch.tensor([float(v) for v in f.read().replace(",", " ").split()],
                         dtype=torch.float64)
    return (t.reshape(rows, -1) if rows else t).requires_grad_(True)
"""

BARE_MATMUL = (
    READ
    + """\
X = read(sys.argv[1], int(sys.argv[2]))
(X @ X).sum().backward()
print(json.dumps(X.grad.tolist()))
"""
)

BARE_LINEAR = (
    READ
    + """\
X, w, y = read(sys.argv[1], int(sys.argv[2])), read(sys.argv[3]), read(sys.argv[4])
b = torch.tensor(0.1, dtype=torch.float64, requires_grad=True)
((torch.sigmoid(X @ w + b) - y) ** 2).mean().backward()
print(json.dumps({"w": w.grad.tolist(), "b": b.grad.item()}))
"""
)

BARE_SOFTMAX_CE = (
    READ
    + """\
rows = int(sys.argv[2])
X, W, b, Y = read(sys.argv[1], rows), read(sys.argv[3], 784), read(sys.argv[4]), \\
    read(sys.argv[5], rows)
(-(torch.log_softmax(X @ W + b, dim=1) * Y).sum(dim=1).mean()).backward()
print(json.dumps({"W": W.grad.tolist(), "b": b.grad.tolist()}))
"""
)

BARE_HESSIAN = (
    READ
    + """\
x = read(sys.argv[1]).detach()
f = lambda t: (torch.softmax(t, 0) * torch.log_softmax(t, 0)).sum()
print(json.dumps(torch.func.hessian(f)(x).tolist()))
"""
)

BARE_JACOBIAN = (
    READ
    + """\
x = read(sys.argv[1]).detach()
print(json.dumps(torch.func.jacrev(lambda t: torch.softmax(t, 0))(x).tolist()))
"""
)

BARE_JACOBIAN_FILE = (
    READ
    + """\
x = read(sys.argv[1]).detach()
with open(sys.argv[2], "w") as f:
    json.dump(torch.func.jacrev(lambda t: torch.softmax(t, 0))(x).tolist(), f)
"""
)

# x[idx]: torch's backward of indexing is a scatter-add (index_put_ with accumulate).
BARE_INDEX = (
    READ
    + """\
x, idx = read(sys.argv[1]), read(sys.argv[2]).detach().long()
torch.exp(x[idx]).sum().backward()
print(json.dumps(x.grad.tolist()))
"""
)

# In one interpreter, imports outside the clock: explain_values() on X of side n against
# torch's own forward and backward of sum(X@X), median of `repeats`, sizes interleaved.
GROWTH = """\
import json, sys, time
from array import array
import numpy, torch, sympy
from gradexplain.api import explain_values
from gradexplain.ir.values import Values
sizes, repeats = json.loads(sys.argv[1]), int(sys.argv[2])
rng = numpy.random.default_rng(0)
data = {n: rng.standard_normal((n, n)) for n in sizes}
explain_values("sum(X@X)", {"X": Values("X", array("d", data[sizes[0]].ravel()), (sizes[0],) * 2)})
ours, bare = {n: [] for n in sizes}, {n: [] for n in sizes}
for round_ in range(repeats):
    for n in (sizes if round_ % 2 == 0 else sizes[::-1]):
        values = {"X": Values("X", array("d", data[n].ravel()), (n, n))}
        start = time.perf_counter()
        assert explain_values("sum(X@X)", values).gradients["X"].agree
        ours[n].append(time.perf_counter() - start)
        X = torch.tensor(data[n], requires_grad=True)
        start = time.perf_counter()
        (X @ X).sum().backward()
        bare[n].append(time.perf_counter() - start)
print(json.dumps({"ours": ours, "bare": bare}))
"""


def write_matrix(
    path: Path, rows: int, columns: int, seed: int, scale: float = 1.0, one_hot: bool = False
) -> None:
    rng = np.random.default_rng(seed)
    if one_hot:
        matrix = np.eye(columns)[rng.integers(0, columns, rows)]
    else:
        matrix = rng.standard_normal((rows, columns)) * scale
    if columns == 1:
        path.write_text("\n".join(map(repr, matrix[:, 0].tolist())) + "\n", encoding="utf-8")
        return
    path.write_text(
        "\n".join(",".join(map(repr, row)) for row in matrix.tolist()) + "\n", encoding="utf-8"
    )


def steps(
    folder: Path,
    quick: bool,
    small: int,
    large: int,
    ours: list[str],
    py: str,
    compare: Callable[..., object],
    row: Callable[..., object],
    label: Callable[[int], str],
) -> list[tuple[str, Callable[[], object]]]:
    """(key, step) for each issue-15 row; `run.py --only KEY` picks among them."""
    side = 300 if quick else 1000
    rows = 2000 if quick else 10_000
    n_small = 300 if quick else 1000
    fd_sizes = (10**3, 10**5) if quick else (10**4, 10**6)
    index_size = 5_000 if quick else 10**6  # 5,000: what the idx-by-x evaluation could reach
    scripts = {}
    for name, text in (
        ("matmul", BARE_MATMUL),
        ("linear", BARE_LINEAR),
        ("softmax_ce", BARE_SOFTMAX_CE),
        ("hessian", BARE_HESSIAN),
        ("jacobian", BARE_JACOBIAN),
        ("jacobian_file", BARE_JACOBIAN_FILE),
        ("index", BARE_INDEX),
    ):
        scripts[name] = folder / f"bare_{name}.py"
        scripts[name].write_text(text, encoding="utf-8")
    files: dict[str, Path] = {}

    def made(name: str, *shape: int, **options: object) -> str:
        """The file, written on first use, so --only writes only what it needs."""
        if name not in files:
            files[name] = folder / name
            write_matrix(files[name], *shape, **options)  # type: ignore[arg-type]
        return str(files[name])

    def matmul() -> object:
        X = made("X.csv", side, side, 11)
        return compare(
            f"sum(X@X), X {side}x{side}, json vs bare torch",
            [*ours, "sum(X@X)", "--X", f"@{X}", "--format", "json"],
            [py, str(scripts["matmul"]), X, str(side)],
            large,
            1.5,
            1.5,
        )

    def linear() -> object:
        X, w, y = (
            made("Xl.csv", rows, 784, 12),
            made("w.txt", 784, 1, 13, scale=0.05),
            made("y.txt", rows, 1, 14),
        )
        return compare(
            f"mean((sigmoid(X@w + b) - y)**2), X {rows}x784, --wrt w,b, json vs bare",
            [
                *ours,
                "mean((sigmoid(X@w + b) - y)**2)",
                "--X",
                f"@{X}",
                "--w",
                f"@{w}",
                "--b",
                "0.1",
                "--y",
                f"@{y}",
                "--wrt",
                "w,b",
                "--format",
                "json",
            ],
            [py, str(scripts["linear"]), X, str(rows), w, y],
            large,
            1.5,
        )

    def softmax_ce() -> object:
        X, W = made("Xl.csv", rows, 784, 12), made("W.csv", 784, 10, 15, scale=0.05)
        b, Y = made("b.txt", 10, 1, 16, scale=0.05), made("Y.csv", rows, 10, 17, one_hot=True)
        return compare(
            f"softmax cross-entropy, X {rows}x784, W 784x10, --wrt W,b, json vs bare",
            [
                *ours,
                "-mean(sum(log_softmax(X@W + b, dim=1) * Y, dim=1))",
                "--X",
                f"@{X}",
                "--W",
                f"@{W}",
                "--b",
                f"@{b}",
                "--Y",
                f"@{Y}",
                "--wrt",
                "W,b",
                "--format",
                "json",
            ],
            [py, str(scripts["softmax_ce"]), X, str(rows), W, b, Y],
            large,
            2.0,
        )

    def hessian() -> object:
        x = made("xh.txt", n_small, 1, 18)
        return compare(
            f"--hessian sum(softmax(x)*log_softmax(x)), n = {n_small}, json vs "
            f"bare torch.func.hessian",
            [
                *ours,
                "sum(softmax(x)*log_softmax(x))",
                "--x",
                f"@{x}",
                "--hessian",
                "--format",
                "json",
            ],
            [py, str(scripts["hessian"]), x],
            large,
            2.0,
        )

    def check_fd(n: int) -> Callable[[], object]:
        def step() -> object:
            x = made(f"xfd{n}.txt", n, 1, 19)
            plain = [*ours, "sum(tanh(x)*exp(x))", "--x", f"@{x}", "--format", "json"]
            return compare(
                f"--check-fd sum(tanh(x)*exp(x)), n = {label(n)}, vs without",
                [*plain, "--check-fd"],
                plain,
                large,
                2.0,
            )

        return step

    def jacobian() -> object:
        x = made("xj.txt", n_small, 1, 20)
        return compare(
            f"--jacobian softmax(x), n = {n_small}, json vs bare torch.func.jacrev",
            [*ours, "softmax(x)", "--x", f"@{x}", "--jacobian", "--format", "json"],
            [py, str(scripts["jacobian"]), x],
            large,
            2.0,
        )

    def jacobian_out() -> object:
        x = made("xj.txt", n_small, 1, 20)
        return compare(
            f"--jacobian-out FILE softmax(x), n = {n_small}, vs bare jacrev writing JSON",
            [*ours, "softmax(x)", "--x", f"@{x}", "--jacobian-out", str(folder / "J.json"), "-q"],
            [py, str(scripts["jacobian_file"]), x, str(folder / "J-bare.json")],
            large,
            2.0,
        )

    def index() -> object:
        size = index_size
        x = made(f"xi{size}.txt", size, 1, 21)
        idx = folder / f"idx{size}.txt"
        if not idx.exists():
            picked = np.random.default_rng(22).integers(0, size, size)
            idx.write_text("\n".join(map(str, picked.tolist())) + "\n", encoding="utf-8")
        return compare(
            f"sum(exp(x[idx])), n = len(idx) = {label(size)}, json vs bare torch",
            [*ours, "sum(exp(x[idx]))", "--x", f"@{x}", "--idx", f"@{idx}", "--format", "json"],
            [py, str(scripts["index"]), x, str(idx)],
            large,
            1.5,
        )

    def growth() -> object:
        sizes = [100, 200, 300] if quick else [100, 200, 400, 700, 1000]
        return matmul_growth(py, sizes, large, row)

    return [
        ("matmul", matmul),
        ("linear", linear),
        ("softmax-ce", softmax_ce),
        ("hessian", hessian),
        ("check-fd-small", check_fd(fd_sizes[0])),
        ("check-fd-large", check_fd(fd_sizes[1])),
        ("jacobian", jacobian),
        ("jacobian-out", jacobian_out),
        ("index-scatter", index),
        ("matmul-growth", growth),
    ]


def matmul_growth(py: str, sizes: list[int], repeats: int, row: Callable[..., object]) -> object:
    """The fitted exponent of time against the side n of X for sum(X@X): ours (the whole
    explain_values) against torch's forward and backward, in the same interpreter."""
    import json

    done = subprocess.run(
        [py, "-c", GROWTH, json.dumps(sizes), str(repeats)],
        capture_output=True,
        text=True,
        check=True,
    )
    found = json.loads(done.stdout.strip().splitlines()[-1])
    medians = {
        side: {n: statistics.median(found[side][str(n)]) for n in sizes}
        for side in ("ours", "bare")
    }
    slopes = {side: _slope(sizes, [medians[side][n] for n in sizes]) for side in medians}
    spread = ", ".join(
        f"{n}: {medians['ours'][n]:.3f}s vs {medians['bare'][n]:.4f}s" for n in sizes
    )
    met = slopes["ours"] <= max(slopes["bare"], 2.0) + 0.5
    return row(
        f"growth of sum(X@X), side {sizes[0]}..{sizes[-1]} (exponent of t vs n)",
        medians["ours"][sizes[-1]],
        medians["bare"][sizes[-1]],
        slopes["ours"],
        None,
        "<= torch's + 0.5 (n^3 BLAS)",
        met,
        f"fitted exponent ours {slopes['ours']:.2f}, bare torch "
        f"{slopes['bare']:.2f}; median seconds by side: {spread}",
    )


def _slope(sizes: list[int], times: list[float]) -> float:
    """Least-squares slope of log t against log n."""
    xs, ys = [math.log(n) for n in sizes], [math.log(t) for t in times]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
