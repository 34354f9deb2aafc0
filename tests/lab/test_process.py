"""The lab as a child process (`python -m chaos lab`), its client, and the CLI's bad input."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys

import pytest

from chaos.errors import ChaosError
from chaos.lab.process import REPO_ROOT, LabClient, LabProcess
from tests.lab._lab_fixtures import LAB_KEYS, PRIMARY, client, eventually, inventory


def alive(pid: int) -> bool:
    """Running (a zombie waiting for its reaper has already stopped)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            return not any(line.startswith("State:") and "Z" in line.split()[1] for line in status)
    except FileNotFoundError:
        return False


def test_lab_process_serves_and_leaves_no_process_behind():
    with LabProcess(time_factor=0.02) as lab:
        pid = lab.pid
        assert lab.endpoint.startswith("http://127.0.0.1:")
        labclient = lab.client()
        LAB_KEYS[lab.endpoint] = lab.credentials.boto3
        assert labclient.health()["status"] == "ready"
        summary = labclient.deploy(inventory(), time_factor=0.02)
        health_endpoints = [h["endpoint"] for h in summary["health_checks"]]
        client(lab.endpoint, "dynamodb", PRIMARY).put_item(
            TableName="catalog", Item={"pk": {"S": "a"}, "sk": {"S": "b"}})
    assert not alive(pid)
    for url in [lab.endpoint] + health_endpoints:  # every port it served is closed
        host, port = url.removeprefix("http://").split(":")
        with pytest.raises(OSError), socket.create_connection((host, int(port)), timeout=1):
            pass


def test_an_orphaned_lab_stops_itself():
    # A harness killed without running its `finally`: the lab notices it lost its parent and stops.
    harness = subprocess.run(
        [sys.executable, "-c", "import os; from chaos.lab.process import LabProcess; "
                               "lab = LabProcess(time_factor=0.02).start(); "
                               "print(lab.pid, lab.log_path.parent, flush=True); os._exit(0)"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    lab_pid, rundir = harness.stdout.split()
    try:
        eventually(lambda: not alive(int(lab_pid)), timeout=30)
    finally:
        shutil.rmtree(rundir, ignore_errors=True)  # the killed harness could not remove it


def test_unreachable_endpoint_is_one_line_naming_it():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ChaosError, match=rf"endpoint http://127.0.0.1:{port}: unreachable"):
        LabClient(f"http://127.0.0.1:{port}").health()


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "chaos", "lab", *args], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120)


def test_cli_refuses_bad_options_with_exit_2_and_one_line():
    result = run_cli("--time-factor", "0")
    assert result.returncode == 2
    assert result.stderr.strip() == ("error: --time-factor: must be > 0 and <= 10; e.g. 1.0 (real time) "
                                     "or 0.1 (ten times faster)")

    result = run_cli("--inventory-out", "x.json")
    assert result.returncode == 2
    assert "--inventory-out: needs --stack" in result.stderr


def test_ready_file_is_private_and_the_printed_hint_carries_no_secret():
    import json
    import stat

    with LabProcess(time_factor=0.02) as lab:
        ready = lab.ready_file
        assert stat.S_IMODE(ready.stat().st_mode) == 0o600
        assert stat.S_IMODE(ready.parent.stat().st_mode) == 0o700
        content = json.loads(ready.read_text())
        assert set(content) == {"endpoint", "pid", "token", "aws_access_key_id", "aws_secret_access_key"}
        assert len(content["token"]) >= 32
        printed = eventually(lambda: "Ctrl-C" in lab.log_path.read_text() and lab.log_path.read_text())
        assert str(ready) in printed and "X-Lab-Token" in printed
        for secret in (content["token"], content["aws_secret_access_key"]):
            assert secret not in printed
        with pytest.raises(ChaosError, match="X-Lab-Token"):  # no token, no lab
            LabClient(lab.endpoint).health()
