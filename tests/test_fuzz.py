"""Fuzzing the parser (issue 3): a tree of our own nodes, or our named error; nothing else.

Profiles: "ci" (the default, 2,000 examples per strategy) and "long" (100,000), chosen by
GRADEXPLAIN_FUZZ_PROFILE=long. They apply to this file's tests only. No timing is
asserted here (benchmarks are not tests); the closing note of issue 3 reports one.
"""

from __future__ import annotations

import os
import warnings

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradexplain.errors import GradexplainError
from gradexplain.ops import OPS as FUNCTIONS
from gradexplain.parser import parse
from gradexplain.tree import BinOp, Call, Const, Neg, Num, Var, walk

_COMMON = {"deadline": None, "database": None,
           "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much]}
settings.register_profile("gradexplain-fuzz-ci", max_examples=2_000, **_COMMON)
settings.register_profile("gradexplain-fuzz-long", max_examples=100_000, **_COMMON)
PROFILE = os.environ.get("GRADEXPLAIN_FUZZ_PROFILE", "ci")
FUZZ = settings(settings.get_profile(f"gradexplain-fuzz-{PROFILE}"))

OPERATORS = {"+", "-", "*", "/", "**", "@"}


# entries that read their own arguments (parser.py), and the settings they keep
_OWN_READERS = ("getitem", "arange", "literal", "shape", "internal")
_OWN_PARAMS = ("index", "sizes", "shape", "values", "texts", "loss")


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
            assert node.func in FUNCTIONS or node.func == "T"
            op = FUNCTIONS.get(node.func)
            if op is not None and op.signature in _OWN_READERS:  # x[...], reshape, losses
                assert all(key in _OWN_PARAMS for key, _ in node.params)
                continue
            # as many tensors as the entry takes; settings only by its keywords' names
            assert node.func == "T" or len(node.args) == op.operands
            names = {spec.name for spec in op.keywords} if op is not None else set()
            assert all(key in names for key, _ in node.params)
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
    "__import__('os')", "().__class__", "x.__class__.__bases__", "lambda: 1", "[1]",
    "{1}", "{'a': 1}", "f'{x}'", "'s'", "b'x'", "1j", "True", "None", "...", "x[0]",
    "(y := 1)", "x if x else y", "not x", "~x", "*x", "**x", "x and y", "x < y",
    "9**9**9", "1" * 60, "1e999", "1_000", "0x10", "0o17", "0b1", "\uff45\uff58\uff45\uff43",
    "\u202e", "\x00", "\u0661", "\u00b2", "\u03c0", "\n", "\r", ";", "#", "\\", "@", "`",
    "torch.load", "torch.nn.functional.relu", "exec", "eval", "open", "getattr", "globals",
    "__builtins__", "_x", "import os", "yield", "await x", "x.real", "x.T", "x.sum.sum",
]
NAMES = ["x", "y", "w", "b", "pi", "e", "torch", "sum", "exec", "_", "X1", "x" * 33]
NUMBERS = st.one_of(st.integers(-10**6, 10**6).map(str),
                    st.floats(allow_nan=False, allow_infinity=False).map(repr),
                    st.sampled_from(["0", "1e300", "1e-300", "2.5e3", ".5", "5.", "1e999"]))
FUNCTION_NAMES = [*sorted(FUNCTIONS), "pow", "exec", "eval", "open", "print", "lambda"]
LEAVES = st.one_of(st.sampled_from(NAMES), NUMBERS, st.sampled_from(HOSTILE_ATOMS))


def _compose(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary = st.tuples(children, st.sampled_from(
        ["+", "-", "*", "/", "**", "//", "%", "^", "@", ",", " if ", " and ", "."]), children)
    return st.one_of(
        binary.map(lambda t: f"{t[0]}{t[1]}{t[2]}"),
        children.map(lambda c: f"({c})"),
        children.map(lambda c: f"-{c}"),
        st.tuples(st.sampled_from(FUNCTION_NAMES), children).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(st.sampled_from(FUNCTION_NAMES), children, children).map(
            lambda t: f"{t[0]}({t[1]}, {t[2]})"),
        st.tuples(children, st.sampled_from([*FUNCTION_NAMES, "__class__", "numpy"])).map(
            lambda t: f"({t[0]}).{t[1]}()"),
        st.tuples(st.sampled_from(sorted(FUNCTIONS)), children).map(
            lambda t: f"torch.{t[0]}({t[1]})"),
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
@given(st.recursive(st.sampled_from(["x", "y", "2", "0.5", "pi"]), _compose, max_leaves=80),
       st.integers(1, 4))
def test_deep_and_repeated_grammar(text: str, repeat: int) -> None:
    assert_parses_safely("+".join([text] * repeat))
