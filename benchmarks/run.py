"""Benchmark gradexplain against the baselines of issue 6; print one table.

    python benchmarks/run.py            # the full run (about 5 minutes on 2 cores)
    python benchmarks/run.py --quick    # smaller inputs, fewer repeats (about 1 minute)
    python benchmarks/run.py --only matmul,hessian   # only the rows whose key has a word

Needs only the project's own dependencies. Inputs are generated in a temporary folder.
Every comparison runs its two commands A/B-interleaved (ABBA order) in fresh
subprocesses; each run's wall time and the child's peak RSS (`os.wait4`) are recorded,
and the table shows medians: the ratio column is the median of the per-round ratios.
Timings on a loaded machine drift; interleaving keeps the ratios fair, not the seconds.

Bytecode: every command runs as an installed program does, with its modules' .pyc files
(pip compiles them at install; a checkout writes them on its first run). The script
unsets PYTHONDONTWRITEBYTECODE for its children and runs each start-up command once,
untimed, before timing it; one extra row times an input error with our package's
modules compiled from source on every run (a fresh copy, PYTHONDONTWRITEBYTECODE=1),
against `import typer` from its installed .pyc files, as a checkout under that setting.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import large as large_rows  # benchmarks/large.py: issue 15's rows

PY = sys.executable
OURS = [PY, "-m", "gradexplain"]
VECTOR_ROWS = ("square-json", "vector-growth", "sigmoid", "square-table")  # read x.txt and w.txt

BARE_SQUARE = """\
import json, sys
import torch, sympy
with open(sys.argv[1]) as f:
    x = torch.tensor([float(t) for t in f.read().split()], dtype=torch.float64,
                     requires_grad=True)
(x**2).sum().backward()
print(json.dumps(x.grad.tolist()))
"""

BARE_SIGMOID = """\
import json, sys
import torch, sympy
def read(path):
    with open(path) as f:
        return torch.tensor([float(t) for t in f.read().split()], dtype=torch.float64,
                            requires_grad=True)
w, x = read(sys.argv[1]), read(sys.argv[2])
b = torch.tensor(float(sys.argv[3]), dtype=torch.float64, requires_grad=True)
torch.sigmoid(w * x + b).mean().backward()
print(json.dumps({"w": w.grad.tolist(), "x": x.grad.tolist(), "b": b.grad.item()}))
"""

# Symbolic path, each side in a fresh interpreter: imports and SymPy's first-use imports
# happen before the clock starts; the time printed is the derivation plus evaluation.
SYMBOLIC_OURS = """\
import sys, time
import numpy, sympy, torch
from gradexplain import explain
sympy.Symbol("a") + 2 * sympy.Symbol("b")  # SymPy's lazy imports, outside the clock
n = int(sys.argv[1])
values = [0.5 + i / n for i in range(n)]
start = time.perf_counter()
result = explain("sum(x**2)", x=values)
elapsed = time.perf_counter() - start
assert result.gradients["x"].agree
print(elapsed)
"""

SYMBOLIC_PER_ELEMENT = """\
import sys, time
import numpy, sympy, torch
sympy.Symbol("a") + 2 * sympy.Symbol("b")
n = int(sys.argv[1])
values = [0.5 + i / n for i in range(n)]
start = time.perf_counter()
xs = sympy.symbols(f"x0:{n}", real=True)
loss = sympy.Add(*(x**2 for x in xs))
point = dict(zip(xs, values))
gradient = [float(sympy.diff(loss, x).xreplace(point)) for x in xs]
elapsed = time.perf_counter() - start
assert abs(gradient[-1] - 2 * values[-1]) < 1e-9
print(elapsed)
"""


@dataclass
class Run:
    seconds: float  # wall time
    cpu: float  # the child's user + system CPU time
    peak_kib: int
    code: int


@dataclass
class Row:
    case: str
    ours: float  # median seconds
    base: float | None
    ratio: float | None  # median of per-round ratios (ours / base), or base / ours
    memory: float | None  # median peak-RSS ratio
    target: str
    met: bool | None
    note: str = ""
    extra: dict[str, float] = field(default_factory=dict)


@dataclass
class Setting:
    """Where and with what environment A runs, when not as the script itself does."""

    cwd: str | None = None
    env: dict[str, str] | None = None


def measure(command: list[str], stdin: str | None = None, setting: Setting | None = None) -> Run:
    """Run once; wall time and the child's own peak RSS, from `os.wait4`."""
    stdin_file = open(stdin, "rb") if stdin else subprocess.DEVNULL  # noqa: SIM115
    start = time.perf_counter()
    child = subprocess.Popen(
        command,
        stdin=stdin_file,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=setting.cwd if setting else None,
        env=setting.env if setting else None,
    )
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if stdin:
        stdin_file.close()
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, else KiB
    return Run(
        seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * scale // 1024, child.returncode
    )


