"""The command line: a thin shell over `explain_values()`.

Variables are options named after them (`--x 3,4,10`), which no option parser knows in
advance; so the expression and those options are read from the extra arguments here,
in any order. torch and SymPy are imported only once the input has been checked.
"""

# No `from __future__ import annotations` in this module: typer reads `command`'s
# signature on every run, and string annotations would be evaluated there, twice, on
# the way to every input error (start-up: README, Performance).
from typing import Annotated, Any, NamedTuple

import typer

from gradexplain import __version__
from gradexplain.argv import RAW_ARGS, PlainArgsCommand
from gradexplain.errors import ExitStatus, GradexplainError, StreamFault, UsageError
from gradexplain.output import failure

EPILOG = """\
Exit codes: 0 SymPy and autograd agree (and --expect matches); 1 they disagree (or
--check-fd's finite differences differ), or --expect does not match; 2 invalid input or
usage (including an unavailable device); 3 the gradient is undefined or not finite at
the point (a kink such as relu at 0, a pole such as sqrt at 0, NaN); 70 an internal
error (a bug); 74 stdout or an output file could not be written (a full disk); 130
interrupted (Ctrl-C); 141 stdout's reader went away (a closed pipe). With --cases: the
worst case's, ranked agree < disagree < undefined < invalid.
"""

HELP = """Explain the gradient of EXPRESSION at a point, with SymPy and PyTorch autograd.

\b
Examples:
  gradexplain "sum(x**2)" --x 3,4,10
  gradexplain "mean(sigmoid(w*x+b))" --w 1,2 --x 3,4 --b 0.5
  gradexplain "sum(x**2)" --x 3,4,10 --expect x=6,8,20    (a hand derivation)
  gradexplain "sum(x**2)" --x @x.txt --format json | jq .exit_code
  gradexplain "x**2" --x - --format markdown < x.txt >> "$GITHUB_STEP_SUMMARY"
  gradexplain --cases cases.toml --junit-xml report.xml --quiet
  gradexplain "sum(w*x)" --var device=1,2 --w 3,4    (name = an option)

Give each variable's values as --NAME v1,v2,... (one number is a scalar),
--NAME @file (numbers, or a .json array), --NAME - (stdin) or --var NAME=v1,v2,...;
the table shows the sum-rule decomposition and whether the two witnesses agree.
"""


class Settings(NamedTuple):
    """The command line but the extras (`--graph`, `--steps`...), passed along as one value."""

    args: list[str]
    var: list[str]
    wrt: str | None
    device: str
    dtype: str
    rtol: str | None
    atol: str | None
    output_format: str
    show_all: bool
    quiet: bool
    no_color: bool
    expect: list[str]
    cases: str | None
    junit_xml: str | None
    check_fd: bool
    hessian: bool


