"""Read the values of one variable: `3,4,10`, `@file.txt`, `@file.json` or `-` (stdin).

Numbers are plain ASCII decimals. `float()` alone would accept "nan", "1_000", "inf" and
non-ASCII digits; we check the characters first, so those are refused with the element
and, for files, the line. Values are kept in a compact `array('d')`: reading 10**6 of
them needs neither numpy nor torch, so input errors stay fast.
"""

from __future__ import annotations

import math
import re
import sys
from array import array
from collections.abc import Callable, Mapping, Sequence, Sized
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gradexplain.errors import ValuesError
from gradexplain.ir import limits

_NUMBER_CHARS = frozenset("0123456789+-.eE")
_NUMBER_BYTES = b"0123456789+-.eE"
_SEPARATOR = re.compile(r"\s*,\s*|\s+")  # one comma, or whitespace, between numbers
_COMMA = re.compile(r"\s*,\s*")  # on the command line, only commas separate
_EMPTY_ELEMENT = re.compile(r",\s*,")


@dataclass(frozen=True)
class Values:
    """One variable's values: a scalar `()`, a vector `(n,)` or a matrix `(rows, cols)`."""

    name: str
    data: array[float]  # array('d'), flat
    shape: tuple[int, ...]

    @property
    def is_scalar(self) -> bool:
        return self.shape == ()

    @property
    def size(self) -> int:
        return len(self.data)


def from_numbers(name: str, numbers: object, origin: str | None = None) -> Values:
    """Values from Python numbers (the API): a number is a scalar, a flat sequence a vector,
    a sequence of equal-length sequences (or a 2-D numpy array) a matrix. `origin` names
    a file for messages."""
    from gradexplain.ir import held  # the API's and JSON's: the command line's text needs none

    where = origin or name
    numbers = held.plain(where, numbers)  # tensors and arrays, as Python numbers
    if isinstance(numbers, (int, float)) and not isinstance(numbers, bool):
        return _checked(name, _as_floats(where, [numbers], scalar=True), (), where)
    try:
        items = list(numbers)  # type: ignore[call-overload]
    except TypeError:
        raise ValuesError(
            f"{where}: expected a number or a sequence of numbers, got {type(numbers).__name__}"
        ) from None
    if items and all(_is_row(item) for item in items):
        return _from_rows(name, [list(item) for item in items], where)
    for index, item in enumerate(items):
        if isinstance(item, bool) or not isinstance(item, (int, float)):
            if hasattr(item, "__float__") and not isinstance(item, (str, bytes, bool)):
                continue  # numpy scalars
            raise ValuesError(f"{where}: element {index + 1} is {_short_repr(item)}, not a number")
    data = _as_floats(where, items)
    return _checked(name, data, (len(data),), where)


def _short_repr(item: object) -> str:
    """repr() bounded in depth and length: a value nested 10,000 deep must not recurse."""
    import reprlib

    return reprlib.Repr().repr(item)


def _as_floats(where: str, items: list[object], scalar: bool = False) -> array[float]:
    """`float()` of each item; one too large for a float (10**400) is the user's error."""
    try:
        return array("d", (float(item) for item in items))  # type: ignore[arg-type]
    except (OverflowError, TypeError, ValueError):
        pass
    for index, item in enumerate(items):
        try:
            float(item)  # type: ignore[arg-type]
        except (OverflowError, TypeError, ValueError) as exc:
            element = "the value" if scalar else f"element {index + 1}"
            if isinstance(exc, OverflowError) and isinstance(item, int):
                digits = int(item.bit_length() * math.log10(2)) + 1
                raise ValuesError(
                    f"{where}: {element} is too large for a float (an "
                    f"integer of about {digits:,} digits)"
                ) from None
            raise ValuesError(
                f"{where}: {element} ({type(item).__name__}) is too large or not a number: {exc}"
            ) from None
    raise AssertionError("unreachable: some item failed")


def _is_row(item: object) -> bool:
    return (
        not isinstance(item, (str, bytes))
        and hasattr(item, "__len__")
        and hasattr(item, "__iter__")
    )


def _from_rows(name: str, rows: list[list[object]], where: str) -> Values:
    """A matrix from rows of numbers; every row must be as long as the first, and hold
    numbers: `[[[1]]]` is refused, not read as a 1x1 matrix."""
    width = _width(rows, where)
    flat = [item for row in rows for item in row]
    if any(map(_is_row, flat)):
        raise ValuesError(
            f"{where}: a matrix is a list of rows of numbers; values with "
            f"more than 2 dimensions are not supported"
        )
    vector = from_numbers(name, flat, where)
    return _checked(name, vector.data, (len(rows), width), where)


