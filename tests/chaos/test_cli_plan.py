"""`python -m chaos plan`: the AWS envelope per workload and scenario, through a real subprocess."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def plan(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "chaos", "plan", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


def one_line_error(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_prod_plan_json_gives_envelope_terms_targets_and_margins(tmp_path):
    result = plan("--stack", "prod", "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    images = document["workloads"]["product-images"]
    assert images["strategy"] == "warm-standby"
    region = images["envelope"]["scenarios"]["region-outage"]
    assert region["rpo_seconds"] == 900 and region["target"]["rpo_seconds"] == 900
    assert region["rpo_margin_seconds"] == 0
    assert [t["figure"] for t in region["rpo_terms"]] == ["s3.rtc_replication"]
    orders = document["workloads"]["orders"]["envelope"]["scenarios"]
    assert set(orders) == {"region-outage", "az-outage", "instance-failure", "replication-pause", "accidental-deletion",
                           "restore-drill", "ransomware", "backup-job-failure"}
    # A ransomware restore is judged as a restore, not against the replica promotion's 1200 s.
    assert orders["ransomware"]["target"] == {"rto_seconds": 5400, "rpo_seconds": 60}
    assert orders["backup-job-failure"]["target"] == {"rto_seconds": 10800, "rpo_seconds": 0}
    assert sum(t["seconds"] for t in orders["region-outage"]["rto_terms"]) == orders["region-outage"]["rto_seconds"]
    assert any(t["estimate"] for t in orders["region-outage"]["rto_terms"])  # promotion: AWS gives no number
    assert "az-outage" in document["workloads"]["catalog"]["envelope"]["not_covered"]

    # The same envelope read back from an inventory; a target below it (an older program's) exits 1.
    orders_region = orders["region-outage"]
    orders_region["target"]["rpo_seconds"] = 15
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps({"stack": "prod", "workloads": document["workloads"]}))
    text = plan("--stack", "prod", "--inventory", str(inventory), "--workload", "orders")
    assert text.returncode == 1, text.stderr
    assert "orders (rds, pilot-light)" in text.stdout and "-285 s" in text.stdout


def test_bad_stack_and_workload_are_one_line_errors():
    assert "available stacks" in one_line_error(plan("--stack", "nope"))
    assert "--workload: no workload 'nope'" in one_line_error(plan("--stack", "staging", "--workload", "nope"))
