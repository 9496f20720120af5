"""Fuzzing the parser (issue 3): a tree of our own nodes, or our named error; nothing else.
And (issue 13) values files, cases files, output paths and terminal-hostile strings: a
value, or our named error (exit 2), never another exception; untrusted text neutralised.

Profiles: "ci" (the default, 2,000 examples per strategy) and "long" (20,000: ten times the
work, so it ends in a bounded time), chosen by GRADEXPLAIN_FUZZ_PROFILE=long. They apply to
this file's tests only. The long profile also gives every example a generous deadline, so an
input that makes a reader or the parser crawl is reported as a failure instead of stalling the
run; the default has none (a loaded CI machine must not fail on scheduling). No timing of the
code is asserted otherwise (benchmarks are not tests); the closing note of issue 3 reports one.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradexplain.batch import CASE_KEYS
from gradexplain.errors import GradexplainError
from gradexplain.ir.parser import parse
from gradexplain.ir.tree import BinOp, Call, Const, Neg, Num, Var, walk
from gradexplain.ops import OPS as FUNCTIONS

# per example, not per test: an input that makes one call crawl fails the long run
LONG_DEADLINE = timedelta(seconds=10)
_COMMON = {
    "deadline": None,
    "database": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much],
}
settings.register_profile("gradexplain-fuzz-ci", max_examples=2_000, **_COMMON)
settings.register_profile(
    "gradexplain-fuzz-long", max_examples=20_000, **{**_COMMON, "deadline": LONG_DEADLINE}
)
PROFILE = os.environ.get("GRADEXPLAIN_FUZZ_PROFILE", "ci")
FUZZ = settings(settings.get_profile(f"gradexplain-fuzz-{PROFILE}"))

OPERATORS = {"+", "-", "*", "/", "**", "@"}


# entries that read their own arguments (parser.py), and the settings they keep
_OWN_READERS = ("getitem", "arange", "literal", "shape", "internal")
_OWN_PARAMS = ("index", "sizes", "shape", "values", "texts", "loss", "count")


def assert_parses_safely(text: str) -> None:
    """The property: only allowlisted node types come out, or a GradexplainError.

    Warnings are errors here: a SyntaxWarning would be a stray line on the CLI's stderr.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            tree = parse(text)
    except GradexplainError as error:
        assert error.message
        if error.expression is not None:
            assert error.offset is not None
            assert 0 <= error.offset <= len(error.expression)
        return
    for node in walk(tree):
        assert type(node) in (Num, Const, Var, Neg, BinOp, Call), node
        if isinstance(node, BinOp):
            assert node.op in OPERATORS
        if isinstance(node, Call):
            assert node.func in FUNCTIONS  # `.T` and where() too: every call is an entry
            op = FUNCTIONS[node.func]
            if op.signature in _OWN_READERS:  # x[...], reshape, losses
                assert all(key in _OWN_PARAMS for key, _ in node.params)
                continue
            # as many tensors as the entry takes; settings only by its keywords' names
            assert len(node.args) == op.operands
            assert all(key in {spec.name for spec in op.keywords} for key, _ in node.params)
            dims = node.param("dim")
            assert dims is None or all(isinstance(d, int) for d in dims)
        if isinstance(node, Var):
            assert node.name.isidentifier() and node.name.isascii()
            assert not node.name.startswith("_")
        if isinstance(node, Num):
            assert node.value == node.value and abs(node.value) < float("inf")


# (a) random text: any Unicode, and text dense in the grammar's own characters
GRAMMAR_CHARS = "xyzwe1234567890.+-*/()_, \tabcdfghijklmnopqrstuvEj[]{}:;=@'\"#\\!~<>|&%^"


@FUZZ
@given(st.text(max_size=200))
def test_random_text(text: str) -> None:
    assert_parses_safely(text)


@FUZZ
@given(st.text(alphabet=GRAMMAR_CHARS, max_size=120))
def test_random_grammar_characters(text: str) -> None:
    assert_parses_safely(text)


