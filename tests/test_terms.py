"""The sum rule for matrices, element by element: the table of y before the gradients.

Render tests at a fixed width compare the whole output (trailing spaces, which rich pads
titles with, are dropped line by line so an editor cannot break the expected strings).
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from rich.console import Console

from gradexplain import explain
from gradexplain.output.markdown import markdown
from gradexplain.output.render import render


def rendered(expression: str, *, show_all: bool = False, **values: object) -> str:
    console = Console(width=80, file=io.StringIO(), color_system=None)
    render(explain(expression, **values), console, show_all=show_all)
    output = console.file.getvalue()  # type: ignore[attr-defined]
    return "\n".join(line.rstrip() for line in output.splitlines()) + "\n"


SQUARE = """\
gradexplain sum(W**2)  (W: 2x2)
L = sum_m(sum_i(W_im**2))
y = W**2 (2x2)
┏━━━━━┳━━━━━━━━━━━━━━━━┓
┃ i,k ┃ y_ik = W_ik**2 ┃
┡━━━━━╇━━━━━━━━━━━━━━━━┩
│ 0,0 │              1 │
│ 0,1 │              4 │
│ 1,0 │              9 │
│ 1,1 │             16 │
├─────┼────────────────┤
│   L │             30 │
└─────┴────────────────┘
Sum rule: L = sum_i,k y_ik adds the 4 elements of y, so dL/dy_ik = 1 for each
i,k; the chain rule carries it back to W below.
dL/dW (2x2)
┏━━━━━┳━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━┳━━━━┓
┃     ┃      ┃ dL/dW_jk = 2*W_jk ┃          ┃    ┃
┃ j,k ┃ W_jk ┃           (SymPy) ┃ autograd ┃    ┃
┡━━━━━╇━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━╇━━━━┩
│ 0,0 │    1 │                 2 │        2 │ ok │
│ 0,1 │    2 │                 4 │        4 │ ok │
│ 1,0 │    3 │                 6 │        6 │ ok │
│ 1,1 │    4 │                 8 │        8 │ ok │
└─────┴──────┴───────────────────┴──────────┴────┘
Chain rule, element by element: dL/dW_jk = 2*W_jk.
SymPy and autograd agree on cpu, float64: largest |difference| 0 (rtol 1e-07,
atol 1e-07)
"""

MATRIX_TIMES_VECTOR = """\
gradexplain sum(X@w)  (X: 3x2, w: 2)
L = sum_i(sum_m(X_im*w_m))
y = X@w (3)
┏━━━┳━━━━━━━━━━━━━━━━━━━━━━━┓
┃ i ┃ y_i = sum_m(X_im*w_m) ┃
┡━━━╇━━━━━━━━━━━━━━━━━━━━━━━┩
│ 0 │                  -1.5 │
│ 1 │                  -2.5 │
│ 2 │                  -3.5 │
├───┼───────────────────────┤
│ L │                  -7.5 │
└───┴───────────────────────┘
Sum rule: L = sum_i y_i adds the 3 elements of y, so dL/dy_i = 1 for each i; the
chain rule carries it back to X and w below.
dL/dX (3x2)
┏━━━━━┳━━━━━━┳━━━━━━━━━━━━━━━━┳━━━━━━━━━━┳━━━━┓
┃     ┃      ┃ dL/dX_jk = w_k ┃          ┃    ┃
┃ j,k ┃ X_jk ┃        (SymPy) ┃ autograd ┃    ┃
┡━━━━━╇━━━━━━╇━━━━━━━━━━━━━━━━╇━━━━━━━━━━╇━━━━┩
│ 0,0 │    1 │            0.5 │      0.5 │ ok │
│ 0,1 │    2 │             -1 │       -1 │ ok │
│ 1,0 │    3 │            0.5 │      0.5 │ ok │
│ 1,1 │    4 │             -1 │       -1 │ ok │
│ 2,0 │    5 │            0.5 │      0.5 │ ok │
│ 2,1 │    6 │             -1 │       -1 │ ok │
└─────┴──────┴────────────────┴──────────┴────┘
Chain rule through @: with y = X@w, dL/dX = dL/dy @ w.T (an outer product: w is
a vector), so dL/dX_jk = w_k.
Matrix form, with z = X@w: dL/dX = outer(g, w), where g = dL/dz = 1
(elementwise) (this gives the table's values).
dL/dw (2)
┏━━━┳━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━┳━━━━┓
┃   ┃     ┃ dL/dw_j = sum_i(X_ij) ┃          ┃    ┃
┃ j ┃ w_j ┃               (SymPy) ┃ autograd ┃    ┃
┡━━━╇━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━╇━━━━┩
│ 0 │ 0.5 │                     9 │        9 │ ok │
│ 1 │  -1 │                    12 │       12 │ ok │
└───┴─────┴───────────────────────┴──────────┴────┘
Chain rule through @: with y = X@w, dL/dw = X.T @ dL/dy, so dL/dw_j =
sum_i(X_ij).
Matrix form, with z = X@w: dL/dw = X.T @ g, where g = dL/dz = 1 (elementwise)
(this gives the table's values).
SymPy and autograd agree on cpu, float64: largest |difference| 0 (rtol 1e-07,
atol 1e-07)
"""

LARGE_MEAN = """\
gradexplain mean(W*3)  (W: 4x3)
L = sum_m(sum_i(3*W_im))/12
y = W*3 (4x3)
┏━━━━━┳━━━━━━━━━━━━━━━┓
┃ i,k ┃ y_ik = 3*W_ik ┃
┡━━━━━╇━━━━━━━━━━━━━━━┩
│ 0,0 │             3 │
│ 0,1 │             6 │
│ 0,2 │             9 │
│ 1,0 │            12 │
│ 1,1 │            15 │
│ ... │           ... │
│ 2,1 │            24 │
│ 2,2 │            27 │
│ 3,0 │            30 │
│ 3,1 │            33 │
│ 3,2 │            36 │
├─────┼───────────────┤
│ sum │           234 │
│   L │          19.5 │
└─────┴───────────────┘
Sum rule with the factor 1/n: L = (1/12) sum_i,k y_ik averages the n = 12
elements of y, so dL/dy_ik = 1/12 for each i,k; the chain rule carries it back
to W below.
dL/dW (4x3)
┏━━━━━┳━━━━━━┳━━━━━━━━━━━━━━━━┳━━━━━━━━━━┳━━━━┓
┃     ┃      ┃ dL/dW_jk = 1/4 ┃          ┃    ┃
┃ j,k ┃ W_jk ┃        (SymPy) ┃ autograd ┃    ┃
┡━━━━━╇━━━━━━╇━━━━━━━━━━━━━━━━╇━━━━━━━━━━╇━━━━┩
│ 0,0 │    1 │           0.25 │     0.25 │ ok │
│ 0,1 │    2 │           0.25 │     0.25 │ ok │
│ 0,2 │    3 │           0.25 │     0.25 │ ok │
│ 1,0 │    4 │           0.25 │     0.25 │ ok │
│ 1,1 │    5 │           0.25 │     0.25 │ ok │
│ ... │  ... │            ... │      ... │    │
│ 2,1 │    8 │           0.25 │     0.25 │ ok │
│ 2,2 │    9 │           0.25 │     0.25 │ ok │
│ 3,0 │   10 │           0.25 │     0.25 │ ok │
│ 3,1 │   11 │           0.25 │     0.25 │ ok │
│ 3,2 │   12 │           0.25 │     0.25 │ ok │
└─────┴──────┴────────────────┴──────────┴────┘
Chain rule, element by element: dL/dW_jk = 1/4.
SymPy and autograd agree on cpu, float64: largest |difference| 0 (rtol 1e-07,
atol 1e-07)
"""

VECTOR = """\
gradexplain sum(x**2)  (n = 3)
L = sum_i y_i with y_i = x_i**2
dL/dx
┏━━━┳━━━━━┳━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━┳━━━━━━━━━━┳━━━━┓
┃   ┃     ┃              ┃ dL/dx_j = 2*x_j ┃          ┃    ┃
┃ i ┃ x_i ┃ y_i = x_i**2 ┃         (SymPy) ┃ autograd ┃    ┃
┡━━━╇━━━━━╇━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━╇━━━━━━━━━━╇━━━━┩
│ 0 │   3 │            9 │               6 │        6 │ ok │
│ 1 │   4 │           16 │               8 │        8 │ ok │
│ 2 │  10 │          100 │              20 │       20 │ ok │
├───┼─────┼──────────────┼─────────────────┼──────────┼────┤
│ L │     │          125 │                 │          │    │
└───┴─────┴──────────────┴─────────────────┴──────────┴────┘
Sum rule: only the term i = j contains x_j, so dL/dx_j = d(x_j**2)/dx_j = 2*x_j.
Why one number: training lowers a loss, and "lower" needs a single number to
compare, so backward() starts from L itself, with dL/dL = 1. L is already a
scalar, so L.backward() needs no argument; L.backward(torch.ones_like(x)) is an
error in PyTorch ("Mismatch in shape": ones_like(x) has 3 elements, L has none),
and L.backward(torch.ones_like(L)) is the same as L.backward().
SymPy and autograd agree on cpu, float64: largest |difference| 0 (rtol 1e-07,
atol 1e-07)
"""

TWELVE = [[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]]


def test_a_2x2_sum_lists_each_element_of_y_then_l():
    assert rendered("sum(W**2)", W=[[1, 2], [3, 4]]) == SQUARE


def test_a_3x2_matrix_times_a_vector_sums_the_rows_of_y():
    assert rendered("sum(X@w)", X=[[1, 2], [3, 4], [5, 6]], w=[0.5, -1]) == MATRIX_TIMES_VECTOR


def test_a_large_mean_elides_the_middle_and_states_the_factor_1_over_n():
    assert rendered("mean(W*3)", W=TWELVE) == LARGE_MEAN


def test_show_all_lists_every_element():
    output = rendered("mean(W*3)", W=TWELVE, show_all=True)
    assert "..." not in output
    assert "│ 1,2 │            18 │" in output


def test_the_vector_table_is_unchanged():
    assert rendered("sum(x**2)", x=[3, 4, 10]) == VECTOR


@pytest.mark.parametrize(
    ("expression", "values", "y"),
    [
        (
            "sum(sigmoid(X@W + b))",
            dict(X=[[1, 2, 3], [4, 5, 6]], W=[[0.1, 0.2], [0.3, -0.4], [0.5, 0.6]], b=[0.1, -0.2]),
            lambda X, W, b: 1 / (1 + np.exp(-(X @ W + b))),
        ),
        ("X.T@X", dict(X=[[1, 2], [3, 4], [5, 7]]), lambda X: X.T @ X),
        (
            "mean((X@w - t)**2)",
            dict(X=[[1, 2], [3, 4], [5, 6]], w=[0.5, -1], t=[1, 0, 2]),
            lambda X, w, t: (X @ w - t) ** 2,
        ),
        ("sum(X, dim=0)", dict(X=[[1, 2], [3, 4], [5, 6]]), lambda X: X.sum(axis=0)),
        # broadcasting: a 3x1 column stretched over 4 columns, and a y with a size-1 axis
        ("sum((a - b)**2)", dict(a=[[1], [2], [3]], b=[1, 2, 3, 5]), lambda a, b: (a - b) ** 2),
        ("mean(s*a)", dict(s=2.5, a=[[1], [-2], [3]]), lambda s, a: s * a),
        ("sum(c*X)", dict(c=[[2.0]], X=[[1, 2], [3, 4]]), lambda c, X: c * X),
    ],
)
def test_y_per_element_matches_numpy_and_adds_up_to_l(expression, values, y):
    result = explain(expression, **values)
    terms = result.decomposition.terms
    assert terms is not None
    expected = y(**{name: np.asarray(v, dtype=float) for name, v in values.items()})
    np.testing.assert_allclose(terms.values, expected, rtol=1e-12)
    combine = np.mean if terms.rule == "mean" else np.sum
    assert combine(terms.values) == pytest.approx(result.value_symbolic)


def test_letters_avoid_the_names_of_variables():
    result = explain(
        "sum((X@w - y)**2)", X=[[1, 2], [3, 4], [5, 6]], w=[0.5, -1], y=[1, 0, 2], wrt="w"
    )
    terms = result.decomposition.terms
    assert terms is not None and terms.letter == "u"
    assert terms.sentence.startswith("Sum rule: L = sum_i u_i adds the 3 elements of u")
    assert result.gradients["w"].sentence.startswith(
        "Chain rule through @: with z = X@w, dL/dw = X.T @ dL/dz"
    )


@pytest.mark.parametrize(
    ("expression", "values"),
    [
        ("log(sum(X@w))", dict(X=[[1, 2], [3, 4]], w=[1, 1])),
        ("sum(X@w) + sum(X**2)", dict(X=[[1, 2], [3, 4]], w=[1, 1])),
        ("w@w", dict(w=[1, 2])),  # a dot product: the matrix path, but L is no array
    ],
)
def test_no_table_of_y_when_l_is_not_one_sum_of_an_array(expression, values):
    result = explain(expression, **values)
    assert result.decomposition.terms is None


MARKDOWN = """\
## gradexplain `sum(X@w)` (X: 3x2, w: 2)

`L = sum_i(sum_m(X_im*w_m))`

### `y = X@w` (3)

| i | `y_i = sum_m(X_im*w_m)` |
| ---: | ---: |
| 0 | -1.5 |
| 1 | -2.5 |
| 2 | -3.5 |
| **L** | -7.5 |

Sum rule: L = sum_i y_i adds the 3 elements of y, so dL/dy_i = 1 for each i; the chain rule carries it back to X and w below.

### dL/dX (3x2)

| j,k | `X_jk` | `dL/dX_jk = w_k` (SymPy) | autograd |  |
| ---: | ---: | ---: | ---: | :--- |
| 0,0 | 1 | 0.5 | 0.5 | ok |
| 0,1 | 2 | -1 | -1 | ok |
| 1,0 | 3 | 0.5 | 0.5 | ok |
| 1,1 | 4 | -1 | -1 | ok |
| 2,0 | 5 | 0.5 | 0.5 | ok |
| 2,1 | 6 | -1 | -1 | ok |

Chain rule through @: with y = X@w, dL/dX = dL/dy @ w.T (an outer product: w is a vector), so dL/dX_jk = w_k.

Matrix form, with z = X@w: dL/dX = outer(g, w), where g = dL/dz = 1 (elementwise) (this gives the table's values).

### dL/dw (2)

| j | `w_j` | `dL/dw_j = sum_i(X_ij)` (SymPy) | autograd |  |
| ---: | ---: | ---: | ---: | :--- |
| 0 | 0.5 | 9 | 9 | ok |
| 1 | -1 | 12 | 12 | ok |

Chain rule through @: with y = X@w, dL/dw = X.T @ dL/dy, so dL/dw_j = sum_i(X_ij).

Matrix form, with z = X@w: dL/dw = X.T @ g, where g = dL/dz = 1 (elementwise) (this gives the table's values).

**✅ SymPy and autograd agree on cpu, float64: largest |difference| 0 (rtol 1e-07, atol 1e-07)**
"""


def test_markdown_shows_the_same_table_of_y():
    result = explain("sum(X@w)", X=[[1, 2], [3, 4], [5, 6]], w=[0.5, -1])
    assert markdown(result) == MARKDOWN