def _from_text_rows(
    name: str,
    lines: list[str],
    where: str,
    split: Callable[[str], list[str]],
    file_lines: list[int] | None = None,
) -> Values:
    """A matrix from lines of text, one row each (`1,2;3,4` or a CSV file)."""
    rows: list[array[float]] = []
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped:
            raise ValuesError(f"{where}: row {number} is empty")
        label = (
            f"{where}: line {file_lines[number - 1]}" if file_lines else f"{where}: row {number}"
        )
        rows.append(_floats(split(stripped), label, None))
    width = _width(rows, where)
    data = array("d")
    for row in rows:
        data.extend(row)
    return _checked(name, data, (len(rows), width), where)


def _width(rows: Sequence[Sized], where: str) -> int:
    """The rows' common length; a ragged row is the user's error."""
    for number, row in enumerate(rows, start=1):
        if len(row) != len(rows[0]):
            raise ValuesError(
                f"{where}: row {number} has {len(row)} values, row 1 has "
                f"{len(rows[0])}: a matrix needs rows of equal length"
            )
    return len(rows[0])


def from_text(name: str, text: str, origin: str | None = None) -> Values:
    """Parse `3,4,10` (one number: a scalar), `1,2;3,4` (a matrix), `1,2,3;` (a 1x3 row),
    or JSON brackets (`[3]` a one-element vector, `[[1,2,3]]`). `origin` names a file."""
    where = origin or f"--{name}"
    if len(text) > limits.MAX_VALUE_TEXT_CHARS:
        raise ValuesError(f"{where}: more than {limits.MAX_VALUE_TEXT_CHARS:,} characters")
    stripped = text.strip()
    if not stripped:
        raise ValuesError(f"{where}: no values given")
    if origin is None and stripped.startswith("["):  # [3], [[1,2,3]], [[1],[2]]: JSON
        return _from_json(name, stripped, where)
    if origin is None and ";" in stripped:
        rows = stripped.split(";")
        if len(rows) == 2 and not rows[1].strip():  # `1,2,3;`: one row, a 1xN matrix
            rows = rows[:1]
        return _from_text_rows(name, rows, where, _COMMA.split)
    tokens = _split(stripped) if origin else _COMMA.split(stripped)
    data = _floats(tokens, where, text if origin else None)
    shape: tuple[int, ...] = () if len(tokens) == 1 and not origin else (len(data),)
    return _checked(name, data, shape, where)


def _split(text: str) -> list[str]:
    """`_SEPARATOR.split(text)` for stripped text, by `str.split` (10x faster) when no
    element can be empty, that is when no two commas meet and none is at either end."""
    if "," not in text:
        return text.split()
    if text[0] == "," or text[-1] == "," or _EMPTY_ELEMENT.search(text):
        return _SEPARATOR.split(text)
    return text.replace(",", " ").split()


def from_spec(name: str, spec: str, read_stdin: Callable[[], str]) -> Values:
    """Resolve `@path` and `-` (stdin), then parse."""
    if spec == "-":
        return from_text(name, read_stdin(), origin="<stdin>")
    if spec.startswith("@"):
        path = Path(spec[1:])
        try:
            with path.open(encoding="utf-8-sig") as handle:  # bounded: @/dev/zero must end
                content = handle.read(limits.MAX_VALUE_TEXT_CHARS + 1)
        except (OSError, ValueError) as exc:  # ValueError: not UTF-8, or a NUL in the name
            raise ValuesError(
                f"--{name}: cannot read {path}: {getattr(exc, 'strerror', None) or exc}"
            ) from None
        if len(content) > limits.MAX_VALUE_TEXT_CHARS:
            raise ValuesError(f"{path}: more than {limits.MAX_VALUE_TEXT_CHARS:,} characters")
        if path.suffix.lower() == ".json":
            return _from_json(name, content, str(path))
        if path.suffix.lower() == ".csv":
            return _from_csv(name, content, str(path))
        return from_text(name, content, origin=str(path))
    return from_text(name, spec)


def read_stdin() -> str:
    """stdin for `--NAME -`, read only one byte past the limit (`yes |` must end), as
    UTF-8 like every file we read; a closed or undecodable stdin is the user's error."""
    stream = sys.stdin
    if stream is None:
        raise ValuesError("<stdin>: stdin is closed; give the values with --NAME or @FILE")
    limit = limits.MAX_VALUE_TEXT_CHARS + 1
    try:
        raw = stream.buffer.read(limit) if hasattr(stream, "buffer") else stream.read(limit)
    except OSError as exc:
        raise ValuesError(f"<stdin>: cannot read: {exc.strerror or exc}") from None
    if isinstance(raw, str):
        return raw
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValuesError(
            f"<stdin>: not UTF-8 text: byte {raw[exc.start]:#04x} at offset {exc.start}"
        ) from None


def load_json(content: str, origin: str) -> Any:
    """json.loads for our inputs: NaN and Infinity refused, and nesting too deep for the
    parser (`[[[[...]]]]`) the user's error, not a RecursionError."""
    import json  # only for .json files and JSON cases: not on every start

    try:
        return json.loads(content, parse_constant=refuse_constant)
    except RecursionError:
        raise ValuesError(f"{origin}: nested too deeply to read") from None
    except ValueError as exc:
        raise ValuesError(f"{origin}: not valid JSON: {exc}") from None


