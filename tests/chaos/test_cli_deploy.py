"""`python -m chaos deploy` and the localstack target against a real AWS-compatible endpoint.

A plain moto server on 127.0.0.1 stands in for the endpoint (no lab API, no Chaos API, no
TestDNSAnswer: moto has no route for it, as LocalStack community answers 501). Everything runs
through the real CLI in subprocesses. The real LocalStack run is tests/chaos/test_localstack_gameday.py.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

REPO = Path(__file__).resolve().parents[2]


def chaos(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    # One second is enough to see that moto executes no CRR; the default (10 s) is for real endpoints.
    env = {**os.environ, "SECURECART_REPLICATION_CHECK_SECONDS": "1"}
    return subprocess.run([sys.executable, "-m", "chaos", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout, env=env)


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture(scope="module")
def moto_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def test_unreachable_endpoint(tmp_path):
    result = chaos("deploy", "--stack", "localstack", "--endpoint", "http://127.0.0.1:9",
                   "--inventory-out", str(tmp_path / "inventory.json"))
    assert_one_line_error(result, "--endpoint", "nothing answers")


def test_unknown_stack(tmp_path, moto_endpoint):
    result = chaos("deploy", "--stack", "nosuchstack", "--endpoint", moto_endpoint,
                   "--inventory-out", str(tmp_path / "inventory.json"))
    assert_one_line_error(result, "--stack", "nosuchstack")


def test_stack_not_opted_in(tmp_path, moto_endpoint):
    result = chaos("deploy", "--stack", "prod", "--endpoint", moto_endpoint,
                   "--inventory-out", str(tmp_path / "inventory.json"))
    assert_one_line_error(result, "chaos_enabled: false")
    assert not (tmp_path / "inventory.json").exists()


def test_deploy_then_game_day_on_the_endpoint(tmp_path, moto_endpoint):
    """Deploy creates the resources at the endpoint with its ids; the game day then measures the
    S3 workloads there, resolving DNS through the record sets, and reports what it found."""
    inventory_file = tmp_path / "inventory.json"
    deployed = chaos("deploy", "--stack", "localstack", "--endpoint", moto_endpoint,
                     "--inventory-out", str(inventory_file))
    assert deployed.returncode == 0, deployed.stderr
    inventory = json.loads(inventory_file.read_text())

    route53 = boto3.client("route53", endpoint_url=moto_endpoint, region_name="us-east-1",
                           aws_access_key_id="test", aws_secret_access_key="test")
    zones = {z["Id"].split("/")[-1]: z["Name"] for z in route53.list_hosted_zones()["HostedZones"]}
    assert zones.get(inventory["hosted_zone"]["id"]) == inventory["hosted_zone"]["name"] + "."
    checks = {c["Id"] for c in route53.list_health_checks()["HealthChecks"]}
    app = inventory["application"]
    assert {c["id"] for c in app["health_checks"]} <= checks
    assert {r["health_check_id"] for r in app["records"]} <= checks
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1",
                      aws_access_key_id="test", aws_secret_access_key="test")
    bucket = inventory["workloads"]["product-images"]["stores"]["bucket"]["name"]
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    block = inventory["deployed"]
    assert block["endpoint"] == moto_endpoint and block["account"].isdigit()
    # What `chaos deploy` never creates is said so, not passed over.
    assert any(item["resource"].startswith("rds-automated-backups-replication:")
               for item in block["declared_not_created"])
    assert "declared, not created: rds-automated-backups-replication:" in deployed.stdout

    out = tmp_path / "out"
    result = chaos("gameday", "--stack", "localstack", "--target", "localstack", "--endpoint",
                   moto_endpoint, "--inventory", str(inventory_file), "--out", str(out), "--quiet",
                   "--scenario", "accidental-deletion", "--workload", "product-images",
                   "--workload", "logs")
    assert result.returncode == 0, result.stderr + result.stdout
    report = json.loads((out / "report.json").read_text())
    measured = {(r["scenario"], r["workload"]) for r in report["results"] if not r["skipped"]}
    assert measured == {("accidental-deletion", "product-images"), ("accidental-deletion", "logs")}
    markdown = (out / "report.md").read_text()
    assert "### Declared, not created" in markdown and "rds-automated-backups-replication:" in markdown
    assert "TestDNSAnswer is not implemented by this endpoint" in markdown
    assert "did not reach the replica" in markdown  # moto, like LocalStack, executes no CRR
    journal = (out / "journal.jsonl").read_text()
    assert "read-your-write ok on s3:us-east-1/" + bucket in journal
