"""The teaching extras (`--graph`, `--dot`, `--mermaid`, `--check-fd`, `--steps`, `--v`,
`--jacobian`, `--jacobian-out`): computed after `explain_values()`, kept in
`Explanation.extras`.

The CLI builds one `Options` and calls `add()` once; `view.py` shows the extras in the
table and Markdown, `jsonout.augment()` in JSON. torch and SymPy are imported inside the
functions that need them.
Every extra speaks of the differentiated variables only (`result.gradients`, `--wrt`):
data gets no finite differences, steps, J^T v or Jacobian, and is a `data` node in the graph.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gradexplain.errors import UsageError
from gradexplain.ir import limits

if TYPE_CHECKING:
    from gradexplain.result import Explanation
    from gradexplain.witnesses import vjp


@dataclass(frozen=True)
class Options:
    """Which extras the user asked for; all off by default (output unchanged)."""

    graph: bool = False
    dot: str | None = None
    mermaid: bool = False
    check_fd: bool = False
    steps: bool = False
    v: str | None = None
    jacobian: bool = False
    svg: str | None = None  # --terminal-svg: a screenshot of the terminal output
    graph_svg: str | None = None  # --graph-svg: gradexplain's own drawing of the graph
    jacobian_out: str | None = None  # --jacobian-out: every entry of J, both witnesses, JSON

    def any(self) -> bool:
        """Whether any extra is asked for: a true flag, a path, or `--v` (even empty)."""
        return self.v is not None or any(vars(self).values())


def add(result: Explanation, options: Options) -> None:
    """Compute each requested extra into `result.extras`, within MAX_EXTRAS_SECONDS, from
    the program the result carries."""
    from gradexplain.witnesses.deadline import deadline

    with deadline(
        limits.MAX_EXTRAS_SECONDS,
        "the extras (--steps, --check-fd, --graph, --v, --jacobian)",
        "MAX_EXTRAS_SECONDS",
    ):
        _add(result, options)


def _add(result: Explanation, options: Options) -> None:
    program = result.program
    tree, given = program.tree, dict(program.values)
    chosen = list(result.gradients)  # --wrt: only these get gradients; the rest are data
    if options.graph or options.dot or options.mermaid or options.graph_svg:
        from gradexplain.output import files
        from gradexplain.teach import graph, pysum

        built = graph.build(tree, given, result.dtype, shaped=program.shaped, wrt=chosen)
        result.extras["graph"] = built
        if options.graph and pysum.applies(program):
            result.extras["builtin_sum"] = pysum.build(program, result.dtype, chosen)
        if options.dot:
            files.write(options.dot, graph.dot(built), "--dot")
        if options.graph_svg:
            from gradexplain.output import svg

            drawn = svg.draw(built, f"autograd graph of {result.expression}")
            files.write(options.graph_svg, drawn, "--graph-svg")
    if options.check_fd:
        from gradexplain.witnesses import finitediff

        result.extras["finite_differences"] = finitediff.compare(tree, given, result)
    if options.steps:
        from gradexplain.teach import stepend, steps

        tables = {name: gradient.expr for name, gradient in result.gradients.items()}
        result.extras["steps"] = stepend.end_in_table(steps.derive_all(program), tables, given)
    if options.v is not None or options.jacobian or options.jacobian_out:
        from gradexplain.witnesses import vjp

        if options.v is not None:
            result.extras["vjp"] = vjp.compare(result, options.v)
        if options.jacobian or options.jacobian_out:
            found = vjp.jacobian(
                program,
                result.tolerance,
                limits.MAX_JACOBIAN_FILE_ENTRIES if options.jacobian_out else None,
            )
            if options.jacobian_out:
                _write_jacobian(options.jacobian_out, result.expression, found)
            if options.jacobian:
                result.extras["jacobian"] = found


def _write_jacobian(path: str, expression: str, found: vjp.Jacobian) -> None:
    """Every entry of J from both witnesses, as `--format json`'s `jacobian` object."""
    from gradexplain.output import files, jsonout

    document = {
        "format_version": jsonout.FORMAT_VERSION,
        "expression": expression,
        "jacobian": found.to_json(),
    }
    files.write(path, jsonout.dumps(document), "--jacobian-out")


def check(options: Options, output_format: str) -> None:
    """Refuse combinations that cannot work, before any computation. (--check-fd works at
    every size: beyond MAX_FD_ELEMENTS it checks random directions, `finitediff`.)"""
    if output_format == "json" and (options.graph or options.mermaid or options.svg):
        raise UsageError(
            "--graph, --mermaid and --terminal-svg show the terminal output; with "
            "--format json use --dot FILE"
        )
    if output_format == "markdown" and options.svg:  # a Markdown document has no terminal
        raise UsageError(
            "--terminal-svg saves a picture of the terminal table; with --format "
            "markdown there is none (use --format table)"
        )


def reclaim_v(
    args: list[str], options: Options, var: list[str]
) -> tuple[list[str], Options | None]:
    """`--v` is a variable's values when the expression has a variable named v.

    Before `--v` meant backward(v), `gradexplain "sum(v**2)" --v 1,2` gave v's values; it
    still does. Use `--var v=...` with `--v` to have both.
    """
    from dataclasses import replace

    from gradexplain.ir.parser import names_a_variable

    if options.v is None or any(item.partition("=")[0] == "v" for item in var):
        return args, options
    tokens = iter(args)
    expression = None
    for token in tokens:
        if token.startswith("--"):
            if "=" not in token:
                next(tokens, None)
        else:
            expression = token
            break
    if expression is None or not names_a_variable(expression, "v"):
        return args, options
    rest = replace(options, v=None)
    return [*args, "--v", options.v], rest if rest.any() else None
