"""Bugs found by review and fuzzing, each pinned by the command that showed it."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from gradexplain.cli import app

ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}


def run(*args: str):
    return CliRunner().invoke(app, list(args), env=ENV)


def test_steps_do_not_call_sympys_closed_form_summation():
    # .doit() crashed in Gosper's algorithm here (exit 70)
    result = run("sum(x*sum(x*sum(x)))", "--x", "1,2", "--steps")
    assert result.exit_code == 0, result.stderr
    assert "dL/dx_j = " in result.stdout.split("Steps for dL/dx:")[1]


def test_extras_have_a_wall_clock_limit(monkeypatch):
    from gradexplain.ir import limits

    monkeypatch.setattr(limits, "MAX_EXTRAS_SECONDS", 1e-6)
    result = run("sum(sin(x)*cos(x))", "--x", "1,2", "--steps", "--check-fd")
    assert result.exit_code == 2
    assert "MAX_EXTRAS_SECONDS" in result.stderr


def test_a_scalar_gradient_under_a_kink_is_undefined_not_differs():
    result = run("sum(relu(w+x))", "--w", "0", "--x", "-1,0,2")
    assert result.exit_code == 3
    scalar_row = next(line for line in result.stdout.splitlines() if line.startswith("│ 0 │"))
    assert "UNDEFINED" in scalar_row and "DIFFERS" not in scalar_row
    markdown = run("sum(relu(w+x))", "--w", "0", "--x", "-1,0,2", "--format", "markdown")
    assert "**DIFFERS**" not in markdown.stdout


def test_vjp_uses_the_runs_tolerances():
    result = run(
        "exp(x)", "--x", "10.3,20.7", "--v", "1,1", "--dtype", "float32", "--format", "json"
    )
    doc = json.loads(result.stdout)
    assert doc["agree"] is True
    assert doc["vjp"]["gradients"]["x"]["agree"] is True


def test_markdown_escapes_the_reason_of_a_singularity():
    result = run("sum(x**0.5)", "--x", "0,4", "--format", "markdown")
    assert result.exit_code == 3
    undefined = next(line for line in result.stdout.splitlines() if "Undefined" in line)
    assert "p\\*u\\*\\*(p-1)" in undefined


def test_piped_sentences_and_verdict_stay_one_line_each():
    result = CliRunner().invoke(
        app, ["sum(x**2)", "--x", "3,4"], env={"COLUMNS": "40", "NO_COLOR": "1"}
    )
    lines = result.stdout.splitlines()
    assert lines[-1].startswith("SymPy and autograd agree") and lines[-1].endswith(
        "(rtol 1e-07, atol 1e-07)"
    )
    assert lines[-2].startswith("Why one number:") and lines[-2].endswith("L.backward().")
    assert lines[-3].startswith("Sum rule:") and lines[-3].endswith("= 2*x_j.")


def test_dot_path_that_looks_like_markup_is_printed_as_text(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("sum(x**2)", "--x", "1,2", "--dot", "[red]g.dot")
    assert result.exit_code == 0
    assert "DOT graph written to [red]g.dot" in result.stdout
    assert (tmp_path / "[red]g.dot").read_text().startswith("digraph")


def test_naming_bound_indices_k_never_captures_an_inner_k():
    # the scalar's gradient sums over h of prod_{k<h}: renaming h to k read prod_{k<k}
    result = run(
        "prod(where(Y > 0, X, Y))", "--X", "2", "--Y", "1,-2,3", "--wrt", "X", "--format", "json"
    )
    assert result.exit_code == 0, result.stderr
    formula = json.loads(result.stdout)["gradients"]["X"]["formula"]
    # (the 1-D path's Sums keep where() unfolded, as the matrix path's do: scoped.py)
    assert formula == (
        "sum_h(where(Y_h > 0, 1, 0)*prod_{k<h}(where(Y_k > 0, X, Y_k))*"
        "prod_{k>h}(where(Y_k > 0, X, Y_k)))"
    )


def test_a_program_of_length_1_vectors_reads_its_generic_element():
    """n = 1 is a length like any other: nothing is stretched, so no axis is pinned at
    element 0 (a size-1 axis is, only where broadcasting stretches it)."""
    result = run("sum(x**2)", "--x", "[3]", "--steps")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == ["gradexplain sum(x**2)  (n = 1)", "L = sum_i y_i with y_i = x_i**2"]
    assert any("dL/dx_j = 2*x_j" in line for line in lines[2:8])
    assert "  L = sum_k(x_k**2)" in lines
    assert "x_0" not in result.stdout
    stretched = run("sum(x*y)", "--x", "[3]", "--y", "1,2")  # x stretched over y: x_0
    assert stretched.exit_code == 0, stretched.stderr
    assert "L = sum_i(x_0*y_i)" in stretched.stdout.splitlines()


def test_the_ones_like_note_counts_one_element_in_the_singular():
    """PyTorch refuses L.backward(torch.ones_like(x)) for a length-1 x too (shape (1,)
    against L's ()); the note said "has 1 elements"."""
    one = run("sum(x**2)", "--x", "[3]")
    assert "ones_like(x) has 1 element, L has none" in " ".join(one.stdout.split())
    three = run("sum(x**2)", "--x", "3,4,10")
    assert "ones_like(x) has 3 elements, L has none" in " ".join(three.stdout.split())


def test_a_sum_inside_a_sum_reads_its_own_index():
    """var's mean inside its sum of squares: the inner sum's index is k2, not a second k."""
    result = run("var(x, correction=0.5)", "--x", "1,2,4", "--steps")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1] == "L = sum_k((x_k - sum_k2(x_k2)/n)**2)/(n - 1/2)"
    assert "  L = sum_k((x_k - sum_k2(x_k2)/n)**2)/(n - 1/2)" in lines
    assert "(x_k - sum_k(x_k)" not in result.stdout  # the gradient and steps too
