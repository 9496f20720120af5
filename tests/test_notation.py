"""Index and size letters never read as a variable's name (issue 13 item 8).

SymPy keeps an index k apart from a variable k, so the numbers were right; the text was
not: `mean(x*n) --n 5` printed "(n = 3)" beside "n = 5" and the formula `n/n`. Each case
runs the real command line in every output format, checks that every subscript, bound
index and length the output writes is a letter no variable uses, and that both
witnesses still give the hand-computed numbers.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from gradexplain.ir.notation import PLAIN, choose

# subscripts and bound indices: x_j, W_jk, sum_k(, prod_{k<j}, dy_i (not ones_like, is_max)
SUBSCRIPT = re.compile(r"_\{?([A-Za-z]\d*(?:[A-Za-z]\d*)?)(?:\b|[<>])")
LENGTH = re.compile(r"\((\w+) = \d+\)|1/(\w+)\b")  # "(n = 3)" in the heading, "1/n"


def gradexplain(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "gradexplain", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def letters_used(text: str) -> set[str]:
    """Every letter written as an index or a length."""
    found = set()
    for match in SUBSCRIPT.finditer(text):
        found |= set(re.findall(r"[A-Za-z]", match.group(1)))
    for match in LENGTH.finditer(text):
        found.add(match.group(1) or match.group(2))
    return found


# (expression, values, hand-computed gradients)
X = np.array([1.0, 2.0, 3.0])
CASES = {
    "mean(x*n)": (
        ["--x", "1,2,3", "--n", "5"],
        {"x": [5 / 3] * 3, "n": 2.0},
    ),
    "sum(x*i*j*k*h)*n*m": (
        [
            "--x",
            "1,2,3",
            "--i",
            "1,2,3",
            "--j",
            "2,2,2",
            "--k",
            "1,1,2",
            "--h",
            "1,2,1",
            "--n",
            "3",
            "--m",
            "2",
        ],
        {
            "x": list(6 * X * 2 * np.array([1, 1, 2]) * np.array([1, 2, 1])),
            "n": float(np.sum(X * X * 2 * np.array([1, 1, 2]) * np.array([1, 2, 1])) * 2),
        },
    ),
    "sum(m@k) + sum(h*n)": (
        ["--m", "1,2;3,4", "--k", "4,5", "--h", "1,2", "--n", "3"],
        {"m": [[4, 5], [4, 5]], "k": [4, 6], "h": [3, 3], "n": 3.0},
    ),
    "sum(i@W@j) + mean(k*n)": (
        ["--W", "1,2;3,4", "--i", "1,2", "--j", "2,3", "--k", "1,1", "--n", "3"],
        {"i": [8, 18], "j": [7, 10], "k": [1.5, 1.5], "n": 1.0},
    ),
    "prod(k) + max(j)": (
        ["--k", "1,2,3", "--j", "3,1,2"],
        {"k": [6, 3, 2], "j": [1, 0, 0]},
    ),
}
NAMES = {
    expression: set(re.findall(r"\b[A-Za-z]\w*\b", expression)) - {"sum", "mean", "prod", "max"}
    for expression in CASES
}


@pytest.mark.parametrize("expression", CASES)
def test_json_formulas_use_letters_no_variable_has(expression: str) -> None:
    args, expected = CASES[expression]
    done = gradexplain(expression, *args, "--format", "json")
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    names = NAMES[expression]
    texts = [found["decomposition"]["summary"]]
    for name, gradient in found["gradients"].items():
        texts += [gradient["formula"], gradient["sentence"]]
        assert gradient["agree"], name
        np.testing.assert_allclose(gradient["symbolic"], gradient["autograd"], rtol=1e-12)
        if name in expected:
            np.testing.assert_allclose(gradient["symbolic"], expected[name], rtol=1e-12)
    for text in texts:
        assert not letters_used(text) & names, text


@pytest.mark.parametrize(
    ("expression", "form"), [("sum(x*i*j*k*h)*n*m", "table"), ("sum(m@k) + sum(h*n)", "markdown")]
)
def test_table_and_markdown_use_letters_no_variable_has(expression: str, form: str) -> None:
    args, _ = CASES[expression]
    done = gradexplain(expression, *args, "--format", form)
    assert done.returncode == 0, done.stderr
    used = letters_used(done.stdout)
    assert used, done.stdout  # the checker sees the output's letters at all
    assert not used & NAMES[expression], done.stdout


def test_mean_of_x_times_n_names_its_length_apart_from_n() -> None:
    """The issue's reproduction: the heading's length and the formula's divisor are one
    letter, and it is not n, the scalar that is 5; --steps writes the same letters."""
    done = gradexplain("mean(x*n)", "--x", "1,2,3", "--n", "5", "--steps")
    assert done.returncode == 0, done.stderr
    heading = done.stdout.splitlines()[0]
    size = re.search(r"\((\w+) = 3\)", heading)
    assert size is not None and size.group(1) not in {"n", "x"}, heading
    assert "n = 5" in done.stdout
    assert f"dL/dx_j = n/{size.group(1)}" in done.stdout
    assert "(n = 3)" not in done.stdout and "n/n" not in done.stdout
    assert not letters_used(done.stdout) & {"n", "x"}, done.stdout
    steps = done.stdout[done.stdout.index("Steps for") :]
    assert f"dL/dx_j = n/{size.group(1)}" in steps


def test_a_program_without_clashes_keeps_the_usual_letters() -> None:
    assert choose(["x", "W", "b", "target"]) == PLAIN or choose(["x", "W"]).plain
    notation = choose(["x", "n", "k"])
    assert (notation.n, notation.i, notation.j) == ("N", "i", "j")
    assert notation.k not in {"n", "k", "x", "i", "j", "N"}
    # a part of a name counts: x_k would read as x at k
    assert choose(["x_k"]).k != "k"


def test_template_words_rename_only_index_letters() -> None:
    notation = choose(["n", "i"])
    assert notation.words("Sum rule with the factor 1/n: only the term i = j") == (
        f"Sum rule with the factor 1/{notation.n}: only the term {notation.i} = j"
    )
    assert notation.words("L = sum_i y_i; torch.ones_like(x)") == (
        f"L = sum_{notation.i} y_{notation.i}; torch.ones_like(x)"
    )


def test_jacobian_and_v_sentences_use_the_same_letters() -> None:
    """--jacobian and --v word dy_i/dx_j themselves: with a vector named j they must not
    write dj_j beside a formula in another letter."""
    done = gradexplain("j**2*n", "--j", "1,2,3", "--n", "2", "--jacobian", "--v", "1,1,1")
    assert done.returncode == 0, done.stderr
    assert "dj_j" not in done.stdout and "(n = 3)" not in done.stdout
    assert not letters_used(done.stdout) & {"j", "n"}, done.stdout


def test_names_that_take_every_letter_still_get_letters() -> None:
    """Parts of names can take every spare letter (16 variables, 32 characters each):
    the notation falls back to doubled letters instead of failing (exit 70)."""
    names = ["a_b_c_d_e_f_g_h_i_j_k_l_m", "n_o_p_q_r_s_t_u_v_w_y_z", "N_d_l_L", "x", "aa"]
    notation = choose(names)
    letters = [notation.n, notation.i, notation.j, notation.k]
    assert len(set(letters)) == 4
    assert not set(letters) & (set("".join(names).replace("_", "")) | set(names))