# (b) expressions from the grammar, mixed with hostile tokens
HOSTILE_ATOMS = [
    "__import__('os')",
    "().__class__",
    "x.__class__.__bases__",
    "lambda: 1",
    "[1]",
    "{1}",
    "{'a': 1}",
    "f'{x}'",
    "'s'",
    "b'x'",
    "1j",
    "True",
    "None",
    "...",
    "x[0]",
    "(y := 1)",
    "x if x else y",
    "not x",
    "~x",
    "*x",
    "**x",
    "x and y",
    "x < y",
    "9**9**9",
    "1" * 60,
    "1e999",
    "1_000",
    "0x10",
    "0o17",
    "0b1",
    "\uff45\uff58\uff45\uff43",
    "\u202e",
    "\x00",
    "\u0661",
    "\u00b2",
    "\u03c0",
    "\n",
    "\r",
    ";",
    "#",
    "\\",
    "@",
    "`",
    "torch.load",
    "torch.nn.functional.relu",
    "exec",
    "eval",
    "open",
    "getattr",
    "globals",
    "__builtins__",
    "_x",
    "import os",
    "yield",
    "await x",
    "x.real",
    "x.T",
    "x.sum.sum",
]
NAMES = ["x", "y", "w", "b", "pi", "e", "torch", "sum", "exec", "_", "X1", "x" * 33]
NUMBERS = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["0", "1e300", "1e-300", "2.5e3", ".5", "5.", "1e999"]),
)
FUNCTION_NAMES = [*sorted(FUNCTIONS), "pow", "exec", "eval", "open", "print", "lambda"]
LEAVES = st.one_of(st.sampled_from(NAMES), NUMBERS, st.sampled_from(HOSTILE_ATOMS))


def _compose(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary = st.tuples(
        children,
        st.sampled_from(["+", "-", "*", "/", "**", "//", "%", "^", "@", ",", " if ", " and ", "."]),
        children,
    )
    return st.one_of(
        binary.map(lambda t: f"{t[0]}{t[1]}{t[2]}"),
        children.map(lambda c: f"({c})"),
        children.map(lambda c: f"-{c}"),
        st.tuples(st.sampled_from(FUNCTION_NAMES), children).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(st.sampled_from(FUNCTION_NAMES), children, children).map(
            lambda t: f"{t[0]}({t[1]}, {t[2]})"
        ),
        st.tuples(children, st.sampled_from([*FUNCTION_NAMES, "__class__", "numpy"])).map(
            lambda t: f"({t[0]}).{t[1]}()"
        ),
        st.tuples(st.sampled_from(sorted(FUNCTIONS)), children).map(
            lambda t: f"torch.{t[0]}({t[1]})"
        ),
        st.tuples(children, children).map(lambda t: f"sum({t[0]}, dim={t[1]})"),
    )


EXPRESSIONS = st.recursive(LEAVES, _compose, max_leaves=40)


@FUZZ
@given(EXPRESSIONS)
def test_grammar_with_hostile_tokens(text: str) -> None:
    assert_parses_safely(text)


@FUZZ
@given(EXPRESSIONS, st.integers(0, 200), st.sampled_from(HOSTILE_ATOMS))
def test_grammar_with_a_hostile_token_spliced_in(text: str, at: int, token: str) -> None:
    at = min(at, len(text))
    assert_parses_safely(text[:at] + token + text[at:])


@FUZZ
@given(
    st.recursive(st.sampled_from(["x", "y", "2", "0.5", "pi"]), _compose, max_leaves=80),
    st.integers(1, 4),
)
def test_deep_and_repeated_grammar(text: str, repeat: int) -> None:
    assert_parses_safely("+".join([text] * repeat))


# (c) issue 13: values files, cases files, output paths and terminal-hostile strings.
# Each must end in a value or in our named error (exit 2): never another exception (70).
CONTROLS = (
    "\x00\x07\x08\t\n\x0b\x0c\r\x1b\x7f\x85\x9b\u061c\u200b\u200e\u202e\u2028\u2066"
    "\ufeff\ufffe\udcff"
)
HOSTILE_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(), st.sampled_from(CONTROLS), st.sampled_from("[]()<>!|`*_#&:/.@\\ ")
    ),
    max_size=60,
)
JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**400), 10**400),
    st.floats(allow_nan=False, allow_infinity=False),
    HOSTILE_TEXT,
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda kids: st.one_of(
        st.lists(kids, max_size=4), st.dictionaries(HOSTILE_TEXT, kids, max_size=3)
    ),
    max_leaves=30,
)
NESTED = st.tuples(st.integers(1, 3_000), st.sampled_from(["1", "[]", "{}", "1,2"])).map(
    lambda t: "[" * t[0] + t[1] + "]" * t[0]
)


def fresh_file(tmp_path_factory, name: str):
    """A path with no file behind it. Each example writes a new file instead of truncating
    the last one: ext4 flushes a truncated-and-rewritten file to disk on close (about 5 ms
    of waiting each, tens of seconds over a run), and a new file costs nothing."""
    path = tmp_path_factory.getbasetemp() / name
    path.unlink(missing_ok=True)
    return path


