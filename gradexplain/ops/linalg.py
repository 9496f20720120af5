"""Products and diagonals: sums of products of the operands' elements, as einsum names them.

`mm(A, B)` is einsum's `ik,kj->ij`: its element (i, j) is `Sum(A[i, m]*B[m, j], m)`, the
same Sum of products that `A @ B` builds (`builder.Builder.matmul`), so every walker treats
the spellings alike. Each entry only says which letters its operands take (`letters`),
after checking their shapes; the family builds the element, the shape, the --steps rule
(the product rule inside the sum) and the torch call. A repeated letter is a diagonal:
`trace(X)` is `ii->`, `Sum(X[m, m], m)`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from gradexplain.ir.axes import Shape, ShapeError, describe
from gradexplain.ir.tree import Call
from gradexplain.ops.base import Op, RuleForm, words

Letters = tuple[tuple[str, ...], str]  # each operand's letters, the output's letters

PRODUCT_RULE = "so dL/dA = dL/dY @ B.T, dL/dB = A.T @ dL/dY"


def letter_sizes(inputs: tuple[str, ...], parts: list[Shape]) -> dict[str, int]:
    """Each letter's length; a letter seen twice runs over the shorter axis (a trace of a
    non-square matrix adds its min(rows, columns) diagonal elements, as torch does)."""
    sizes: dict[str, int] = {}
    for letters, shape in zip(inputs, parts):
        for letter, size in zip(letters, shape):
            sizes[letter] = min(size, sizes.get(letter, size))
    return sizes


def matmul_letters(name: str, left: Shape, right: Shape, text: str, col: int) -> Letters:
    """`@` and torch.matmul for vectors and matrices: `ik,kj->ij`, `ik,k->i`, `k,kj->j`,
    `k,k->`; the inner sizes must agree."""
    if not left or not right:
        between = " @ " if name == "@" else " and "
        raise ShapeError(
            f"{name} needs a vector or a matrix on each side, got "
            f"{describe(left)}{between}{describe(right)}; use * for a scalar",
            text,
            col,
        )
    if left[-1] != right[0]:
        raise ShapeError(
            f"{name} of shapes {describe(left)} and {describe(right)}: the "
            f"inner sizes {left[-1]} and {right[0]} differ",
            text,
            col,
        )
    first = "ik"[2 - len(left) :]
    second = "kj"[: len(right)]
    return (first, second), first[:-1] + second[1:]


@dataclass(frozen=True)
class Contraction(Op):
    """A sum over the bound letters of the product of the operands' elements."""

    operands: int = 2
    spellings: tuple[str, ...] = ("torch", "method")
    # the --steps line; {bound} names the summed indices
    words: str = (
        "matrix product: an element is sum_{bound} of products, so the product rule inside the sum"
    )

    title: str = "matrix product rule"  # the rule's name, before its formula
    typical: Letters = (("ik", "kj"), "ij")  # the letters of the printed rule

    def letters(self, node: Call, parts: list[Shape], text: str) -> Letters:
        """Each operand's einsum letters and the output's, after checking the shapes."""
        raise NotImplementedError(self.name)

    def called(self, names: tuple[str, ...], inputs: tuple[str, ...], output: str) -> str:
        """The call as the printed rule writes it: `matmul(A, B)`."""
        return f"{self.name}({', '.join(names)})"

    def rule_form(self, node: Call | None = None) -> RuleForm:
        """The product rule inside the sum, for the entry's typical operands: `d
        matmul(A, B)_ij = sum_k(A_ik*dB_kj + B_kj*dA_ik)`, as --steps applies it."""
        import sympy as sp

        inputs, output = self.typical
        names = _operand_names(inputs)
        index = {c: sp.Symbol(c, integer=True, nonnegative=True) for c in "".join(inputs)}
        at = [tuple(index[c] for c in letters) for letters in inputs]
        elements = [sp.IndexedBase(name)[i] for name, i in zip(names, at)]
        slopes = [sp.IndexedBase(f"d{name}")[i] for name, i in zip(names, at)]
        slope = sum(
            (
                d * math.prod((e for n, e in enumerate(elements) if n != m), start=1)
                for m, d in enumerate(slopes)
            ),
            start=sp.Integer(0),
        )
        for c in dict.fromkeys("".join(inputs)):
            if c not in output:
                slope = sp.Sum(slope, (index[c], 0, sp.Symbol("n") - 1))
        element = f"_{output}" if output else ""
        label = f"d {self.called(names, inputs, output)}{element} = "
        return RuleForm(f"{self.title}: ", ((label, slope),), words(self.rule))

    def fold(self, *values: float) -> float:
        return math.prod(values)  # of scalars; the shape rule refuses them where torch does

    def needs_axes(self, node: Call) -> bool:
        return True

    def shape(self, node: Call, parts: list[Shape], text: str) -> Shape:
        inputs, output = self.letters(node, parts, text)
        sizes = letter_sizes(inputs, parts)
        return tuple(sizes[letter] for letter in output)

    def operand_letters(self, b: Any, node: Call) -> Letters:
        return self.letters(node, [b.shape(arg) for arg in node.args[: self.operands]], "")

    def element(self, b: Any, node: Call, idx: tuple[Any, ...]) -> Any:
        return contract(b, node.args, self.operand_letters(b, node), idx)

    def apply(self, torch: Any, tensors: list[Any], node: Call) -> Any:
        return getattr(torch, self.name)(*tensors)

    def step(self, w: Any, node: Call, idx: tuple[Any, ...], depth: int) -> tuple[str, Any, Any]:
        value, derivative, count = contract_step(
            w, node.args, self.operand_letters(w.builder, node), idx, depth
        )
        return self.words.format(bound=w.shown_indices(value, count)), value, derivative


