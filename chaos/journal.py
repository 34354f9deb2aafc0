"""The event log every game day writes and every report is made from.

A run directory holds two files:
- `journal.jsonl`: one `Event` per line, in the order they were recorded;
- `run.json`: the `RunRecord`, what was run where and with which settings.

Measurement (`chaos.measurement`) is a pure function of these two, so `python -m chaos report
<run-dir>` re-renders every report of a past run, and tests measure hand-made event lists.

Event kinds and the keys of their `data` (times are `time.time()` on the harness host; the lab
runs on the same host, so harness and lab clocks agree):

| kind              | data                           | recorded by                                  |
|-------------------|--------------------------------|----------------------------------------------|
| `write_acked`     | `seq`, `latency` (s)           | a canary, when the store acknowledged write `seq` |
| `write_failed`    | `seq`, `error`                 | a canary, when write `seq` was refused or timed out |
| `fault_injected`  | `fault`, `detail`, optional `preparatory` | the engine; `preparatory: true` marks a fault that sets the stage without interrupting service (the replication pause before a region outage): RTO and RPO count from the first fault that is not preparatory |
| `fault_reverted`  | `fault`                        | the engine, in its `finally`                 |
| `detected`        | `how`                          | the engine, when the failure became visible (health check unhealthy, probe failing) |
| `runbook_started` | `runbook`                      | a runbook, when recovery began               |
| `failover_done`   | `action`                       | a runbook, after each recovery action took effect |
| `probe`           | `ok`, `detail`                 | a steady-state probe (read-your-write through the failover path) |
| `audit`           | `present` (list of seqs), `store` | the engine after recovery: which canary writes the recovered store holds |
| `skipped`         | `reason`                       | the engine, when a scenario does not apply to a workload |
| `note`            | `text`                         | anyone: context for the reader of a report   |
| `scenario_ended`  | (none)                         | the engine, when a scenario ran to its end (reverted, after-probe done) |
| `run_stopped`     | `status` (interrupted/aborted), `reason`, `exit_code` | the engine, when a signal or a dead target stopped the run; its scenario is the one in flight |
| `recovered`       | `action`, `key`                | `chaos recover`, for each thing it put back (`key` makes a second recover a no-op) |
| `time_scale`      | `time_factor`, `profile`, `wave` | the engine, per workload before its scenario runs: lab seconds per AWS second (measurement divides by it) |
| `plan_started`    | `plan`, `plan_arn`, `execution_id`, `target_region`, `rto_objective_seconds` | the region-switch runbook, when it started the stack's ARC Region switch plan |
| `plan_step`       | `name`, `block_type`, `started_at`, `ended_at`, `status`, `error` | the region-switch runbook, once per execution block that ended (Parallel blocks and their steps alike), as the plan execution reported it |

`workload` is None on scenario-wide events (a region outage hits every workload); measurement of
a workload reads its own events plus the scenario-wide ones.

Crash safety: a game day's journal is on disk from its first event (`Journal.on_disk`): every
event is one `write(2)` of one whole line to a file opened with O_APPEND, so a SIGKILL of the
harness loses nothing it recorded (the kernel holds the written bytes) and never leaves half a
line. `run.json` is written (atomically: a temporary file, then rename) when the run starts, with
`status: running`, and again when it ends (`completed`, `interrupted` or `aborted`). A run.json
still `running` whose harness is gone is a killed run: `chaos report` renders it ABORTED and
`chaos recover` puts back what it left (docs/gameday.md).
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from chaos.errors import ChaosError

TOOL_VERSION = "0.1.0"
RUN_FILE = "run.json"
JOURNAL_FILE = "journal.jsonl"

WRITE_ACKED = "write_acked"
WRITE_FAILED = "write_failed"
FAULT_INJECTED = "fault_injected"
FAULT_REVERTED = "fault_reverted"
DETECTED = "detected"
RUNBOOK_STARTED = "runbook_started"
FAILOVER_DONE = "failover_done"
PROBE = "probe"
AUDIT = "audit"
SKIPPED = "skipped"
NOTE = "note"
SCENARIO_ENDED = "scenario_ended"
RUN_STOPPED = "run_stopped"
RECOVERED = "recovered"

# RunRecord.status
RUNNING = "running"
COMPLETED = "completed"
INTERRUPTED = "interrupted"
ABORTED = "aborted"
TIME_SCALE = "time_scale"
PLAN_STARTED = "plan_started"
PLAN_STEP = "plan_step"

EVENT_KINDS = frozenset(
    {
        WRITE_ACKED,
        WRITE_FAILED,
        FAULT_INJECTED,
        FAULT_REVERTED,
        DETECTED,
        RUNBOOK_STARTED,
        FAILOVER_DONE,
        PROBE,
        AUDIT,
        SKIPPED,
        NOTE,
        SCENARIO_ENDED,
        RUN_STOPPED,
        RECOVERED,
        TIME_SCALE,
        PLAN_STARTED,
        PLAN_STEP,
    }
)


# What each kind's `data` must hold on read, so a corrupt journal is refused rather than measured
# (a `"seq": "x"` once flipped a verdict). Extra keys are allowed (e.g. `store`).
_INT, _NUMBER, _TEXT, _BOOL, _INTS = "a whole number >= 0", "a finite number >= 0", "a string", \
    "true or false", "a list of whole numbers >= 0"
DATA_FIELDS: dict[str, dict[str, str]] = {
    WRITE_ACKED: {"seq": _INT, "latency": _NUMBER},
    WRITE_FAILED: {"seq": _INT, "error": _TEXT},
    FAULT_INJECTED: {"fault": _TEXT},
    FAULT_REVERTED: {"fault": _TEXT},
    DETECTED: {"how": _TEXT},
    RUNBOOK_STARTED: {"runbook": _TEXT},
    FAILOVER_DONE: {"action": _TEXT},
    PROBE: {"ok": _BOOL},
    AUDIT: {"present": _INTS, "store": _TEXT},
    SKIPPED: {"reason": _TEXT},
    NOTE: {"text": _TEXT},
    SCENARIO_ENDED: {},
    RUN_STOPPED: {"status": _TEXT, "reason": _TEXT},
    RECOVERED: {"action": _TEXT, "key": _TEXT},
    TIME_SCALE: {"time_factor": _NUMBER, "profile": _TEXT},
    PLAN_STARTED: {"plan": _TEXT, "execution_id": _TEXT},
    PLAN_STEP: {"name": _TEXT, "block_type": _TEXT, "status": _TEXT},
}
# A journal line is one event; the longest legitimate one is an audit listing every acknowledged
# seq of a scenario (a few MB at most at the canary's top rate).
MAX_LINE_BYTES = 16 * 1024 * 1024
# A whole journal: 10^6 events (hours of canaries at the top rate) are ~100 MB; past this bound
# the events would not fit in memory as objects, so the file is refused up front.
MAX_JOURNAL_BYTES = 1024 * 1024 * 1024
MAX_RUN_FILE_BYTES = 16 * 1024 * 1024  # run.json: settings and the deploy summary, ~100 KB


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _valid(value: Any, expected: str) -> bool:
    if expected == _INT:
        return _whole(value)
    if expected == _NUMBER:
        return isinstance(value, (int, float)) and not isinstance(value, bool) \
            and math.isfinite(value) and value >= 0
    if expected == _TEXT:
        return isinstance(value, str)
    if expected == _BOOL:
        return isinstance(value, bool)
    return isinstance(value, list) and all(_whole(item) for item in value)


@dataclass(frozen=True)
class Event:
    """One thing that happened during a run, at harness time `t` (epoch seconds)."""

    t: float
    kind: str
    scenario: str
    workload: str | None
    data: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "t": self.t,
            "kind": self.kind,
            "scenario": self.scenario,
            "workload": self.workload,
            "data": self.data,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Event:
        """Build an event from its JSON form; KeyError/TypeError/ValueError on a malformed one."""
        if isinstance(raw["t"], bool) or not isinstance(raw["t"], (int, float)):
            raise TypeError(f"t is not a finite time: {str(raw['t'])[:40]!r}")
        t = float(raw["t"])
        if not math.isfinite(t):
            raise ValueError(f"t is not a finite time: {raw['t']!r}")
        kind = raw["kind"]
        if kind not in EVENT_KINDS:
            raise ValueError(f"unknown event kind {kind!r}")
        data = raw.get("data") or {}
        if not isinstance(data, dict):
            raise TypeError("data is not an object")
        for key, expected in DATA_FIELDS[kind].items():
            if not _valid(data.get(key), expected):
                raise ValueError(f"{kind}.data.{key} is {str(data.get(key))[:40]!r}, not {expected}")
        if kind == FAULT_INJECTED and not isinstance(data.get("preparatory", False), bool):
            raise ValueError("fault_injected.data.preparatory is not true or false")
        workload = raw.get("workload")
        if not isinstance(raw["scenario"], str) or not (workload is None or isinstance(workload, str)):
            raise TypeError("scenario and workload must be strings")
        return cls(
            t=t,
            kind=kind,
            scenario=str(raw["scenario"]),
            workload=None if workload is None else str(workload),
            data=data,
        )


class Journal:
    """A thread-safe, append-only list of events, optionally mirrored to a JSONL file as it grows.

    Canary threads append at up to a few thousand events per second together; a plain list
    append under one lock costs well under a microsecond, and the on-disk mirror adds one
    `write(2)` of ~100 bytes (a few microseconds), so the journal never becomes the bottleneck
    (see bench/measurement.py).
    """

    def __init__(self, events: Iterable[Event] = ()) -> None:
        self._lock = threading.Lock()
        self._events: list[Event] = list(events)
        self._fd: int | None = None
        self._encoder = json.JSONEncoder(separators=(",", ":"), allow_nan=False)

    @classmethod
    def on_disk(cls, path: str | Path, *, truncate: bool = True) -> Journal:
        """A journal whose every event is appended to `path` the moment it is recorded.

        One `os.write` of one whole line per event on an O_APPEND descriptor: nothing sits in a
        user-space buffer, so a SIGKILL of this process loses no recorded event and leaves no
        half line. `truncate=False` appends to an existing journal (`chaos recover` does).
        """
        journal = cls()
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | (os.O_TRUNC if truncate else 0)
        try:
            journal._fd = os.open(path, flags, 0o644)
        except OSError as err:
            raise ChaosError(f"--out: cannot write {path} ({err.strerror}); pass a writable "
                             "directory") from None
        return journal

    def append(self, event: Event) -> None:
        if event.kind not in EVENT_KINDS:
            raise ValueError(f"unknown event kind {event.kind!r}; use the constants in chaos.journal")
        line = (self._encoder.encode(event.to_dict()) + "\n").encode("utf-8") if self._fd is not None else b""
        with self._lock:
            self._events.append(event)
            if self._fd is not None:
                os.write(self._fd, line)  # one whole line per call (regular file, O_APPEND)

    def close(self) -> None:
        """Flush the file to stable storage and stop mirroring; the events stay readable."""
        with self._lock:
            fd, self._fd = self._fd, None
        if fd is not None:
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def record(
        self,
        kind: str,
        scenario: str,
        workload: str | None = None,
        *,
        t: float | None = None,
        **data: Any,
    ) -> Event:
        """Append an event stamped now (or at `t`) and return it.

        Example: `journal.record(WRITE_ACKED, "region-outage", "catalog", seq=41, latency=0.003)`.
        """
        event = Event(
            t=time.time() if t is None else t,
            kind=kind,
            scenario=scenario,
            workload=workload,
            data=data,
        )
        self.append(event)
        return event

    def events(self) -> list[Event]:
        """A snapshot copy, safe to iterate while canaries keep appending."""
        with self._lock:
            return list(self._events)

    def __len__(self) -> int:
        with self._lock:
            return len(self._events)

    def write_jsonl(self, path: str | Path) -> None:
        write_jsonl(self.events(), path)

    @classmethod
    def read_jsonl(cls, path: str | Path) -> Journal:
        return cls(read_jsonl(path))


def write_jsonl(events: Iterable[Event], path: str | Path) -> None:
    """Write one event per line (compact JSON, so a 10^6-event journal stays ~100 MB)."""
    encoder = json.JSONEncoder(separators=(",", ":"), allow_nan=False)
    with open(path, "w", encoding="utf-8") as out:
        for event in events:
            out.write(encoder.encode(event.to_dict()))
            out.write("\n")


def _bounded_lines(lines: Any, path: Path) -> Iterable[str]:
    """The file's lines, refusing one longer than MAX_LINE_BYTES before it is all in memory."""
    number = 0
    while True:
        line = lines.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_LINE_BYTES:
            raise ChaosError(f"{path}:{number}: longer than {MAX_LINE_BYTES} characters, not a journal "
                             "event; the run directory is corrupt, re-run the game day")
        yield line