app = typer.Typer(
    add_completion=True,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gradexplain {__version__}")
        raise typer.Exit()


def _schema(value: bool) -> None:
    """Print the JSON Schema that --format json follows, so CI can validate against it."""
    if value:
        from gradexplain.output.jsonout import schema_text

        typer.echo(schema_text(), nl=False)
        raise typer.Exit()


@app.command(
    cls=PlainArgsCommand,
    help=HELP,
    epilog=EPILOG,
    options_metavar="EXPRESSION --NAME VALUES... [OPTIONS]",
    context_settings={
        "allow_extra_args": True,
        "ignore_unknown_options": True,
        "help_option_names": ["-h", "--help"],
    },
)
def command(
    ctx: typer.Context,
    var: Annotated[
        list[str] | None,
        typer.Option(
            "--var",
            metavar="NAME=VALUES",
            help="Values for a variable whose name clashes with an option, e.g. --var device=1,2.",
        ),
    ] = None,
    wrt: Annotated[
        str | None,
        typer.Option(
            "--wrt",
            metavar="NAMES",
            help="Differentiate only these variables, e.g. --wrt "
            "w,b; the others are data (default: all).",
        ),
    ] = None,
    device: Annotated[
        str, typer.Option(help="cpu, cuda, cuda:N, mps, or auto (the best available).")
    ] = "cpu",
    dtype: Annotated[str, typer.Option(help="float64 or float32 for autograd.")] = "float64",
    rtol: Annotated[
        str | None,
        typer.Option(help="Relative tolerance (default: torch.testing's for the dtype)."),
    ] = None,
    atol: Annotated[
        str | None,
        typer.Option(help="Absolute tolerance (default: torch.testing's for the dtype)."),
    ] = None,
    output_format: Annotated[
        str, typer.Option("--format", help="table, json or markdown.")
    ] = "table",
    show_all: Annotated[
        bool, typer.Option("--all", help="Show every row (JSON always holds every row).")
    ] = False,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet",
            "-q",
            help="Print nothing but errors; the exit code tells (not with --format json or "
            "markdown, nor with an option that only changes what is printed: exit 2).",
        ),
    ] = False,
    no_color: Annotated[
        bool,
        typer.Option(
            "--no-color", help="No colour (also when NO_COLOR is set or output is piped)."
        ),
    ] = False,
    expect: Annotated[
        list[str] | None,
        typer.Option(
            "--expect",
            metavar="NAME=VALUES",
            help="A hand-derived gradient to check, e.g. "
            "--expect x=6,8,20 (repeat per variable); a mismatch exits 1.",
        ),
    ] = None,
    cases: Annotated[
        str | None,
        typer.Option(
            "--cases", metavar="FILE", help="Run every case of a TOML or JSON Lines file."
        ),
    ] = None,
    junit_xml: Annotated[
        str | None,
        typer.Option("--junit-xml", metavar="PATH", help="With --cases: write a JUnit XML report."),
    ] = None,
    graph: Annotated[
        bool,
        typer.Option(
            "--graph", help="Show the autograd graph torch built, with values and gradients."
        ),
    ] = False,
    dot: Annotated[
        str | None,
        typer.Option("--dot", metavar="FILE", help="Write that graph as Graphviz DOT text."),
    ] = None,
    mermaid: Annotated[
        bool, typer.Option("--mermaid", help="Print that graph as a Mermaid flowchart.")
    ] = False,
    check_fd: Annotated[
        bool,
        typer.Option(
            "--check-fd",
            help="Add float64 central finite differences as a third witness (exit 1 where "
            "they differ from autograd).",
        ),
    ] = False,
    steps: Annotated[
        bool,
        typer.Option(
            "--steps", help="Show the derivation step by step (sum, product, chain rule...)."
        ),
    ] = False,
    backward_v: Annotated[
        str | None,
        typer.Option(
            "--v", metavar="VALUES", help="For a vector result: y.backward(v) against J^T v."
        ),
    ] = None,
    jacobian: Annotated[
        bool, typer.Option("--jacobian", help="Show the matrix dy_i/dx_j and its column sums.")
    ] = False,
    jacobian_out: Annotated[
        str | None,
        typer.Option(
            "--jacobian-out",
            metavar="FILE",
            help="Write every entry of dy_i/dx_j, SymPy's and torch's, to FILE as JSON (up "
            "to MAX_JACOBIAN_FILE_ENTRIES = 2,000,000 per witness).",
        ),
    ] = None,
    hessian: Annotated[
        bool,
        typer.Option(
            "--hessian",
            help="Add second derivatives from SymPy and torch.func.hessian (up "
            "to MAX_HESSIAN_ELEMENTS = 1,000 differentiated elements).",
        ),
    ] = False,
    terminal_svg: Annotated[
        str | None,
        typer.Option(
            "--terminal-svg",
            metavar="FILE",
            help="Also save a picture of the terminal output (a screenshot, as SVG).",
        ),
    ] = None,
    graph_svg: Annotated[
        str | None,
        typer.Option(
            "--graph-svg",
            metavar="FILE",
            help="Write a drawing of the autograd graph (nodes, edges, values, gradients) as SVG.",
        ),
    ] = None,
    svg: Annotated[
        str | None, typer.Option("--svg", metavar="FILE", help="Deprecated name of --terminal-svg.")
    ] = None,
    debug: Annotated[
        bool, typer.Option(help="Show tracebacks of internal errors (it changes nothing else).")
    ] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
    schema: Annotated[
        bool,
        typer.Option(
            "--schema",
            callback=_schema,
            is_eager=True,
            help="Print the JSON Schema of --format json output and exit.",
        ),
    ] = False,
) -> None:
    json_mode = output_format == "json" or failure.asks_for_json(ctx.meta.get(RAW_ARGS, []))
    if svg is not None:
        typer.echo(
            "gradexplain: --svg is deprecated: it saves a screenshot of the terminal "
            "output; use --terminal-svg FILE (or --graph-svg FILE for a drawing of "
            "the graph)",
            err=True,
        )
        terminal_svg = terminal_svg or svg
    both_svgs = svg is not None and terminal_svg is not None and svg != terminal_svg
    svg = terminal_svg
    run = Settings(
        ctx.args,
        var or [],
        wrt,
        device,
        dtype,
        rtol,
        atol,
        output_format,
        show_all,
        quiet,
        no_color,
        expect or [],
        cases,
        junit_xml,
        check_fd,
        hessian,
    )
    try:
        _check_format(output_format)
        if both_svgs:  # one would be ignored
            raise UsageError("--svg is the old name of --terminal-svg: give one of them")
        _check_outputs(
            {
                "--junit-xml": junit_xml,
                "--dot": dot,
                "--terminal-svg": svg,
                "--graph-svg": graph_svg,
                "--jacobian-out": jacobian_out,
            },
            cases,
            [*run.args, *run.var, *run.expect],
        )
        teach = _teach_options(
            graph, dot, mermaid, check_fd, steps, backward_v, jacobian, svg, graph_svg, jacobian_out
        )
        if cases is not None or junit_xml is not None:
            from dataclasses import replace

            # --check-fd is the cases' default; the other extras only change what is shown
            shown = show_all or (teach is not None and replace(teach, check_fd=False).any())
            status = _run_cases(run, shown)
        else:
            status = _run(run, teach)
    except GradexplainError as error:
        status = failure.report(error, json_mode)
    except StreamFault:
        raise  # stdout failed: __main__.run() decides the status, nothing more is printed
    except Exception as bug:  # noqa: BLE001 - a bug, reported as one (exit 70)
        status = failure.report_bug(bug, debug, json_mode)
    raise typer.Exit(int(status))


