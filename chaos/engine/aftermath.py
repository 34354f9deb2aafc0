"""Putting back what a stopped or killed game day left, from its run directory alone.

`python -m chaos recover --out DIR` calls `recover(run_dir)`. What a run can leave, and how each is
found and undone:
- **faults** journaled `fault_injected` with no matching `fault_reverted`: Chaos API rules are
  deleted (by their keys, as the run would have), replication pauses resumed (the lab API), FIS
  experiments stopped (the handle names experiment and region). On the embedded lab a fault lives
  only inside the run's lab process, so ending that process is its revert;
- **the application record** a runbook changed by hand (a `note` carrying `undo.route53_upsert`):
  put back as it was before the change, health check included, on a target that outlives the
  run; Route 53's health-checked routing then decides again, as before the run;
- **other recovery actions** on a real target cannot be undone by a tool and are listed once, for
  a person to review: a promoted replica (it is the writer now: the writer's private record that
  points at it must not be flipped back to the old primary, whose data diverged), a restored
  table or instance;
- **the lab process** the run started (run.json `host.lab`, PID and start time: a recycled PID is
  never signalled), then whatever its leftovers file lists (PostgreSQL servers, temporary
  directories; chaos/lab/scratch.py), then the lab's run directory (its log is copied next to
  the reports first).

Each thing put back is journaled as a `recovered` event with a key, so a second `recover` finds
nothing left to do and says so. Nothing here trusts that an earlier step happened: every check is
made against the host or the target as they are now.
"""
from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from chaos.errors import ChaosError
from chaos.journal import (FAULT_INJECTED, FAULT_REVERTED, FAILOVER_DONE, JOURNAL_FILE, NOTE,
                           RECOVERED, Event, Journal, RunRecord, load_run, write_run_record)
from chaos.lab.scratch import ProcessId, clean_up, end_process, read_resources

SCENARIO = "-"  # recover's events belong to no scenario (measurement ignores them)


@dataclass
class RecoverReport:
    run: RunRecord
    done: list[str] = field(default_factory=list)      # what this call put back
    review: list[str] = field(default_factory=list)    # what a person must look at
    failed: list[str] = field(default_factory=list)    # what could not be put back (exit 2)


@dataclass(frozen=True)
class PendingFault:
    key: str
    scenario: str
    workload: str | None
    fault: str
    detail: dict[str, Any]


def pending_faults(events: list[Event]) -> list[PendingFault]:
    """Faults injected and not reverted, per (scenario, workload, fault): the n-th injection is
    reverted by the n-th revert, as the engine journals them (pure)."""
    reverted: dict[tuple, int] = {}
    for event in events:
        if event.kind == FAULT_REVERTED:
            ident = (event.scenario, event.workload, event.data.get("fault"))
            reverted[ident] = reverted.get(ident, 0) + 1
    seen: dict[tuple, int] = {}
    pending = []
    for event in sorted((e for e in events if e.kind == FAULT_INJECTED), key=lambda e: e.t):
        ident = (event.scenario, event.workload, event.data.get("fault"))
        seen[ident] = seen.get(ident, 0) + 1
        if seen[ident] > reverted.get(ident, 0):
            detail = event.data.get("detail")
            pending.append(PendingFault(
                key=f"fault:{event.scenario}:{event.workload}:{event.data.get('fault')}:{seen[ident]}",
                scenario=event.scenario, workload=event.workload, fault=str(event.data.get("fault")),
                detail=detail if isinstance(detail, dict) else {}))
    return pending


