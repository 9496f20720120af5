"""The chapter-4 notebook runs in a real Jupyter kernel (nbclient + ipykernel): the magic
uses the notebook's own tensors and arrays, and the results display themselves."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")
pytest.importorskip("ipykernel")

# Under pytest-xdist one worker starts the kernel once for every test of this file.
pytestmark = pytest.mark.xdist_group("notebook")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "chapter4.ipynb"


def _script():
    spec = importlib.util.spec_from_file_location(
        "make_notebook", ROOT / "scripts" / "make_notebook.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_stored_notebook_is_the_scripts():
    assert NOTEBOOK.read_text(encoding="utf-8") == _script().text()


@pytest.fixture(scope="module")
def executed():
    """The notebook, run once in a real kernel that imports this checkout."""
    before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [before])])
    try:
        notebook = nbformat.read(NOTEBOOK, as_version=4)
        nbclient.NotebookClient(
            notebook,
            timeout=300,
            kernel_name="python3",
            resources={"metadata": {"path": str(ROOT)}},
        ).execute()
    finally:
        if before is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = before
    return notebook


def _outputs(notebook, source_start: str):
    cell = next(
        c for c in notebook.cells if c.cell_type == "code" and c.source.startswith(source_start)
    )
    assert not [o for o in cell.outputs if o.output_type == "error"], cell.outputs
    return cell.outputs


def test_the_learners_line_is_what_the_kernel_prints(executed):
    (output,) = _outputs(executed, "x = torch.tensor")
    assert output.data["text/plain"] == "tensor(125., grad_fn=<AddBackward0>)"


def test_the_magic_uses_the_notebooks_tensor_and_displays_itself(executed):
    (output,) = _outputs(executed, "%gradexplain sum(x**2)")
    shown = output.data["text/markdown"]
    assert "| 0 | 3 | 9 | 6 | 6 | ok |" in shown
    assert "$$\\frac{\\partial L}{\\partial x_{j}} = 2 x_{j}$$" in shown
    assert shown.count("data:image/svg+xml;base64,") == 2  # torch.sum's and Python's sum
    assert "SymPy and autograd agree" in shown
    plain = output.data["text/plain"]  # what a terminal IPython would print: the table
    assert plain.startswith("gradexplain sum(x**2)  (n = 3)\n") and "Explanation(" not in plain


def test_backward_in_the_kernel_gives_the_same_numbers(executed):
    (output,) = _outputs(executed, "y.backward()")
    assert output.data["text/plain"] == "tensor([ 6.,  8., 20.])"


def test_explain_takes_arrays_lists_and_requires_grad_tensors(executed):
    (shown,) = _outputs(executed, "xb = np.array")
    assert "dL/dweights" in shown.data["text/markdown"]
    (values,) = _outputs(executed, "result.gradients")
    assert "0.14292711" in values.data["text/plain"]
    assert (
        "ExitStatus.AGREE" in values.data["text/plain"]
        or "<ExitStatus.AGREE: 0>" in values.data["text/plain"]
    )