def _from_json(name: str, content: str, origin: str) -> Values:
    loaded = load_json(content, origin)
    if isinstance(loaded, list) and any(isinstance(item, list) for item in loaded):
        if not all(isinstance(item, list) for item in loaded) or any(
            isinstance(x, list) for item in loaded for x in item
        ):
            raise ValuesError(
                f"{origin}: a matrix is a list of rows of numbers; "
                f"deeper nesting or mixed rows are not supported"
            )
        return _from_rows(name, loaded, origin)
    if isinstance(loaded, (dict, str, bool)) or loaded is None:
        raise ValuesError(
            f"{origin}: expected a number, a list of numbers or a list of "
            f"rows, not {_JSON_KINDS[type(loaded)]}"
        )
    return from_numbers(name, loaded, origin)


_JSON_KINDS = {dict: "an object", str: "a string", bool: "true or false", type(None): "null"}


def _from_csv(name: str, content: str, origin: str) -> Values:
    """CSV: several lines of several values make a matrix (one row per line);
    a single line or a single column is a vector, as in any other text file."""
    numbered = [
        (number, line) for number, line in enumerate(content.splitlines(), start=1) if line.strip()
    ]
    lines = [line for _, line in numbered]
    if len(lines) > 1 and any("," in line for line in lines):
        whole = _whole_csv(name, content, lines, origin)
        numbers = [number for number, _ in numbered]
        return whole or _from_text_rows(name, lines, origin, _COMMA.split, numbers)
    return from_text(name, content, origin=origin)


def _whole_csv(name: str, content: str, lines: list[str], origin: str) -> Values | None:
    """A plain CSV matrix (numbers and commas only) read in one pass: one `str.split` and
    one `_floats` call, several times faster than row by row. None for anything else
    (spaces, empty elements, ragged rows), which `_from_text_rows` then reads row by row
    and reports with its line."""
    widths = {line.count(",") for line in lines}
    if len(widths) != 1:
        return None
    tokens = ",".join(line.strip() for line in lines).split(",")
    try:
        data = _floats(tokens, origin, None)  # refuses "", " 2" and "1 2" alike
    except ValuesError:
        return None
    return _checked(name, data, (len(lines), widths.pop() + 1), origin)


def refuse_constant(token: str) -> float:
    raise ValueError(f"{token} is not a finite number")


def _floats(tokens: list[str], where: str, text: str | None) -> array[float]:
    """Convert tokens, refusing anything but plain ASCII decimals, with its position."""
    try:
        joined = "".join(tokens)  # the character check, with bytes.translate in C
        if not joined.isascii() or joined.encode("ascii").translate(None, _NUMBER_BYTES):
            raise ValueError
        return array("d", map(float, tokens))
    except ValueError:
        pass
    for index, token in enumerate(tokens):
        if not token:
            raise ValuesError(f"{where}: element {index + 1} is empty")
        try:
            if not set(token) <= _NUMBER_CHARS:
                raise ValueError
            float(token)
        except ValueError:
            line = "" if text is None else f" line {_line_of(text, token, index)},"
            raise ValuesError(
                f"{where}:{line} element {index + 1} {token[:40]!r} is not a plain decimal number"
            ) from None
    raise AssertionError("unreachable: some token failed")


def _line_of(text: str, token: str, index: int) -> int:
    """The 1-based line of the `index`-th token, found by re-splitting only on failure."""
    for number, line in enumerate(text.splitlines(), start=1):
        count = len(_SEPARATOR.split(line.strip())) if line.strip() else 0
        if index < count:
            return number
        index -= count
    return 1


def _checked(name: str, data: array[float], shape: tuple[int, ...], where: str) -> Values:
    if len(data) == 0:
        raise ValuesError(f"{where}: no values given")
    if len(data) > limits.MAX_VECTOR_LENGTH:
        raise ValuesError(
            f"{where}: {len(data):,} values exceed MAX_VECTOR_LENGTH = {limits.MAX_VECTOR_LENGTH:,}"
        )
    if not all(map(math.isfinite, data)):
        index = next(i for i, value in enumerate(data) if not math.isfinite(value))
        raise ValuesError(
            f"{where}: element {index + 1} is not finite ({data[index]}): "
            f"values must be finite numbers"
        )
    return Values(name, data, shape)


def arrays_and_scalars(values: Mapping[str, Values]) -> tuple[dict[str, Any], dict[str, float]]:
    """Vectors and matrices as float64 numpy views shaped like the input, scalars as floats:
    what the symbolic evaluators take."""
    import numpy as np

    arrays = {
        name: np.frombuffer(value.data, dtype=np.float64).reshape(value.shape)
        for name, value in values.items()
        if value.shape
    }
    scalars = {name: value.data[0] for name, value in values.items() if not value.shape}
    return arrays, scalars
