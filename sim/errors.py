"""The errors a command reports as a message, and the exit status each one gives.

`sim.cli.main` turns each into one line on stderr and its status; nothing else may end a
command with a traceback on a user's input or a fault of the machine it runs on.

  2   bad input: a file, table cell or command-line value (file, line and key named)
  3   numerical failure at run time (month and quantity named); nothing is published
  4   the machine failed the command: disk full, a path that cannot be written mid-way
  130 / 143  interrupted by SIGINT / SIGTERM; partial results kept where resumable
  141 its output pipe closed early (`clustersim params | head`), as a shell reports SIGPIPE
"""

from __future__ import annotations

import contextlib
import signal


class UsageError(Exception):
    """A command-line problem that is not in a file (exit status 2)."""

    status = 2


class NumericalError(RuntimeError):
    """A run produced a non-finite or impossible value (exit status 3)."""

    status = 3

    def __init__(self, month: str, quantity: str, detail: str = ""):
        self.month, self.quantity = month, quantity
        super().__init__(f"numerical failure in {month}: {quantity} is {detail or 'not finite'}; "
                         "the run stopped and nothing was published")


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so that every `finally` and staged output is
    cleaned up exactly as for Ctrl-C (exit status 143)."""


# SIGINT/SIGTERM received by this process. The handler raises at once, except while a command
# runs the model (`checkpointed`): there an exception raised inside numba's C callbacks
# (llvmlite compiling or loading a kernel) is swallowed or crashes the interpreter at exit, so
# the signal is only noted and `raise_if_terminated` raises it at the next checkpoint: every
# model month (pilots included) and the moment before a command publishes.
_terminations: list[int] = []
_checkpointed: list[bool] = [False]


def _interrupt(signum: int) -> KeyboardInterrupt:
    return Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


def note_termination(signum: int) -> None:
    _terminations.append(signum)
    if not _checkpointed[0]:
        raise _interrupt(signum)


@contextlib.contextmanager
def checkpointed():
    """Signals within are raised at the next `raise_if_terminated`, not where they land."""
    _checkpointed[0] = True
    try:
        yield
    finally:
        _checkpointed[0] = False
    raise_if_terminated()


def terminated() -> bool:
    return bool(_terminations)


def raise_if_terminated() -> None:
    if _terminations:
        raise _interrupt(_terminations[0])


class MachineFault(OSError):
    """The machine could not do what the command needed: disk full, I/O error (exit status 4)."""

    status = 4
