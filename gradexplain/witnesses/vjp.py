"""`--v` and `--jacobian`: what `y.backward(v)` computes for a vector result y.

backward(v) gives J^T v, with J_ij = dy_i/dx_j; v = ones gives the gradient of sum(y).
The autograd side calls `backward(v)`; the SymPy side differentiates L_v = sum_i v_i y_i
in a generic element (so J is never formed). `--jacobian` forms J itself, for small n.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import sympy as sp
import torch

from gradexplain.errors import UsageError, ValuesError
from gradexplain.ir.limits import MAX_JACOBIAN_N
from gradexplain.ir.tree import Node, variables
from gradexplain.ir.values import arrays_and_scalars, from_text
from gradexplain.ops import OPS
from gradexplain.output.jsonout import numbers
from gradexplain.result import Tolerance
from gradexplain.witnesses import autograd, closeness, symbolic
from gradexplain.witnesses.evaluate import Evaluator

if TYPE_CHECKING:
    from gradexplain.ir.program import Program
    from gradexplain.ir.values import Values
    from gradexplain.result import Explanation
    from gradexplain.teach.sumrule import Array

FLOAT64 = Tolerance(1e-7, 1e-7)  # torch.testing's float64 defaults, as the run's own
SCALAR_RESULT = (
    "--v is for a vector result y: this expression is already a scalar L, and "
    "L.backward() needs no v"
)


@dataclass(frozen=True)
class VectorJacobian:
    """y.backward(v) (autograd) against J^T v (SymPy), per variable."""

    v: np.ndarray
    autograd: dict[str, np.ndarray]
    symbolic: dict[str, np.ndarray]
    formulas: dict[str, str]
    tolerance: Tolerance  # the run's own (--rtol/--atol, or the dtype's defaults)

    def close(self, name: str) -> np.ndarray:
        return closeness.compare(self.autograd[name], self.symbolic[name], self.tolerance).close

    def to_json(self) -> dict[str, Any]:
        return {
            "v": numbers(self.v),
            "gradients": {
                name: {
                    "autograd": numbers(self.autograd[name]),
                    "symbolic": numbers(self.symbolic[name]),
                    "formula": self.formulas[name],
                    "agree": bool(self.close(name).all()),
                }
                for name in self.autograd
            },
        }


def compare(result: Explanation, v_text: str) -> VectorJacobian:
    """Both witnesses of J^T v for the user's v, for the variables that have gradients
    (`result.gradients`: `--wrt` leaves the data out), from the program the result carries."""
    from gradexplain.ir.shapes import describe
    from gradexplain.ir.unparse import source

    program = result.program
    tree, values, node_shapes = program.tree, program.values, program.node_shapes
    names = list(result.gradients)
    top = node_shapes[id(tree)]
    if not top:
        raise UsageError(SCALAR_RESULT)
    given = from_text("v", v_text)
    if not result.shapes and given.size != top[0]:
        raise ValuesError(f"--v has {given.size} values; y has {top[0]} elements")
    if result.shapes and given.shape != top:
        raise ValuesError(
            f"--v has shape {describe(given.shape)} but y = {source(tree)} has "
            f"shape {describe(top)}: give v the shape of y (a matrix's rows "
            f"separated by ';', as in --v \"1,0;0,1\")"
        )
    v = np.frombuffer(given.data, dtype=np.float64).reshape(top)
    return VectorJacobian(
        v,
        _autograd(tree, values, v, result.dtype, names),
        *_symbolic(program, v, names, result),
        result.tolerance,
    )


def _autograd(
    tree: Node, values: Mapping[str, Values], v: np.ndarray, dtype: str, names: list[str]
) -> dict[str, np.ndarray]:
    """backward(v) with only `names` requiring grad, as the run did; data gets none."""
    torch_dtype = autograd.DTYPES[dtype]
    leaves = {
        name: autograd.leaf(values[name], torch_dtype, torch.device("cpu"), name in names)
        for name in variables(tree)
    }
    output = autograd.TorchBuilder(leaves, torch_dtype, torch.device("cpu")).build(tree)
    assert isinstance(output, torch.Tensor)
    output.backward(torch.tensor(v, dtype=torch_dtype))  # v is shaped like the output
    return {name: autograd.grad_of(leaves[name]) for name in names}


def _symbolic(
    program: Program, v: np.ndarray, names: list[str], result: Explanation
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Differentiate L_v = sum(v * y) in generic elements: its gradient is J^T v, one
    formula per variable, J never formed. y's element is the program model's, times v's."""
    import dataclasses

    from gradexplain.witnesses.builder import pinned

    values = program.values
    vname = "v" if "v" not in values else "nu"
    base = sp.IndexedBase(vname, real=True)
    indices, term = program.model.elements[id(program.tree)]
    shapes = {**program.shapes, vname: v.shape}
    model = dataclasses.replace(
        program.model,
        loss=symbolic.summed(
            base[pinned(indices, v.shape, program.model.sizes)] * term, indices, v.shape
        ),
        bases={**program.model.bases, vname: base},
        shapes=shapes,
    )
    arrays, scalars = arrays_and_scalars(values)
    evaluator = Evaluator({**arrays, vname: v}, scalars, model.sizes)
    found, formulas = {}, {}
    for name in names:
        derivative = symbolic.gradient(model, name)
        found[name] = evaluator.tensor(
            derivative, symbolic.target_indices(model, name), shapes[name]
        )
        formulas[name] = symbolic.formula(derivative, result.notation)
    return found, formulas