def interleaved(
    a: list[str],
    b: list[str],
    repeats: int,
    codes: tuple[int, int] = (0, 0),
    warm: bool = False,
    setting: Setting | None = None,
) -> tuple[list[Run], list[Run]]:
    """ABBA rounds; each command's exit code is checked on every run. `warm`: each
    command runs once, untimed, first (it writes the .pyc files the timed runs read).
    `setting` applies to A only."""
    runs_a: list[Run] = []
    runs_b: list[Run] = []
    for command, run_setting in [(a, setting), (b, None)] if warm else []:
        measure(command, setting=run_setting)
    for round_ in range(repeats):
        order = [(a, runs_a, codes[0], setting), (b, runs_b, codes[1], None)]
        for command, into, code, run_setting in order if round_ % 2 == 0 else order[::-1]:
            run = measure(command, setting=run_setting)
            if run.code != code:
                raise SystemExit(f"exit code {run.code}, expected {code}: {command}")
            into.append(run)
    return runs_a, runs_b


def compare(
    case: str,
    a: list[str],
    b: list[str],
    repeats: int,
    limit: float,
    memory_limit: float | None = None,
    codes: tuple[int, int] = (0, 0),
    note: str = "",
    warm: bool = False,
    setting: Setting | None = None,
) -> Row:
    runs_a, runs_b = interleaved(a, b, repeats, codes, warm, setting)
    ratio = statistics.median(x.seconds / y.seconds for x, y in zip(runs_a, runs_b))
    memory = statistics.median(x.peak_kib / y.peak_kib for x, y in zip(runs_a, runs_b))
    met = ratio <= limit and (memory_limit is None or memory <= memory_limit)
    target = f"<= {limit:g}x" + (f", mem <= {memory_limit:g}x" if memory_limit else "")
    return Row(
        case,
        statistics.median(r.seconds for r in runs_a),
        statistics.median(r.seconds for r in runs_b),
        ratio,
        memory,
        target,
        met,
        note,
    )


def write_vector(path: Path, n: int, seed: int) -> None:
    """n numbers, one a line, as `repr` writes them (what a script would dump)."""
    import random

    rng = random.Random(seed)
    path.write_text("\n".join(repr(rng.gauss(0.0, 1.0)) for _ in range(n)) + "\n", encoding="utf-8")


def check_same_gradient(ours: list[str], bare: list[str], name: str | None) -> None:
    """Before timing: both commands print the same gradient (to 1e-12)."""
    mine = json.loads(subprocess.run(ours, capture_output=True, check=False).stdout)
    theirs = json.loads(subprocess.run(bare, capture_output=True, check=True).stdout)
    for key in [name] if name else ["w", "x", "b"]:
        got = mine["gradients"][key]["autograd"]
        want = theirs if name else theirs[key]
        got, want = (got, want) if isinstance(got, list) else ([got], [want])
        if len(got) != len(want) or any(abs(g - w) > 1e-12 for g, w in zip(got, want)):
            raise SystemExit(f"gradient of {key} differs from the bare script's")


