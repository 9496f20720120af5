"""Random hostile files through the real CLI (issue 13): values files, cases files, output
paths and terminal-hostile names. Every run must end 0, 1, 2 or 3 (74 only for a full
disk, which this does not make), never 70; print no raw control character on stdout or
stderr (outside JSON, whose strings are exact); with --format json stdout must be one JSON
document, errors and usage errors included; a JUnit report must be well-formed XML, and an
input must never be overwritten.

    python scripts/fuzz_inputs.py [COUNT] [SEED]      (defaults 300 and 13)

Each failure is printed with its files; the last line counts the exit codes.
"""

from __future__ import annotations

import json
import os
import random
import re
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

from typer.testing import CliRunner

from gradexplain.cli import app

ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069]")
HOSTILE = [
    "\x1b[2J",
    "\x1b]8;;http://x\x07",
    "\x07",
    "\r",
    "\n",
    "\u202e",
    "\x00",
    "\ufffe",
    "|",
    "[l](http://x)",
    "<img src=x>",
    "`",
    "**",
    "#",
    "&amp;",
    "\\",
    "é",
    "✅",
]
USAGE_ERRORS = [["--rtol"], ["--all=1"], ["--quiet"], ["--junk"], ["-z"], ["--var"], ["--format"]]
EXPRESSIONS = [
    "sum(x**2)",
    "sum(w*x)",
    "mean(sigmoid(x))",
    "sum(X@X)",
    "sum(relu(x))",
    "sum(x",
    "x",
    "exp(x)",
    "__import__('os')",
]


def hostile_text(rng: random.Random) -> str:
    return "".join(rng.choice([*HOSTILE, "a", "b", " ", "1"]) for _ in range(rng.randint(0, 8)))


def value(rng: random.Random, depth: int = 0) -> object:
    kind = rng.randint(0, 9 if depth < 3 else 4)
    if kind <= 2:
        return rng.choice([1, -2.5, 0, 10**400, True, None, "1", hostile_text(rng)])
    if kind <= 4:
        return [rng.uniform(-3, 3) for _ in range(rng.randint(0, 4))]
    if kind == 5:
        width = rng.randint(1, 3)
        return [[rng.uniform(-3, 3) for _ in range(width)] for _ in range(rng.randint(1, 3))]
    if kind == 6:
        deep = rng.randint(1, 600)
        return json.loads("[" * deep + "1" + "]" * deep) if rng.random() < 0.1 else [[[1.0]]]
    return [value(rng, depth + 1) for _ in range(rng.randint(0, 3))]


def case(rng: random.Random) -> dict[str, object]:
    fields: dict[str, object] = {"expression": rng.choice(EXPRESSIONS)}
    names = rng.sample(["x", "w", "X", hostile_text(rng)], rng.randint(0, 3))
    fields["values"] = {name: value(rng) for name in names}
    if rng.random() < 0.7:
        fields["name"] = hostile_text(rng)
    if rng.random() < 0.2:
        fields["expect"] = {"x": value(rng)}
    if rng.random() < 0.1:
        fields[hostile_text(rng) or "hesian"] = value(rng)
    return fields


def cases_file(rng: random.Random, folder: Path) -> Path:
    path = folder / rng.choice(["c.jsonl", "c.toml", "c\x1b.jsonl"])
    lines = [
        json.dumps(case(rng), ensure_ascii=rng.random() < 0.5) for _ in range(rng.randint(1, 4))
    ]
    if path.suffix == ".toml":
        text = "".join(
            f"[[case]]\nexpression = {json.dumps(rng.choice(EXPRESSIONS))}\n"
            f"name = {json.dumps(hostile_text(rng))}\n"
            for _ in lines
        )
    else:
        text = "\n".join(lines) + ("\n{oops" if rng.random() < 0.05 else "")
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    return path


def one_run(rng: random.Random, folder: Path) -> tuple[int, str | None]:
    """The exit code, and what went wrong (None when nothing did)."""
    output = rng.choice(["table", "markdown", "json"])
    if rng.random() < 0.5:
        cases = cases_file(rng, folder)
        junit = rng.choice([None, "r.xml", cases.name, "", "-", "no/such/r.xml"])
        args = ["--cases", cases.name, "--format", output]
        args += [] if junit is None else ["--junit-xml", junit]
        inputs = {cases: cases.read_bytes()}
    else:
        values = folder / rng.choice(["X.json", "X.csv", "X.txt"])
        content = (
            json.dumps(value(rng))
            if values.suffix == ".json"
            else rng.choice(["1,2\n3,4\n", "1 2 3", hostile_text(rng), "1,,2"])
        )
        values.write_text(content, encoding="utf-8", errors="surrogatepass")
        args = [
            rng.choice(["sum(X)", "sum(X**2)", "mean(X)"]),
            "--X",
            f"@{values.name}",
            "--format",
            output,
        ]
        if rng.random() < 0.3 and output == "table":
            args += ["--dot", rng.choice(["g.dot", values.name, "", "-"])]
        junit, inputs = None, {values: values.read_bytes()}
    if rng.random() < 0.15:  # a usage error: JSON mode must still answer in JSON
        args += rng.choice(USAGE_ERRORS)
    result = CliRunner().invoke(app, args, env=ENV)
    code = result.exit_code
    if code not in (0, 1, 2, 3) or (
        result.exception and not isinstance(result.exception, SystemExit)
    ):
        return code, f"exit {code}: {result.stderr[-300:]!r} {result.exception!r}"
    if RAW.search(result.stderr) or (output != "json" and RAW.search(result.stdout)):
        return code, "a raw control character reached the terminal"
    if output == "json":
        try:
            json.loads(result.stdout)
        except ValueError:
            return code, f"--format json, and stdout is not one JSON document: {result.stdout!r}"
    if junit == "r.xml" and (folder / "r.xml").exists():
        ET.parse(folder / "r.xml")
    if any(path.read_bytes() != data for path, data in inputs.items()):
        return code, "an input was overwritten"
    return code, None


def main(count: int, seed: int) -> int:
    rng = random.Random(seed)
    codes: Counter[int] = Counter()
    failures = 0
    for i in range(count):
        with tempfile.TemporaryDirectory() as name:
            folder = Path(name)
            here = os.getcwd()
            os.chdir(folder)
            try:
                code, problem = one_run(rng, folder)
            finally:
                os.chdir(here)
        codes[code] += 1
        if problem:
            failures += 1
            print(f"run {i}: {problem}")
    print(
        f"{count} runs, seed {seed}: exit codes {dict(sorted(codes.items()))}; {failures} failures"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(
        main(
            int(sys.argv[1]) if len(sys.argv) > 1 else 300,
            int(sys.argv[2]) if len(sys.argv) > 2 else 13,
        )
    )
