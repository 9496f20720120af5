"""`explain()`: build the program, run both witnesses, compare, tell the story.

Everything a user can get wrong is checked by `program.build()` before SymPy or torch is
imported, so input errors are fast. The heavy modules are imported inside `_compute`.
"""

from __future__ import annotations

import dataclasses
import re
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from gradexplain.errors import DeviceError, UsageError
from gradexplain.ir import limits
from gradexplain.ir.program import Program, build
from gradexplain.ir.tree import variables
from gradexplain.ir.values import Values, arrays_and_scalars, from_numbers
from gradexplain.result import Explanation, Tolerance
from gradexplain.witnesses.deadline import deadline

DTYPE_NAMES = ("float64", "float32")
DEVICE_PATTERN = re.compile(r"cpu|cuda(:\d{1,3})?|mps|auto")
# torch.testing.assert_close's numbers for each dtype; here atol is relative to the largest
# |gradient| element (closeness.compare), so a tiny gradient is never vacuously close.
DEFAULT_TOLERANCES = {
    "float64": Tolerance(rtol=1e-7, atol=1e-7),
    "float32": Tolerance(rtol=1.3e-6, atol=1e-5),
}


def explain(
    expression: str,
    values: Mapping[str, object] | None = None,
    *,
    device: str = "cpu",
    dtype: str = "float64",
    rtol: float | None = None,
    atol: float | None = None,
    wrt: Sequence[str] | str | None = None,
    hessian: bool = False,
    **named: object,
) -> Explanation:
    """Explain the gradient of `expression` at the given values.

    `explain("sum(x**2)", x=[3, 4, 10])`; a number is a scalar, a sequence a vector.
    Names that clash with the keywords here go in `values={"device": [...]}`.
    `wrt` names the variables to differentiate ("w,b" or ["w", "b"]); default: all.
    `hessian=True` adds the second derivatives (up to MAX_HESSIAN_ELEMENTS elements).
    """
    clash = set(values or {}) & set(named)
    if clash:
        raise UsageError(f"variable {sorted(clash)[0]!r} is given twice")
    given = {**(values or {}), **named}
    parsed = {
        name: value if isinstance(value, Values) else from_numbers(name, value)
        for name, value in given.items()
    }
    return explain_values(
        expression,
        parsed,
        device=device,
        dtype=dtype,
        rtol=rtol,
        atol=atol,
        wrt=wrt,
        hessian=hessian,
    )


def explain_values(
    expression: str,
    values: Mapping[str, Values],
    *,
    device: str = "cpu",
    dtype: str = "float64",
    rtol: float | None = None,
    atol: float | None = None,
    wrt: Sequence[str] | str | None = None,
    hessian: bool = False,
) -> Explanation:
    """`explain` for values already read (the CLI's path): check, then compute."""
    return explain_program(
        build(expression, values, wrt),
        device=device,
        dtype=dtype,
        rtol=rtol,
        atol=atol,
        hessian=hessian,
    )


def explain_program(
    program: Program,
    *,
    device: str = "cpu",
    dtype: str = "float64",
    rtol: float | None = None,
    atol: float | None = None,
    hessian: bool = False,
) -> Explanation:
    """Both witnesses for a program built once (`program.build`); the result carries it."""
    check_device_syntax(device, dtype)
    tolerance = tolerance_for(dtype, rtol, atol)
    if hessian:
        check_hessian_size(program.values, list(program.wrt))
    result = _compute(program, device, dtype, tolerance)
    if program.shaped:
        from gradexplain.teach import matrixform

        result = dataclasses.replace(result, matrix_forms=matrixform.forms(result))
    if not hessian:
        return result
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from gradexplain.witnesses import autograd
        from gradexplain.witnesses import hessian as second

        matrix = second.compute(
            program,
            autograd.resolve_device(device, dtype),
            dtype,
            tolerance,
            result.singularities,
        )
    return dataclasses.replace(result, hessian=matrix)


def check_hessian_size(values: Mapping[str, Values], chosen: list[str]) -> None:
    """--hessian forms the whole matrix, m x m numbers per witness (MAX_HESSIAN_ELEMENTS)."""
    count = sum(values[name].size for name in chosen)
    if count > limits.MAX_HESSIAN_ELEMENTS:
        raise UsageError(
            f"--hessian: {count:,} differentiated elements exceed "
            f"MAX_HESSIAN_ELEMENTS = {limits.MAX_HESSIAN_ELEMENTS:,}; choose "
            f"fewer with --wrt"
        )


