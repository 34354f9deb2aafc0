"""The prod game day on the lab, end to end through the real CLI (a subprocess starting a real lab
process): it passes where the design meets its targets, and fails with a clear report (exit 1)
when a target is tightened below what the lab's replication lag allows."""
from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
REQUIRED_FIELDS = {"scenario", "workload", "strategy", "rto_seconds", "rpo_seconds", "lost_writes",
                   "acknowledged_writes", "rto_target_seconds", "rpo_target_seconds", "passed"}


def gameday(out: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "chaos", "gameday", "--stack", "prod", "--quiet",
                           "--out", str(out), *args], cwd=REPO, capture_output=True, text=True,
                          timeout=600)


REPLICATION_SCENARIOS = {"region-outage", "az-outage", "instance-failure", "replication-pause",
                         "accidental-deletion"}
BACKUP_SCENARIOS = {"restore-drill", "ransomware", "backup-job-failure"}
ALL_WORKLOADS = {"app-logs", "catalog", "compute", "logs", "orders", "product-images", "sessions"}


def test_prod_game_day_measures_every_pair_its_strategies_cover(tmp_path):
    result = gameday(tmp_path)
    assert result.returncode in (0, 1), result.stdout + result.stderr  # never a tool failure
    report = json.loads((tmp_path / "report.json").read_text())
    results = {(r["scenario"], r["workload"]): r for r in report["results"]}
    for entry in report["results"]:
        assert REQUIRED_FIELDS <= set(entry), entry
        assert entry["acknowledged_writes"] > 0 and entry["recovered"], entry
    # Replication, Multi-AZ and point-in-time protection meet their targets in the lab.
    assert all(r["passed"] for (s, _), r in results.items() if s in REPLICATION_SCENARIOS), \
        [r for (s, _), r in results.items() if s in REPLICATION_SCENARIOS and not r["passed"]]
    assert {s for s, _ in results} == REPLICATION_SCENARIOS | BACKUP_SCENARIOS
    # Every workload survives a region outage: live replica (EFS replication included), AWS Backup
    # copy (logs) or DLM copy (compute).
    assert {w for s, w in results if s == "region-outage"} == ALL_WORKLOADS
    assert "app-logs" in {w for s, w in results if s == "replication-pause"}
    for scenario in ("accidental-deletion", *BACKUP_SCENARIOS):
        assert {w for s, w in results if s == scenario} == ALL_WORKLOADS, scenario
    assert {w for s, w in results if s == "az-outage"} == {"orders", "compute"}
    # Multi-AZ PostgreSQL: the synchronous standby keeps every commit.
    assert results[("az-outage", "orders")]["lost_writes"] == 0
    assert results[("instance-failure", "orders")]["lost_writes"] == 0
    # Skips only where AWS has no such failure or the strategy gives no protection by design.
    skipped = {(s["scenario"], s["workload"]): s["reason"] for s in report["skipped"]}
    assert "regional service" in skipped[("az-outage", "catalog")]
    assert "volume intact" in skipped[("instance-failure", "compute")]
    assert "no replication to pause" in skipped[("replication-pause", "logs")]
    assert len(skipped) == 13, skipped
    journal = (tmp_path / "journal.jsonl").read_text()
    assert "InvalidRequestException" in journal        # the vault lock refused the ransomware
    for name in ("run.json", "journal.jsonl", "report.md", "junit.xml",
                 "timeline-region-outage.png"):
        assert (tmp_path / name).stat().st_size > 0, name
    # RDS: the writer's private record moves only after the replica is promoted (issue 8).
    orders = [line for line in (tmp_path / "journal.jsonl").read_text().splitlines()
              if '"orders"' in line and '"region-outage"' in line]
    promoted = next(i for i, line in enumerate(orders) if "promoted read replica" in line)
    repointed = next(i for i, line in enumerate(orders) if "now answers the promoted writer" in line)
    assert promoted < repointed, "the private record was repointed before the promotion"


def test_a_target_tighter_than_the_lab_lag_fails_with_a_clear_report(tmp_path):
    result = gameday(tmp_path, "--scenario", "region-outage", "--workload", "catalog",
                     "--replication-lag", "0.5", "--rpo-target", "catalog=0.1")
    assert result.returncode == 1, result.stdout + result.stderr
    [catalog] = json.loads((tmp_path / "report.json").read_text())["results"]
    assert catalog["passed"] is False and catalog["rpo_target_seconds"] == 0.1
    assert catalog["rpo_seconds"] > 0.1 and catalog["recovered"]
    assert any("RPO" in reason for reason in catalog["reasons"]), catalog["reasons"]
    assert "FAIL" in (tmp_path / "report.md").read_text()
    failures = ET.parse(tmp_path / "junit.xml").getroot().iter("failure")
    assert any("RPO" in (f.get("message", "") + (f.text or "")) for f in failures)


def test_localstack_target_drives_a_standalone_lab(tmp_path):
    """`python -m chaos lab` in one place, `--target localstack --endpoint` in another: the lab
    speaks the LocalStack Chaos API, so the LocalStack target runs the same game day."""
    from chaos.lab.process import LabClient, LabProcess
    from infra.offline import evaluate_stack

    inventory = evaluate_stack("prod").inventory
    inventory["workloads"] = {"catalog": inventory["workloads"]["catalog"]}
    with LabProcess(time_factor=0.1) as lab:
        deployed = LabClient(lab.endpoint).deploy(inventory, replication_lag_seconds=0.5,
                                                  time_factor=0.1)["inventory"]
        inventory_file = tmp_path / "inventory.json"
        inventory_file.write_text(json.dumps(deployed))
        out = tmp_path / "out"
        result = gameday(out, "--target", "localstack", "--endpoint", lab.endpoint,
                         "--inventory", str(inventory_file), "--scenario", "region-outage")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["run"]["target"] == "localstack"
    [catalog] = report["results"]
    assert catalog["workload"] == "catalog" and catalog["passed"] and catalog["lost_writes"] > 0