def _check_format(output_format: str) -> None:
    from gradexplain.output.report import FORMATS

    if output_format not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}, not {output_format!r}")


def _check_outputs(paths: dict[str, str | None], cases: str | None, specs: list[str]) -> None:
    """Output paths are checked before any work: never an input, never '-' or ''."""
    if all(path is None for path in paths.values()):
        return
    from gradexplain.output import files

    inputs = ([cases] if cases is not None else []) + files.input_paths(specs)
    files.check(paths, inputs)


def _run(run: Settings, teach_options: Any) -> ExitStatus:
    from gradexplain.ir.arguments import split_arguments
    from gradexplain.ir.values import read_stdin
    from gradexplain.output import report
    from gradexplain.request import Request, answer

    args = run.args
    if teach_options is not None:
        from gradexplain.teach.extras import reclaim_v

        args, teach_options = reclaim_v(args, teach_options, run.var)
    _check_quiet(run.quiet, run.output_format, run.show_all, teach_options)
    expression, values = split_arguments(args, run.var, read_stdin)
    if teach_options is not None:
        from gradexplain.teach.extras import check

        check(teach_options, run.output_format)
    expected = {}
    if run.expect:  # expect.py loads only when asked for (start-up: README, Performance)
        from gradexplain.witnesses.expect import parse_specs

        expected = parse_specs(run.expect, read_stdin)
    outcome = answer(
        Request(
            expression,
            values,
            run.wrt,
            run.device,
            run.dtype,
            _float_option("rtol", run.rtol),
            _float_option("atol", run.atol),
            expected,
            bool(teach_options and teach_options.check_fd),
            run.hessian,
            shown=teach_options,
        )
    )
    result, show_all = outcome.result, run.show_all
    console = None if run.quiet else report.make_console(run.no_color)
    report.emit(
        result, outcome.checks, run.output_format, console, show_all=show_all, options=teach_options
    )
    if teach_options is not None and teach_options.svg and console is not None:  # a table
        report.screenshot(result, outcome.checks, teach_options, console.width, show_all=show_all)
    return outcome.status


