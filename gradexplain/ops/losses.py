"""Losses of torch.nn.functional, each written once as the expression it stands for.

`F.mse_loss(x, y)` is `mean((x - y)**2)`, `F.cross_entropy(z, t)` is
`mean(nll(log_softmax(z, dim=-1), t))`: the parser reads the call and its keywords
(`reduction=` 'mean', 'sum' or 'none', `beta=`, `delta=`, `log_target=`) and builds that
tree of existing entries, so the formula, the steps, the graph, the kinks and both
witnesses come from rules that exist once. What no entry had is here: `huber` (the
piece of smooth_l1 and huber losses, kept whole), `nll` (the negative log-likelihood of
the target class, or of class probabilities), and `probability`, an identity whose only
rule is that binary_cross_entropy's input must lie in [0, 1].
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from gradexplain.ir.axes import Shape, ShapeError, describe
from gradexplain.ir.tree import BinOp, Call, Neg, Node, Num, Var
from gradexplain.ops.base import Hazard, NamedFunction, Op, RuleForm, equation, words
from gradexplain.ops.clamp import CLAMP

Options = Mapping[str, Any]


def _huber_derivative(sp: Any, u: Any, delta: Any, argindex: int) -> Any:
    return CLAMP(u, -delta, delta) if argindex == 1 else sp.Integer(0)


def _huber_numpy(np: Any, u: Any, delta: Any) -> Any:
    size = np.abs(u)
    return np.where(size < delta, 0.5 * u * u, delta * (size - 0.5 * delta))


HUBER = NamedFunction(  # 0.5 u**2 inside [-delta, delta], delta (|u| - delta/2) outside
    "huber",
    derivative=_huber_derivative,
    nargs=2,
    numpy=_huber_numpy,
    explicit=lambda sp, u, delta: sp.Piecewise(
        (u**2 / 2, sp.Abs(u) < delta), (delta * (sp.Abs(u) - delta / 2), True)
    ),
)


@dataclass(frozen=True)
class Huber(Op):
    """huber(u, delta): its slope clamp(u, -delta, delta) is continuous, so at the switch
    |u| = delta the gradient exists (only the second derivative jumps)."""

    signature: str = "internal"
    spellings: tuple[str, ...] = ()

    def fold(self, *values: float) -> float:
        size = abs(values[0])
        return 0.5 * values[0] ** 2 if size < values[1] else values[1] * (size - values[1] / 2)

    def named(self) -> Iterator[NamedFunction]:
        return iter((HUBER, CLAMP))

    def element(self, b: Any, node: Call, idx: tuple[Any, ...]) -> Any:
        delta = node.args[1]
        assert isinstance(delta, Num)
        return HUBER(b.build(node.args[0], idx), b.number(delta))

    def rule_form(self, node: Call | None = None) -> RuleForm:
        """huber'(u) = clamp(u, -delta, delta), delta by name or by its value."""
        import sympy as sp

        u = sp.Symbol("u", real=True)
        delta = node.args[1] if node is not None and len(node.args) > 1 else None
        size = _exact(sp, delta.value) if isinstance(delta, Num) else sp.Symbol("delta")
        slope = _huber_derivative(sp, u, size, 1)
        return RuleForm("", ((f"{self.name}'(u) = ", slope),), words(self.rule))

    def torch(self, torch: Any, tensor: Any, node: Call) -> Any:
        delta = node.args[1]
        assert isinstance(delta, Num)
        return torch.nn.functional.huber_loss(
            tensor, torch.zeros_like(tensor), reduction="none", delta=delta.value
        )

    def step(self, w: Any, node: Call, idx: tuple[Any, ...], depth: int) -> tuple[str, Any, Any]:
        import sympy as sp

        u, du = w.pair(node.args[0], idx, depth)
        delta = node.args[1]
        assert isinstance(delta, Num)
        value = HUBER(u, w.builder.number(delta))
        return (
            f"chain rule with {self.printed_rule(w.show, node)}",
            value,
            _huber_derivative(sp, u, w.builder.number(delta), 1) * du,
        )


@dataclass(frozen=True)
class Probability(Op):
    """The identity, with one rule: binary_cross_entropy's input is a probability."""

    signature: str = "internal"
    spellings: tuple[str, ...] = ()

    def fold(self, *values: float) -> float:
        return values[0]

    def element(self, b: Any, node: Call, idx: tuple[Any, ...]) -> Any:
        return b.build(node.args[0], idx)

    def torch(self, torch: Any, tensor: Any, node: Call) -> Any:
        return tensor

    def step(self, w: Any, node: Call, idx: tuple[Any, ...], depth: int) -> tuple[str, Any, Any]:
        u, du = w.pair(node.args[0], idx, depth)
        return "a probability passes unchanged", u, du

    def source(self, node: Call, args: list[str]) -> str:
        return args[0]


