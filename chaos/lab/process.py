"""Driving a lab from the harness: `LabProcess` spawns one, `LabClient` talks to any lab over HTTP.

The harness keeps the lab in a child process (its own core, its own moto state) and talks to it
only over HTTP, exactly as it talks to a LocalStack endpoint started by hand.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tenacity import retry, retry_if_exception_type, stop_after_delay, wait_fixed

from chaos.errors import ChaosError
from chaos.lab.auth import TOKEN_HEADER, LabCredentials, read_ready_file

REPO_ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 30.0  # PostgreSQL processes stop inside the lab's `finally` first


class _NotReady(Exception):
    pass


class LabProcess:
    """`python -m chaos lab --port 0 --ready-file F` as a child process. Use as a context manager."""

    def __init__(self, *, time_factor: float = 1.0, port: int = 0, stack: str | None = None,
                 replication_lag_seconds: float | None = None, workdir: Path | None = None,
                 ready_timeout: float = READY_TIMEOUT_SECONDS):
        self.time_factor = time_factor
        self.port = port
        self.stack = stack
        self.replication_lag_seconds = replication_lag_seconds
        self.workdir = workdir
        self.ready_timeout = ready_timeout
        self.endpoint = ""
        self.credentials: LabCredentials | None = None  # read from the ready file (mode 0600)
        self._process: subprocess.Popen | None = None
        self._rundir: Path | None = None

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

    def start(self) -> "LabProcess":
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
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p))
        with open(self.log_path, "wb") as log:  # the child keeps its own handle
            # Own session: a Ctrl-C in the terminal reaches the harness, whose `finally` stops us.
            self._process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                             cwd=REPO_ROOT, env=env, start_new_session=True)
        try:
            self.endpoint, self.credentials = self._wait_ready(ready_file)
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

    def stop(self) -> None:
        """SIGTERM (the lab stops PostgreSQL in its `finally`), then SIGKILL after a bound."""
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
               time_factor: float | None = None) -> dict[str, Any]:
        return self._call("POST", "/_lab/deploy", {"inventory": inventory,
                                                   "replication_lag_seconds": replication_lag_seconds,
                                                   "time_factor": time_factor}, timeout=self.deploy_timeout)

    def reset(self) -> dict[str, Any]:
        return self._call("POST", "/_lab/reset", {}, timeout=self.deploy_timeout)

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
