"""Random matrix expressions through `explain()`: the two witnesses agree, or say why.

    python scripts/fuzz_matrices.py [COUNT] [SEED]      (defaults 2000 and 11)

Expressions are grown by shape from X, Y (2x3), W (3x2), w (3), v (2), c (scalar), a (2x1)
and r (1x3): elementwise functions, + - * / with broadcasting, @ and .T, reductions and
softmax along an axis, and where() on comparisons of Y (which is then data). Values are
random in +-(0.3..1.2), so ties are unlikely. Each expression must give AGREE or UNDEFINED
(a kink or pole, reported) or a named input error; any other outcome is printed:
DISAGREE, UNSUPPORTED (the symbolic witness could not evaluate its formula), CRASH (an
exception that is not a GradexplainError) and SLOW (over 5 s). The last line counts the
outcomes. Every failure this has found is pinned in tests/test_matrices.py (FUZZED).
"""

from __future__ import annotations

import random
import sys
import time
from collections import Counter

import numpy as np

from gradexplain import ExitStatus, GradexplainError, explain
from gradexplain.ir.parser import parse
from gradexplain.ir.tree import variables

Shape = tuple[int, ...]
LEAVES: dict[Shape, list[str]] = {
    (2, 3): ["X", "Y"],
    (3, 2): ["W"],
    (3,): ["w"],
    (2,): ["v"],
    (): ["c", "0.5", "2"],
    (2, 1): ["a"],
    (1, 3): ["r"],
    (2, 2): ["(X@W)"],
    (3, 3): ["(W@X)"],
}
UNARY = ["tanh", "sigmoid", "sin", "cos", "exp", "relu", "abs", "sqrt", "log"]
REDUCTIONS = ["sum", "mean", "max", "min", "prod"]
PRODUCTS: dict[Shape, tuple[Shape, Shape]] = {
    (2,): ((2, 3), (3,)),
    (2, 2): ((2, 3), (3, 2)),
    (3, 3): ((3, 2), (2, 3)),
    (2, 3): ((2, 2), (2, 3)),
    (): ((3,), (3,)),
}
CONDITIONS: dict[Shape, str] = {(2, 3): "Y > 0", (2,): "Y.sum(1) > 0", (3,): "Y.max(0) < 0.5"}


def grow(shape: Shape, depth: int, rng: random.Random) -> str:
    """An expression of `shape`, at most `depth` operations deep."""
    if depth <= 0 or rng.random() < 0.25:
        return rng.choice(LEAVES[shape])
    pick, deeper = rng.random(), depth - 1
    if pick < 0.25:
        return _unary(shape, deeper, rng)
    if pick < 0.5:
        return _binary(shape, deeper, rng)
    if pick < 0.6 and shape == (2, 3):
        return f"({grow(shape, deeper, rng)} * {rng.choice(['a', 'r', 'v.sum()*a'])})"
    if pick < 0.7 and shape in PRODUCTS:
        left, right = PRODUCTS[shape]
        return f"({grow(left, deeper, rng)} @ {grow(right, deeper, rng)})"
    if pick < 0.75 and shape == (3,):
        return f"({grow((2, 3), deeper, rng)}.T @ {grow((2,), deeper, rng)})"
    if pick < 0.8 and shape in CONDITIONS:
        return f"where({CONDITIONS[shape]}, {grow(shape, deeper, rng)}, {grow(shape, deeper, rng)})"
    return _reshaping(shape, deeper, rng)


def _unary(shape: Shape, depth: int, rng: random.Random) -> str:
    function, inner = rng.choice(UNARY), grow(shape, depth, rng)
    if function in ("sqrt", "log"):
        inner = f"(1 + {inner}**2)"  # inside the domain
    if function == "exp":
        inner = f"tanh({inner})"  # no overflow
    return f"{function}({inner})"


def _binary(shape: Shape, depth: int, rng: random.Random) -> str:
    op = rng.choice("+-*/")
    left = grow(shape, depth, rng)
    right = grow(shape if rng.random() < 0.6 else (), depth, rng)
    if op == "/":
        right = f"(2 + tanh({right}))"  # never 0
    elif op in "+*" and rng.random() < 0.5:
        left, right = right, left
    return f"({left} {op} {right})"


def _reshaping(shape: Shape, depth: int, rng: random.Random) -> str:
    """softmax along an axis, a transpose, or a reduction that makes `shape`."""
    if shape == (2, 3):
        function = rng.choice(["softmax", "log_softmax"])
        return f"{function}({grow(shape, depth, rng)}, dim={rng.choice([0, 1, -1])})"
    if shape == (3, 2):
        return f"{grow((2, 3), depth, rng)}.T"
    if shape == ():
        source = rng.choice([(2, 3), (3,), (2,), (3, 2)])
        return f"{rng.choice(REDUCTIONS)}({grow(source, depth, rng)})"
    if shape in ((3,), (2,)):
        axis = 0 if shape == (3,) else 1
        return f"{rng.choice(REDUCTIONS)}({grow((2, 3), depth, rng)}, dim={axis})"
    return grow(shape, 0, rng)


def point(rng: random.Random) -> dict[str, object]:
    numbers = np.random.default_rng(rng.randrange(10**9))

    def draw(*shape: int) -> np.ndarray:
        return numbers.uniform(0.3, 1.2, size=shape) * numbers.choice([-1, 1], size=shape)

    return {
        "X": draw(2, 3),
        "Y": draw(2, 3),
        "W": draw(3, 2),
        "w": draw(3),
        "v": draw(2),
        "c": 0.7,
        "a": draw(2, 1),
        "r": draw(1, 3),
    }


def expression(rng: random.Random) -> str:
    top = rng.choice([(), (2, 3), (2,), (3,)])
    text = grow(top, rng.randint(1, 4), rng)
    if top and rng.random() < 0.7:
        text = f"{rng.choice(['sum', 'mean'])}({text})"
    return text


def outcome(text: str, values: dict[str, object]) -> str:
    """One run's outcome, printing what needs a look."""
    names = set(variables(parse(text)))
    wrt = sorted(names - {"Y"}) if "where(" in text else None
    if wrt == []:
        return "only data"
    started = time.perf_counter()
    try:
        result = explain(text, values={k: v for k, v in values.items() if k in names}, wrt=wrt)
        found = result.status.name
        if result.status == ExitStatus.DISAGREE:
            print("DISAGREE", text, "::", result.verdict(), flush=True)
    except GradexplainError as error:
        found = type(error).__name__
        if found == "UnsupportedFormula":
            print("UNSUPPORTED", text, "::", error, flush=True)
    except Exception as error:  # noqa: BLE001 - a crash is what this script looks for
        found = "CRASH"
        print("CRASH", text, "::", repr(error)[:300], flush=True)
    seconds = time.perf_counter() - started
    if seconds > 5:
        print(f"SLOW {seconds:.1f} s", text, flush=True)
    return found


def main(count: int, seed: int) -> None:
    rng = random.Random(seed)
    started = time.perf_counter()
    counts = Counter(outcome(expression(rng), point(rng)) for _ in range(count))
    print(dict(counts), f"{time.perf_counter() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:3]))
