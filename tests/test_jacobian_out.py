"""`--jacobian-out FILE`: every entry of J from both witnesses, written whole or not at all.

The file holds `--format json`'s `jacobian` object (the matrices from torch.func.jacrev,
SymPy's, the formulas, agreement per variable, column sums); it goes through
`files.write` (checked before any work, atomic), and MAX_JACOBIAN_FILE_ENTRIES bounds it
before J is formed.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from gradexplain.cli import app
from gradexplain.ir import limits

ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}


def run(*args: str):
    return CliRunner().invoke(app, list(args), env=ENV)


def _softmax_jacobian(x: np.ndarray) -> np.ndarray:
    """diag(s) - s s^T, by hand."""
    s = np.exp(x - x.max())
    s /= s.sum()
    return np.diag(s) - np.outer(s, s)


def test_every_entry_of_both_witnesses_is_in_the_file(tmp_path: Path) -> None:
    x = np.random.default_rng(7).standard_normal(200)
    (tmp_path / "x.txt").write_text("\n".join(map(repr, x.tolist())), encoding="utf-8")
    out = tmp_path / "J.json"
    result = run("softmax(x)", "--x", f"@{tmp_path / 'x.txt'}", "--jacobian-out", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.rstrip().endswith(
        f"Jacobian (every entry, SymPy's and torch.func.jacrev's, JSON) written to {out}"
    )
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["expression"] == "softmax(x)"
    found = document["jacobian"]
    want = _softmax_jacobian(x)
    for side in ("matrices", "symbolic"):
        np.testing.assert_allclose(np.array(found[side]["x"]), want, rtol=1e-12, atol=1e-15)
    assert found["agree"] == {"x": True}
    assert "delta" in found["formulas"]["x"]


def test_the_file_is_what_format_json_says_and_quiet_still_writes_it(tmp_path: Path) -> None:
    out = tmp_path / "J.json"
    args = ["X@w", "--X", "1,2;3,4;5,6", "--w", "0.5,-1"]
    shown = run(*args, "--jacobian", "--format", "json")
    written = run(*args, "--jacobian-out", str(out), "--quiet")
    assert (shown.exit_code, written.exit_code, written.stdout) == (0, 0, "")
    assert (
        json.loads(out.read_text(encoding="utf-8"))["jacobian"]
        == json.loads(shown.stdout)["jacobian"]
    )


def test_more_entries_than_the_limit_are_refused_and_the_old_file_stays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "MAX_JACOBIAN_FILE_ENTRIES", 8)
    out = tmp_path / "J.json"
    out.write_text("old", encoding="utf-8")
    result = run("x**2", "--x", "1,2,3", "--jacobian-out", str(out))
    assert result.exit_code == 2
    assert result.stderr == (
        "gradexplain: error: --jacobian-out would write 9 entries of J per witness; the "
        "limit is MAX_JACOBIAN_FILE_ENTRIES = 8 (use --wrt to choose fewer variables)\n"
    )
    assert out.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["J.json"]  # no temporary left


def test_a_run_that_fails_leaves_the_old_file_untouched(tmp_path: Path) -> None:
    out = tmp_path / "J.json"
    out.write_text("old", encoding="utf-8")
    result = run("sum(x*a)", "--x", "1,2", "--a", "3", "--wrt", "a", "--jacobian-out", str(out))
    assert result.exit_code == 2
    assert "--jacobian forms dy_i/dx_j for vector and matrix variables" in result.stderr
    assert out.read_text(encoding="utf-8") == "old"


def test_an_input_is_never_the_output(tmp_path: Path) -> None:
    values = tmp_path / "x.txt"
    values.write_text("1 2 3", encoding="utf-8")
    result = run("x**2", "--x", f"@{values}", "--jacobian-out", str(values))
    assert result.exit_code == 2
    assert result.stderr == (
        f"gradexplain: error: --jacobian-out {values} is also an input ({values}); "
        f"writing it would destroy the input\n"
    )
    assert values.read_text(encoding="utf-8") == "1 2 3"


def test_help_names_the_option_and_its_limit() -> None:
    text = " ".join(run("--help").stdout.split())
    assert "--jacobian-out FILE" in text
    assert f"MAX_JACOBIAN_FILE_ENTRIES = {limits.MAX_JACOBIAN_FILE_ENTRIES:,}" in text
