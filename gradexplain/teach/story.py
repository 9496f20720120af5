"""The explanation in words, for every rank: which rule builds L, and what it says for
each variable.

Read from our tree (which node is at the top) and from the SymPy model (the summand, the
formula); the numbers come from the evaluator. A program of vectors of one length shows
the array L combines as columns of its gradient's table, the sum-rule table's rank-1
rendering, and names the rule at the top (sum, mean, prod, max, a chain through one
reduction); any other shows that table on its own (`sumrule.py`) and the chain rule
through `@`. Sentences are plain ASCII so they survive any terminal, pipe or CI log.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from gradexplain.ir.program import Program
from gradexplain.ir.shapes import element
from gradexplain.ir.tree import BinOp, Call, Node, Var, children, walk
from gradexplain.ir.unparse import source
from gradexplain.ops import OPS
from gradexplain.ops.reductions import Reduction as ReductionOp
from gradexplain.result import Decomposition, Singularity, Terms
from gradexplain.teach import sumrule
from gradexplain.witnesses.builder import I, J, Reduction
from gradexplain.witnesses.evaluate import Evaluator
from gradexplain.witnesses.symbolic import Model, formula

# torch 2.13's own messages (tests/test_desk.py checks them against real PyTorch)
NOT_SCALAR_ERROR = "grad can be implicitly created only for scalar outputs"
SHAPE_ERROR = "Mismatch in shape"

ONES_NOTE = (
    "The expression is a vector y, and y.backward() alone is an error in PyTorch "
    f'("{NOT_SCALAR_ERROR}"): backward() starts from one number. y.backward(v) with v '
    "shaped like y computes sum_i v_i * dy_i/dx_j; with v = torch.ones_like(y) that is "
    "sum_i dy_i/dx_j, the gradient of L = sum_i y_i, so y.backward(torch.ones_like(y)) "
    "and y.sum().backward() give the same numbers."
)

SCALAR_NOTE = (
    'Why one number: training lowers a loss, and "lower" needs a single number to '
    "compare, so backward() starts from L itself, with dL/dL = 1. L is already a scalar, so "
    "L.backward() needs no argument; {ones}L.backward(torch.ones_like(L)) is the same as "
    "L.backward()."
)
# what backward(ones_like(x)) does with x a differentiated vector or matrix
ONES_OF_VECTOR = (
    f'L.backward(torch.ones_like({{x}})) is an error in PyTorch ("{SHAPE_ERROR}": '
    "ones_like({x}) has {n}, L has none), and "
)


def top_reductions(tree: Node, model: Model) -> list[Node]:
    """Reductions of a vector reached from the top without passing another reduction."""
    found: list[Node] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if node in model.reductions:
            found.append(node)
            continue
        stack.extend(children(node))
    return found


def decompose(program: Program, model: Model, evaluator: Evaluator) -> Decomposition:
    """Name the rule at the top of L and, where L combines one array y, y element by
    element, the same for every rank (`sumrule.array`, from the one model): as the
    gradient table's columns where the program reads one length n (y's index is the
    table's rows), else as y's own table beside L's formula."""
    found = sumrule.array(program.tree, dict(program.node_shapes), model)
    if _by_shapes(program):
        return _by_shape(program, model, evaluator, found)
    return _in_one_length(program, model, evaluator, found)


def _by_shapes(program: Program) -> bool:
    """The program's arrays read by their shapes, sizes as numbers (a matrix, @, dim=,
    a stretched vector), not in one length n: y gets its own table, and each variable
    the chain rule through @ (or element by element)."""
    return program.notation.length is None and program.length is not None


def _in_one_length(
    program: Program, model: Model, evaluator: Evaluator, found: sumrule.Array | None
) -> Decomposition:
    """The rule at the top, its terms y_i evaluated along the one length."""
    tree, nt = program.tree, program.notation
    if found is not None:
        term = formula(found.element.xreplace({found.own[0]: I}), nt)
        values = evaluator.tensor(found.element, found.own, (program.length or 1,))
        if found.node is tree:  # a vector result, summed by backward(ones)
            top = OPS[tree.func].ones_note if isinstance(tree, Call) else ""
            notes = (nt.words(ONES_NOTE), *((nt.words(top),) if top else ()))
            summary = f"{nt.words('L = sum_i y_i with y_i')} = {term}"
            return Decomposition("sum", summary, True, term, values, notes)
        op = OPS[found.rule]
        why = (_scalar_note(program),) if op.adds_up else ()
        summary = f"{nt.words(f'{op.story} with y_i')} = {term}"
        return Decomposition(found.rule, summary, False, term, values, why)
    outer = top_reductions(tree, model)
    if len(outer) == 1:
        return _chain(program, model, evaluator, outer[0])
    if outer:
        note = (
            f"Chain rule: L combines {len(outer)} reductions; the chain rule runs "
            f"through each of them and the contributions add up."
        )
        return Decomposition("chain", f"L = {formula(model.loss, nt)}", False, None, None, (note,))
    return Decomposition("derivative", f"L = {formula(model.loss, nt)}", False, None, None)


