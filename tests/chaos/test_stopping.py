"""RunGuard: SIGINT and SIGTERM, and an abort from another thread, raised in the main thread even
while it blocks; once stopping, more signals do not raise again (they would break the clean-up)."""
from __future__ import annotations

import os
import signal
import threading

import pytest

from chaos.errors import RunAborted, RunInterrupted
from chaos.engine.stopping import RunGuard


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_interrupts_a_blocking_wait_with_its_exit_code(signum, code):
    with RunGuard():
        threading.Timer(0.05, os.kill, (os.getpid(), signum)).start()
        with pytest.raises(RunInterrupted) as stopped:
            threading.Event().wait(60)
    assert (stopped.value.exit_code, stopped.value.status) == (code, "interrupted")
    assert stopped.value.reason == f"interrupted by {signal.Signals(signum).name}"


def test_an_abort_from_another_thread_interrupts_the_main_thread():
    with RunGuard() as guard:
        threading.Timer(0.05, guard.abort, ("the lab process (pid 1) died: killed by SIGKILL",)).start()
        with pytest.raises(RunAborted) as stopped:
            threading.Event().wait(60)
    assert (stopped.value.exit_code, stopped.value.status) == (2, "aborted")
    assert "killed by SIGKILL" in stopped.value.reason


def test_once_stopping_a_second_signal_only_says_so(capfd):
    with RunGuard() as guard:
        with pytest.raises(RunInterrupted):
            os.kill(os.getpid(), signal.SIGTERM)
            threading.Event().wait(60)
        assert guard.stopping
        os.kill(os.getpid(), signal.SIGINT)  # during clean-up: must not raise
        guard.abort("too late")              # nor this
        threading.Event().wait(0.1)
    assert "already stopping" in capfd.readouterr().err


def test_hold_lets_the_end_of_a_run_finish_and_exit_restores_the_handlers():
    before = signal.getsignal(signal.SIGTERM)
    with RunGuard() as guard:
        guard.hold()
        os.kill(os.getpid(), signal.SIGTERM)
        threading.Event().wait(0.1)  # no exception: the reports of a finished run are written
    assert signal.getsignal(signal.SIGTERM) is before
