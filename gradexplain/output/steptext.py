"""`--steps` on a screen: long repeated elements get short names, and a later variable
whose derivation applies the same rules to the same elements is shown without them.

The linear model's steps repeat `sigmoid(b + sum_m(X_im*w_m))` a dozen times; a person
writes z = X@w, s = sigmoid(b + z) once and then uses s_i. Here an element (a rule
line's value that holds a sum or a function) gets a name when it prints longer than NAME_AT
characters and appears in at least two other lines; names are chosen inner first, so s is
defined through z. The
names only shorten what is shown: the derivation (steps.py) and its JSON keep the
written-out lines, and the table's formula is the check.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sympy as sp

from gradexplain.teach import stepend
from gradexplain.teach.steps import Derivation, Parts, Step
from gradexplain.witnesses import symbolic

NAME_AT = 14  # an element printed longer than this, seen in 2+ other lines, gets a name
LETTERS = "zsuvrqgh"  # names tried in turn; a function's element tries its initial first


@dataclass(frozen=True)
class Name:
    """`symbol` (z_i) stands for `element` (sum_m(X_im*w_m)), `definition` printed."""

    symbol: Any
    element: Any
    definition: Any
    source: str
    variants: tuple[Any, ...] = ()  # every form of the element that the name replaces

    def also(self, variant: Any) -> Name:
        return dataclasses.replace(self, variants=(*self.variants, variant))

    @property
    def base(self) -> str:
        """The name alone: z for z_i."""
        return str(self.symbol.base if isinstance(self.symbol, sp.Indexed) else self.symbol)


@dataclass(frozen=True)
class Screen:
    """What --steps shows: the names, then per variable a heading and its lines."""

    names: str  # "" when nothing was named
    derivations: tuple[tuple[str, tuple[str, ...]], ...]
    # each variable's gradient as its last line prints it, names in: the table uses it
    formulas: Mapping[str, str] = dataclasses.field(default_factory=dict)
    # (a named vector's definition, its name): `sigmoid(b + z)` is s in the matrix form
    vectors: tuple[tuple[str, str], ...] = ()

    def in_vectors(self, text: str) -> str:
        """`text` (a matrix form) with each named vector's definition replaced by its name."""
        for definition, name in self.vectors:
            text = re.sub(rf"(?<![\w.]){re.escape(definition)}", name, text)
        return text


def screen(derivations: Mapping[str, Derivation]) -> Screen:
    found = [d for d in derivations.values() if d.parts is not None]
    if len(found) != len(derivations):  # no expressions kept: the lines as derived
        return Screen(
            "", tuple((f"Steps for dL/d{d.name}:", d.lines) for d in derivations.values())
        )
    names = choose(found)
    shown: list[tuple[str, tuple[str, ...]]] = []
    earlier: dict[tuple[Any, ...], str] = {}
    for derivation in found:
        parts = derivation.parts
        assert parts is not None
        shape = tuple(
            (step.depth, step.rule, _show(step.value, names, parts)) for step in parts.steps
        )
        twin = earlier.get(shape)
        if twin is None:
            earlier[shape] = derivation.name
            shown.append((f"Steps for dL/d{derivation.name}:", tuple(_lines(parts, names))))
        else:
            head = (
                f"Steps for dL/d{derivation.name}: the rules of dL/d{twin} above, "
                f"line by line, with d/d{parts.target}:"
            )
            shown.append((head, tuple(_lines(parts, names, rules=False))))
    formulas = {
        d.name: _show(d.parts.final if d.parts.table is None else d.parts.table, names, d.parts)
        for d in found
        if d.parts is not None
    }
    vectors = tuple(
        (text, name.base) for name in names if (text := _vector(name, found[0].parts)) is not None
    )
    return Screen(_definitions(names, found), tuple(shown), formulas, vectors)


