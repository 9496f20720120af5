"""The extras at the sizes issue 15 names: --jacobian at 1,000 x 1,000, --check-fd at
10**6 elements, and a 10,000-row CSV read in one pass."""

from __future__ import annotations

import json
from array import array
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from gradexplain.api import explain_values
from gradexplain.cli import app
from gradexplain.errors import ValuesError
from gradexplain.ir import limits
from gradexplain.ir.parser import parse
from gradexplain.ir.program import build
from gradexplain.ir.values import Values, from_spec
from gradexplain.witnesses import finitediff, vjp

ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}
RNG = np.random.default_rng(1015)


def _values(name: str, value: np.ndarray) -> Values:
    return Values(name, array("d", value.astype(np.float64).tobytes()), value.shape)


def test_softmax_jacobian_at_max_jacobian_n_against_jacrev_and_the_closed_form():
    n = limits.MAX_JACOBIAN_N
    x = RNG.standard_normal(n)
    found = vjp.jacobian(build("softmax(x)", {"x": _values("x", x)}))
    s = np.exp(x - x.max()) / np.exp(x - x.max()).sum()
    closed = np.diag(s) - np.outer(s, s)
    assert found.matrices["x"].shape == found.symbolic["x"].shape == (n, n)
    np.testing.assert_allclose(found.symbolic["x"], closed, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(found.matrices["x"], closed, rtol=1e-12, atol=1e-15)
    assert found.agree


def test_matrix_jacobian_with_a_contraction_inside():
    """y = tanh(X@W), 6x3, against W (4x3): dy_ik/dW_jl = (1 - y_ik**2) X_ij delta_kl."""
    X, W = RNG.standard_normal((6, 4)), RNG.standard_normal((4, 3))
    found = vjp.jacobian(build("sum(tanh(X@W))", {"X": _values("X", X), "W": _values("W", W)}))
    y = np.tanh(X @ W)
    closed = np.einsum("ik,ij,kl->ikjl", 1 - y**2, X, np.eye(3)).reshape(18, 12)
    np.testing.assert_allclose(found.symbolic["W"], closed, rtol=1e-12, atol=1e-15)
    assert found.agree


def test_cli_summarises_a_large_jacobian_and_json_has_it_all(tmp_path: Path):
    path = tmp_path / "x.txt"
    path.write_text("\n".join(repr(float(v)) for v in RNG.standard_normal(30)), encoding="utf-8")
    table = CliRunner().invoke(
        app, ["softmax(x)", "--x", f"@{path}", "--jacobian"], env={**ENV, "COLUMNS": "300"}
    )
    assert table.exit_code == 0, table.output
    assert (
        "Jacobian dy_i/dx_j with y = softmax(x): 30 x 30, too large to show; "
        "--format json has every entry."
    ) in table.output
    assert "agrees with torch.func.jacrev" in table.output
    document = json.loads(
        CliRunner()
        .invoke(app, ["softmax(x)", "--x", f"@{path}", "--jacobian", "--format", "json"], env=ENV)
        .output
    )
    jacobian = document["jacobian"]
    assert np.shape(jacobian["matrices"]["x"]) == np.shape(jacobian["symbolic"]["x"]) == (30, 30)
    assert jacobian["agree"] == {"x": True}


def test_check_fd_at_a_million_elements_is_directional():
    n = 10**6
    x = RNG.standard_normal(n)
    result = explain_values("sum(tanh(x)*exp(x))", {"x": _values("x", x)})
    fd = finitediff.compare(parse("sum(tanh(x)*exp(x))"), {"x": _values("x", x)}, result)["x"]
    assert fd.mode == finitediff.DIRECTIONAL and fd.agree
    assert "1,000,000 nudged elements > MAX_FD_ELEMENTS" in fd.reason


def test_a_csv_matrix_read_whole_equals_row_by_row(tmp_path: Path):
    X = RNG.standard_normal((50, 7))
    plain, spaced = tmp_path / "plain.csv", tmp_path / "spaced.csv"
    plain.write_text(
        "\n".join(",".join(repr(float(v)) for v in row) for row in X), encoding="utf-8"
    )
    spaced.write_text(
        "\n".join(", ".join(repr(float(v)) for v in row) for row in X), encoding="utf-8"
    )  # not plain: read row by row
    one, other = from_spec("X", f"@{plain}", str), from_spec("X", f"@{spaced}", str)
    assert one.shape == other.shape == (50, 7)
    assert one.data == other.data == array("d", X.ravel())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1,2\n3,\n", "line 2"),  # an empty element
        ("1,2\n3,4,5\n", "row 2 has 3 values, row 1 has 2"),
        ("1,2\n3,x\n", "line 2"),
    ],
)
def test_a_malformed_csv_is_still_reported_by_its_row(tmp_path: Path, text: str, message: str):
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValuesError, match=message):
        from_spec("X", f"@{path}", str)
