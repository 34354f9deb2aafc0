"""`python -m chaos recover --out DIR` on a run whose target outlives it (a standalone lab used as
a LocalStack endpoint, over HTTP on loopback): it removes the Chaos API rules the run injected and
did not revert (and only those), resumes the replication it paused, puts back the DNS record a
runbook changed by hand, reports it all, and does nothing the second time.

The embedded-lab case (processes and directories) is in test_crash_safety.py."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from chaos.journal import (FAULT_INJECTED, FAULT_REVERTED, NOTE, Event, RunRecord, WorkloadTarget,
                           save_run)
from chaos.engine.aftermath import pending_faults
from tests.lab._lab_fixtures import client, deployed_lab

REPO = Path(__file__).resolve().parents[2]
T0 = time.time()


def recover(run_dir: Path, ready_file: Path | None = None) -> subprocess.CompletedProcess:
    """`chaos recover` as a user would run it; `ready_file`: the standalone lab's (its token and keys)."""
    import os
    env = dict(os.environ, **({"SECURECART_LAB_READY_FILE": str(ready_file)} if ready_file else {}))
    return subprocess.run([sys.executable, "-m", "chaos", "recover", "--out", str(run_dir)], cwd=REPO,
                          capture_output=True, text=True, timeout=120, env=env)


def event(offset: float, kind: str, workload: str | None = None, scenario: str = "region-outage",
          **data) -> Event:
    return Event(t=T0 + offset, kind=kind, scenario=scenario, workload=workload, data=data)


def test_pending_faults_are_the_injections_without_a_matching_revert():
    events = [event(1, FAULT_INJECTED, fault="region-outage", detail={"rules": [{"region": "a"}]}),
              event(2, FAULT_REVERTED, fault="region-outage"),
              event(3, FAULT_INJECTED, fault="region-outage", detail={"rules": [{"region": "b"}]}),
              event(4, FAULT_INJECTED, "catalog", fault="replication-pause",
                    detail={"replication_paused": "catalog"})]
    pending = pending_faults(events)
    assert [(p.fault, p.detail) for p in pending] == [
        ("region-outage", {"rules": [{"region": "b"}]}),
        ("replication-pause", {"replication_paused": "catalog"})]
    assert len({p.key for p in pending}) == 2


@pytest.fixture(scope="module")
def lab():
    with deployed_lab() as (server, labclient, summary):
        yield server, labclient, summary


def test_recover_reverts_what_the_run_left_on_an_endpoint_that_outlives_it(tmp_path, lab):
    server, labclient, summary = lab
    inventory = summary["inventory"]
    expires = round(time.time() + 600, 3)
    left = {"region": "us-east-1", "expires_at": expires}
    reverted = {"region": "us-west-2", "service": "s3", "expires_at": expires}  # not the run's to touch
    labclient.add_faults([left, reverted])
    labclient.set_replication(workload="catalog", paused=True)

    route53 = client(server.endpoint, "route53")
    zone = inventory["hosted_zone"]["id"]
    name = inventory["application"]["record_name"]
    [original] = [r for r in route53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
                  if r.get("SetIdentifier") == "application-primary"]
    changed = {**original, "ResourceRecords": [{"Value": "shop.us-west-2.example.com"}]}
    route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [
        {"Action": "UPSERT", "ResourceRecordSet": changed}]})

    run = RunRecord(run_id="r-recover", stack="labtest", target="localstack", endpoint=server.endpoint,
                    started_at=T0, ended_at=T0 + 9, scenarios=["region-outage"],
                    workloads={"catalog": WorkloadTarget("dynamodb", "active-active", 60, 1)},
                    status="interrupted", stop_reason="interrupted by SIGTERM", exit_code=143)
    save_run(tmp_path, run, [
        event(1, FAULT_INJECTED, "catalog", fault="replication-pause", preparatory=True,
              detail={"replication_paused": "catalog"}),
        event(2, FAULT_INJECTED, fault="region-outage", detail={"rules": [left]}),
        event(2.5, FAULT_INJECTED, "catalog", scenario="other", fault="region-outage",
              detail={"rules": [reverted]}),
        event(2.6, FAULT_REVERTED, "catalog", scenario="other", fault="region-outage"),
        event(3, NOTE, "catalog", text=f"changing Route 53 record {name} by hand",
              undo={"route53_upsert": {"zone_id": zone, "record_set": original}}),
    ])

    from chaos.lab.auth import write_ready_file
    ready = tmp_path.parent / f"{tmp_path.name}-ready.json"  # as `python -m chaos lab --ready-file` writes it
    write_ready_file(ready, server.endpoint, server.lab.credentials)
    first = recover(tmp_path, ready)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "recover: run r-recover (stack labtest on localstack, interrupted: interrupted by SIGTERM)" in first.stdout
    assert "replication of catalog resumed" in first.stdout
    assert f"1 Chaos API rule(s) removed at {server.endpoint}" in first.stdout
    assert "failed back to the record as it was before the run changed it" in first.stdout
    # the run had reverted that one itself (this one is someone else's now): left alone
    assert [(f["region"], f["service"]) for f in labclient.faults()] == [("us-west-2", "s3")]
    assert not any(link["paused"] for link in labclient.replication() if link["workload"] == "catalog")
    [now] = [r for r in route53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
             if r.get("SetIdentifier") == "application-primary"]
    assert now["ResourceRecords"] == original["ResourceRecords"]

    second = recover(tmp_path, ready)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "recover: nothing left to do" in second.stdout and "done:" not in second.stdout
    labclient.remove_faults([reverted])