def _vector(name: Name, parts: Parts | None) -> str | None:
    """The definition of a name with one index as a vector, `sigmoid(b + z)` for
    s_i = sigmoid(b + z_i); None where another index stays (a row of a matrix)."""
    if parts is None or not isinstance(name.symbol, sp.Indexed) or len(name.symbol.indices) != 1:
        return None
    index = name.symbol.indices[0]
    whole = name.definition.replace(
        lambda e: isinstance(e, sp.Indexed) and e.indices == (index,),
        lambda e: sp.Symbol(str(e.base)),
    )
    if index in whole.free_symbols or whole.has(sp.Sum):
        return None
    return _show(whole, (), parts)


def choose(derivations: Sequence[Derivation]) -> list[Name]:
    """Names for long elements seen in 2+ other lines, inner (smaller) elements first.
    The operand of the top reduction stays written out (L = sum_i(...) reads as typed);
    an element built twice (one `x@w` in two places) gets one name for both."""
    steps = [step for d in derivations if d.parts is not None for step in d.parts.steps]
    exprs = [e for d in derivations if d.parts is not None for e in _exprs(d.parts)]
    taken = {str(s) for e in exprs for s in e.free_symbols | _bases(e)} | {"L", "n", "N", "d"}
    taken |= {c for d in derivations if d.parts for c in d.parts.notation.core.values()}
    taken |= {name.swapcase() for name in taken}  # x_mi beside a matrix X reads as X
    names: list[Name] = []
    by_text: dict[str, Name] = {}
    by_source: dict[str, Name] = {}  # a node named at one index keeps its letter at another
    for step in sorted(steps, key=lambda s: sp.count_ops(s.value, visual=False)):
        if step.depth < 2:
            continue
        definition = _named(step.value, names)
        text = symbolic.formula(definition)
        if text in by_text:  # the same element, built again: the same name
            known = by_text[text]
            if definition not in known.variants:
                names[names.index(known)] = by_text[text] = known.also(definition)
            continue
        if len(text) <= NAME_AT or not (definition.has(sp.Sum) or _applied(definition)):
            continue  # short, or arithmetic on names (s_i - y_i) that reads as it is
        node = by_source.get(step.source)
        if node is not None and step.idx and isinstance(node.symbol, sp.Indexed):
            symbol = node.symbol.base[step.idx]  # softmax's u_k beside u_i: z_k, not s_k
        else:
            uses = sum(_contains(_named(e, names), definition) for e in exprs)
            if uses < 3:  # its own line, and two others
                continue
            letter = _letter(step, taken)
            taken.add(letter)
            symbol = sp.IndexedBase(letter)[step.idx] if step.idx else sp.Symbol(letter)
        by_text[text] = Name(symbol, step.value, definition, step.source, (definition,))
        by_source.setdefault(step.source, by_text[text])
        names.append(by_text[text])
    return names


def _applied(expr: Any) -> bool:
    """Does `expr` apply a function (sigmoid, exp...)? An index's delta does not count."""
    return any(not isinstance(f, sp.KroneckerDelta) for f in expr.atoms(sp.Function))


def _exprs(parts: Parts) -> Iterator[Any]:
    yield parts.value
    yield parts.final
    for step in parts.steps:
        yield step.value
        yield step.derivative


def _bases(expr: Any) -> set[Any]:
    return {indexed.base.label for indexed in expr.atoms(sp.Indexed)}


def _contains(expr: Any, part: Any) -> bool:
    """Whether naming `part` changes `expr`: the test the substitution itself uses (a
    factor of a longer product, exp(x_k)/sum_k(...) in exp(x_k)*t_k/sum_k(...), is not)."""
    return bool(expr.xreplace({part: _MARK}) != expr)


_MARK = sp.Symbol("_named")


def _letter(step: Step, taken: set[str]) -> str:
    """z for a matrix product, a function's initial (s for sigmoid), else the next free."""
    first = "z" if _product(step.source) else step.source[:1]
    for letter in (first, *LETTERS):
        if letter.isalpha() and letter.islower() and letter not in taken:
            return str(letter)
    number = 2
    while f"z{number}" in taken:
        number += 1
    return f"z{number}"


