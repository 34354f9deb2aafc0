"""`.ci/localstack-gameday` against a real LocalStack community instance (marker `localstack`).

Slow (~2.5 min: LocalStack's start, its DynamoDB refusing after ~1 min, the game day), so it runs
only where LocalStack is already installed (the venv the script would use: $LOCALSTACK_VENV or
.localstack-venv) or when SECURECART_LOCALSTACK=1 asks for it (the script then installs it).
Otherwise it is skipped with the reason; a clean CI checkout runs it in the localstack workflow.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VENV = Path(os.environ.get("LOCALSTACK_VENV") or REPO / ".localstack-venv")


def _localstack_installed() -> bool:
    python = VENV / "bin" / "python"
    if not python.exists():
        return False
    check = subprocess.run([str(python), "-c", "import importlib.metadata as m; "
                            "print(m.version('localstack-core'))"], capture_output=True, text=True)
    return check.returncode == 0 and check.stdout.strip() == "2026.3.0"


def _port_taken(port: int = 4566) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.localstack
def test_localstack_gameday_measures_s3_workloads(tmp_path):
    if not (_localstack_installed() or os.environ.get("SECURECART_LOCALSTACK") == "1"):
        pytest.skip(f"LocalStack community is not installed at {VENV}; run bash .ci/localstack-gameday "
                    "once or set SECURECART_LOCALSTACK=1 to install and run it")
    if _port_taken():
        pytest.skip("127.0.0.1:4566 is taken by another process; LocalStack needs it")
    out = tmp_path / "out"
    result = subprocess.run(["bash", ".ci/localstack-gameday", str(out)], cwd=REPO, capture_output=True,
                            text=True, timeout=1500, env={**os.environ, "LOCALSTACK_VENV": str(VENV)})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    measured = {(r["scenario"], r["workload"]) for r in report["results"]}
    assert ("accidental-deletion", "product-images") in measured
    assert ("accidental-deletion", "logs") in measured
    skipped = {(s["scenario"], s["workload"]): s["reason"] for s in report["skipped"]}
    assert "rds is not offered by the endpoint" in skipped[("accidental-deletion", "orders")]
    markdown = (out / "report.md").read_text()
    assert "### Declared, not created" in markdown
    assert "TestDNSAnswer is not implemented by this endpoint" in markdown
    assert "did not reach the replica" in markdown  # LocalStack community executes no CRR
    assert not (out / "inventory.json").read_text().count("123456789012")  # LocalStack's account
