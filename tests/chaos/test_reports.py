"""Reports render from measured results: JSON fields, JUnit XML, Markdown rows, PNG, console."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from rich.console import Console

from chaos.errors import ChaosError
from chaos.journal import SKIPPED, NotEmulated, ReplicationLag, RunRecord
from chaos.measurement import measure
from chaos.reports import FORMATS, parse_formats, print_results, write_reports
from chaos.reports.markdown import render_markdown
from tests.chaos.test_measurement import TARGETS, ev, outage_events

HEADLINE_FIELDS = (
    "scenario", "workload", "strategy", "kind", "rto_seconds", "rpo_seconds", "lost_writes",
    "acknowledged_writes", "rto_target_seconds", "rpo_target_seconds", "passed",
)


def run_record() -> RunRecord:
    return RunRecord(
        run_id="r1", stack="prod", target="lab", endpoint="http://127.0.0.1:1234",
        started_at=1_764_000_000.0, ended_at=1_764_000_030.0, scenarios=["region-outage", "az-outage"],
        workloads=dict(TARGETS), time_factor=0.1, canary_rate=100.0,
        replication=[ReplicationLag("catalog", "dynamodb", "us-east-1", "us-west-2", 0.5)],
        declared_not_emulated=[NotEmulated("logs", "efs replication configuration", "moto has no EFS replication")],
    )


@pytest.fixture()
def events():
    """catalog passes (lag 0.5 s), orders misses its RPO 0 target, one pair is not applicable."""
    return (
        outage_events(workload="catalog", lag=0.5)
        + [e for e in outage_events(workload="orders", lag=0.3) if e.workload is not None]
        + [ev(0.0, SKIPPED, "catalog", scenario="az-outage", reason="DynamoDB is regional: no AZ to fail")]
    )


@pytest.fixture()
def results(events):
    return measure(events, TARGETS)


def test_json_report_has_the_contract_fields(tmp_path, events, results):
    write_reports(tmp_path, run_record(), events, results, formats=("json",))
    report = json.loads((tmp_path / "report.json").read_text())
    assert set(report) >= {"run", "results", "skipped", "summary"}
    assert report["run"]["stack"] == "prod" and report["run"]["time_factor"] == 0.1
    assert [(r["scenario"], r["workload"]) for r in report["results"]] == [
        ("region-outage", "catalog"), ("region-outage", "orders")
    ]
    for entry in report["results"]:
        for name in HEADLINE_FIELDS:
            assert name in entry, name
        assert isinstance(entry["rto_seconds"], float) and isinstance(entry["rpo_seconds"], float)
        assert set(entry["phases"]) == {"detection_seconds", "decision_seconds", "failover_seconds", "first_success_seconds"}
    catalog, orders = report["results"]
    assert catalog["passed"] is True and orders["passed"] is False
    assert orders["lost_writes"] == 30 and orders["reasons"]
    assert report["skipped"] == [{"scenario": "az-outage", "workload": "catalog", "strategy": "warm-standby",
                                  "kind": "dynamodb", "reason": "DynamoDB is regional: no AZ to fail"}]
    assert report["summary"] == {"passed": 1, "failed": 1, "skipped": 1, "exit_code": 1, "verdict": "FAIL",
                                 "stopped": None, "stop_reason": None, "unfinished": 0}


def test_junit_parses_with_failures_and_skips(tmp_path, events, results):
    write_reports(tmp_path, run_record(), events, results, formats=("junit",))
    root = ET.parse(tmp_path / "junit.xml").getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("3", "1", "1")
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert set(suites) == {"region-outage", "az-outage"}
    cases = {c.get("name"): c for c in suites["region-outage"].findall("testcase")}
    assert cases["catalog"].find("failure") is None
    assert float(cases["catalog"].get("time")) == pytest.approx(3.5, abs=1e-3)
    failure = cases["orders"].find("failure")
    assert "RPO 0.300 s exceeds the target 0 s (30 of 1001" in failure.get("message")
    skipped = suites["az-outage"].find("testcase/skipped")
    assert skipped.get("message") == "DynamoDB is regional: no AZ to fail"


def test_markdown_has_a_row_per_result_and_the_run_context(results):
    text = render_markdown(run_record(), results)
    assert text.startswith("## SecureCart DR game day: ❌ FAIL")
    table = text.split("### Measured vs envelope vs target")[1].split("###")[0]
    rows = [line for line in table.splitlines() if line.startswith("| region-outage")]
    assert len(rows) == 2
    # No time_scale event: factor 1, lab = AWS-equivalent; no envelope in the inventory: —.
    assert ("| catalog | warm-standby | 1 | 3.500 s | 3.500 s | — | 5 s | 0.500 s | 0.500 s | — | 1 s "
            "| 50 / 1001 | **PASS** |") in rows[0]
    assert "**FAIL**" in rows[1]
    assert "`region-outage` / `orders`: RPO 0.300 s exceeds the target 0 s" in text
    assert "`az-outage` / `catalog`: DynamoDB is regional" in text
    assert "| catalog | dynamodb | us-east-1 → us-west-2 | 0.500 s | no |" in text
    assert "- efs replication configuration (logs): moto has no EFS replication" in text
    assert "time factor 0.1 (lab seconds per AWS second)" in text
    phases = text.split("### RTO phases")[1].split("###")[0]
    assert "| region-outage | catalog | 1.000 s | 0.500 s | 1.500 s | 0.500 s | 3.500 s |" in phases


def test_markdown_shows_lab_aws_equivalent_and_envelope_with_findings():
    """A wave at factor 0.01 whose envelope is tighter than what was measured: both clocks are
    shown, the verdict judges AWS-equivalent seconds, and the envelope breach is a finding (beyond
    what the measurement explains: 125 s resolution + 2 lab s of the lab's own work = 325 s)."""
    from dataclasses import replace

    from chaos.journal import TIME_SCALE
    from tests.chaos.test_measurement import ev

    events = outage_events(workload="catalog", lag=0.5) + [
        ev(0.0, TIME_SCALE, "catalog", time_factor=0.01, profile="aws", wave=0)]
    # RTO 350 s + its resolution (1.25 s probe step / 0.01 = 125 s) meets 500 s: a decisive PASS
    targets = {"catalog": replace(TARGETS["catalog"], rto_seconds=500.0, rpo_seconds=60.0, envelopes={
        "region-outage": {"rto_seconds": 20.0, "rpo_seconds": 900.0}})}
    [result] = measure(events, targets)
    text = render_markdown(run_record(), [result])
    row = [line for line in text.splitlines() if line.startswith("| region-outage | catalog")][0]
    assert ("| 0.01 | 3.500 s | 350.0 s | 20.0 s | 500 s | 0.500 s | 50.0 s | 900.0 s | 60 s "
            "| 50 / 1001 | **PASS** |") in row
    assert "### Findings" in text and "RTO 350.000 s (AWS-equivalent) is outside its envelope 20 s by more than" in text
    phases = text.split("### RTO phases")[1].split("###")[0]
    assert "| 100.0 s (1.000 s lab) |" in phases


def test_png_timeline_per_measured_scenario(tmp_path, events, results):
    written = write_reports(tmp_path, run_record(), events, results, formats=("png",))
    # az-outage only has a skipped pair: nothing to plot
    assert written == [tmp_path / "timeline-region-outage.png"]
    assert written[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert written[0].stat().st_size > 20_000


def test_all_formats_by_default(tmp_path, events, results):
    names = {p.name for p in write_reports(tmp_path / "out", run_record(), events, results)}
    assert names == {"report.json", "report.md", "junit.xml", "timeline-region-outage.png"}


def test_console_table_and_quiet_line(results):
    console = Console(record=True, width=200, color_system=None)
    summary = print_results(results, console=console)
    text = console.export_text()
    assert "measured vs target" in text
    assert "PASS" in text and "FAIL" in text and "SKIP" in text
    assert "✗ region-outage / orders: RPO 0.300 s exceeds the target 0 s" in text
    assert text.rstrip().endswith("chaos: FAIL, 1 passed, 1 failed, 1 skipped (exit 1)")
    assert summary.exit_code == 1

    quiet = Console(record=True, width=200, color_system=None)
    print_results(results, console=quiet, quiet=True)
    assert quiet.export_text().strip() == "chaos: FAIL, 1 passed, 1 failed, 1 skipped (exit 1)"


def test_parse_formats():
    assert parse_formats("json, md") == ("json", "md")
    assert parse_formats(",".join(FORMATS)) == FORMATS
    with pytest.raises(ChaosError, match="--format: unknown format pdf; choose among json,md,junit,png"):
        parse_formats("json,pdf")
    with pytest.raises(ChaosError, match=r"--format: unknown format \(empty\)"):
        parse_formats(" , ")