def scaling(folder: Path, sizes: list[int], repeats: int) -> Row:
    """Slope of log(t(n) - t(n0)) against log n over the two largest sizes: the growth of
    the part that depends on n (1.0 is linear; the smaller sizes differ from n0 by less
    than the noise, so they only show that start-up dominates).

    t is the child's CPU time (user + system), which a busy machine inflates far less
    than wall time; the sizes are interleaved, round by round.
    """
    commands = {}
    for n in sizes:
        path = folder / f"x{n}.txt"
        write_vector(path, n, seed=n)
        commands[n] = [*OURS, "sum(x**2)", "--x", f"@{path}", "--format", "json"]
    runs: dict[int, list[Run]] = {n: [] for n in sizes}
    for round_ in range(repeats):
        for n in sizes if round_ % 2 == 0 else sizes[::-1]:
            runs[n].append(measure(commands[n]))
    times = {n: statistics.median(r.cpu for r in runs[n]) for n in sizes}
    base = times[sizes[0]]
    top, below = sizes[-1], sizes[-2]
    slope = (
        math.log((times[top] - base) / (times[below] - base)) / math.log(top / below)
        if times[below] > base and times[top] > base
        else float("nan")
    )
    per_element = (times[sizes[-1]] - base) / (sizes[-1] - sizes[0]) * 1e6
    spread = ", ".join(f"{_n(n)}: {t:.2f}s" for n, t in times.items())
    spread = f"CPU seconds {spread}"
    return Row(
        f"growth of CPU time, json, n = {_n(below)}..{_n(top)}",
        times[sizes[-1]],
        None,
        slope,
        None,
        "slope <= 1.1",
        slope <= 1.1,
        f"{per_element:.2f} us/element; {spread}",
    )


def symbolic(n_ours: int, n_per_element: int, repeats: int) -> Row:
    """Our generic-element derivation vs differentiating n separate symbols."""

    def timed(script: str, n: int) -> float:
        done = subprocess.run(
            [PY, "-c", script, str(n)], capture_output=True, text=True, check=True
        )
        return float(done.stdout.strip().splitlines()[-1])

    ours = statistics.median(timed(SYMBOLIC_OURS, n_ours) for _ in range(repeats))
    per_element = timed(SYMBOLIC_PER_ELEMENT, n_per_element)
    speedup = per_element / ours
    note = f"per-element side: {per_element:.1f}s, measured once"
    if n_per_element != n_ours:
        note += f" at n = {n_per_element} (not {n_ours}): the ratio understates the gap"
    return Row(
        f"symbolic path, n = {n_ours} (explain() vs SymPy per element)",
        ours,
        per_element,
        speedup,
        None,
        ">= 100x faster",
        speedup >= 100,
        note,
    )