@dataclass(frozen=True)
class Jacobian:
    """dy_i/dx_j for the summed (or returned) vector y, from both witnesses, and each
    column's sum.

    For matrices both y and x are flattened in row-major order (`shapes` says so), so
    row i = r * columns + c of y, and column j likewise of x. `matrices` are torch's
    (`torch.func.jacrev`), `symbolic` SymPy's formula dy_i/dx_j evaluated as a whole."""

    y: str  # which vector: the expression itself, or what sum/mean adds up
    scale: float  # 1, or 1/n for mean
    matrices: dict[str, np.ndarray]
    shapes: dict[str, tuple[int, ...]] | None = None  # matrix path: "y" and each variable
    symbolic: dict[str, np.ndarray] = field(default_factory=dict)
    formulas: dict[str, str] = field(default_factory=dict)
    tolerance: Tolerance = FLOAT64

    def column_sums(self, name: str) -> np.ndarray:
        """dL/dx, shaped like x on the matrix path."""
        sums: np.ndarray = self.scale * self.matrices[name].sum(axis=0)
        return sums.reshape(self.shapes[name]) if self.shapes else sums

    def compared(self, name: str) -> closeness.Comparison:
        return closeness.compare(self.matrices[name], self.symbolic[name], self.tolerance)

    @property
    def agree(self) -> bool:
        return all(self.compared(name).close.all() for name in self.symbolic)

    def entries(self) -> int:
        """Entries of J per witness, every variable together (what a file holds)."""
        return sum(matrix.size for matrix in self.matrices.values())

    def to_json(self) -> dict[str, Any]:
        found = {
            "y": self.y,
            "scale": self.scale,
            "matrices": {k: numbers(m) for k, m in self.matrices.items()},
            "symbolic": {k: numbers(m) for k, m in self.symbolic.items()},
            "formulas": dict(self.formulas),
            "agree": {k: bool(self.compared(k).close.all()) for k in self.symbolic},
            "column_sums": {k: numbers(self.column_sums(k)) for k in self.matrices},
        }
        if self.shapes:
            found["flattened"] = "row-major"
            found["shapes"] = {k: list(v) for k, v in self.shapes.items()}
        return found