def _chain(program: Program, model: Model, evaluator: Evaluator, node: Node) -> Decomposition:
    """L = g(s) with s the one reduction under the top: its terms, g and g'."""
    nt = program.notation
    reduction = model.reductions[node]
    term = formula(reduction.term.subs(reduction.index, I), nt)
    s = sp.Symbol("s")
    outer_fn = model.loss.subs(reduction.expr, s)
    op = OPS[node.func] if isinstance(node, Call) else None
    word = op.combines if isinstance(op, ReductionOp) else "sum"  # only they record one
    note = (
        f"Chain rule: L = g(s) with s = {word}_{nt.i} y_{nt.i}, g(s) = "
        f"{formula(outer_fn, nt)} and g'(s) = {formula(sp.diff(outer_fn, s), nt)}; so "
        f"dL/dx_{nt.j} = g'(s) * ds/dx_{nt.j}."
    )
    return Decomposition(
        "chain",
        f"L = g(s), s = {word}_{nt.i} y_{nt.i} with y_{nt.i} = {term}",
        False,
        term,
        evaluator.tensor(reduction.term, reduction.indices, (program.length or 1,)),
        (note,),
        inner=float(evaluator.tensor(reduction.expr)),
    )


def _by_shape(
    program: Program, model: Model, evaluator: Evaluator, found: sumrule.Array | None
) -> Decomposition:
    """L's formula, and y element by element where L sums (or averages) an array y."""
    tree, node_shapes, nt = program.tree, dict(program.node_shapes), program.notation
    table = (
        None
        if found is None
        else sumrule.terms(tree, node_shapes, found, evaluator, list(program.wrt), nt)
    )
    top = node_shapes[id(tree)]
    notes = (
        (sumrule.ONES_NOTE.format(shape=sumrule.kind(top), y=sumrule.letters(tree)[0]),)
        if top
        else ()
    )
    rule = table.rule if table is not None else ("sum" if top else "derivative")
    return Decomposition(
        rule,
        f"L = {formula(model.loss, nt)}",
        bool(top),
        None if table is None else table.formula,
        None,
        notes,
        table,
    )


def _scalar_note(program: Program) -> str:
    """Why L is one number, and what backward(ones_like(x)) does to a scalar L. Where
    every differentiated variable is a scalar, ones_like of one is 0-d like L, no error:
    the note then says nothing of it (it said "ones_like(x) has 0 elements", of an x the
    expression did not have)."""
    vectors = [name for name in program.wrt if program.values[name].shape]
    if not vectors:
        return SCALAR_NOTE.format(ones="")
    size = program.values[vectors[0]].size
    ones = ONES_OF_VECTOR.format(x=vectors[0], n=f"{size} element{'s' * (size != 1)}")
    return SCALAR_NOTE.format(ones=ones)


def sentence(
    program: Program, model: Model, decomposition: Decomposition, name: str, grad_formula: str
) -> str:
    """The rule applied to one variable, ending in its gradient formula."""
    if _by_shapes(program):
        return _through_products(program, decomposition.terms, name, grad_formula)
    tree, is_vector, nt = program.tree, bool(model.shapes[name]), program.notation
    target = f"{name}_{nt.j}" if is_vector else name
    lead = f"dL/d{target} = {grad_formula}"
    rule = decomposition.rule
    if rule == "derivative":
        return f"Ordinary derivative: {lead}."
    if not is_vector:
        return (
            f"Every term contains the scalar {name}, so dL/d{name} is the sum of each "
            f"term's derivative: {lead}."
        )
    term = _term_at_j(tree, model, decomposition)
    if term is None:
        return f"Chain rule through every reduction: {lead}."
    if term.has(sp.Sum, sp.Product):
        return (
            f"Every term also contains {target} through an inner reduction, so all "
            f"terms contribute: {lead}."
        )
    local = f"d({formula(term, nt)})/d{target}"
    if rule in OPS:  # the reduction at the top says its own rule
        return OPS[rule].story_sentence(name, local, grad_formula, nt)
    return (
        f"Chain rule: only the term {nt.i} = {nt.j} of s contains {target}, so "
        f"dL/d{target} = g'(s) * {local} = {grad_formula}."
    )


