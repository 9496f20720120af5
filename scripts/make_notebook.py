"""Write notebooks/chapter4.ipynb, the chapter-4 walkthrough, without outputs.

    python scripts/make_notebook.py

tests/test_notebook.py runs it in a real kernel (nbclient + ipykernel) and fails when the
stored notebook differs from what this script writes.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

TARGET = Path(__file__).resolve().parent.parent / "notebooks" / "chapter4.ipynb"

CELLS = [
    (
        "markdown",
        "# Chapter 4: where is the gradient?\n\n"
        "The fastai book's chapter 4 computes `sum(x**2)` and calls `backward()`. "
        "This notebook asks gradexplain what happened: the sum rule, the formula "
        "SymPy derives, the numbers autograd computes, and the graph PyTorch built.",
    ),
    ("code", "import numpy as np\nimport torch\n\nfrom gradexplain import explain"),
    ("code", "%load_ext gradexplain"),
    (
        "markdown",
        "The learner's code. Python's built-in `sum` adds the elements one at a "
        "time, so PyTorch prints `grad_fn=<AddBackward0>`:",
    ),
    (
        "code",
        "x = torch.tensor([3., 4., 10.]).requires_grad_()\n\n"
        "def f(q): return sum(q**2)\n\ny = f(x)\ny",
    ),
    (
        "markdown",
        "`%gradexplain` takes the notebook's own `x`: the table, the formula as "
        "math, the verdict and both graphs (torch.sum's `SumBackward0` and the "
        "built-in sum's `AddBackward0` chain).",
    ),
    ("code", "%gradexplain sum(x**2)"),
    ("markdown", "The same gradient from backward():"),
    ("code", "y.backward()\nx.grad"),
    (
        "markdown",
        "`explain()` returns a result that displays itself; numpy arrays, lists "
        "and numbers work too. The linear model of chapter 4, with data `xb` and "
        "`targets` kept out of the gradient:",
    ),
    (
        "code",
        "xb = np.array([[0.5, -1, 2], [1.5, 0, -0.5], [-1, 1, 1], [0.2, 0.3, -0.4]])\n"
        "weights = torch.tensor([0.1, -0.2, 0.3], requires_grad=True)\n"
        "bias = 0.05\ntargets = [1, 0, 1, 0]\n"
        "loss = ('where(targets==1, 1-sigmoid(xb@weights + bias), '\n"
        "        'sigmoid(xb@weights + bias)).mean()')\n"
        "result = explain(loss, xb=xb, weights=weights, bias=bias, targets=targets,\n"
        "                 wrt='weights,bias')\nresult",
    ),
    ("code", "result.gradients['weights'].autograd, result.status"),
]


def notebook() -> nbformat.NotebookNode:
    made = nbformat.v4.new_notebook()
    made.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    made.cells = [
        nbformat.v4.new_markdown_cell(text)
        if kind == "markdown"
        else nbformat.v4.new_code_cell(text)
        for kind, text in CELLS
    ]
    for index, cell in enumerate(made.cells):
        cell["id"] = f"cell-{index}"  # stable ids: the stored file is reproducible
    return made


def text() -> str:
    return nbformat.writes(notebook()) + "\n"


def main() -> int:
    TARGET.parent.mkdir(exist_ok=True)
    TARGET.write_text(text(), encoding="utf-8")
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
