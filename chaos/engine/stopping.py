"""How a game day stops early: a signal (SIGINT, SIGTERM), or its target dying under it.

`RunGuard` turns each into an exception raised in the main thread, wherever it is waiting (a
canary warm-up, a runbook's poll, an HTTP call to the lab): `RunInterrupted` for a signal,
`RunAborted` when `abort(reason)` is called from another thread (the lab watcher). Both are
`BaseException`s (chaos/errors.py), so every `finally` of the engine runs on the way out: faults
are reverted, canaries stopped, the lab stopped, the journal kept, and the engine saves an
INTERRUPTED or ABORTED report.

After the first stop, or once the run is finishing its reports (`hold`), further signals do not
raise again: they would only break the clean-up that puts the target back. They print a line
instead; a run whose clean-up hangs can still be SIGKILLed, then `python -m chaos recover`
finishes the job (docs/gameday.md).
"""
from __future__ import annotations

import os
import signal
import threading
from types import FrameType
from typing import Any

from chaos.errors import RunAborted, RunInterrupted

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# Delivered to the main thread only (pthread_kill): it interrupts whatever system call that
# thread is blocked in, so the abort is raised at once, not when the call times out.
ABORT_SIGNAL = signal.SIGUSR1


class RunGuard:
    """Context manager for the main thread of a game day (signal handlers live there)."""

    def __init__(self) -> None:
        self._previous: dict[int, Any] = {}
        self._main_thread = threading.main_thread().ident
        self._lock = threading.Lock()
        self._armed = False
        self._stopping = False      # a stop was raised, or `hold` was called: never raise again
        self._abort_reason: str | None = None

    def __enter__(self) -> RunGuard:
        if threading.get_ident() != self._main_thread:
            raise RuntimeError("RunGuard must be entered in the main thread (signal handlers run there)")
        for signum in STOP_SIGNALS:
            self._previous[signum] = signal.signal(signum, self._on_stop_signal)
        # Not restored on exit: an abort racing with the end of the run must find a handler (the
        # default action of SIGUSR1 would kill the process); this one does nothing once disarmed.
        signal.signal(ABORT_SIGNAL, self._on_abort_signal)
        self._armed = True
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._armed = False
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    @property
    def stopping(self) -> bool:
        return self._stopping

    def hold(self) -> None:
        """From now on a signal does not raise (the run is finishing: reports, lab stop)."""
        self._stopping = True

    def abort(self, reason: str) -> None:
        """Stop the run because it cannot go on; callable from any thread."""
        with self._lock:
            if not self._armed or self._stopping or self._abort_reason is not None:
                return
            self._abort_reason = reason
            signal.pthread_kill(self._main_thread, ABORT_SIGNAL)

    # Signal handlers run in the main thread, between two bytecodes or when a blocking call
    # returns EINTR; they take no lock (the main thread may hold `_lock` in `abort`/`__exit__`).
    def _on_stop_signal(self, signum: int, frame: FrameType | None) -> None:
        if self._stopping:
            _say(f"chaos: {signal.Signals(signum).name} received, already stopping (reverting "
                 "faults, stopping the lab); if it hangs: kill -9, then `python -m chaos recover`")
            return
        self._stopping = True
        raise RunInterrupted(signum)

    def _on_abort_signal(self, signum: int, frame: FrameType | None) -> None:
        if self._stopping or not self._armed or self._abort_reason is None:
            return
        self._stopping = True
        raise RunAborted(self._abort_reason)


def _say(line: str) -> None:
    try:
        os.write(2, (line + "\n").encode())
    except OSError:
        pass
