"""The journal: concurrent appends, JSON Lines round trip, run records, and corrupt input."""
from __future__ import annotations

import json
import threading

import pytest

from chaos.errors import ChaosError
from chaos.journal import (
    AUDIT,
    JOURNAL_FILE,
    RUN_FILE,
    WRITE_ACKED,
    Event,
    Journal,
    NotEmulated,
    ReplicationLag,
    RunRecord,
    WorkloadTarget,
    inventory_digest,
    load_run,
    read_jsonl,
    save_run,
    targets_from_inventory,
)


def sample_run() -> RunRecord:
    return RunRecord(
        run_id="run-1",
        stack="prod",
        target="lab",
        endpoint="http://127.0.0.1:4566",
        started_at=1_764_000_000.0,
        ended_at=1_764_000_090.5,
        scenarios=["region-outage"],
        workloads={"catalog": WorkloadTarget("dynamodb", "warm-standby", 300.0, 1.0)},
        time_factor=0.1,
        canary_rate=200.0,
        replication_lag_override=0.5,
        replication=[ReplicationLag("catalog", "dynamodb", "us-east-1", "us-west-2", 0.5)],
        declared_not_emulated=[NotEmulated(None, "aws_backup_selection.tier-1", "moto has no AWS Backup jobs")],
        deploy_summary={"created": [{"workload": "catalog", "resource": "table"}]},
        inventory_digest="sha256:abc",
    )


