"""A typer command that reads simple command lines without typer's value coercion.

typer (0.20 and later) coerces every option's value, default or given, through a
pydantic TypeAdapter; importing pydantic alone takes longer than importing typer, so an
input error would cost three times `import typer`. Our options are plain text, text
lists and flags, whose coercion is the identity. So when a command line uses only those,
as long options (`--format json`, `--format=json`, `--var a=1`, `--all`), this command
fills `ctx.params` as click would and leaves every other token in `ctx.args`, as click
does with unknown options; anything else (`--`, an option value that starts with `-`, a
repeated option, a flag given a value, an eager option such as `--help`, a command with
short options) goes through typer unchanged. `tests/test_startup.py` checks both
paths give the same `ctx.params` and `ctx.args`.

A usage error click finds (an option missing its value, a flag given one) is told as
every other error is (`failure.report`): one `gradexplain: error:` line, and the JSON error
document on stdout when the command line asks for JSON; exit 2 either way.
"""

from __future__ import annotations

from typing import Any

from typer import BadParameter
from typer.core import TyperCommand

_PLAIN_DEFAULTS = (type(None), str, bool)  # defaults that coercion leaves unchanged
_KINDS: dict[Any, str] = {
    bool: "flag",
    str: "text",
    str | None: "text",
    list[str]: "texts",
    list[str] | None: "texts",
}

Scan = tuple[dict[str, Any], list[str]]
RAW_ARGS = "gradexplain.args"  # ctx.meta key: the command line as given, for failure.py
# click's UsageError, which typer 0.20+ vendors as typer._click: found from the public
# BadParameter (a UsageError in every click), whichever click this typer uses
ClickUsageError: type[Exception] = next(
    c for c in BadParameter.__mro__ if c.__name__ == "UsageError"
)


class PlainArgsCommand(TyperCommand):
    """`TyperCommand`, with a shortcut for command lines of plain long options."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        given = ctx.meta[RAW_ARGS] = list(args)  # click's parser consumes `args`
        try:
            return self.parse_args_raising(ctx, args)
        except ClickUsageError as error:
            from gradexplain.errors import UsageError
            from gradexplain.output import failure

            refused = UsageError(f"{str(error).rstrip('.')}; see gradexplain --help")
            ctx.exit(int(failure.report(refused, failure.asks_for_json(given))))
            raise  # not reached: ctx.exit raises

    def parse_args_raising(self, ctx: Any, args: list[str]) -> list[str]:
        """The parse itself: click's usage errors propagate (tests compare it with typer's)."""
        params = self.get_params(ctx)
        scan = _scan(params, args) if _plain_context(ctx, params, args) else None
        if scan is None:
            _refuse_dash_expressions(params, args)
            return super().parse_args(ctx, args)
        given, rest = scan
        for param in sorted(params, key=lambda p: not p.is_eager):  # click's order
            value = given[param.name] if param.name in given else _default(param, ctx)
            if param.callback is not None:
                value = param.callback(ctx, param, value)
            if param.expose_value:
                ctx.params[param.name] = value
        ctx.args = rest
        return rest


def _plain_context(ctx: Any, params: list[Any], args: list[str]) -> bool:
    """No source of values but the command line, and only defaults coercion keeps."""
    if (
        not args
        or ctx.resilient_parsing
        or not ctx.allow_extra_args
        or ctx.default_map
        or ctx.auto_envvar_prefix
    ):
        return False
    return all(
        not param.envvar and isinstance(param.get_default(ctx), _PLAIN_DEFAULTS) for param in params
    )


def _default(param: Any, ctx: Any) -> Any:
    value = param.get_default(ctx)
    return () if value is None and (param.multiple or param.nargs == -1) else value


def _kind(param: Any) -> str | None:
    """ "flag", "text" or "texts" for options read here; None for any other parameter."""
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    kind = (
        _KINDS.get(annotation)
        if not param.is_eager and param.callback is None and param.nargs == 1
        else None
    )
    if (kind == "flag" and not getattr(param, "is_flag", False)) or (kind == "texts") != bool(
        param.multiple
    ):
        return None
    return kind


def _scan(params: list[Any], args: list[str]) -> Scan | None:
    """Values of our options and the untouched rest, or None to let typer parse."""
    options = {
        opt: (param, primary)
        for param in params
        for primary, opts in ((True, param.opts), (False, param.secondary_opts))
        for opt in opts
    }
    short = {opt[1] for opt in options if not opt.startswith("--")}
    if any(len(opt) != 2 for opt in options if not opt.startswith("--")):
        return None
    given: dict[str, Any] = {}
    rest: list[str] = []
    tokens = iter(args)
    for token in tokens:
        name, has_value, value = token.partition("=")
        if _cluster(token) and short & set(token[1:]):
            return None  # click reads `-q` (and `-xq`) as short options
        if token != "--" and name not in options:
            rest.append(token)  # the expression, a variable or its values, as click keeps them
            continue
        param, primary = options.get(name, (None, True))
        kind = None if param is None else _kind(param)
        if kind is None or (param.name in given and kind != "texts"):
            return None
        if kind == "flag":
            if has_value:
                return None
            given[param.name] = primary
            continue
        if not has_value:
            value = next(tokens, "-")
            if value.startswith("-"):
                return None
        if kind == "texts":
            given.setdefault(param.name, []).append(value)
        else:
            given[param.name] = value
    return given, rest


def _cluster(token: str) -> bool:
    """`-h`, `-xq`: short options as click reads them; `-sum(x)` is an expression."""
    return token.startswith("-") and not token.startswith("--") and token[1:].isalpha()


def _refuse_dash_expressions(params: list[Any], args: list[str]) -> None:
    """click splits any `-word` into short options, so `-log_softmax(z)...` would read as
    `-l -o -g ... -h` and print the help with exit 0; refuse it by name instead (exit 2)."""
    short = {opt[1] for param in params for opt in param.opts if not opt.startswith("--")}
    for token in args:
        if token == "--":
            return
        dashed = token.startswith("-") and not token.startswith("--") and not _cluster(token)
        if dashed and short & set(token[1:]):
            raise BadParameter(
                f"{token!r} starts with '-', which the option parser would read as short "
                "options here; write the expression as '0 - ...', or give option values "
                "that start with '-' as --name=VALUE",
                param_hint="EXPRESSION",
            )