@dataclass(frozen=True)
class Nll(Op):
    """nll(logp, t): -logp at the target class t (integer data), per sample; or, when t
    has logp's shape, -sum_c t_c logp_c (class probabilities). The class axis is the last."""

    signature: str = "internal"
    spellings: tuple[str, ...] = ()
    operands: int = 2

    def rule_form(self, node: Call | None = None) -> RuleForm:
        """d nll(logp, t)_j/dlogp_jc = -delta(c, t_j): -1 at the target class only."""
        import sympy as sp

        j, c = sp.symbols("j c", integer=True, nonnegative=True)
        slope = -sp.KroneckerDelta(c, sp.IndexedBase("t")[j])
        return equation("", "d nll(logp, t)_j/dlogp_jc = ", None, slope, self.rule)

    def apply(self, torch: Any, tensors: list[Any], node: Call) -> Any:
        return self.torch(torch, tensors[0], node, *tensors[1:])

    def fold(self, *values: float) -> float | None:  # type: ignore[override]
        return None

    def needs_axes(self, node: Call) -> bool:
        return True

    def source(self, node: Call, args: list[str]) -> str:
        return f"nll({', '.join(args)})"

    def indices(self, node: Call, shape_of: Callable[[Node], Shape]) -> bool:
        """True when the target holds class indices (its shape lacks the class axis)."""
        return shape_of(node.args[1]) != shape_of(node.args[0])

    def shape(self, node: Call, parts: list[Shape], text: str) -> Shape:
        logp, target = parts
        name = node.param("loss", "cross_entropy")
        if not logp:
            raise ShapeError(
                f"{name}() needs class scores, a vector or an N x C matrix, not a scalar",
                text,
                node.col,
            )
        if target == logp[:-1] or (target == logp and name == "cross_entropy"):
            return logp[:-1]
        wanted = f"{describe(logp[:-1])} class indices" + (
            f" or {describe(logp)} class probabilities" if name == "cross_entropy" else ""
        )
        raise ShapeError(
            f"{name}() of {describe(logp)} scores needs {wanted}, got {describe(target)}",
            text,
            node.args[1].col,
        )

    def element(self, b: Any, node: Call, idx: tuple[Any, ...]) -> Any:
        logp, target = node.args
        if self.indices(node, b.shape):
            return -b.build(logp, (*idx, b.build(target, idx)))
        (c,) = b.fresh(b.shape(logp)[-1:])
        return -b.Sum(
            b.build(target, (*idx, c)) * b.build(logp, (*idx, c)), b.limit(c, b.shape(logp)[-1])
        )

    def torch(self, torch: Any, tensor: Any, node: Call, *others: Any) -> Any:
        (target,) = others
        if target.shape != tensor.shape:
            return -tensor.gather(-1, target.long().unsqueeze(-1)).squeeze(-1)
        return -(target * tensor).sum(dim=-1)

    def data(self, node: Call, shape_of: Callable[[Any], Shape] | None = None) -> Iterator[Var]:
        target = node.args[1]
        if isinstance(target, Var) and (shape_of is None or self.indices(node, shape_of)):
            yield target

    def check_values(
        self, node: Call, shape_of: Mapping[int, Shape], arrays: Mapping[str, Any], text: str
    ) -> None:
        from gradexplain.ops.indexing import check_indices

        target = node.args[1]
        if isinstance(target, Var) and self.indices(node, lambda n: shape_of[id(n)]):
            scores = shape_of[id(node.args[0])]
            check_indices(
                target.name, arrays[target.name], scores[-1], len(scores) - 1, text, target.col
            )

    def step(self, w: Any, node: Call, idx: tuple[Any, ...], depth: int) -> tuple[str, Any, Any]:
        logp, target = node.args
        if self.indices(node, lambda n: w.node_shapes[id(n)]):
            u, du = w.pair(logp, (*idx, w.builder.build(target, idx)), depth)
            return "nll picks the target class: -logp at t", -u, -du
        (c,) = w.builder.fresh(w.node_shapes[id(logp)][-1:])
        u, du = w.pair(logp, (*idx, c), depth)
        t, dt = w.pair(target, (*idx, c), depth)  # the probabilities may be differentiated
        limit = w.builder.limit(c, w.node_shapes[id(logp)][-1])
        return (
            "nll of class probabilities: -sum_c t_c logp_c, by the product rule",
            -w.builder.Sum(t * u, limit),
            -w.sum(dt * u + t * du, limit),
        )


# -- the losses: each an expression of entries -------------------------------------------