def from_source(folder: Path) -> Setting:
    """A copy of our package without .pyc files, run where it is found first, with
    PYTHONDONTWRITEBYTECODE=1: every run compiles our modules; the installed packages
    (typer, torch, SymPy) keep their .pyc files."""
    found = subprocess.run(
        [PY, "-c", "import gradexplain, os; print(os.path.dirname(gradexplain.__file__))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    copy = folder / "source"
    if not copy.exists():
        shutil.copytree(found, copy / "gradexplain", ignore=shutil.ignore_patterns("__pycache__"))
    return Setting(str(copy), {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})


def has_batch_mode() -> bool:
    done = subprocess.run([*OURS, "--help"], capture_output=True, text=True, check=False)
    return "--cases" in done.stdout


def batch(folder: Path, repeats: int) -> Row:
    cases = folder / "cases.jsonl"
    lines = [
        json.dumps(
            {"name": f"case {i}", "expression": "sum(x**2)", "values": {"x": [3, 4, 10 + i]}}
        )
        for i in range(100)
    ]
    cases.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return compare(
        "batch: --cases with 100 cases vs one case",
        [*OURS, "--cases", str(cases)],
        [*OURS, "sum(x**2)", "--x", "3,4,10"],
        repeats,
        2.0,
    )


def _n(n: int) -> str:
    exponent = round(math.log10(n))
    return f"10^{exponent}" if 10**exponent == n else str(n)


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.partition(":")[2].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    versions = subprocess.run(
        [
            PY,
            "-c",
            "import torch, sympy, numpy, typer; print(torch.__version__, "
            "sympy.__version__, numpy.__version__, typer.__version__)",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return (
        f"{model}, {os.cpu_count()} cores, {platform.system()}; Python "
        f"{platform.python_version()}, torch {versions[0]}, sympy {versions[1]}, numpy "
        f"{versions[2]}, typer {versions[3]}; load average at start {load:.2f}"
    )


def table(rows: list[Row]) -> str:
    head = ["case", "median", "baseline", "ratio", "peak mem", "target", "met"]
    body = []
    for row in rows:
        body.append(
            [
                row.case,
                f"{row.ours:.3f}s",
                "" if row.base is None else f"{row.base:.3f}s",
                "n/a" if row.ratio is None else f"{row.ratio:.2f}",
                "" if row.memory is None else f"{row.memory:.2f}x",
                row.target,
                "n/a" if row.met is None else ("yes" if row.met else "NO"),
            ]
        )
    widths = [max(len(line[i]) for line in [head, *body]) for i in range(len(head))]
    out = [
        " | ".join(cell.ljust(width) for cell, width in zip(head, widths)),
        "-+-".join("-" * width for width in widths),
    ]
    for line in body:
        out.append(" | ".join(cell.ljust(width) for cell, width in zip(line, widths)))
    notes = [f"  {row.case}: {row.note}" for row in rows if row.note]
    return "\n".join(out + (["", "notes:", *notes] if notes else []))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="n = 10^5 and 3 repeats; symbolic per element at n = 300",
    )
    parser.add_argument(
        "--repeats", type=int, help="rounds per comparison (default 7, 3 for the large inputs)"
    )
    parser.add_argument(
        "--per-element-n",
        type=int,
        help="n of the per-element SymPy side (default 1000; 300 with --quick)",
    )
    parser.add_argument(
        "--only",
        help="run only the rows whose key contains one of these "
        "comma-separated words, e.g. --only matmul,hessian (keys: help, "
        "version, input-error, input-error-source, seed, square-json, vector-growth, sigmoid, "
        "square-table, symbolic, batch, matmul, linear, softmax-ce, hessian, "
        "check-fd-small, check-fd-large, jacobian, jacobian-out, index-scatter, "
        "matmul-growth)",
    )
    args = parser.parse_args()
    if not hasattr(os, "wait4"):
        raise SystemExit("needs os.wait4 (Linux or macOS)")
    small = args.repeats or (3 if args.quick else 7)
    large = args.repeats or 3
    n = 10**5 if args.quick else 10**6
    per_element_n = args.per_element_n or (300 if args.quick else 1000)
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: with .pyc files
    print(f"machine: {machine()}", flush=True)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="gradexplain-bench-") as name:
        folder = Path(name)
        x, w = folder / "x.txt", folder / "w.txt"
        if not args.only or any(
            part in key for part in args.only.split(",") for key in VECTOR_ROWS
        ):
            write_vector(x, n, seed=1)
            write_vector(w, n, seed=2)
        bare_square = folder / "bare_square.py"
        bare_square.write_text(BARE_SQUARE, encoding="utf-8")
        bare_sigmoid = folder / "bare_sigmoid.py"
        bare_sigmoid.write_text(BARE_SIGMOID, encoding="utf-8")
        typer_only = [PY, "-c", "import typer"]
        heavy_only = [PY, "-c", "import torch, sympy"]
        square_json = [*OURS, "sum(x**2)", "--x", f"@{x}", "--format", "json"]
        sigmoid_json = [
            *OURS,
            "mean(sigmoid(w*x+b))",
            "--w",
            f"@{w}",
            "--x",
            f"@{x}",
            "--b",
            "0.5",
            "--format",
            "json",
        ]
        bare_square_cmd = [PY, str(bare_square), str(x)]
        checked: list[bool] = []  # both gradients compared once, before their first row
        steps: list[tuple[str, Callable[[], Row]]] = [
            (
                "help",
                lambda: compare(
                    "--help vs import typer",
                    [*OURS, "--help"],
                    typer_only,
                    small,
                    2.0,
                    warm=True,
                ),
            ),
            (
                "version",
                lambda: compare(
                    "--version vs import typer",
                    [*OURS, "--version"],
                    typer_only,
                    small,
                    2.0,
                    warm=True,
                ),
            ),
            (
                "input-error",
                lambda: compare(
                    "input error vs import typer",
                    [*OURS, "sum(x**2)", "--x", "3,4,10", "--y", "1"],
                    typer_only,
                    small,
                    2.0,
                    codes=(2, 0),
                    warm=True,
                ),
            ),
            (
                "input-error-source",
                lambda: compare(
                    "input error, our modules compiled from source each run, vs import typer",
                    [*OURS, "sum(x**2)", "--x", "3,4,10", "--y", "1"],
                    typer_only,
                    small,
                    2.0,
                    codes=(2, 0),
                    setting=from_source(folder),
                ),
            ),
            (
                "input-error-json",
                lambda: compare(
                    "input error, --format json, vs import typer",
                    [*OURS, "sum(x**2", "--x", "3", "--format", "json"],
                    typer_only,
                    small,
                    2.0,
                    codes=(2, 0),
                    warm=True,
                ),
            ),
            (
                "seed",
                lambda: compare(
                    "seed: sum(x**2) --x 3,4,10 vs import torch, sympy",
                    [*OURS, "sum(x**2)", "--x", "3,4,10"],
                    heavy_only,
                    small,
                    1.15,
                    warm=True,
                ),
            ),
            (
                "square-json",
                lambda: compare(
                    f"sum(x**2), n = {_n(n)}, json vs bare torch script",
                    square_json,
                    bare_square_cmd,
                    large,
                    1.5,
                    1.5,
                ),
            ),
            (
                "vector-growth",
                lambda: scaling(folder, [10**k for k in range(3, round(math.log10(n)) + 1)], large),
            ),
            (
                "sigmoid",
                lambda: compare(
                    f"mean(sigmoid(w*x+b)), n = {_n(n)}, json vs bare",
                    sigmoid_json,
                    [PY, str(bare_sigmoid), str(w), str(x), "0.5"],
                    large,
                    1.5,
                    1.5,
                ),
            ),
            (
                "square-table",
                lambda: compare(
                    f"sum(x**2), n = {_n(n)}, table vs bare torch script",
                    [*OURS, "sum(x**2)", "--x", f"@{x}"],
                    bare_square_cmd,
                    large,
                    1.5,
                    1.5,
                ),
            ),
            ("symbolic", lambda: symbolic(1000, per_element_n, small)),
            (
                "batch",
                lambda: (
                    batch(folder, small)
                    if has_batch_mode()
                    else Row(
                        "batch: 100 cases vs one case",
                        float("nan"),
                        None,
                        None,
                        None,
                        "<= 2x",
                        None,
                        "n/a (no batch mode yet)",
                    )
                ),
            ),
            *large_rows.steps(folder, args.quick, small, large, OURS, PY, compare, Row, _n),  # type: ignore[list-item]
        ]
        chosen = [
            (key, step)
            for key, step in steps
            if not args.only or any(part in key for part in args.only.split(","))
        ]
        if not chosen:
            raise SystemExit(
                f"--only {args.only}: no row; the rows are {', '.join(key for key, _ in steps)}"
            )
        for key, step in chosen:
            if key in ("square-json", "sigmoid") and not checked:
                check_same_gradient(square_json, bare_square_cmd, "x")
                check_same_gradient(
                    sigmoid_json, [PY, str(bare_sigmoid), str(w), str(x), "0.5"], None
                )
                checked.append(True)
            rows.append(step())
            print(
                f"  done: {table([rows[-1]]).splitlines()[2]}", file=sys.stderr, flush=True
            )  # each row as it ends: a run cut short still has them
    print(table(rows))


if __name__ == "__main__":
    main()
