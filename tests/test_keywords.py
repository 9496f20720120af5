"""The spellings and keywords of PyTorch: every registry spelling exists in torch, every
spelling of a function reads as the same tree, and a name outside the language is refused
with exit 2 as not supported, naming the closest supported spelling, never blaming
another argument.
"""

from __future__ import annotations

import numpy as np
import pytest

from gradexplain.errors import ExpressionError
from gradexplain.ir.parser import parse
from gradexplain.ops import OPS, SPELLED, spellings_of

SPACES = {
    "torch": lambda torch: torch,
    "method": lambda torch: torch.Tensor,
    "functional": lambda torch: torch.nn.functional,
    "special": lambda torch: torch.special,
    "linalg": lambda torch: torch.linalg,
    "attribute": lambda torch: torch.Tensor,
}


@pytest.mark.parametrize("space", SPACES)
def test_every_spelling_exists_in_torch(space):
    torch = pytest.importorskip("torch")
    where = SPACES[space](torch)
    missing = [spelling for spelling in SPELLED[space] if not hasattr(where, spelling)]
    assert missing == []


# entries that read their own arguments (shapes, index lists) or have no spelling
_OWN = ("getitem", "arange", "literal", "shape", "internal")


@pytest.mark.parametrize("name", sorted(n for n in OPS if OPS[n].signature not in _OWN))
def test_every_spelling_of_a_function_reads_as_the_same_call(name):
    trees = set()
    for text in spellings_of(name):
        if OPS[name].dim == "required":
            text = text[:-1] + ("dim=0)" if text.endswith("()") else ", dim=0)")
        if OPS[name].signature == "condition":  # where(cond, x, y): cond is a comparison
            text = text.replace("cond", "x > 0")
        tree = parse(text)
        trees.add((tree.func, len(tree.args)))
    assert len(trees) == 1, trees


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        # Required 8: the two messages the issue quotes, and the like
        ("x.sum(dim=1, keepdim=True)", None),
        ("F.relu(x)", None),
        ("x.clamp(min=0)", None),
        ("x.logsumexp(0)", None),
        ("torch.var(x)", None),
        ("torch.maximum(x, y)", None),
        ("torch.sinh(x)", None),
        ("torch.cumsum(x, 0)", None),
        ("torch.cumprod(x, 0)", None),
        (
            "torch.cummax(x, 0)",
            "torch.cummax is not supported; the closest supported spelling is torch.max",
        ),
        ("torch.nn.functional.dropout(x)", "torch.nn.functional.dropout is not supported"),
        (
            "F.hardswish(x)",
            "F.hardswish is not supported (the README lists every supported function)",
        ),
        (
            "F.hardtahn(x)",
            "F.hardtahn is not supported; the closest supported spelling is F.hardtanh",
        ),
        (
            "torch.relu6(x)",
            "torch.relu6 is not supported; the closest supported spelling is F.relu6(...)",
        ),
        ("torch.special.ndtr(x)", "torch.special.ndtr is not supported"),
        ("x.numpy()", "method .numpy() is not supported"),
        ("x.sum(dtype=1)", "keyword dtype= of sum() is not supported (sum() takes dim=, keepdim=)"),
        (
            "x.sum(keepdims=True)",
            "keyword keepdims= of sum() is not supported; did you mean keepdim=?",
        ),
        ("F.relu(x, inplace=True)", "inplace=True of relu() is not supported"),
        ("exp(x, dim=0)", "keyword dim= of exp() is not supported: exp() takes no keywords"),
        ("F.gelu(x, approximate='fast')", "approximate= of gelu() must be 'none' or 'tanh'"),
        ("x.norm(p=0)", "p=0 of norm() is not supported"),
        ("F.softplus(x, beta=0)", "beta=0 of softplus() divides by zero"),
        ("x.norm(p='nuc')", "p='nuc' of norm() is not supported"),
        ("x.var(unbiased=True, correction=0)", "var() takes unbiased= or correction=, not both"),
        ("x.prod(dim=(0, 1))", "dim of prod() is one integer, not a tuple"),
        ("x.max(keepdim=True)", "keepdim= of max() needs a dim"),
        ("x.sum(keepdim=1)", "keepdim= of sum() must be True or False"),
        ("torch.logsumexp(x)", "logsumexp() needs a dim"),
        (
            "np.exp(x)",
            "np.exp is np's, not PyTorch's; gradexplain reads PyTorch: write torch.exp(...)",
        ),
        ("np.arcsinh(x)", "write torch.arcsinh(...)"),
        ("numpy.power(x, 2)", "write torch.pow(...)"),
        ("math.exp(x)", "math.exp is math's, not PyTorch's"),
        ("frobnicate(x)", "unknown function 'frobnicate'"),
        ("torch.clamp(x)", "clamp() needs min= or max= (or both)"),
    ],
)
def test_pytorch_names_are_read_or_refused_as_not_supported(expression, message):
    if message is None:
        parse(expression)
        return
    with pytest.raises(ExpressionError) as caught:
        parse(expression)
    assert message in str(caught.value)
    assert "takes 1 argument, got 2" not in str(caught.value)
    assert "dim= not allowed" not in str(caught.value)


def test_strings_are_read_only_as_keyword_values():
    with pytest.raises(ExpressionError, match="strings are not allowed"):
        parse("x * 'tanh'")
    with pytest.raises(ExpressionError, match="strings are not allowed here"):
        parse("F.gelu(x, approximate='tanh') + 'a'")


def test_the_cli_exits_2_and_names_the_unsupported_function():
    from typer.testing import CliRunner

    from gradexplain.cli import app

    result = CliRunner().invoke(
        app, ["torch.foo(x)", "--x", "1,2"], env={"COLUMNS": "100", "NO_COLOR": "1"}
    )
    assert result.exit_code == 2
    assert "torch.foo is not supported" in result.output


def test_keyword_settings_survive_into_the_tree():
    tree = parse("torch.sum(X, axis=(0, -1), keepdim=True)")
    assert tree.params == (("dim", (0, -1)), ("keepdim", True))
    assert parse("x.norm(p=float('inf'))").param("p") == np.inf