def test_concurrent_appends_keep_every_event():
    journal = Journal()

    def canary(workload: str) -> None:
        for seq in range(5000):
            journal.record(WRITE_ACKED, "s", workload, seq=seq, latency=0.001)

    threads = [threading.Thread(target=canary, args=(f"w{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    events = journal.events()
    assert len(events) == len(journal) == 40_000
    for i in range(8):
        assert sorted(e.data["seq"] for e in events if e.workload == f"w{i}") == list(range(5000))


def test_record_stamps_time_and_rejects_unknown_kinds():
    journal = Journal()
    event = journal.record(AUDIT, "s", "catalog", present=[1, 2], store="t")
    assert event.t > 1_700_000_000 and event.data == {"present": [1, 2], "store": "t"}
    assert journal.record(WRITE_ACKED, "s", t=12.5, seq=1, latency=0.1).t == 12.5
    with pytest.raises(ValueError, match="unknown event kind 'write_ack'"):
        journal.record("write_ack", "s")


def test_jsonl_round_trip(tmp_path):
    journal = Journal()
    journal.record(WRITE_ACKED, "region-outage", "catalog", t=1_764_000_000.123456, seq=7, latency=0.0031)
    journal.record(AUDIT, "region-outage", None, t=1_764_000_001.5, present=[1, 2, 3], store="catalog")
    path = tmp_path / JOURNAL_FILE
    journal.write_jsonl(path)
    assert read_jsonl(path) == journal.events()
    assert Journal.read_jsonl(path).events() == journal.events()
    assert len(path.read_text().splitlines()) == 2


@pytest.mark.parametrize(
    "line, why",
    [
        ("not json", "Expecting value"),
        ('{"t": 1, "kind": "nope", "scenario": "s"}', "unknown event kind"),
        ('{"kind": "note", "scenario": "s"}', "'t'"),
        ('{"t": "NaN", "kind": "note", "scenario": "s"}', "not a finite time"),
        ('{"t": 1, "kind": "note", "scenario": "s", "data": [1]}', "data is not an object"),
    ],
)
def test_corrupt_journal_line_names_file_and_line(tmp_path, line, why):
    path = tmp_path / JOURNAL_FILE
    good = json.dumps(Event(1.0, "note", "s", None, {"text": "ok"}).to_dict())
    path.write_text(good + "\n" + line + "\n")
    with pytest.raises(ChaosError, match=f"journal.jsonl:2: not a journal event .*{why}") as err:
        read_jsonl(path)
    assert "\n" not in str(err.value)


def test_run_record_round_trip(tmp_path):
    run = sample_run()
    events = [Event(1.0, "note", "s", None, {"text": "hello"})]
    save_run(tmp_path / "run", run, events)
    assert (tmp_path / "run" / RUN_FILE).is_file()
    loaded_run, loaded_events = load_run(tmp_path / "run")
    assert loaded_run == run
    assert loaded_events == events


def test_load_run_errors_are_one_line(tmp_path):
    with pytest.raises(ChaosError, match="is not a directory"):
        load_run(tmp_path / "absent")
    with pytest.raises(ChaosError, match="run.json is missing"):
        load_run(tmp_path)
    (tmp_path / RUN_FILE).write_text('{"run_id": "x"}')
    with pytest.raises(ChaosError, match="run.json: not a run record"):
        load_run(tmp_path)
    save_run(tmp_path, sample_run(), [])
    (tmp_path / JOURNAL_FILE).unlink()
    with pytest.raises(ChaosError, match="journal.jsonl: no journal here"):
        load_run(tmp_path)


def test_targets_from_inventory():
    inventory = {
        "workloads": {
            "catalog": {"kind": "dynamodb", "strategy": "active-active", "targets": {"rto_seconds": 60, "rpo_seconds": 1}},
        }
    }
    assert targets_from_inventory(inventory) == {"catalog": WorkloadTarget("dynamodb", "active-active", 60.0, 1.0)}
    del inventory["workloads"]["catalog"]["targets"]
    with pytest.raises(ChaosError, match="inventory.workloads.catalog: missing or invalid"):
        targets_from_inventory(inventory)


def test_inventory_digest_ignores_key_order():
    assert inventory_digest({"a": 1, "b": [1, 2]}) == inventory_digest({"b": [1, 2], "a": 1})
    assert inventory_digest({"a": 1}) != inventory_digest({"a": 2})


def test_not_emulated_and_replication_from_lab_shapes():
    summary = {"declared_not_emulated": [{"workload": "logs", "resource": "efs replication", "reason": "no API"}]}
    assert RunRecord.not_emulated_from_summary(summary) == [NotEmulated("logs", "efs replication", "no API")]
    link = {"workload": "images", "kind": "s3", "source_region": "us-east-1", "target_region": "us-west-2",
            "lag_seconds": 2, "paused": False, "backlog": 0}
    assert ReplicationLag.from_link(link) == ReplicationLag("images", "s3", "us-east-1", "us-west-2", 2.0, False)


def test_an_on_disk_journal_keeps_every_event_of_a_sigkilled_process(tmp_path):
    """Four threads journal as fast as they can; the process SIGKILLs itself mid-stream. Every
    event it recorded is on disk, each a whole line (nothing waits in a user-space buffer)."""
    import subprocess
    import sys
    path = tmp_path / JOURNAL_FILE
    script = f"""
import os, signal, threading
from chaos.journal import Journal, WRITE_ACKED
journal = Journal.on_disk({str(path)!r})
def canary(n):
    for seq in range(100_000):
        journal.record(WRITE_ACKED, "region-outage", f"w{{n}}", seq=seq, latency=0.001)
threads = [threading.Thread(target=canary, args=(n,), daemon=True) for n in range(4)]
for t in threads: t.start()
while len(journal) < 5000: pass
recorded = len(journal)
print(recorded, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""
    from chaos.lab.process import REPO_ROOT
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == -9, done.stderr
    recorded_before_kill = int(done.stdout.split()[0])
    events = read_jsonl(path)  # every line parses: no half line
    assert len(events) >= recorded_before_kill >= 5000
    for n in range(4):  # per thread, in order and without a gap
        seqs = [e.data["seq"] for e in events if e.workload == f"w{n}"]
        assert seqs == list(range(len(seqs)))


def test_run_record_is_written_atomically_with_its_end_state(tmp_path):
    from chaos.journal import write_run_record
    run = sample_run()
    run.status, run.ended_at, run.host = "running", None, {"harness": {"pid": 1, "start_ticks": 2}}
    write_run_record(tmp_path, run)
    (tmp_path / JOURNAL_FILE).write_text("")
    loaded, _ = load_run(tmp_path)
    assert (loaded.status, loaded.ended_at, loaded.host) == ("running", None, run.host)
    assert sorted(p.name for p in tmp_path.iterdir()) == [JOURNAL_FILE, RUN_FILE]  # no temporary left


def test_journal_and_run_record_size_bounds_are_one_line(tmp_path, monkeypatch):
    import chaos.journal as journal_module
    from chaos.journal import RUN_FILE, load_run

    path = tmp_path / JOURNAL_FILE
    path.write_text(json.dumps(Event(1.0, "note", "s", None, {"text": "x" * 200}).to_dict()) + "\n")
    monkeypatch.setattr(journal_module, "MAX_JOURNAL_BYTES", 100)
    with pytest.raises(ChaosError, match="more than the 100 a journal may have"):
        read_jsonl(path)
    monkeypatch.setattr(journal_module, "MAX_JOURNAL_BYTES", 10**9)
    monkeypatch.setattr(journal_module, "MAX_LINE_BYTES", 100)
    with pytest.raises(ChaosError, match=r"journal.jsonl:1: longer than 100 characters"):
        read_jsonl(path)
    (tmp_path / RUN_FILE).write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ChaosError, match="nested too deeply"):
        load_run(tmp_path)


@pytest.mark.parametrize("data, why", [
    ({"seq": "x", "latency": 0.1}, "write_acked.data.seq"),
    ({"seq": 3, "latency": float("inf")}, "write_acked.data.latency"),
    ({"seq": 3}, "write_acked.data.latency"),
])
def test_event_fields_are_checked_by_kind_on_read(data, why):
    raw = {"t": 1.0, "kind": "write_acked", "scenario": "s", "workload": "w", "data": data}
    with pytest.raises(ValueError, match=why):
        Event.from_dict(raw)
    assert Event.from_dict({**raw, "data": {"seq": 3, "latency": 0.1, "store": "x"}}).data["seq"] == 3