def read_jsonl(path: str | Path) -> list[Event]:
    """Read a journal written by `write_jsonl`; a bad line is a ChaosError naming file and line."""
    path = Path(path)
    events: list[Event] = []
    try:
        with open(path, encoding="utf-8") as lines:
            size = os.fstat(lines.fileno()).st_size
            if size > MAX_JOURNAL_BYTES:
                raise ChaosError(f"{path}: {size} bytes, more than the {MAX_JOURNAL_BYTES} a journal may "
                                 "have; it is not a game day's journal")
            for number, line in enumerate(_bounded_lines(lines, path), start=1):
                if not line.strip():
                    continue
                try:
                    raw = json.loads(line)
                    if not isinstance(raw, dict):
                        raise TypeError("not a JSON object")
                    events.append(Event.from_dict(raw))
                except RecursionError:
                    raise ChaosError(f"{path}:{number}: JSON nested too deeply to be a journal event; "
                                     "the run directory is corrupt, re-run the game day") from None
                except (ValueError, KeyError, TypeError, AttributeError) as err:
                    raise ChaosError(
                        f"{path}:{number}: not a journal event ({err}); "
                        "the run directory is corrupt, re-run the game day"
                    ) from None
    except FileNotFoundError:
        raise ChaosError(f"{path}: no journal here; pass a run directory written by `gameday --out`") from None
    except UnicodeDecodeError:
        raise ChaosError(f"{path}: not a UTF-8 text journal; the run directory is corrupt") from None
    except OSError as err:
        raise ChaosError(f"{path}: cannot be read ({err.strerror}); pass a readable run directory") from None
    return events


