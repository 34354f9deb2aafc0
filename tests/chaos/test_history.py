"""Game-day history: the trend is pure (hand-made entries); the stores are real (a file, and an
S3 object on moto over HTTP with conditional writes); the CLI renders after two real game days."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from chaos.errors import ChaosError
from chaos.history.entries import HistoryEntry, PairResult, entry_from_report
from chaos.history.store import FileHistory, S3History
from chaos.history.trend import regressions, series, trends

REPO = Path(__file__).resolve().parents[2]


def entry(run: int, *, rto=1.0, rpo=0.5, passed=True, stack="prod") -> HistoryEntry:
    return HistoryEntry(run_id=f"run-{run}", stack=stack, target="lab", started_at=1_000.0 + run,
                        verdict="PASS" if passed else "FAIL",
                        results=(PairResult("region-outage", "catalog", "active-active", passed,
                                            rto, rpo, 60.0, 5.0, 3),))


def test_series_orders_runs_and_keeps_one_stack():
    points = series([entry(2, rto=2.0), entry(1), entry(3, stack="staging")], stack="prod")
    assert [p.run_id for p in points[("region-outage", "catalog")]] == ["run-1", "run-2"]


def test_a_pair_that_starts_failing_regresses():
    found = trends([entry(1), entry(2, passed=False)])[0].regressions
    assert found == ("fails now, passed in the run before",)


def test_a_slower_rto_beyond_the_tolerance_regresses_and_jitter_does_not():
    steady = [entry(i, rto=1.0) for i in range(1, 5)]
    assert regressions(list(series(steady + [entry(5, rto=1.15)]).values())[0]) == []
    found = regressions(list(series(steady + [entry(5, rto=1.5)]).values())[0])
    assert len(found) == 1 and found[0].startswith("RTO 1.500 s vs median 1.000 s")
    # under the absolute floor: 0.02 s -> 0.04 s is +100 % but only measurement jitter
    tiny = [entry(i, rto=0.02) for i in range(1, 4)] + [entry(4, rto=0.04)]
    assert regressions(list(series(tiny).values())[0]) == []


def test_only_the_window_before_counts():
    runs = [entry(1, rpo=9.0)] + [entry(i, rpo=0.5) for i in range(2, 7)] + [entry(7, rpo=1.0)]
    found = regressions(list(series(runs).values())[0], window=5)
    assert found and "median 0.500 s of the 5 runs before" in found[0]


def test_entry_from_a_report_document():
    report = {"run": {"run_id": "r", "stack": "prod", "target": "lab", "started_at": 5.0},
              "summary": {"verdict": "PASS"},
              "results": [{"scenario": "az-outage", "workload": "orders", "strategy": "pilot-light",
                           "passed": True, "rto_seconds": 70.0, "rpo_seconds": 0.0,
                           "rto_target_seconds": 1800, "rpo_target_seconds": 60, "lost_writes": 0}]}
    made = entry_from_report(report)
    assert made.results[0].rto_seconds == 70.0 and made.verdict == "PASS"
    assert HistoryEntry.from_dict(json.loads(json.dumps(made.to_dict()))) == made


def test_file_history_round_trip_and_a_corrupt_line(tmp_path):
    store = FileHistory(str(tmp_path / "h" / "prod.jsonl"))
    assert store.load() == []
    store.append(entry(1))
    store.append(entry(2))
    assert [e.run_id for e in store.load()] == ["run-1", "run-2"]
    with open(tmp_path / "h" / "prod.jsonl", "a") as handle:
        handle.write('{"run_id": "x"}\n')
    with pytest.raises(ChaosError, match=r"line 3 is not a history entry"):
        store.load()


@pytest.fixture(scope="module")
def s3_session():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    session = boto3.Session(aws_access_key_id="test", aws_secret_access_key="test",
                            region_name="us-east-1")

    class Endpointed:
        def client(self, name):
            return session.client(name, endpoint_url=f"http://{host}:{port}")

    Endpointed().client("s3").create_bucket(Bucket="history")
    yield Endpointed()
    server.stop()


def test_s3_history_appends_without_losing_concurrent_entries(s3_session):
    """Two game days finishing together: B appends between A's read and A's write. A's conditional
    write (If-Match on the ETag it read) must be refused, and A must re-read and append again.

    The race is staged, not left to threads: moto checks If-Match and then writes in two steps, so
    two threads can both pass its check (S3 itself makes the conditional write atomic)."""
    url = "s3://history/staging/race.jsonl"
    first, second = S3History(url, s3_session), S3History(url, s3_session)
    first.append(entry(1))
    read_once = first._read
    staged = []

    def read_then_lose_the_race():
        seen = read_once()
        if not staged:  # only the first attempt loses
            staged.append(True)
            second.append(entry(2))
        return seen

    first._read = read_then_lose_the_race
    first.append(entry(3))
    assert staged  # the race happened
    assert [e.run_id for e in S3History(url, s3_session).load()] == ["run-1", "run-2", "run-3"]


def test_s3_history_refuses_a_bad_url():
    with pytest.raises(ChaosError, match="s3://BUCKET/KEY"):
        S3History("s3://only-a-bucket", object())


def chaos(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "chaos", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout)


def test_history_renders_after_two_game_days(tmp_path):
    for index in (1, 2):
        run = chaos("gameday", "--stack", "prod", "--workload", "logs", "--scenario",
                    "accidental-deletion", "--quiet", "--out", str(tmp_path / f"run{index}"))
        assert run.returncode == 0, run.stderr
    history = tmp_path / "gameday-history" / "prod.jsonl"
    assert len(history.read_text().splitlines()) == 2
    shown = chaos("history", "--stack", "prod", "--history", str(history), "--json")
    assert shown.returncode == 0, shown.stderr
    trend = json.loads(shown.stdout)
    assert trend["runs"] == 2
    assert [p["workload"] for p in trend["pairs"]] == ["logs"]
    assert (tmp_path / "gameday-history" / "history.png").stat().st_size > 10_000
    table = chaos("history", "--stack", "prod", "--history", str(history))
    assert "accidental-deletion" in table.stdout and "2 game days of prod" in table.stdout
    missing = chaos("history", "--stack", "staging", "--history", str(history))
    assert missing.returncode == 2 and "no game day of stack staging" in missing.stderr
    assert "Traceback" not in missing.stderr
