"""Driving a lab from the harness: `LabProcess` spawns one, `LabClient` talks to any lab over HTTP.

The harness keeps the lab in a child process (its own core, its own moto state) and talks to it
only over HTTP, exactly as it talks to a LocalStack endpoint started by hand.

Crash safety, whichever side dies:
- the harness dies: the lab notices its parent is gone (within 0.5 s) and stops itself,
  PostgreSQL and temporary directories included (chaos/cli/lab.py);
- the lab dies: its PostgreSQL servers die with it (`PR_SET_PDEATHSIG`, chaos/lab/postgres/
  cluster.py); `watch` tells the harness within `WATCH_PERIOD_SECONDS`, and `stop` removes what
  the lab wrote down in its leftovers file (chaos/lab/scratch.py) and could not remove itself;
- both die: `python -m chaos recover` does the same from the run's run.json (`describe()`).
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable

from tenacity import retry, retry_if_exception_type, stop_after_delay, wait_fixed

from chaos.errors import ChaosError
from chaos.lab.auth import TOKEN_HEADER, LabCredentials, read_ready_file
from chaos.lab.scratch import ProcessId, clean_up, read_resources

REPO_ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 30.0  # PostgreSQL processes stop inside the lab's `finally` first
WATCH_PERIOD_SECONDS = 0.2   # how often `watch` checks that the lab is alive (a waitpid: free)
RESOURCES_FILE = "resources.json"


def describe_exit(returncode: int) -> str:
    """`-9` -> "killed by SIGKILL", `3` -> "exit code 3"."""
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}"


class _NotReady(Exception):
    pass


class LabProcess:
    """`python -m chaos lab --port 0 --ready-file F` as a child process. Use as a context manager."""

    def __init__(self, *, time_factor: float = 1.0, port: int = 0, stack: str | None = None,
                 replication_lag_seconds: float | None = None, workdir: Path | None = None,
                 ready_timeout: float = READY_TIMEOUT_SECONDS,
                 on_spawn: Callable[[dict[str, Any]], None] | None = None):
        """`on_spawn(describe())` is called as soon as the child exists, before it is ready: a
        harness killed while the lab starts has then already written down what to clean up."""
        self.time_factor = time_factor
        self.port = port
        self.stack = stack
        self.replication_lag_seconds = replication_lag_seconds
        self.workdir = workdir
        self.ready_timeout = ready_timeout
        self.on_spawn = on_spawn
        self.endpoint = ""
        self.credentials: LabCredentials | None = None  # read from the ready file (mode 0600)
        self._process: subprocess.Popen | None = None
        self._identity: ProcessId | None = None
        self._rundir: Path | None = None
        self._stopping = threading.Event()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def ready_file(self) -> Path | None:
        """The lab's ready file (mode 0600): endpoint, pid, token and AWS keys."""
        return self._rundir / "ready.json" if self._rundir else None

    @property
    def log_path(self) -> Path | None:
        return self._rundir / "lab.log" if self._rundir else None

    @property
    def resources_file(self) -> Path | None:
        return self._rundir / RESOURCES_FILE if self._rundir else None

    def describe(self) -> dict[str, Any]:
        """What `chaos recover` needs to end this lab and remove what it left (run.json `host.lab`)."""
        return {**(self._identity.to_dict() if self._identity else {}),
                "rundir": str(self._rundir) if self._rundir else None,
                "resources_file": str(self.resources_file) if self._rundir else None}

    def start(self) -> "LabProcess":
        """Spawn the lab and wait until it serves."""
        self.spawn()
        return self.wait_ready()

    def spawn(self) -> "LabProcess":
        """Start the child and return at once: the caller does other work (evaluate the stack,
        import the report renderers) while the lab imports moto, then calls `wait_ready`."""
        if self._process is not None:
            return self
        self._rundir = Path(tempfile.mkdtemp(prefix="securecart-labproc-"))
        ready_file = self.ready_file
        command = [sys.executable, "-m", "chaos", "lab", "--port", str(self.port),
                   "--ready-file", str(ready_file), "--time-factor", str(self.time_factor)]
        if self.stack:
            command += ["--stack", self.stack]
        if self.replication_lag_seconds is not None:
            command += ["--replication-lag", str(self.replication_lag_seconds)]
        if self.workdir:
            command += ["--workdir", str(self.workdir)]
        command += ["--resources-file", str(self.resources_file)]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p))
        with open(self.log_path, "wb") as log:  # the child keeps its own handle
            # Own session: a Ctrl-C in the terminal reaches the harness, whose `finally` stops us.
            self._process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                             cwd=REPO_ROOT, env=env, start_new_session=True)
        self._identity = ProcessId.of(self._process.pid)
        try:
            if self.on_spawn is not None:  # run.json records the child before anything can kill us
                self.on_spawn(self.describe())
        except BaseException:
            self.stop()
            raise
        return self

    def wait_ready(self) -> "LabProcess":
        if self.endpoint:
            return self
        if self._process is None or self._rundir is None:
            raise ChaosError("lab: wait_ready before spawn; call start()")
        try:
            self.endpoint, self.credentials = self._wait_ready(self.ready_file)
            self.client().health()
        except BaseException:
            self.stop()
            raise
        return self

    def client(self) -> "LabClient":
        """A LabClient carrying this lab's token."""
        return LabClient(self.endpoint, token=self.credentials.token if self.credentials else None)

    def _wait_ready(self, ready_file: Path) -> tuple[str, LabCredentials]:
        @retry(stop=stop_after_delay(self.ready_timeout), wait=wait_fixed(0.05),
               retry=retry_if_exception_type(_NotReady), reraise=True)
        def endpoint() -> tuple[str, LabCredentials]:
            if self._process.poll() is not None:
                raise ChaosError(f"lab: exited with code {self._process.returncode} before it was ready; "
                                 f"see its log: {self._log_tail()}")
            if not ready_file.exists():
                raise _NotReady()
            return read_ready_file(ready_file)

        try:
            return endpoint()
        except _NotReady:
            raise ChaosError(f"lab: not ready after {self.ready_timeout:.0f} s; see {self.log_path}") from None

    def _log_tail(self) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "(no log)"
        return lines[-1] if lines else "(empty log)"

    def watch(self, on_exit: Callable[[str], None]) -> None:
        """Call `on_exit(why)` from a daemon thread if the lab exits before `stop()` is called
        (it was killed, it crashed): a dead lab must stop the run in seconds, not after every
        canary and runbook timed out against it."""
        process = self._process
        if process is None:
            return

        def check() -> None:
            while not self._stopping.wait(WATCH_PERIOD_SECONDS):
                if process.poll() is not None:
                    if not self._stopping.is_set():
                        # The log goes with the run directory: quote its last line instead.
                        tail = "" if process.returncode < 0 else f" (its log ends: {self._log_tail()})"
                        on_exit(f"the lab process (pid {process.pid}) died: "
                                f"{describe_exit(process.returncode)}{tail}")
                    return

        threading.Thread(target=check, name="lab-watch", daemon=True).start()

    def stop(self) -> None:
        """SIGTERM (the lab stops PostgreSQL in its `finally`), then SIGKILL after a bound; then
        remove whatever the lab listed in its leftovers file and could not remove (it was
        SIGKILLed, or SIGKILLed here), and the run directory."""
        self._stopping.set()
        process, self._process = self._process, None
        try:
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=STOP_TIMEOUT_SECONDS)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)
        finally:
            if self._rundir is not None:
                clean_up(read_resources(self._rundir / RESOURCES_FILE))
                shutil.rmtree(self._rundir, ignore_errors=True)
                self._rundir = None

    def __enter__(self) -> "LabProcess":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class LabClient:
    """Every `/_lab` call and the Chaos API, over stdlib HTTP. Errors are one-line `ChaosError`s."""

    def __init__(self, endpoint: str, timeout: float = 30.0, deploy_timeout: float = 300.0, *,
                 token: str | None = None):
        self.endpoint = endpoint.rstrip("/")
        self.token = token  # the lab's X-Lab-Token (LocalStack itself needs none)
        self.timeout = timeout
        self.deploy_timeout = deploy_timeout

    # --- /_lab ---------------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        return self._call("GET", "/_lab/health")

    def deploy(self, inventory: dict[str, Any], *, replication_lag_seconds: float | None = None,
               time_factor: float | None = None, profile: str | None = None) -> dict[str, Any]:
        body = {"inventory": inventory, "replication_lag_seconds": replication_lag_seconds,
                "time_factor": time_factor}
        if profile is not None:
            body["profile"] = profile
        return self._call("POST", "/_lab/deploy", body, timeout=self.deploy_timeout)

    def reset(self, *, time_factor: float | None = None) -> dict[str, Any]:
        body = {} if time_factor is None else {"time_factor": time_factor}
        return self._call("POST", "/_lab/reset", body, timeout=self.deploy_timeout)

    def replication(self) -> list[dict[str, Any]]:
        return self._call("GET", "/_lab/replication")

    def set_replication(self, *, workload: str | None = None, paused: bool | None = None,
                        lag_seconds: float | None = None) -> list[dict[str, Any]]:
        return self._call("POST", "/_lab/replication",
                          {"workload": workload, "paused": paused, "lag_seconds": lag_seconds})

    def events(self, since: float = 0.0) -> list[dict[str, Any]]:
        return self._call("GET", f"/_lab/events?since={since}")

    # --- the backup lab (docs/backup-lab.md) ------------------------------------------------------------

    def backup_status(self) -> dict[str, Any]:
        return self._call("GET", "/_lab/backup")

    def set_backup_time_factor(self, time_factor: float) -> dict[str, Any]:
        """Lab seconds per AWS second for schedules, lifecycles, vault-lock grace and Glacier restores."""
        return self._call("POST", "/_lab/backup/clock", {"time_factor": time_factor})

    def run_restore_tests(self) -> list[dict[str, Any]]:
        return self._call("POST", "/_lab/backup/restore-tests", {})

    def restore_test_results(self) -> list[dict[str, Any]]:
        return self._call("GET", "/_lab/backup/restore-tests")

    def export_snapshot(self, region: str, identifier: str, bucket: str, key: str | None = None) -> dict[str, Any]:
        """Export the newest RDS snapshot of `identifier` to `bucket` (a pg_dump file; AWS writes Parquet)."""
        return self._call("POST", "/_lab/backup/export",
                          {"region": region, "identifier": identifier, "bucket": bucket, "key": key},
                          timeout=self.deploy_timeout)

    # --- Chaos API (LocalStack-compatible) -------------------------------------------------------------

    def faults(self) -> list[dict[str, Any]]:
        return self._call("GET", "/_localstack/chaos/faults")

    def set_faults(self, rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return self._call("POST", "/_localstack/chaos/faults", rules)

    def add_faults(self, rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return self._call("PATCH", "/_localstack/chaos/faults", rules)

    def remove_faults(self, rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return self._call("DELETE", "/_localstack/chaos/faults", rules)

    def clear_faults(self) -> list[dict[str, Any]]:
        self._call("POST", "/_localstack/chaos/effects", {"latency": 0})
        return self.set_faults([])

    def effects(self) -> dict[str, Any]:
        return self._call("GET", "/_localstack/chaos/effects")

    def set_latency(self, milliseconds: float) -> dict[str, Any]:
        return self._call("POST", "/_localstack/chaos/effects", {"latency": milliseconds})

    # --- transport -------------------------------------------------------------------------------------

    def _call(self, method: str, path: str, body: Any = None, timeout: float | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers[TOKEN_HEADER] = self.token
        request = urllib.request.Request(self.endpoint + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout or self.timeout) as reply:
                return json.loads(reply.read() or b"null")
        except urllib.error.HTTPError as error:
            try:
                answer = json.loads(error.read())
                message = answer.get("error") or answer.get("message")  # the lab's, LocalStack's
            except (ValueError, AttributeError):
                message = None
            raise ChaosError(f"lab {self.endpoint}{path}: {message or f'HTTP {error.code}'}") from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise ChaosError(f"endpoint {self.endpoint}: unreachable ({reason}); start the lab with "
                             f"`python -m chaos lab` or fix --endpoint") from None
