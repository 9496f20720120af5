"""A wall-clock backstop for SymPy, whose simplifier can run for minutes on some inputs.

The named limits in `limits.py` stop the predictable blow-ups before any work; this stops
the rest. It uses SIGALRM, so it is active in the main thread of a Unix process (the
CLI) and a no-op elsewhere.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from gradexplain.errors import SymbolicTimeout


@contextmanager
def deadline(seconds: float, what: str, limit_name: str) -> Iterator[None]:
    """Raise SymbolicTimeout if the block runs longer than `seconds`."""
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise SymbolicTimeout(
            f"{what} took longer than {limit_name} = {seconds:g} s; "
            f"try a simpler expression or fewer elements"
        )

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