def recover(run_dir: Path, *, aws_profile: str | None = None) -> RecoverReport:
    run, events = load_run(run_dir)
    report = RecoverReport(run)
    finished = {str(e.data.get("key")) for e in events if e.kind == RECOVERED}
    journal = Journal.on_disk(run_dir / JOURNAL_FILE, truncate=False)
    try:
        def did(key: str, action: str) -> None:
            journal.record(RECOVERED, SCENARIO, None, action=action, key=key)
            finished.add(key)
            report.done.append(action)

        # The lab first: on the embedded lab every fault and DNS change lives in that process,
        # so ending it is their revert; the APIs below are for targets that outlive the run.
        lab_gone = _end_lab(run, run_dir, did, report)
        for fault in pending_faults(events):
            if fault.key not in finished:
                _revert_fault(run, fault, lab_gone, did, report, aws_profile)
        for event in events:
            undo = event.data.get("undo") if event.kind == NOTE else None
            key = f"undo:{event.scenario}:{event.workload}:{event.t}"
            if isinstance(undo, dict) and key not in finished:
                _undo_change(run, undo, key, lab_gone, did, report, aws_profile)
        if run.target != "lab":
            for event in events:
                key = f"review:{event.scenario}:{event.workload}:{event.t}"
                if event.kind == FAILOVER_DONE and key not in finished:
                    action = (f"review by hand: {event.scenario} / {event.workload}: "
                              f"{event.data.get('action')} (a tool cannot undo it on {run.target})")
                    journal.record(RECOVERED, SCENARIO, None, action=action, key=key)
                    report.review.append(action)
    finally:
        journal.close()
    if report.done or report.review:
        report.run = replace(run, recovered_at=time.time())
        write_run_record(run_dir, report.run)
    return report


def _end_lab(run: RunRecord, run_dir: Path, did: Callable[[str, str], None],
             report: RecoverReport) -> bool:
    """End the run's lab and remove what it left; True when no lab of this run is running."""
    lab = run.host.get("lab") or {}
    identity = ProcessId.from_dict(lab)
    if identity is not None:
        how = end_process(identity)
        if how is not None:
            did(f"lab:{identity.pid}:{identity.start_ticks}", f"lab process (pid {identity.pid}) {how}")
        if identity.alive():
            report.failed.append(f"lab process (pid {identity.pid}) is still running; kill -9 {identity.pid}")
            return False
    resources_file = lab.get("resources_file")
    if isinstance(resources_file, str):
        for line in clean_up(read_resources(resources_file)):
            did(f"leftover:{line}", line)
    rundir = lab.get("rundir")
    if isinstance(rundir, str) and Path(rundir).is_absolute() and Path(rundir).exists():
        log = Path(rundir) / "lab.log"
        if log.exists() and not (run_dir / "lab.log").exists():
            shutil.copyfile(log, run_dir / "lab.log")
        shutil.rmtree(rundir, ignore_errors=True)
        did(f"rundir:{rundir}", f"removed directory {rundir} (its lab.log copied to {run_dir}/)")
    return True


def _revert_fault(run: RunRecord, fault: PendingFault, lab_gone: bool, did: Callable[[str, str], None],
                  report: RecoverReport, aws_profile: str | None) -> None:
    what = f"{fault.fault} of {fault.scenario}" + (f" / {fault.workload}" if fault.workload else "")
    detail = fault.detail
    if run.target == "lab":
        if lab_gone:
            did(fault.key, f"{what}: ended with the run's lab (it lived only there)")
        return
    try:
        if detail.get("experiment_id"):
            did(fault.key, f"{what}: {_stop_experiment(run, detail, aws_profile)}")
        elif detail.get("rules") or detail.get("replication_paused"):
            did(fault.key, f"{what}: {_remove_chaos_api_fault(run, detail)}")
        else:  # a deletion: the damage was the fault, its repair is the runbook's restore
            did(fault.key, f"{what}: nothing to revert (a deletion; restoring is the runbook's job)")
    except Exception as err:  # noqa: BLE001 - one line per failure, the others still run
        report.failed.append(f"{what}: not reverted ({type(err).__name__}: {err})")