def _check_quiet(quiet: bool, output_format: str, show_all: bool, shown: Any) -> None:
    """--quiet prints nothing, so an option that only changes what is printed would be
    ignored: refused, naming it (--check-fd, --hessian and --expect still decide the exit
    code, and --dot still writes its file). --format json and markdown are such options:
    asking for a document and for nothing at once is a contradiction a CI job should hear
    about, not a coin toss (table is the default, which --quiet replaces)."""
    if not quiet:
        return
    display = [("--all", show_all), (f"--format {output_format}", output_format != "table")]
    if shown is not None:
        display += [
            ("--graph", shown.graph),
            ("--mermaid", shown.mermaid),
            ("--steps", shown.steps),
            ("--v", shown.v is not None),
            ("--jacobian", shown.jacobian),
            ("--terminal-svg", bool(shown.svg)),
        ]
    named = [option for option, given in display if given]
    if named:
        raise UsageError(
            f"--quiet prints nothing, so {', '.join(named)} would do nothing; "
            f"drop --quiet (the exit code is the same)"
        )


def _teach_options(
    graph: bool,
    dot: str | None,
    mermaid: bool,
    check_fd: bool,
    steps: bool,
    v: str | None,
    jacobian: bool,
    svg: str | None,
    graph_svg: str | None = None,
    jacobian_out: str | None = None,
) -> Any:
    """Issue 5's extras, or None when none is asked for (the output stays as it was)."""
    given = (graph, dot, mermaid, check_fd, steps, v, jacobian, svg, graph_svg, jacobian_out)
    if v is None and not any(given):  # Options.any()'s rule, so extras.py need not load
        return None
    from gradexplain.teach.extras import Options

    return Options(*given)


def _run_cases(run: Settings, shown: bool) -> ExitStatus:
    """`--cases FILE`: every case in one process; the options are the cases' defaults
    (`shown`: an option that only changes what one run prints was given)."""
    from gradexplain import batch
    from gradexplain.output import report

    if run.cases is None:
        raise UsageError("--junit-xml needs --cases FILE")
    if run.args or run.var or run.expect:
        raise UsageError(
            "--cases runs the file's cases: give no EXPRESSION, values or --expect with it"
        )
    if shown:
        raise UsageError(
            "--cases prints one line per case: --all, --graph, --dot, "
            "--mermaid, --steps, --v, --jacobian, --jacobian-out, --terminal-svg and "
            "--graph-svg do not apply; run the case on its own to see them"
        )
    _check_quiet(run.quiet, run.output_format, False, None)
    defaults = batch.Defaults(
        run.device,
        run.dtype,
        _float_option("rtol", run.rtol),
        _float_option("atol", run.atol),
        run.wrt,
        run.check_fd,
        run.hessian,
    )
    console = None if run.quiet else report.make_console(run.no_color)
    return batch.run_file(run.cases, defaults, run.output_format, console, run.junit_xml)


def _float_option(label: str, text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        raise UsageError(f"--{label} must be a number, not {text!r}") from None