def _product(source: str) -> bool:
    """A matrix product of two names (`X@w`): its elements are z, as in the matrix form."""
    return "@" in source and "(" not in source and " " not in source


def _named(expr: Any, names: Sequence[Name]) -> Any:
    """`expr` with each name's element replaced by its symbol, inner names first."""
    for name in names:
        expr = expr.xreplace(dict.fromkeys(name.variants or (name.definition,), name.symbol))
    return expr


def _show(expr: Any, names: Sequence[Name], parts: Parts) -> str:
    named = expr if any(expr in name.variants for name in names) else _named(expr, names)
    return str(symbolic.formula(named, parts.notation, free=True))


def _lines(parts: Parts, names: Sequence[Name], rules: bool = True) -> Iterator[str]:
    """The derivation's lines with the names in; without `rules`, only what each line
    gives (the rule words are the twin's, shown above)."""
    own = {name.symbol: name for name in names}
    if rules:
        yield f"L = {_show(parts.value, names, parts)}"
    if parts.note is not None and not parts.vector:
        yield parts.note[0] + _show(parts.note[1], names, parts)
    written = [
        (step, _show(step.value, names, parts), _show(step.derivative, names, parts))
        for step in parts.steps
    ]
    for step, value, derivative, again in _once(written):
        name = own.get(_named(step.value, names))  # a named element shows its definition
        if name is not None:
            value = _show(name.definition, names, parts)
        words = "as above: " if again else f"{parts.notation.words(step.rule)}: "
        yield (
            "  " * step.depth
            + f"{words if rules or again else ''}d/d{parts.target} [{value}] = {derivative}"
        )
    if parts.note is not None and parts.vector:
        yield parts.note[0] + _show(parts.note[1], names, parts)
    yield f"{parts.why}: dL/d{parts.target} = {_show(parts.final, names, parts)}"
    if parts.table is not None:  # the table's form of the same (stepend.py)
        yield f"{stepend.SAME}: dL/d{parts.target} = {_show(parts.table, names, parts)}"


def _once(
    written: Sequence[tuple[Step, str, str]],
) -> Iterator[tuple[Step, str, str, bool]]:
    """Each step as written, and whether the same line was derived above (the branches
    of where(c, 1 - s_i, s_i) both differentiate s_i): such a step is one line, "as
    above", without the steps below it. Compared as printed: `@` gave each copy of
    xb@weights its own index. A step that prints as its parent (the mean of a scalar,
    a probability passed unchanged) is no repeat: its steps are shown."""
    seen: set[tuple[str, str]] = set()
    below: int | None = None  # the depth of a repeated step whose steps are left out
    at: dict[int, tuple[str, str]] = {}  # the last line written at each depth
    for step, value, derivative in written:
        if below is not None and step.depth > below:
            continue
        again = (value, derivative) in seen and at.get(step.depth - 1) != (value, derivative)
        below = step.depth if again else None
        seen.add((value, derivative))
        at[step.depth] = (value, derivative)
        yield step, value, derivative, again


def _definitions(names: Sequence[Name], derivations: Sequence[Derivation]) -> str:
    """`Names: z_i = sum_m(X_im*w_m), the elements of z = X@w; s_i = sigmoid(b + z_i).`,
    or "" when nothing was named."""
    parts = derivations[0].parts if derivations else None
    if not names or parts is None:
        return ""
    first = {name.base: name for name in reversed(names)}  # z_k beside z_i: z_i says it
    said = [
        f"{_show(name.symbol, (), parts)} = {_show(name.definition, (), parts)}"
        + (f", the elements of {name.base} = {name.source}" if _product(name.source) else "")
        for name in names
        if first[name.base] is name
    ]
    return "Names: " + "; ".join(said) + "."