def test_recover_says_what_it_could_not_put_back_and_exits_2(tmp_path):
    with socket_nobody_listens_on() as endpoint:
        run = RunRecord(run_id="r-down", stack="labtest", target="localstack", endpoint=endpoint,
                        started_at=T0, ended_at=None, scenarios=["region-outage"],
                        workloads={"catalog": WorkloadTarget("dynamodb", "active-active", 60, 1)},
                        status="aborted", stop_reason="endpoint gone", exit_code=2)
        save_run(tmp_path, run, [event(2, FAULT_INJECTED, fault="region-outage",
                                       detail={"rules": [{"region": "us-east-1", "expires_at": T0 + 900}]})])
        done = recover(tmp_path)
    assert done.returncode == 2
    assert "FAILED: region-outage of region-outage: not reverted" in done.stderr
    assert "unreachable" in done.stderr and "Traceback" not in done.stderr


class socket_nobody_listens_on:
    def __enter__(self) -> str:
        import socket
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return f"http://127.0.0.1:{probe.getsockname()[1]}"

    def __exit__(self, *exc: object) -> None:
        pass


# The FIS side runs against a moto server, with the fixtures of test_faults.py (templates as the
# stack declares them, credentials through the ordinary chain).
from tests.chaos.test_faults import (aws_credentials, aws_endpoint, experiment_pace,  # noqa: E402,F401
                                     staging)


def test_recover_stops_the_fis_experiment_a_killed_run_left_running(tmp_path, aws_endpoint, staging,
                                                                   experiment_pace):
    from chaos.faults.outages import InstanceFailure
    from chaos.targets.aws import AwsTarget
    inventory, ids, fis = staging
    experiment_pace(3)  # it stays running: nobody reverted it before the harness died
    target = AwsTarget(inventory, endpoint_url=aws_endpoint)
    fault = InstanceFailure(target, "run-killed", "orders-primary", workload="orders")
    detail = fault.inject()
    try:
        _recover_the_killed_run(tmp_path, aws_endpoint, ids, fis, detail)
    finally:
        fault.revert()  # this process's hold on the fault's key (a killed harness has none left)


def _recover_the_killed_run(tmp_path, aws_endpoint, ids, fis, detail) -> None:
    from chaos.engine.aftermath import recover as recover_run
    assert detail["region"] == "us-east-1"
    run = RunRecord(run_id="run-killed", stack="staging", target="aws", endpoint=aws_endpoint,
                    started_at=T0, ended_at=None, scenarios=["instance-failure"],
                    workloads={"orders": WorkloadTarget("rds", "pilot-light", 1800, 60)},
                    status="running", host={})
    save_run(tmp_path, run, [event(2, FAULT_INJECTED, "orders", scenario="instance-failure",
                                   fault="instance-failure", detail=detail)])

    report = recover_run(tmp_path)
    assert report.failed == []
    assert report.done == [f"instance-failure of instance-failure / orders: FIS experiment "
                           f"{detail['experiment_id']} stopped (was running)"]
    [experiment] = fis.list_experiments(experimentTemplateId=ids["orders-rds-reboot-failover"])["experiments"]
    assert experiment["state"]["status"] in ("stopping", "stopped")
    assert recover_run(tmp_path).done == []  # the second time: nothing
