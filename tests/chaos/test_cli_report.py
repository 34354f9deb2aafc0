"""`python -m chaos report <run-dir>` as CI runs it: a real subprocess, real files, exit codes."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from chaos.journal import JOURNAL_FILE, save_run
from tests.chaos.test_measurement import outage_events
from tests.chaos.test_reports import run_record

REPO = Path(__file__).resolve().parents[2]


def chaos_report(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "chaos", "report", *args],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )


def saved_run(directory: Path, *, lag: float) -> Path:
    """A saved run of catalog (RPO target 1 s) under a region outage with replication lag `lag`."""
    save_run(directory, run_record(), outage_events(workload="catalog", lag=lag))
    return directory


def test_passing_run_exits_0_and_writes_every_report(tmp_path):
    run_dir = saved_run(tmp_path / "run", lag=0.5)
    done = chaos_report(str(run_dir), "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    assert "region-outage" in done.stdout and "PASS" in done.stdout
    assert "chaos: PASS, 1 passed, 0 failed, 0 skipped (exit 0)" in done.stdout
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == ["junit.xml", "report.json", "report.md", "timeline-region-outage.png"]
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["results"][0]["lost_writes"] == 50


def test_missed_target_exits_1_and_defaults_to_the_run_dir(tmp_path):
    run_dir = saved_run(tmp_path / "run", lag=2.0)
    done = chaos_report(str(run_dir), "--format", "json,junit", "--quiet")
    assert done.returncode == 1, done.stderr
    assert done.stdout.strip() == "chaos: FAIL, 0 passed, 1 failed, 0 skipped (exit 1)"
    assert (run_dir / "report.json").is_file() and (run_dir / "junit.xml").is_file()
    assert not (run_dir / "report.md").exists()


def test_missing_run_dir_exits_2_with_one_line(tmp_path):
    done = chaos_report(str(tmp_path / "nowhere"))
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert done.stderr.startswith("error: run-dir: ") and "is not a directory" in done.stderr


def test_corrupt_journal_exits_2_naming_the_line(tmp_path):
    run_dir = saved_run(tmp_path / "run", lag=0.5)
    with open(run_dir / JOURNAL_FILE, "a") as journal:
        journal.write("{truncated\n")
    done = chaos_report(str(run_dir))
    assert done.returncode == 2
    assert "journal.jsonl:" in done.stderr and "not a journal event" in done.stderr
    assert "Traceback" not in done.stderr


def test_unknown_format_exits_2(tmp_path):
    done = chaos_report(str(saved_run(tmp_path / "run", lag=0.5)), "--format", "pdf")
    assert done.returncode == 2
    assert "--format: unknown format pdf" in done.stderr


def test_a_run_still_in_progress_is_refused_and_a_killed_one_is_aborted(tmp_path):
    """run.json `running`: while its harness lives (this test process stands in for it) the run is
    in progress and neither `report` nor `recover` touches it; once the harness is gone (a PID
    whose start time no longer matches) it is a killed run, ABORTED with exit 2, not FAIL (1)."""
    import os
    from dataclasses import replace

    from chaos.lab.scratch import ProcessId
    me = ProcessId.of(os.getpid())
    live = replace(run_record(), status="running", ended_at=None, host={"harness": me.to_dict()})
    save_run(tmp_path, live, outage_events(workload="catalog", lag=0.5)[:1500])
    for command in (["report", str(tmp_path)], ["recover", "--out", str(tmp_path)]):
        done = subprocess.run([sys.executable, "-m", "chaos", *command], cwd=REPO, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 2
        assert f"run r1 is still in progress (pid {os.getpid()})" in done.stderr

    dead = replace(live, host={"harness": {"pid": os.getpid(), "start_ticks": me.start_ticks + 1}})
    save_run(tmp_path, dead, outage_events(workload="catalog", lag=0.5)[:1500])
    done = chaos_report(str(tmp_path), "--quiet", "--format", "json")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "chaos: ABORTED (the game-day process was killed" in done.stdout
    result = json.loads((tmp_path / "report.json").read_text())["results"][0]
    assert result["stopped"] == "aborted" and result["passed"] is False and result["reasons"] == []


def test_out_directory_that_takes_no_files_exits_2_with_one_line(tmp_path):
    run_dir = saved_run(tmp_path / "run", lag=0.5)
    done = chaos_report(str(run_dir), "--out", "/proc/1")  # exists, but no file can be created there
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and done.stderr.strip().count("\n") == 0
    assert done.stderr.startswith("error: --out: cannot write into /proc/1")


def _with_first_ack(run_dir: Path, **changes) -> int:
    """Rewrite the first write_acked event's data; return its line number."""
    path = run_dir / JOURNAL_FILE
    lines = path.read_text().splitlines()
    number = next(i for i, line in enumerate(lines) if json.loads(line)["kind"] == "write_acked")
    event = json.loads(lines[number])
    event["data"].update(changes)
    lines[number] = json.dumps(event)
    path.write_text("\n".join(lines) + "\n")
    return number + 1


def test_event_of_the_wrong_type_exits_2_naming_file_and_line_instead_of_flipping_the_verdict(tmp_path):
    for bad in ({"seq": "x"}, {"seq": [1, 2]}, {"seq": True}, {"latency": -1}, {"latency": "fast"}):
        run_dir = saved_run(tmp_path / f"run-{len(list(tmp_path.iterdir()))}", lag=0.5)
        line = _with_first_ack(run_dir, **bad)
        done = chaos_report(str(run_dir), "--quiet")
        assert done.returncode == 2, (bad, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr and done.stderr.strip().count("\n") == 0, done.stderr
        assert f"{JOURNAL_FILE}:{line}: not a journal event (write_acked.data." in done.stderr, done.stderr


def test_deeply_nested_journal_line_exits_2_naming_it(tmp_path):
    run_dir = saved_run(tmp_path / "run", lag=0.5)
    with open(run_dir / JOURNAL_FILE, "a") as journal:
        journal.write("[" * 100_000 + "]" * 100_000 + "\n")
    done = chaos_report(str(run_dir), "--quiet")
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert f"{JOURNAL_FILE}:" in done.stderr and "nested too deeply" in done.stderr