def assert_refused_or_read(read) -> object:
    """`read()` returns, or raises our named error: any other exception is a bug."""
    from gradexplain.errors import GradexplainError

    try:
        return read()
    except GradexplainError as error:
        assert error.message
        return error


@FUZZ
@given(
    st.one_of(JSON_VALUES.map(lambda v: json.dumps(v, ensure_ascii=False)), NESTED, HOSTILE_TEXT),
    st.sampled_from([".json", ".csv", ".txt"]),
)
def test_values_files(tmp_path_factory, content: str, suffix: str) -> None:
    from gradexplain.ir.values import Values, from_spec

    path = fresh_file(tmp_path_factory, f"values{suffix}")
    path.write_bytes(content.encode("utf-8", "surrogatepass"))
    read = assert_refused_or_read(lambda: from_spec("X", f"@{path}", lambda: ""))
    if isinstance(read, Values):
        assert len(read.shape) <= 2 and read.size == len(read.data) >= 1


CASE_FIELDS = st.dictionaries(
    st.one_of(
        st.sampled_from(sorted(CASE_KEYS)),
        HOSTILE_TEXT,
    ),
    st.one_of(
        JSON_VALUES,
        st.integers(1, 400).map(lambda n: json.loads("[" * n + "]" * n)),
        st.just("sum(x)"),
    ),
    max_size=6,
)


@FUZZ
@given(
    st.lists(st.one_of(CASE_FIELDS.map(json.dumps), NESTED, HOSTILE_TEXT), max_size=5),
    st.sampled_from([".jsonl", ".toml"]),
)
def test_cases_files(tmp_path_factory, lines: list[str], suffix: str) -> None:
    """Reading the file and checking each case's fields (what runs before any torch)."""
    from gradexplain import batch
    from gradexplain.request import Request

    path = fresh_file(tmp_path_factory, f"cases{suffix}")
    text = (
        "\n".join(lines) if suffix == ".jsonl" else "".join(f"[[case]]\n{line}\n" for line in lines)
    )
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    cases = assert_refused_or_read(lambda: batch.read_cases(str(path)))
    for case in cases if isinstance(cases, list) else []:
        made = assert_refused_or_read(lambda c=case: batch._checked_request(c, batch.Defaults()))
        assert isinstance(made, Request) or made.exit_status == 2


@FUZZ
@given(
    st.lists(
        st.one_of(
            HOSTILE_TEXT,
            st.sampled_from(["", "-", ".", "..", "a/b", "c.toml", "x/../c.toml", "./c.toml"]),
        ),
        min_size=1,
        max_size=3,
    )
)
def test_output_paths(tmp_path_factory, names: list[str]) -> None:
    """check() refuses or accepts; an accepted path is written whole, or OutputError."""
    from gradexplain.errors import GradexplainError
    from gradexplain.output import files

    folder = tmp_path_factory.mktemp("out")
    (folder / "c.toml").write_text("input")
    paths = {
        f"--o{i}": str(folder / name) if name not in ("", "-") else name
        for i, name in enumerate(names)
        if not name.startswith("/") and ".." not in name.split("/")
    }
    try:
        files.check(paths, [str(folder / "c.toml")])
    except GradexplainError as error:
        assert error.exit_status == 2
        return
    for option, path in paths.items():
        assert_refused_or_read(lambda p=path, o=option: files.write(p, "whole", o))
    assert (folder / "c.toml").read_text() == "input"
    written = set(paths.values())  # an output may itself be named ".gradexplain-..."
    assert not [
        p
        for p in folder.iterdir()
        if p.name.startswith(".gradexplain-") and p.name.endswith(".tmp") and str(p) not in written
    ]


@FUZZ
@given(HOSTILE_TEXT)
def test_terminal_hostile_strings_are_neutralised(text: str) -> None:
    import xml.etree.ElementTree as ET

    from gradexplain.errors import ExpressionError
    from gradexplain.output.markdown import untrusted
    from gradexplain.output.safetext import visible
    from gradexplain.output.streams import ascii_for

    shown = visible(text)
    assert shown.isprintable() or not shown
    marked = untrusted(text)
    assert "\n" not in marked and "\r" not in marked
    assert not re.search(r"(?<!\\)[<>\[\]()!&|]", marked.replace("\\\\", ""))
    ET.fromstring(ET.tostring(ET.Element("testcase", {"name": shown})))
    for line in ExpressionError("refused", text, len(text) // 2).caret_lines():
        assert line.isprintable()
    for char in text:
        assert ascii_for(char).isascii()
    for encoding in ("ascii", "latin-1", "cp1252"):
        text.encode(encoding, "gradexplain-ascii")