def _remove_chaos_api_fault(run: RunRecord, detail: dict[str, Any]) -> str:
    from chaos.lab.process import LabClient
    if not run.endpoint:
        raise ChaosError("run.json names no endpoint")
    lab = _lab_credentials(run.endpoint)
    client = LabClient(run.endpoint, token=lab.token if lab is not None else None)
    done = []
    if detail.get("replication_paused"):
        workload = detail["replication_paused"]
        if any(link.get("workload") == workload for link in client.replication()):
            client.set_replication(workload=workload, paused=False)
            done.append(f"replication of {workload} resumed")
        else:
            done.append(f"replication of {workload} has no link left to resume (promoted)")
    rules = [r for r in detail.get("rules") or [] if isinstance(r, dict)]
    if rules:
        live = [r for r in rules if float(r.get("expires_at") or float("inf")) > time.time()]
        if live:
            client.remove_faults(live)
            done.append(f"{len(live)} Chaos API rule(s) removed at {run.endpoint}")
        else:
            done.append("its Chaos API rule(s) had expired already")
    return "; ".join(done)


def _stop_experiment(run: RunRecord, detail: dict[str, Any], aws_profile: str | None) -> str:
    """StopExperiment unless FIS says it ended; through the run's endpoint when it had one (an
    AWS-compatible endpoint, as the tests use), else AWS with the usual credential chain."""
    import boto3
    region = detail.get("region")
    if not region:
        raise ChaosError("the journal does not name the experiment's region; stop "
                         f"{detail['experiment_id']} in the FIS console")
    fis = boto3.Session(region_name=region, profile_name=aws_profile).client(
        "fis", endpoint_url=run.endpoint)
    experiment_id = detail["experiment_id"]
    status = fis.get_experiment(id=experiment_id)["experiment"]["state"]["status"]
    if status in ("completed", "stopped", "failed", "cancelled"):
        return f"FIS experiment {experiment_id} already {status}"
    fis.stop_experiment(id=experiment_id)
    return f"FIS experiment {experiment_id} stopped (was {status})"


def _undo_change(run: RunRecord, undo: dict[str, Any], key: str, lab_gone: bool,
                 did: Callable[[str, str], None], report: RecoverReport, aws_profile: str | None) -> None:
    change = undo.get("route53_upsert")
    if not isinstance(change, dict):
        return
    record_set = change.get("record_set") or {}
    what = f"Route 53 record {record_set.get('Name')} ({record_set.get('SetIdentifier')})"
    if run.target == "lab":
        if lab_gone:
            did(key, f"{what}: ended with the run's lab (it lived only there)")
        return
    try:
        client = _route53(run, aws_profile)
        client.change_resource_record_sets(
            HostedZoneId=change["zone_id"],
            ChangeBatch={"Comment": f"chaos recover of run {run.run_id}: fail back",
                         "Changes": [{"Action": "UPSERT", "ResourceRecordSet": record_set}]})
        did(key, f"{what}: failed back to the record as it was before the run changed it")
    except Exception as err:  # noqa: BLE001 - reported, exit 2
        report.failed.append(f"{what}: not put back ({type(err).__name__}: {err})")


def _route53(run: RunRecord, aws_profile: str | None) -> Any:
    import boto3
    if run.target == "aws":
        return boto3.Session(profile_name=aws_profile).client("route53", region_name="us-east-1",
                                                              endpoint_url=run.endpoint)
    from chaos.targets.localstack import LOCALSTACK_CREDENTIALS
    lab = _lab_credentials(run.endpoint)  # a standalone lab signs-checks with its own keys
    keys = lab.boto3 if lab is not None else LOCALSTACK_CREDENTIALS
    return boto3.Session(region_name="us-east-1", **keys).client("route53", endpoint_url=run.endpoint)


def _lab_credentials(endpoint: str | None) -> Any:
    """A standalone lab's token and keys for `endpoint` when this user can read its ready file;
    None otherwise (LocalStack needs neither): chaos.lab.auth.credentials_for, not strict."""
    from urllib.parse import urlparse

    from chaos.lab.auth import credentials_for
    return credentials_for(endpoint, urlparse(endpoint).port, strict=False) if endpoint else None