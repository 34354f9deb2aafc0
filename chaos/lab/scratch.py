"""What a lab leaves on the host if it dies: its temporary directories and its server processes.

The lab removes all of it itself when it stops (its `finally`, its `atexit`). A SIGKILLed lab runs
neither, so every directory and long-running process it creates is also written down here, in a
small JSON file the harness chose (`python -m chaos lab --resources-file F`, kept in the harness's
run directory for that lab). Whoever outlives the lab (the harness that watched it die,
`python -m chaos recover` after a harness that died too) reads the file and removes what is left
with `clean_up`. The PostgreSQL servers die with the lab anyway (chaos/lab/postgres/cluster.py:
`PR_SET_PDEATHSIG`); the file names them too, so nothing depends on that alone.

A process is named by its PID *and* its start time (`/proc/<pid>/stat` field 22, clock ticks since
boot): a PID the kernel has handed to another process since is never signalled.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tenacity import Retrying, retry_if_result, stop_after_delay, wait_fixed

TERM_GRACE_SECONDS = 10.0  # a lab stops its PostgreSQL servers on SIGTERM: ~1 s, bounded here
KILL_WAIT_SECONDS = 5.0    # a SIGKILLed process is gone within milliseconds


@dataclass(frozen=True)
class ProcessId:
    """A process as `recover` can safely find it again: PID plus start time."""

    pid: int
    start_ticks: int

    def to_dict(self) -> dict[str, int]:
        return {"pid": self.pid, "start_ticks": self.start_ticks}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ProcessId | None:
        try:
            return cls(int(raw["pid"]), int(raw["start_ticks"]))
        except (KeyError, TypeError, ValueError):
            return None

    @classmethod
    def of(cls, pid: int) -> ProcessId | None:
        """The identity of the running process `pid`; None if there is none (or a zombie)."""
        stat = _stat(pid)
        if stat is None or stat[0] == "Z":
            return None
        return cls(pid, int(stat[19]))

    def alive(self) -> bool:
        """Still this very process, and not a zombie."""
        stat = _stat(self.pid)
        return stat is not None and stat[0] != "Z" and int(stat[19]) == self.start_ticks

    def signal(self, signum: int) -> bool:
        """Send `signum` if this is still the same process; True if it was sent."""
        if not self.alive():
            return False
        try:
            os.kill(self.pid, signum)
        except ProcessLookupError:
            return False
        return True


def _stat(pid: int) -> list[str] | None:
    """Fields 3.. of /proc/<pid>/stat (state first), or None when there is no such process."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as stat:
            return stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def end_process(process: ProcessId, *, grace: float = TERM_GRACE_SECONDS) -> str | None:
    """SIGTERM, then SIGKILL after `grace` s; None if it was not running. Returns how it ended."""
    if not process.signal(signal.SIGTERM):
        return None
    if _wait_gone(process, grace):
        return "stopped (SIGTERM)"
    process.signal(signal.SIGKILL)
    _wait_gone(process, KILL_WAIT_SECONDS)
    return "killed (SIGKILL after SIGTERM)"


def _wait_gone(process: ProcessId, bound: float) -> bool:
    still = Retrying(stop=stop_after_delay(bound), wait=wait_fixed(0.05),
                     retry=retry_if_result(bool), retry_error_callback=lambda state: True,
                     )(process.alive)
    return not still


class Leftovers:
    """The registry a lab process keeps of its directories and servers, mirrored to a file.

    Thread-safe; each change rewrites the file atomically (a handful per deploy: cheap). Without
    a file (a lab inside a test process) it only keeps the lists.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._file: Path | None = None
        self._dirs: list[str] = []
        self._processes: dict[int, dict[str, Any]] = {}

    def write_to(self, path: Path | None) -> None:
        with self._lock:
            self._file = path
            self._save()

    def add_dir(self, path: str | Path) -> None:
        with self._lock:
            if str(path) not in self._dirs:
                self._dirs.append(str(path))
                self._save()

    def discard_dir(self, path: str | Path) -> None:
        with self._lock:
            if str(path) in self._dirs:
                self._dirs.remove(str(path))
                self._save()

    def add_process(self, pid: int, role: str) -> None:
        identity = ProcessId.of(pid)
        if identity is None:
            return
        with self._lock:
            self._processes[pid] = {**identity.to_dict(), "role": role}
            self._save()

    def discard_process(self, pid: int) -> None:
        with self._lock:
            if self._processes.pop(pid, None) is not None:
                self._save()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return self._payload()

    def _payload(self) -> dict[str, Any]:
        return {"lab_pid": os.getpid(), "dirs": list(self._dirs),
                "processes": list(self._processes.values()), "updated_at": time.time()}

    def _save(self) -> None:
        if self._file is None:
            return
        payload = self._payload()
        temporary = self._file.with_name(self._file.name + ".tmp")
        try:
            temporary.write_text(json.dumps(payload, indent=1), encoding="utf-8")
            temporary.replace(self._file)
        except OSError:  # the harness removed its run directory: nobody reads the file any more
            pass


LEFTOVERS = Leftovers()  # this process's registry (`chaos lab --resources-file` gives it a file)


def read_resources(path: str | Path) -> dict[str, Any] | None:
    """The leftovers file of a lab, or None if there is none (the lab cleaned up, or never ran)."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return raw if isinstance(raw, dict) else None


def clean_up(resources: dict[str, Any] | None) -> list[str]:
    """End every listed process still running (identity checked) and remove every listed
    directory still there; returns one line per thing done (empty: nothing was left)."""
    done: list[str] = []
    if not resources:
        return done
    for raw in resources.get("processes") or []:
        identity = ProcessId.from_dict(raw) if isinstance(raw, dict) else None
        if identity is not None and identity.signal(signal.SIGKILL):
            _wait_gone(identity, KILL_WAIT_SECONDS)
            done.append(f"killed {raw.get('role') or 'process'} (pid {identity.pid})")
    for directory in resources.get("dirs") or []:
        if isinstance(directory, str) and os.path.isabs(directory) and os.path.lexists(directory):
            shutil.rmtree(directory, ignore_errors=True)
            done.append(f"removed directory {directory}")
    return done