def _reduce(node: Node, options: Options, col: int) -> Node:
    reduction = options["reduction"]
    if reduction == "none":
        return node
    if reduction == "batchmean":  # kl_div: the sum over the batch's first axis, averaged
        return Call("sum", (Call("mean", (node,), col, (("dim", (0,)),)),), col)
    return Call(reduction, (node,), col)


def _difference(u: Node, y: Node, col: int) -> Node:
    return BinOp("-", u, y, col)


def _mse(u: Node, y: Node, options: Options, col: int) -> Node:
    return _reduce(BinOp("**", _difference(u, y, col), Num(2.0, "2", col), col), options, col)


def _l1(u: Node, y: Node, options: Options, col: int) -> Node:
    return _reduce(Call("abs", (_difference(u, y, col),), col), options, col)


def _number(value: float, col: int) -> Num:
    return Num(float(value), repr(float(value)) if value != int(value) else str(int(value)), col)


def _smooth_l1(u: Node, y: Node, options: Options, col: int) -> Node:
    beta = options["beta"]
    if beta == 0:  # torch: smooth_l1 with beta 0 is l1
        return _l1(u, y, options, col)
    piece = Call("huber", (_difference(u, y, col), _number(beta, col)), col)
    return _reduce(piece if beta == 1 else BinOp("/", piece, _number(beta, col), col), options, col)


def _huber_loss(u: Node, y: Node, options: Options, col: int) -> Node:
    return _reduce(
        Call("huber", (_difference(u, y, col), _number(options["delta"], col)), col), options, col
    )


def _bce(p: Node, y: Node, options: Options, col: int) -> Node:
    """-(y log p + (1 - y) log(1 - p))."""
    p = Call("probability", (p,), col)
    one = Num(1.0, "1", col)
    first = BinOp("*", y, Call("log", (p,), col), col)
    second = BinOp("*", BinOp("-", one, y, col), Call("log", (BinOp("-", one, p, col),), col), col)
    return _reduce(Neg(BinOp("+", first, second, col), col), options, col)


def _bce_logits(z: Node, y: Node, options: Options, col: int) -> Node:
    """softplus(z) - y z: the same value, and no log of a rounded sigmoid."""
    return _reduce(
        BinOp("-", Call("softplus", (z,), col), BinOp("*", y, z, col), col), options, col
    )


def _cross_entropy(z: Node, t: Node, options: Options, col: int) -> Node:
    logp = Call("log_softmax", (z,), col, (("dim", (-1,)),))
    return _reduce(Call("nll", (logp, t), col, (("loss", "cross_entropy"),)), options, col)


def _nll_loss(logp: Node, t: Node, options: Options, col: int) -> Node:
    return _reduce(Call("nll", (logp, t), col, (("loss", "nll_loss"),)), options, col)


def _kl_div(u: Node, y: Node, options: Options, col: int) -> Node:
    """xlogy(target, target) - target input, or exp(target) (target - input) with
    log_target: as torch, a target 0 contributes 0 (0 log 0 = 0), not nan."""
    pointwise: Node
    if options["log_target"]:
        pointwise = BinOp("*", Call("exp", (y,), col), _difference(y, u, col), col)
    else:
        pointwise = _difference(Call("xlogy", (y, y), col), BinOp("*", y, u, col), col)
    return _reduce(pointwise, options, col)


REDUCTIONS = ("mean", "sum", "none")


def _exact(sp: Any, value: Any) -> Any:
    """A setting as an exact number (beta 1.0 is 1), or its name where it is symbolic."""
    from gradexplain.ops.base import number

    return number(repr(value), value) if isinstance(value, float) else value


def _softplus(sp: Any, z: Any) -> Any:
    """softplus(z) as its registry entry writes it, so the rule prints sigmoid(z)."""
    from gradexplain.ops.activations import SOFTPLUS

    return SOFTPLUS(z)