def jacobian(
    program: Program, tolerance: Tolerance = FLOAT64, entries: int | None = None
) -> Jacobian:
    """J for y = the array L adds up, as the sum-rule table has it (`sumrule.array`:
    the expression itself, or what sum or mean adds up), one way for every rank, for the
    differentiated variables (`program.wrt`): data has no column of J. Both witnesses
    form it: `torch.func.jacrev`, and SymPy's dy_i/dx_j evaluated whole, y's element
    read from the program's one model. A matrix y or x is flattened row-major
    (`Jacobian.shapes` says so)."""
    from gradexplain.ir.unparse import source

    values, shapes = program.values, program.shapes
    found, scale, y_shape, kept = _summed(program)
    inner = found.node
    if entries is not None:
        _check_entries(y_shape, [shapes[name] for name in kept], entries)
    symbolic_side, formulas = _symbolic_jacobian(program, found, kept, y_shape)
    layout = {"y": y_shape, **{name: shapes[name] for name in kept}}
    return Jacobian(
        source(inner),
        scale,
        _matrices(inner, values, kept, y_shape),
        layout if any(len(shape) > 1 for shape in layout.values()) else None,
        symbolic_side,
        formulas,
        tolerance,
    )


def _check_entries(y_shape: tuple[int, ...], x_shapes: list[tuple[int, ...]], most: int) -> None:
    """--jacobian-out writes every entry: refuse, before J is formed, more than `most`
    (MAX_JACOBIAN_FILE_ENTRIES) per witness, every differentiated variable together."""
    count = int(np.prod(y_shape)) * sum(int(np.prod(shape)) for shape in x_shapes)
    if count > most:
        raise ValuesError(
            f"--jacobian-out would write {count:,} entries of J per witness; the limit "
            f"is MAX_JACOBIAN_FILE_ENTRIES = {most:,} (use --wrt to choose fewer variables)"
        )


def _differentiated(arrays: list[str], chosen: list[str]) -> list[str]:
    """The vectors and matrices J is formed for; --wrt may have left only scalars."""
    kept = [name for name in arrays if name in chosen]
    if not kept:
        raise ValuesError(
            f"--jacobian forms dy_i/dx_j for vector and matrix variables; "
            f"--wrt differentiates only scalars here ({', '.join(chosen)}), "
            f"whose gradients the table shows"
        )
    return kept


def _matrices(
    inner: Node, values: Mapping[str, Values], names: list[str], y_shape: tuple[int, ...]
) -> dict[str, np.ndarray]:
    """torch's J of the flattened y for each of `names`, each x flattened too: one
    `torch.func.jacrev`, which batches the backward passes (vmap), per variable."""
    size = int(np.prod(y_shape))
    leaves = {
        name: autograd.leaf(values[name], torch.float64, torch.device("cpu")).detach()
        for name in variables(inner)
    }
    matrices = {}
    for name in names:

        def y_of(t: torch.Tensor, name: str = name) -> torch.Tensor:
            builder = autograd.TorchBuilder({**leaves, name: t}, torch.float64, torch.device("cpu"))
            builder.watching = False  # no hazard masks inside vmap
            out = builder.build(inner)
            return torch.as_tensor(out).expand(y_shape).reshape(size)

        matrix = torch.func.jacrev(y_of)(leaves[name])
        matrices[name] = np.asarray(matrix.reshape(size, values[name].size).numpy())
    return matrices


# x's element in dy_ik/dX_jl: y's own indices are i (and k), as the sum-rule table has them
X_INDICES = tuple(sp.Symbol(name, integer=True, nonnegative=True) for name in ("j", "l"))


