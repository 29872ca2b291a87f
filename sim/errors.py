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


# SIGINT/SIGTERM received by this process: the handler raises at once, but an exception raised
# inside a C callback (numba compiling a kernel through llvmlite) is swallowed, so long
# commands also call `raise_if_terminated` once a month and before they publish.
_terminations: list[int] = []


def _interrupt(signum: int) -> KeyboardInterrupt:
    return Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


def note_termination(signum: int) -> None:
    _terminations.append(signum)
    raise _interrupt(signum)


def raise_if_terminated() -> None:
    if _terminations:
        raise _interrupt(_terminations[0])


class MachineFault(OSError):
    """The machine could not do what the command needed: disk full, I/O error (exit status 4)."""

    status = 4