@dataclass(frozen=True)
class Loss(Op):
    """A loss: `expand(input, target, options, col)` is the tree it stands for; the parser
    reads its keywords (`settings`: name -> default) and calls it."""

    signature: str = "loss"
    spellings: tuple[str, ...] = ("functional",)
    expand: Callable[[Node, Node, Options, int], Node] = _mse
    operands: int = 2
    settings: tuple[tuple[str, Any], ...] = (("reduction", "mean"),)  # name, default
    # the loss of one element as SymPy, (sympy, input u_j, target y_j, settings): what
    # the printed rule differentiates; None for a loss over classes (its own rule_form)
    term: Callable[[Any, Any, Any, Options], Any] | None = None
    letters: str = "uy"  # the input's and the target's names in the printed rule

    def reductions(self) -> tuple[str, ...]:
        return (*REDUCTIONS, "batchmean") if self.name == "kl_div" else REDUCTIONS

    def rule_form(self, node: Call | None = None) -> RuleForm:
        """SymPy's derivative of one element's loss, divided by n for a mean: `d
        mse_loss(u, y)/du_j = (2*u_j - 2*y_j)/n`; over classes, softmax minus one-hot."""
        import sympy as sp

        options = {  # without a call (README's table), a number setting by its name
            key: sp.Symbol(key, positive=True) if isinstance(value, float) else value
            for key, value in self.settings
        }
        if node is not None:
            options.update({key: node.param(key, value) for key, value in self.settings})
        u, y = (sp.IndexedBase(letter, real=True) for letter in self.letters)
        j, c = sp.symbols("j c", integer=True, nonnegative=True)
        if self.term is None:  # cross_entropy, nll_loss: the element (j, c) of the scores
            slope, at, said = _class_slope(sp, self.name, u, y, j, c)
            counted = "samples"
        else:
            slope, at, said = sp.diff(self.term(sp, u[j], y[j], options), u[j]), "j", ""
            counted = "elements"
        reduction = options["reduction"]
        if reduction in ("mean", "batchmean"):
            slope /= sp.Symbol("n")
            said += f"{'; ' if said else ''}n: how many {counted} the mean takes"
        derivative = f"d {self.name}({', '.join(self.letters)})/d{self.letters[0]}_{at} = "
        return equation("", derivative, None, slope, "; ".join(filter(None, (self.rule, said))))


def _class_slope(sp: Any, name: str, z: Any, t: Any, j: Any, c: Any) -> tuple[Any, str, str]:
    """-log_softmax(z)_t per sample j: softmax minus one-hot (cross_entropy), or minus
    one-hot alone (nll_loss of log-probabilities)."""
    onehot = sp.KroneckerDelta(c, t[j])
    if name == "nll_loss":
        return -onehot, "jc", "t_j: the target class of sample j"
    s = sp.IndexedBase("s")
    return s[j, c] - onehot, "jc", "s = softmax(z) along the classes, t_j the target class"


ENTRIES: tuple[Op, ...] = (
    Huber("huber", "u inside [-delta, delta], +-delta outside"),
    Probability(
        "probability",
        "identity",
        hazards=(
            Hazard(
                "domain",
                lambda values: (values < 0) | (values > 1),
                (
                    "binary_cross_entropy takes probabilities: its input must lie in [0, 1] "
                    "(PyTorch refuses other values; binary_cross_entropy_with_logits takes scores)"
                ),
            ),
        ),
    ),
    Nll("nll", "for class probabilities t_jc, -t_jc"),
    Loss(
        "mse_loss",
        "the mean of squared differences",
        expand=_mse,
        term=lambda sp, u, y, o: (u - y) ** 2,
    ),
    Loss(
        "l1_loss",
        "the mean of absolute differences",
        expand=_l1,
        term=lambda sp, u, y, o: sp.Abs(u - y),
    ),
    Loss(
        "smooth_l1_loss",
        "huber(u - y, beta)/beta",
        expand=_smooth_l1,
        settings=(("reduction", "mean"), ("beta", 1.0)),
        term=lambda sp, u, y, o: HUBER(u - y, _exact(sp, o["beta"])) / _exact(sp, o["beta"]),
    ),
    Loss(
        "huber_loss",
        "huber(u - y, delta)",
        expand=_huber_loss,
        settings=(("reduction", "mean"), ("delta", 1.0)),
        term=lambda sp, u, y, o: HUBER(u - y, _exact(sp, o["delta"])),
    ),
    Loss(
        "binary_cross_entropy",
        "-(y log p + (1 - y) log(1 - p))",
        expand=_bce,
        term=lambda sp, p, y, o: -(y * sp.log(p) + (1 - y) * sp.log(1 - p)),
        letters="py",
    ),
    Loss(
        "binary_cross_entropy_with_logits",
        "softplus(z) - y z",
        expand=_bce_logits,
        term=lambda sp, z, y, o: _softplus(sp, z) - y * z,
        letters="zy",
    ),
    Loss(
        "cross_entropy",
        "-log_softmax(z)_t, or -sum_c t_c log_softmax(z)_c",
        expand=_cross_entropy,
        letters="zt",
    ),
    Loss("nll_loss", "-logp_t", expand=_nll_loss, letters="zt"),
    Loss(
        "kl_div",
        "target (log target - input), 0 where target = 0 (xlogy)",
        expand=_kl_div,
        settings=(("reduction", "mean"), ("log_target", False)),
        term=lambda sp, u, y, o: sp.exp(y) * (y - u) if o["log_target"] else -y * u,
    ),
)
