"""Split the command line's extra arguments into the expression and variable values.

`--NAME VALUES` and `--NAME=VALUES` for any variable name, `--var NAME=VALUES` for names
that clash with the tool's options, in any order around the expression.
"""

from __future__ import annotations

from collections.abc import Callable

from gradexplain.errors import UsageError
from gradexplain.ir.values import Values, from_spec


def split_arguments(
    args: list[str], var: list[str], read_stdin: Callable[[], str]
) -> tuple[str, dict[str, Values]]:
    """Return the expression and each variable's values, refusing anything ambiguous."""
    expression: str | None = None
    specs: list[tuple[str, str]] = []
    tokens = iter(args)
    for token in tokens:
        if token.startswith("--") and len(token) > 2:
            name, has_value, value = token[2:].partition("=")
            if not has_value:
                following = next(tokens, None)
                if following is None:
                    raise UsageError(f"--{name} needs values, as in --{name} 1,2,3")
                value = following
            specs.append((_checked_name(name, token), value))
        elif expression is None:
            expression = token
        else:
            raise UsageError(
                f"unexpected argument {token!r}: give one EXPRESSION (quote "
                f"it) and values as --NAME v1,v2,..."
            )
    for item in var:
        name, has_value, value = item.partition("=")
        if not has_value:
            raise UsageError(f"--var needs NAME=VALUES, got {item!r}")
        specs.append((_checked_name(name, f"--var {item}"), value))
    if expression is None:
        raise UsageError('missing EXPRESSION, as in: gradexplain "sum(x**2)" --x 3,4,10')
    return expression, _read(specs, read_stdin)


def _checked_name(name: str, token: str) -> str:
    if not name.isidentifier() or not name.isascii():
        raise UsageError(f"unknown option {token.partition('=')[0]!r}")
    return name


def _read(specs: list[tuple[str, str]], read_stdin: Callable[[], str]) -> dict[str, Values]:
    values: dict[str, Values] = {}
    stdin_used = False
    for name, spec in specs:
        if name in values:
            raise UsageError(f"variable {name!r} is given twice")
        if spec == "-":
            if stdin_used:
                raise UsageError("only one variable can read its values from stdin (-)")
            stdin_used = True
        values[name] = from_spec(name, spec, read_stdin)
    return values
