"""`python -m gradexplain` and the `gradexplain` console script.

The entry point imports nothing but `sys` before its first `try`, so Ctrl-C while typer,
torch or SymPy import, a closed pipe or a full disk end with the exit status
`status.exit_status` decides (130, 141, 74), never a traceback or a verdict's code.
(Under `python -m`, CPython itself turns a Ctrl-C that ended a library's string `exec`
into death by SIGINT, which shells also report as 130; the console script exits 130.)
Once the run is over, a Ctrl-C during Python's shutdown ends the process by SIGINT. What
no code of ours can cover: a Ctrl-C during Python's own start-up, before this package's
first line runs (README, "Exit codes").
"""

from __future__ import annotations

import sys


def run(argv: list[str] | None = None) -> int:
    """Run the command line; return its exit status, whatever happened."""
    try:
        return _run(argv)
    except KeyboardInterrupt as interrupt:  # before the streams were guarded
        from gradexplain.status import exit_status

        return int(exit_status(interrupt))
    finally:
        _interrupt_ends_the_process()


def _interrupt_ends_the_process() -> None:
    """The output is written and the status decided: from here on, Ctrl-C (while Python
    shuts down: atexit handlers, finalizers, torch's threads) ends the process by SIGINT,
    which shells show as 130, instead of "Exception ignored ... KeyboardInterrupt" and a
    traceback. The main thread only: elsewhere `signal` refuses, and nothing changes."""
    import contextlib
    import signal

    with contextlib.suppress(ValueError):  # not the main thread
        signal.signal(signal.SIGINT, signal.SIG_DFL)


def _run(argv: list[str] | None) -> int:
    from gradexplain.errors import ExitStatus
    from gradexplain.output import streams
    from gradexplain.status import exit_status

    streams.install()
    try:
        try:
            from gradexplain.cli import app

            app(args=argv, prog_name="gradexplain")
            status: int = 0
        except SystemExit as done:  # typer ends every run so, with the command's status
            status = done.code if isinstance(done.code, int) else int(done.code is not None)
        streams.finish()
    except (Exception, KeyboardInterrupt) as fault:
        if "--debug" in (sys.argv if argv is None else argv):
            raise
        status = exit_status(fault)
        streams.report(fault)
        if status == ExitStatus.INTERNAL:
            sys.stderr.write(
                f"gradexplain: internal error (a bug in gradexplain): "
                f"{type(fault).__name__}: {fault}; rerun with --debug for "
                f"the traceback\n"
            )
    finally:
        streams.release()
    return int(status)


def main() -> None:
    """Console-script entry point."""
    sys.exit(run())


if __name__ == "__main__":
    main()
