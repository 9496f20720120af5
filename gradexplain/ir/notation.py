"""The letters a program's formulas and sentences write for indices and sizes.

SymPy keeps an index `k` (an integer symbol) apart from a variable named `k` (a real
one), so the numbers never mix them up; the text would: `mean(x*n)` printed "(n = 3)"
beside the scalar n = 5, and a vector named k read `k_j`. One `Notation` per program,
chosen from its variable names, renames every index or size letter that a variable
uses (or uses as a part of its name, as `x_k` does) to a letter no variable uses.
With no clash it changes nothing: the default letters are i, j, k (indices) and n (a
length).

Every rank is built alike (each axis length its own symbol, `n3`); `length` says how a
program's formulas show them: where every value is a scalar or a vector of one length,
that length reads n and bound indices k, k2, as the learner's seed does
(`symbolic.formula`); elsewhere each size reads as its number.

Formulas are renamed as SymPy expressions (`Notation.display`), so a variable is never
touched; our own sentence templates, which hold no user text, go through `words`.
"""

from __future__ import annotations

import itertools
import re
import string
from collections.abc import Container, Iterable
from dataclasses import dataclass, field
from typing import Any

_LETTER = re.compile(r"([A-Za-z])(\d*)")
CORE = ("n", "i", "j", "k")  # the size and the indices every sentence writes
_SIZE_SPARES = "NdlL"  # for the length n
_INDEX_SPARES = "cwzabdefghlmpqrstuvoy"  # for indices; c, w, z are never our own index
_OURS = frozenset("nijkmpqrstuvhgfdeabl")  # every letter the package names an index or size
_SUBSCRIPT = re.compile(r"(?<=_)[ijkn]+\b")  # sum_i, dy_i, W_jk in our templates
_LONE = re.compile(r"(?<![\w.])[ijkn](?![\w(])")  # "term i = j", "1/n", "(n = 3)"


def _letters(names: Iterable[str]) -> frozenset[str]:
    """Every letter an index could be mistaken for: `k`, `k2`, and the parts of `x_k`
    (and each whole name, which a fallback such as `aa` must not be either)."""
    found = set()
    for name in names:
        found.add(name)
        for part in name.split("_"):
            match = _LETTER.fullmatch(part)
            if match:
                found.add(match.group(1))
    return frozenset(found)


@dataclass(frozen=True)
class Notation:
    """The letters one program writes: `n`, `i`, `j`, `k` or their replacements."""

    taken: frozenset[str] = frozenset()  # letters the variables use
    core: dict[str, str] = field(default_factory=lambda: {c: c for c in CORE})
    length: int | None = None  # the one vector length shown as n; None: sizes as numbers

    @property
    def n(self) -> str:
        return self.core["n"]

    @property
    def i(self) -> str:
        return self.core["i"]

    @property
    def j(self) -> str:
        return self.core["j"]

    @property
    def k(self) -> str:
        return self.core["k"]

    @property
    def plain(self) -> bool:
        return not self.taken & _OURS

    def words(self, template: str) -> str:
        """Our own template text with its index and size letters renamed; never pass
        text that holds a variable name or a formula."""
        if self.plain:
            return template
        renamed = _SUBSCRIPT.sub(lambda m: "".join(self.core[c] for c in m.group()), template)
        return _LONE.sub(lambda m: self.core[m.group()], renamed)

    def display(self, expr: Any) -> Any:
        """`expr` with every index or size symbol (SymPy integers) whose letter a variable
        uses renamed: the core letters as `core` says, others to a letter free in `expr`."""
        if self.plain:
            return expr
        import sympy as sp

        symbols = [s for s in expr.atoms(sp.Symbol) if s.is_integer]
        bases = {match.group(1) for s in symbols if (match := _LETTER.fullmatch(s.name))}
        chosen = dict(self.core)
        used = set(bases) | set(chosen.values()) | self.taken
        renames = {}
        for symbol in sorted(symbols, key=lambda s: s.name):
            match = _LETTER.fullmatch(symbol.name)
            if match is None:
                continue
            base, digits = match.groups()
            if base not in chosen and base in self.taken | set(self.core.values()) - set(CORE):
                chosen[base] = _first_free(_INDEX_SPARES, used)
                used.add(chosen[base])
            letter = chosen.get(base, base)
            if letter != base:
                renames[symbol] = sp.Symbol(letter + digits, **symbol.assumptions0)
        return expr.xreplace(renames)


PLAIN = Notation()


def choose(names: Iterable[str], length: int | None = None) -> Notation:
    """The letters for a program with these variable names (PLAIN when none clash), whose
    vectors, if `length`, all have that length (shown as n)."""
    taken = _letters(names)
    if not taken & set(CORE):
        return Notation(taken, length=length)
    core: dict[str, str] = {}
    for letter in CORE:
        spares = _SIZE_SPARES if letter == "n" else _INDEX_SPARES
        used = taken | set(core.values()) | (set(CORE) - {letter})
        core[letter] = _first_free(letter + spares, used)
    return Notation(taken, core, length)


def _first_free(candidates: str, used: Container[str]) -> str:
    """The first candidate not in `used`; past them, doubled letters (aa, bb, ..., then
    aa2, bb2, ...), which no index of ours is: names whose parts take every letter."""
    doubled = [c * 2 for c in string.ascii_lowercase]
    numbered = (f"{c}{n}" for n in itertools.count(2) for c in doubled)
    pool = itertools.chain(candidates, doubled, numbered)
    return next(c for c in pool if c not in used)