@dataclass(frozen=True)
class WorkloadTarget:
    """What a workload promised, as the inventory declared it: used to judge its measurements."""

    kind: str
    strategy: str
    rto_seconds: float
    rpo_seconds: float
    # scenario -> {"rto_seconds", "rpo_seconds", "rto_terms", "rpo_terms"}: what AWS can deliver
    # (the inventory's envelope, infra.envelope; the seconds parsed to floats by `envelopes_of`);
    # empty when the inventory carries none.
    envelopes: dict[str, dict[str, Any]] = field(default_factory=dict)

    def for_scenario(self, scenario: str) -> WorkloadTarget:
        """The targets judged in `scenario`: the envelope's per-scenario `target` when the
        inventory gives one (e.g. accidental deletion is judged against the restore's), else the
        workload's."""
        target = (self.envelopes.get(scenario) or {}).get("target") or {}
        try:
            rto = float(target.get("rto_seconds", self.rto_seconds))
            rpo = float(target.get("rpo_seconds", self.rpo_seconds))
        except (TypeError, ValueError):
            return self
        if (rto, rpo) == (self.rto_seconds, self.rpo_seconds):
            return self
        return WorkloadTarget(self.kind, self.strategy, rto, rpo, self.envelopes)

    def overridden(self, *, rto_seconds: float | None = None, rpo_seconds: float | None = None
                   ) -> WorkloadTarget:
        """An --rto-target/--rpo-target override: it replaces the target in every scenario."""
        rto = self.rto_seconds if rto_seconds is None else rto_seconds
        rpo = self.rpo_seconds if rpo_seconds is None else rpo_seconds
        envelopes = {}
        for scenario, entry in self.envelopes.items():
            target = dict(entry.get("target") or {})
            if rto_seconds is not None:
                target["rto_seconds"] = rto_seconds
            if rpo_seconds is not None:
                target["rpo_seconds"] = rpo_seconds
            envelopes[scenario] = {**entry, "target": target} if target else dict(entry)
        return WorkloadTarget(self.kind, self.strategy, rto, rpo, envelopes)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> WorkloadTarget:
        return cls(
            kind=str(raw["kind"]),
            strategy=str(raw["strategy"]),
            rto_seconds=float(raw["rto_seconds"]),
            rpo_seconds=float(raw["rpo_seconds"]),
            envelopes=envelopes_of({"envelope": raw.get("envelopes") or {}}),
        )

    def envelope_seconds(self, scenario: str | None, key: str) -> float | None:
        """The envelope's `rto_seconds` or `rpo_seconds` for `scenario` (None: no envelope)."""
        return (self.envelopes.get(scenario) or {}).get(key) if scenario else None