def check_device_syntax(device: str, dtype: str) -> None:
    if dtype not in DTYPE_NAMES:
        raise DeviceError(f"unknown dtype {dtype!r}; use one of {', '.join(DTYPE_NAMES)}")
    if not DEVICE_PATTERN.fullmatch(device):
        raise DeviceError(f"unknown device {device!r}; use cpu, cuda, cuda:N, mps or auto")


def tolerance_for(dtype: str, rtol: float | None, atol: float | None) -> Tolerance:
    default = (
        DEFAULT_TOLERANCES[dtype] if dtype in DEFAULT_TOLERANCES else DEFAULT_TOLERANCES["float64"]
    )
    for label, given in (("rtol", rtol), ("atol", atol)):
        if given is not None and not (given >= 0 and given != float("inf")):
            raise UsageError(f"--{label} must be a finite number >= 0, got {given}")
    from gradexplain.witnesses.closeness import roundoff_floor

    return Tolerance(
        default.rtol if rtol is None else rtol,
        default.atol if atol is None else atol,
        roundoff_floor(dtype if dtype in DEFAULT_TOLERANCES else "float64"),
    )


def _compute(program: Program, device: str, dtype: str, tolerance: Tolerance) -> Explanation:
    """Run both witnesses, every rank; library warnings (torch, numpy) never reach the
    user's output. `story` words both in the program's letters."""
    tree, values, shapes, wrt = program.tree, program.values, program.shapes, program.wrt
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import numpy as np

        from gradexplain.output import notebook
        from gradexplain.teach import story
        from gradexplain.witnesses import autograd, nonfinite, symbolic
        from gradexplain.witnesses.closeness import gradient_of
        from gradexplain.witnesses.evaluate import Evaluator

        torch_device = autograd.resolve_device(device, dtype)
        arrays, scalars = arrays_and_scalars(values)
        with deadline(
            limits.MAX_SYMBOLIC_SECONDS, "the symbolic derivation", "MAX_SYMBOLIC_SECONDS"
        ):
            model = program.model
            evaluator = Evaluator(arrays, scalars, model.sizes)
            derivatives = {name: symbolic.gradient(model, name) for name in wrt}
            _check_work(model, evaluator, derivatives, shapes)
        run = autograd.run(tree, values, torch_device, dtype, set(wrt))
        with deadline(
            limits.MAX_SYMBOLIC_SECONDS, "the symbolic derivation", "MAX_SYMBOLIC_SECONDS"
        ):
            decomposition = story.decompose(program, model, evaluator)
            gradients = {}
            for name, derivative in derivatives.items():
                text = symbolic.formula(derivative, program.notation)
                gradients[name] = dataclasses.replace(
                    gradient_of(
                        values[name],
                        text,
                        evaluator.tensor(
                            derivative, symbolic.target_indices(model, name), shapes[name]
                        ),
                        run.gradients[name],
                        tolerance,
                        story.sentence(program, model, decomposition, name, text),
                    ),
                    latex=symbolic.latex(derivative, program.notation),
                    expr=derivative,
                )
            value_symbolic = float(evaluator.tensor(model.loss))
        singularities = tuple(
            story.singularity(h.node, h.kind, h.mask, h.reason) for h in run.hazards
        )
        covered = nonfinite.explained(singularities)
        return Explanation(
            display=notebook.markdown_repr,
            terminal=notebook.terminal_text,
            expression=program.text,
            device=str(torch_device),
            dtype=dtype,
            scalars=scalars,
            value=run.value,
            value_symbolic=value_symbolic,
            gradients=gradients,
            tolerance=tolerance,
            decomposition=decomposition,
            program=program,
            singularities=singularities,
            nonfinite=tuple(
                cause for g in gradients.values() for cause in nonfinite.causes(g, dtype, covered)
            ),
            data={
                name: arrays[name] if name in arrays else np.asarray(scalars[name])
                for name in variables(tree)
                if name not in wrt
            },
            shapes=shapes if program.shaped else {},
        )


def _check_work(
    model: Any,
    evaluator: Any,
    derivatives: Mapping[str, Any],
    shapes: Mapping[str, tuple[int, ...]],
) -> None:
    """MAX_EVALUATION_ELEMENTS, before either witness computes anything: L and each
    gradient formula, by the evaluator's own estimate of its largest array."""
    from gradexplain.witnesses import symbolic
    from gradexplain.witnesses.evaluate import check_work

    check_work(evaluator.largest(model.loss))
    for name, derivative in derivatives.items():
        check_work(
            evaluator.largest(derivative, symbolic.target_indices(model, name), shapes[name])
        )
