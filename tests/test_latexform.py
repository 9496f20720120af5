"""Formulas as LaTeX for notebooks read as the one-line formulas do (issue 14, item 5):
a whole-axis sum is sum_m, not sum_{m=0}^{n_3 - 1}; names stay names; det and inv read
as a person writes them."""

from __future__ import annotations

import re

import pytest

from gradexplain import explain
from gradexplain.output import notebook

CASES = [
    ("sum(x**2)", {"x": [3, 4, 10]}, "x", "2 x_{j}"),
    ("mean(x**2)", {"x": [3, 4, 10]}, "x", r"\frac{2 x_{j}}{n}"),
    (
        "sum((X@w - y)**2)",
        {"X": [[1, 2], [3, 4], [5, 6]], "w": [0.5, -1], "y": [1, 0, 2]},
        "w",
        r"\sum_{i} 2 \left(- y_{i} + \sum_{m} X_{i,m} w_{m}\right) X_{i,j}",
    ),
    (
        "max(x)",
        {"x": [1, 3, 2]},
        "x",
        r"\frac{\operatorname{is\_max}\left(x_{j}\right)}"
        r"{\sum_{k} \operatorname{is\_max}\left(x_{k}\right)}",
    ),
    ("det(X)", {"X": [[1, 2], [3, 5]]}, "X", r"\det\left(X\right) \left(X^{-1}\right)_{k j}"),
    (
        "prod(x)",
        {"x": [1, 2, 3]},
        "x",
        r"\left(\prod_{k=0}^{j - 1} x_{k}\right) \prod_{k=j + 1}^{n - 1} x_{k}",
    ),
    ("sum(weights*b)", {"weights": [1, 2], "b": [3, 4]}, "b", r"\mathit{weights}_{j}"),
    ("c*sum(x2)", {"c": 2.0, "x2": [1, 2]}, "c", r"\sum_{k} {x_{2}}_{k}"),
    (
        "max(x)**2",
        {"x": [1, 3, 2]},
        "x",
        r"\frac{2 \operatorname{is\_max}\left(x_{j}\right) \sum_{k} \operatorname{is\_max}"
        r"\left(x_{k}\right) x_{k}}{\left(\sum_{k} \operatorname{is\_max}\left(x_{k}\right)"
        r"\right)^{2}}",
    ),
    ("sum(inverse(X))", {"X": [[2.0]]}, "X", r"- \left(\left(X^{-1}\right)_{0 0}\right)^{2}"),
]


@pytest.mark.parametrize(("expression", "values", "name", "latex"), CASES)
def test_latex_reads_as_the_formula(expression, values, name, latex):
    assert explain(expression, **values).gradients[name].latex == latex


def test_no_size_symbol_and_balanced_braces_in_the_linear_model():
    result = explain(
        "where(targets==1, 1-sigmoid(xb@weights + bias), sigmoid(xb@weights + bias)).mean()",
        xb=[[0.5, -1, 2], [1.5, 0, -0.5], [-1, 1, 1], [0.2, 0.3, -0.4]],
        weights=[0.1, -0.2, 0.3],
        bias=0.05,
        targets=[1, 0, 1, 0],
        wrt="weights,bias",
    )
    shown = notebook.markdown_repr(result)
    formulas = re.findall(r"\$\$(.*?)\$\$", shown, re.S)
    assert formulas[0].startswith(r"\frac{\partial L}{\partial \mathit{weights}_{j}} = ")
    assert formulas[1].startswith(r"\frac{\partial L}{\partial \mathit{bias}} = ")
    for formula in formulas:
        assert "n_{" not in formula and "=0}^{" not in formula  # sizes the reader never saw
        assert formula.count("{") == formula.count("}")
        assert formula.count(r"\left") == formula.count(r"\right")