def _operand_names(inputs: tuple[str, ...]) -> tuple[str, ...]:
    """A and B for matrices, u and v for vectors, X for one matrix (trace)."""
    if len(inputs) == 1:
        return ("X",)
    return tuple(
        ("A", "B")[n] if len(letters) == 2 else ("u", "v")[n] for n, letters in enumerate(inputs)
    )


def plan(
    b: Any, args: tuple[Any, ...], letters: Letters, idx: tuple[Any, ...]
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Each operand's indices at the output element `idx` (fresh ones for the summed
    letters), and the limits of the sum, built with `b` (a `builder.Builder`)."""
    inputs, output = letters
    sizes = letter_sizes(inputs, [b.shape(arg) for arg in args])
    summed = [letter for letter in dict.fromkeys("".join(inputs)) if letter not in output]
    bound = b.fresh(tuple(sizes[letter] for letter in summed))
    at = {**dict(zip(output, idx)), **dict(zip(summed, bound))}
    return [tuple(at[letter] for letter in mine) for mine in inputs], [
        b.limit(index, sizes[letter]) for index, letter in zip(bound, summed)
    ]


def contract(b: Any, args: tuple[Any, ...], letters: Letters, idx: tuple[Any, ...]) -> Any:
    """The element at `idx`: the Sum over the summed letters of the operands' product
    (`A @ B` at (i, j) is `Sum(A[i, m]*B[m, j], m)`)."""
    indices, limits = plan(b, args, letters, idx)
    term = math.prod((b.build(arg, at) for arg, at in zip(args, indices)), start=1)
    for limit in limits:
        term = b.Sum(term, limit)
    return term


def contract_step(
    w: Any, args: tuple[Any, ...], letters: Letters, idx: tuple[Any, ...], depth: int
) -> tuple[Any, Any, int]:
    """--steps (`steps.Steps` is w): the element, the product rule inside the sum, and
    how many indices are summed."""
    indices, limits = plan(w.builder, args, letters, idx)
    pairs = [w.pair(arg, at, depth) for arg, at in zip(args, indices)]
    value = math.prod((u for u, _ in pairs), start=1)
    derivative = sum(
        (
            du * math.prod((v for n, (v, _) in enumerate(pairs) if n != m), start=1)
            for m, (_, du) in enumerate(pairs)
        ),
        start=0,
    )
    for limit in limits:
        value, derivative = w.builder.Sum(value, limit), w.sum(derivative, limit)
    return value, derivative, len(limits)


def _ranks(
    name: str,
    parts: list[Shape],
    wanted: tuple[int, ...],
    kinds: str,
    text: str,
    col: int,
    hint: str = "",
) -> None:
    if tuple(map(len, parts)) != wanted:
        shapes = " and ".join(describe(shape) for shape in parts)
        raise ShapeError(
            f"{name}() needs {kinds}, got shape{'s' * (len(parts) > 1)} {shapes}{hint}", text, col
        )


@dataclass(frozen=True)
class Matmul(Contraction):
    """torch.matmul, mm and mv: `@` with the ranks each spelling requires."""

    ranks: tuple[int, ...] = ()  # () for matmul: any vector or matrix, as @
    kinds: str = ""
    hint: str = ""

    def letters(self, node: Call, parts: list[Shape], text: str) -> Letters:
        if self.ranks:
            _ranks(self.name, parts, self.ranks, self.kinds, text, node.col, self.hint)
        return matmul_letters(f"{self.name}()", parts[0], parts[1], text, node.col)


@dataclass(frozen=True)
class Dot(Contraction):
    """torch.dot: two vectors of the same length, `k,k->`."""

    def letters(self, node: Call, parts: list[Shape], text: str) -> Letters:
        _ranks(
            self.name,
            parts,
            (1, 1),
            "two vectors",
            text,
            node.col,
            "; use @ or matmul() for matrices",
        )
        if parts[0] != parts[1]:
            raise ShapeError(
                f"dot() needs two vectors of the same length, got lengths "
                f"{parts[0][0]} and {parts[1][0]}",
                text,
                node.col,
            )
        return ("k", "k"), ""


@dataclass(frozen=True)
class Inner(Contraction):
    """torch.inner: the sum over the last axis of both (`ik,jk->ij`); a scalar multiplies."""

    def letters(self, node: Call, parts: list[Shape], text: str) -> Letters:
        left, right = parts
        if not left or not right:
            other = "ij"[: len(left or right)]
            return ("" if not left else other, "" if not right else other), other
        if left[-1] != right[-1]:
            raise ShapeError(
                f"inner() of shapes {describe(left)} and {describe(right)}: "
                f"the last sizes {left[-1]} and {right[-1]} differ",
                text,
                node.col,
            )
        first, second = "ab"[: len(left) - 1] + "k", "cd"[: len(right) - 1] + "k"
        return (first, second), first[:-1] + second[:-1]


@dataclass(frozen=True)
class Outer(Contraction):
    """torch.outer: two vectors, `i,j->ij`; nothing is summed."""

    words: str = "outer product: element (i, j) is u_i v_j, so the product rule"

    def letters(self, node: Call, parts: list[Shape], text: str) -> Letters:
        _ranks(self.name, parts, (1, 1), "two vectors", text, node.col)
        return ("i", "j"), "ij"


@dataclass(frozen=True)
class Trace(Contraction):
    """torch.trace: the sum of the main diagonal, `ii->` (min(rows, columns) terms)."""

    operands: int = 1
    words: str = "trace: the sum of the diagonal elements, so the sum rule"

    def fold(self, *values: float) -> float:
        return values[0]

    def letters(self, node: Call, parts: list[Shape], text: str) -> Letters:
        _ranks(self.name, parts, (2,), "a matrix", text, node.col)
        return ("ii",), ""

    def apply(self, torch: Any, tensors: list[Any], node: Call) -> Any:
        return torch.trace(tensors[0])


ENTRIES: tuple[Op, ...] = (
    Matmul("matmul", PRODUCT_RULE, spellings=("torch", "method", "linalg")),
    Matmul(
        "mm",
        PRODUCT_RULE,
        ranks=(2, 2),
        kinds="two matrices",
        hint="; use mv() for a matrix times a vector, or @ and matmul() for any",
    ),
    Matmul(
        "mv",
        "so dL/dA = outer(dL/dy, v), dL/dv = A.T @ dL/dy",
        ranks=(2, 1),
        kinds="a matrix and a vector",
        hint="; use mm() for two matrices, or @ and matmul() for any",
        typical=(("ik", "k"), "i"),
    ),
    Dot("dot", "", title="dot product rule", typical=(("k", "k"), "")),
    Inner("inner", "", title="inner product rule", typical=(("k", "k"), "")),
    Outer("outer", "", title="outer product rule", typical=(("i", "j"), "ij")),
    Trace("trace", "d tr(X)/dX = I, the identity", title="trace rule", typical=(("ii",), "")),
)
