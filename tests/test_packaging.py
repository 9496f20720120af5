"""What a user installs is what README promises (issue 16).

The wheel is built from a copy of the files the build reads, installed with pip into an
empty folder, and run from outside the source tree with only that folder on PYTHONPATH (the
venv still provides torch, SymPy and the rest). The seed runs through the console script,
`--format json` through `python -m`, and the document is validated against the schema the
wheel itself ships. `-m "not wheel"` leaves it out while iterating; CI runs it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

import gradexplain
from gradexplain.cli import app
from gradexplain.output.jsonout import SCHEMA_FILE, schema_text

ROOT = Path(__file__).resolve().parent.parent
SEED = ["sum(x**2)", "--x", "3,4,10"]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel setuptools' PEP 517 backend (what pip calls) builds, without network."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "gradexplain", source / "gradexplain", ignore=shutil.ignore_patterns("__pycache__")
    )
    dist = tmp_path_factory.mktemp("dist")
    build = (
        "import sys; from setuptools import build_meta; print(build_meta.build_wheel(sys.argv[1]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", build, str(dist)],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return dist / done.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("target")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-index",
            "--quiet",
            "--disable-pip-version-check",
            "--target",
            str(target),
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return target


def _run(target: Path, *commands: list[str]) -> list[tuple[int, str, str]]:
    """Processes that see the installed wheel and not the source tree, run side by side."""
    env = {**os.environ, "PYTHONPATH": str(target), "NO_COLOR": "1", "COLUMNS": "100"}
    started = [
        subprocess.Popen(
            command,
            cwd=target.parent,
            env=env,
            text=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for command in commands
    ]
    outputs = [process.communicate(timeout=300) for process in started]
    return [(process.returncode, *output) for process, output in zip(started, outputs)]


@pytest.mark.wheel
@pytest.mark.xdist_group("wheel")  # one worker builds the wheel once, for both tests
def test_the_wheel_holds_every_module_the_schema_and_py_typed(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {path.relative_to(ROOT).as_posix() for path in ROOT.glob("gradexplain/**/*.py")}
    assert modules <= names  # gradexplain.ops included
    assert {f"gradexplain/{SCHEMA_FILE}", "gradexplain/py.typed"} <= names
    assert f"gradexplain-{gradexplain.__version__}.dist-info/licenses/LICENSE" in names


@pytest.mark.wheel
@pytest.mark.xdist_group("wheel")  # one worker builds the wheel once, for both tests
def test_the_installed_wheel_runs_the_seed_and_its_json_matches_its_schema(installed: Path) -> None:
    where, seed, document, printed = _run(
        installed,
        [sys.executable, "-c", "import gradexplain; print(gradexplain.__file__)"],
        [str(installed / "bin" / "gradexplain"), *SEED],
        [sys.executable, "-m", "gradexplain", *SEED, "--format", "json"],
        [sys.executable, "-m", "gradexplain", "--schema"],
    )
    assert where[1].strip() == str(installed / "gradexplain" / "__init__.py"), where
    assert seed[0] == 0, seed[2]
    assert "dL/dx_j = 2*x_j" in seed[1] and "SymPy and autograd agree" in seed[1]
    assert document[0] == 0 and document[2] == "", document[2]  # no stray library warnings
    shipped = (installed / "gradexplain" / SCHEMA_FILE).read_text(encoding="utf-8")
    assert printed[:2] == (0, shipped)
    result = json.loads(document[1])
    jsonschema.Draft202012Validator(json.loads(shipped)).validate(result)
    assert result["gradients"]["x"]["autograd"] == [6.0, 8.0, 20.0]


def test_schema_option_prints_the_packaged_schema() -> None:
    result = CliRunner().invoke(app, ["--schema"])
    assert result.exit_code == 0 and result.stdout == schema_text()
    jsonschema.Draft202012Validator.check_schema(json.loads(result.stdout))


def test_the_version_is_written_once() -> None:
    """pyproject reads gradexplain.__version__; no second copy to drift. CHANGELOG has the
    release, or for a .dev version, the Unreleased section that names it."""
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'dynamic = ["version"]' in pyproject
    assert 'version = { attr = "gradexplain.__version__" }' in pyproject
    changelog = (ROOT / "CHANGELOG.md").read_text("utf-8")
    release, dev, _ = gradexplain.__version__.partition(".dev")
    assert (
        f"## [Unreleased]\n\nTo be released as {release} " in changelog
        if dev
        else f"## [{release}]" in changelog
    )


def test_toml_cases_read_with_tomli_where_tomllib_is_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """requires-python says 3.10, where the standard library has no tomllib (3.11+)."""
    from gradexplain.batch import read_cases

    cases = tmp_path / "cases.toml"
    cases.write_text(
        '[[case]]\nname = "seed"\nexpression = "sum(x**2)"\nvalues = { x = [3, 4, 10] }\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(sys, "version_info", (3, 10, 14, "final", 0))
    monkeypatch.setitem(sys.modules, "tomllib", None)  # importing it now fails, as on 3.10
    (case,) = read_cases(str(cases))
    assert (case.name, case.line, case.fields["expression"]) == ("seed", 1, "sum(x**2)")