def _term_at_j(tree: Node, model: Model, decomposition: Decomposition) -> sp.Expr | None:
    if decomposition.term is None:
        return None
    if model.implicit_sum:
        assert model.implicit_term is not None
        return model.implicit_term.subs(I, J)
    node = tree if tree in model.reductions else top_reductions(tree, model)[0]
    reduction: Reduction = model.reductions[node]
    return reduction.term.subs(reduction.index, J)


def _through_products(program: Program, table: Terms | None, name: str, text: str) -> str:
    """The chain rule through the `@` that uses `name` directly, or the general rule."""
    tree, node_shapes, shape = program.tree, dict(program.node_shapes), program.shapes[name]
    lead = f"dL/d{element(name, shape, program.notation.j + program.notation.k)} = {text}"
    products = [
        node
        for node in walk(tree)
        if isinstance(node, BinOp)
        and node.op == "@"
        and name in (_operand_name(node.left), _operand_name(node.right))
    ]
    uses = sum(isinstance(node, Var) and node.name == name for node in walk(tree))
    if products and (len({source(node) for node in products}) > 1 or len(products) < uses):
        # X.T@X, or X@w + X**2: one @ does not carry all of dL/dX
        return (
            f"Chain rule, element by element: {name} appears {uses} times, so dL/d{name} "
            f"adds the contribution of each; {lead}."
        )
    for node in products:  # one product, perhaps written twice (both branches of a where)
        mine, theirs = (
            (node.left, node.right) if _operand_name(node.left) == name else (node.right, node.left)
        )
        other = source(theirs)
        outer = (
            f" (an outer product: {other} is a vector)"
            if len(node_shapes[id(mine)]) == 2 and len(node_shapes[id(theirs)]) == 1
            else ""
        )
        y = _product_letter(tree, table, source(node))
        pair = (f"dL/d{y}", _transposed(other))
        product = " @ ".join(pair if mine is node.left else reversed(pair))
        return (
            f"Chain rule through @: with {y} = {source(node)}, dL/d{name} = "
            f"{product}{outer}, so {lead}."
        )
    forms = dict.fromkeys(
        OPS[node.func].closed_form for node in walk(tree) if isinstance(node, Call)
    )
    forms.pop("", None)
    if forms:  # det, inverse...: the matrix-level rule the symbolic side used
        return f"Chain rule, element by element, with {'; '.join(forms)}: {lead}."
    return f"Chain rule, element by element: {lead}."


def _product_letter(tree: Node, table: Terms | None, product: str) -> str:
    """y, unless the sum-rule table already calls another array y (the sigmoid of this
    product, say): then z, so one letter never names two arrays (nor a variable)."""
    array, other = sumrule.letters(tree)
    return other if table is not None and table.source != product else array


def _operand_name(node: Node) -> str | None:
    """`W` when the operand is the variable itself (not `W.T`, nor an expression)."""
    return node.name if isinstance(node, Var) else None


def _transposed(text: str) -> str:
    return (
        text[:-2]
        if text.endswith(".T")
        else (f"{text}.T" if text.isidentifier() else f"({text}).T")
    )


_OPERATOR_REASONS = {  # a function's reasons are in its registry entry (gradexplain.ops)
    ("/", "pole"): "division by zero: the quotient and its derivative are infinite",
    ("**", "pole"): "the derivative p*u**(p-1) of u**p is infinite at u = 0 when p < 1",
    ("**", "domain"): "a power with a negative base and a non-integer exponent is not real",
}


def singularity(node: Node, kind: str, mask: np.ndarray, why: str | None = None) -> Singularity:
    """Describe one hazard that the autograd builder recorded (`why`: its own reason)."""
    elements = None if mask.ndim == 0 else tuple(int(i) for i in np.flatnonzero(mask))
    if isinstance(node, Call):
        function, reason = (
            node.func,
            OPS[node.func].reason(node, kind, [source(arg) for arg in node.args]),
        )
    else:
        function = node.op if isinstance(node, BinOp) else "?"
        reason = _OPERATOR_REASONS.get((function, kind), f"{function} has no derivative here")
    return Singularity(function, node.col, kind, why or reason, elements, tuple(mask.shape))