def targets_from_inventory(inventory: Mapping[str, Any]) -> dict[str, WorkloadTarget]:
    """The targets of every workload of an `inventory` (see docs/inventory.md)."""
    targets: dict[str, WorkloadTarget] = {}
    for name, workload in (inventory.get("workloads") or {}).items():
        try:
            targets[name] = WorkloadTarget(
                kind=str(workload["kind"]),
                strategy=str(workload["strategy"]),
                rto_seconds=float(workload["targets"]["rto_seconds"]),
                rpo_seconds=float(workload["targets"]["rpo_seconds"]),
                envelopes=envelopes_of(workload),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise ChaosError(
                f"inventory.workloads.{name}: missing or invalid kind/strategy/targets ({err!r}); "
                "re-export the inventory from the Pulumi program"
            ) from None
    return targets


def envelopes_of(workload: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The workload's envelope per scenario from its inventory entry (`envelope`): a mapping
    scenario -> {rto_seconds, rpo_seconds, ...terms}, or a list of such entries naming their
    `scenario`. Entries without numbers are left out."""
    raw = workload.get("envelope") or {}
    if isinstance(raw, Mapping) and isinstance(raw.get("scenarios"), (Mapping, list)):
        raw = raw["scenarios"]
    items = raw.items() if isinstance(raw, Mapping) else [(e.get("scenario"), e) for e in raw
                                                          if isinstance(e, Mapping)]
    envelopes: dict[str, dict[str, Any]] = {}
    for scenario, entry in items:
        if not isinstance(entry, Mapping) or scenario is None:
            continue
        try:
            rto, rpo = float(entry["rto_seconds"]), float(entry["rpo_seconds"])
        except (KeyError, TypeError, ValueError):
            continue
        envelopes[str(scenario)] = {**entry, "rto_seconds": rto, "rpo_seconds": rpo}
    return envelopes


def inventory_digest(inventory: Mapping[str, Any]) -> str:
    """A short, stable fingerprint of the inventory a run used (sha256 of its canonical JSON)."""
    canonical = json.dumps(inventory, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ReplicationLag:
    """One replication link and the lag the lab (or the target) applied to it."""

    workload: str
    kind: str
    source_region: str
    target_region: str
    lag_seconds: float | None
    paused: bool = False

    @classmethod
    def from_link(cls, link: Mapping[str, Any]) -> ReplicationLag:
        """From a link of the lab's `GET /_lab/replication` or deploy summary."""
        lag = link.get("lag_seconds")
        return cls(
            workload=str(link.get("workload")),
            kind=str(link.get("kind")),
            source_region=str(link.get("source_region")),
            target_region=str(link.get("target_region")),
            lag_seconds=None if lag is None else float(lag),
            paused=bool(link.get("paused", False)),
        )


@dataclass(frozen=True)
class NotEmulated:
    """A resource the stack declares that the target cannot reproduce: listed, never faked."""

    workload: str | None
    resource: str
    reason: str


@dataclass
class RunRecord:
    """What was run, where and how: saved as `run.json` next to `journal.jsonl`."""

    run_id: str
    stack: str
    target: str
    endpoint: str | None
    started_at: float
    ended_at: float | None
    scenarios: list[str]
    workloads: dict[str, WorkloadTarget]
    time_factor: float = 1.0          # the first wave's; each result carries its own
    canary_rate: float | None = None
    profile: str = "mechanics"        # lab timing profile (chaos.lab.timing): aws | mechanics
    time_factors: dict[str, float] = field(default_factory=dict)  # "scenario/workload" -> factor
    lab_capacity_writes_per_second: float | None = None
    replication_lag_override: float | None = None
    replication: list[ReplicationLag] = field(default_factory=list)
    declared_not_emulated: list[NotEmulated] = field(default_factory=list)
    deploy_summary: dict[str, Any] = field(default_factory=dict)
    inventory_digest: str | None = None
    tool_version: str = TOOL_VERSION
    # How the run ended: `running` until it does (a run.json still `running` whose harness is
    # gone was killed), then `completed`, `interrupted` (a signal) or `aborted` (its target died).
    status: str = COMPLETED
    stop_reason: str | None = None
    exit_code: int | None = None
    # What the run started on the harness's host, for `chaos recover`: `harness` and `lab`, each
    # `{pid, start_ticks}` (start_ticks tells a process from a later one that reused its PID),
    # the lab also `rundir` and `resources_file` (chaos/lab/scratch.py).
    host: dict[str, Any] = field(default_factory=dict)
    recovered_at: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> RunRecord:
        """Parse `run.json`; KeyError/TypeError/ValueError on a malformed one."""
        return cls(
            run_id=str(raw["run_id"]),
            stack=str(raw["stack"]),
            target=str(raw["target"]),
            endpoint=raw.get("endpoint"),
            started_at=float(raw["started_at"]),
            ended_at=None if raw.get("ended_at") is None else float(raw["ended_at"]),
            scenarios=[str(s) for s in raw["scenarios"]],
            workloads={name: WorkloadTarget.from_dict(w) for name, w in raw["workloads"].items()},
            time_factor=float(raw.get("time_factor", 1.0)),
            canary_rate=None if raw.get("canary_rate") is None else float(raw["canary_rate"]),
            profile=str(raw.get("profile", "mechanics")),
            time_factors={str(k): float(v) for k, v in (raw.get("time_factors") or {}).items()},
            lab_capacity_writes_per_second=(None if raw.get("lab_capacity_writes_per_second") is None
                                            else float(raw["lab_capacity_writes_per_second"])),
            replication_lag_override=(
                None
                if raw.get("replication_lag_override") is None
                else float(raw["replication_lag_override"])
            ),
            replication=[ReplicationLag.from_link(link) for link in raw.get("replication") or []],
            declared_not_emulated=[
                NotEmulated(workload=d.get("workload"), resource=str(d["resource"]), reason=str(d["reason"]))
                for d in raw.get("declared_not_emulated") or []
            ],
            deploy_summary=dict(raw.get("deploy_summary") or {}),
            inventory_digest=raw.get("inventory_digest"),
            tool_version=str(raw.get("tool_version", TOOL_VERSION)),
            status=str(raw.get("status", COMPLETED)),
            stop_reason=None if raw.get("stop_reason") is None else str(raw["stop_reason"]),
            exit_code=None if raw.get("exit_code") is None else int(raw["exit_code"]),
            host=dict(raw.get("host") or {}),
            recovered_at=None if raw.get("recovered_at") is None else float(raw["recovered_at"]),
        )

    @staticmethod
    def not_emulated_from_summary(deploy_summary: Mapping[str, Any]) -> list[NotEmulated]:
        """The lab deploy summary's `declared_not_emulated` entries, typed."""
        return [
            NotEmulated(workload=d.get("workload"), resource=str(d.get("resource")), reason=str(d.get("reason")))
            for d in deploy_summary.get("declared_not_emulated") or []
        ]


def write_run_record(run_dir: str | Path, run: RunRecord) -> Path:
    """Write `run.json` atomically (a temporary file renamed over it): a reader, or a harness
    killed mid-write, sees the previous version or the new one, never half of one."""
    path = Path(run_dir) / RUN_FILE
    temporary = path.with_name(f".{RUN_FILE}.{os.getpid()}.tmp")
    with open(temporary, "w", encoding="utf-8") as out:
        out.write(json.dumps(run.to_dict(), indent=2) + "\n")
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)
    return path


def save_run(run_dir: str | Path, run: RunRecord, events: Iterable[Event]) -> None:
    """Write `run.json` and `journal.jsonl` into `run_dir` (created if missing)."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    write_run_record(run_dir, run)
    write_jsonl(events, run_dir / JOURNAL_FILE)


def load_run(run_dir: str | Path) -> tuple[RunRecord, list[Event]]:
    """Read a run directory back; anything missing or corrupt is a one-line ChaosError."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ChaosError(f"run-dir: {run_dir} is not a directory; pass the --out directory of a game day")
    run_path = run_dir / RUN_FILE
    try:
        with open(run_path, "rb") as handle:
            text = handle.read(MAX_RUN_FILE_BYTES + 1)
        if len(text) > MAX_RUN_FILE_BYTES:
            raise ChaosError(f"{run_path}: larger than {MAX_RUN_FILE_BYTES} bytes; not a run record, "
                             "the run directory is corrupt")
        raw = json.loads(text)
        if not isinstance(raw, dict):
            raise TypeError("not a JSON object")
        run = RunRecord.from_dict(raw)
    except FileNotFoundError:
        raise ChaosError(f"run-dir: {run_path} is missing; pass the --out directory of a game day") from None
    except RecursionError:
        raise ChaosError(f"{run_path}: JSON nested too deeply; not a run record, the run directory is "
                         "corrupt") from None
    except OSError as err:
        raise ChaosError(f"{run_path}: cannot be read ({err.strerror}); pass a readable run directory") from None
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as err:
        raise ChaosError(f"{run_path}: not a run record ({err!r}); the run directory is corrupt") from None
    return run, read_jsonl(run_dir / JOURNAL_FILE)