def _symbolic_jacobian(
    program: Program, y: Array, names: list[str], y_shape: tuple[int, ...]
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """dy_i/dx_j in generic elements, one formula per variable (deltas resolved where a
    sum binds them, the rest evaluated as identities), evaluated over y's and x's axes."""
    from gradexplain.teach.sumrule import INDICES, generic_element
    from gradexplain.witnesses.deltas import derivative

    model, values, shapes = program.model, program.values, program.shapes
    element = generic_element(y.element, y.own, y_shape, pin=False)
    y_indices = INDICES[: len(y_shape)]  # J's rows: every element of y
    arrays, scalars = arrays_and_scalars(values)
    evaluator = Evaluator(arrays, scalars, model.sizes)
    found, formulas = {}, {}
    for name in names:
        targets = X_INDICES[: len(shapes[name])]
        formula = derivative(element, model.bases[name][_stretched(element, model, name)])
        matrix = evaluator.tensor(formula, (*y_indices, *targets), y_shape + shapes[name])
        found[name] = matrix.reshape(int(np.prod(y_shape)), values[name].size)
        formulas[name] = symbolic.formula(formula, program.notation)
    return found, formulas


def _stretched(element: sp.Expr, model: symbolic.Model, name: str) -> tuple[sp.Expr, ...]:
    """x's element in J: j (and l), 0 on a size-1 axis that y reads at element 0 (where
    broadcasting stretched it); a length-1 vector's own axis keeps j."""
    base, shape = model.bases[name], model.shapes[name]
    read = [e.indices for e in element.atoms(sp.Indexed) if e.base == base]
    return tuple(
        sp.S.Zero if size == 1 and any(indices[axis] == 0 for indices in read) else index
        for axis, (index, size) in enumerate(zip(X_INDICES, shape))
    )


def _summed(program: Program) -> tuple[Array, float, tuple[int, ...], list[str]]:
    """y (the array L sums or averages, as the table has it), the scale (1, or 1/count
    for a mean), y's shape and the vectors and matrices J is formed for."""
    from gradexplain.ir.shapes import describe
    from gradexplain.ir.unparse import source
    from gradexplain.teach.sumrule import array

    tree, shapes, node_shapes = program.tree, program.shapes, dict(program.node_shapes)
    found = array(tree, node_shapes, program.model)
    if found is None or not OPS[found.rule].adds_up:  # the table has no product rule yet
        raise ValuesError(
            f"--jacobian needs a vector or matrix y: y = {source(tree)} is a "
            f"scalar, so its Jacobian is the gradient the table shows"
        )
    inner = found.node
    y_shape = node_shapes[id(inner)]
    scale = 1.0 / int(np.prod(y_shape)) if OPS[found.rule].average else 1.0
    names = _differentiated([name for name in variables(inner) if shapes[name]], list(program.wrt))
    sizes = {f"y = {source(inner)}": y_shape, **{name: shapes[name] for name in names}}
    if max(int(np.prod(shape)) for shape in sizes.values()) > MAX_JACOBIAN_N:
        listed = ", ".join(
            f"{label} has {int(np.prod(shape)):,} ({describe(shape)})"
            for label, shape in sizes.items()
        )
        flattened = any(len(shape) > 1 for shape in sizes.values())
        raise ValuesError(
            f"--jacobian forms J"
            f"{' with y and each x flattened in row-major order,' if flattened else ''} "
            f"for at most MAX_JACOBIAN_N = {MAX_JACOBIAN_N:,} elements "
            f"each: {listed}; use --v to get J^T v without forming J"
        )
    return found, scale, y_shape, names


def where(flat: int, shape: tuple[int, ...] | None, gap: str) -> str:
    """`(r,c)` after `gap`: a flattened index's place in a matrix; nothing for a vector."""
    if shape is None or len(shape) < 2:
        return ""
    return gap + "(" + ",".join(str(int(i)) for i in np.unravel_index(flat, shape)) + ")"


def listing(values: np.ndarray) -> str:
    """`[6, 0, 0]`, a matrix row by row `[[1, 0], [0, 1]]`, a scalar `6`."""
    from gradexplain.output.formatting import fmt

    array = np.asarray(values)
    if array.ndim == 0:
        return fmt(float(array))
    return (
        "[" + ", ".join(listing(row) if array.ndim > 1 else fmt(float(row)) for row in array) + "]"
    )
