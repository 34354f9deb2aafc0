"""Exit codes, the one error type the CLI turns into a one-line message, and the two ways a run
stops early (a signal, or a target that died under it).

Distinct codes let CI tell "a target was missed" from "the tool or its input broke" from "the run
was stopped before it could say":

| code | meaning |
|------|---------|
| 0    | every target met |
| 1    | a target was missed |
| 2    | the tool or its input failed, or the run was ABORTED (its lab died, its process was killed) |
| 130  | INTERRUPTED by SIGINT (Ctrl-C): faults reverted, lab stopped, partial reports saved |
| 143  | INTERRUPTED by SIGTERM: the same |
"""
from __future__ import annotations

import signal
import time

EXIT_OK = 0
EXIT_TARGET_MISSED = 1
EXIT_TOOL_ERROR = 2
EXIT_SIGNAL_BASE = 128  # the shell's convention: 128 + signal number

INTERRUPTED = "interrupted"
ABORTED = "aborted"


def signal_exit_code(signum: int) -> int:
    return EXIT_SIGNAL_BASE + int(signum)


class ChaosError(Exception):
    """A user-facing failure: bad input, unreachable endpoint, unsupported target.

    The message is printed as one line (no traceback) and the process exits with EXIT_TOOL_ERROR.
    It should name the field or thing at fault and say how to fix it.
    """


class RunStopped(BaseException):
    """A run stopped before its end. A BaseException, like KeyboardInterrupt: no `except
    Exception` on the way (a runbook's, a probe's) may swallow it; every `finally` still runs, so
    faults are reverted and the lab is stopped, and the engine saves what the run measured."""

    status = ABORTED
    exit_code = EXIT_TOOL_ERROR

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.at = time.time()  # when it happened (the engine journals the stop at this time)


class RunInterrupted(RunStopped):
    """Someone asked the run to stop: SIGINT (Ctrl-C) or SIGTERM (a CI job cancelled)."""

    status = INTERRUPTED

    def __init__(self, signum: int) -> None:
        self.signal_name = signal.Signals(signum).name
        super().__init__(f"interrupted by {self.signal_name}")
        self.exit_code = signal_exit_code(signum)


class RunAborted(RunStopped):
    """The run cannot go on: its target died under it (the lab process exited)."""

    status = ABORTED
