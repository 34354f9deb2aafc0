"""The leftovers of a lab: processes named by PID and start time (a recycled PID is never
signalled), and `clean_up`, which ends what is listed and removes the listed directories."""
from __future__ import annotations

import json
import signal
import subprocess

from chaos.lab.scratch import Leftovers, ProcessId, clean_up, read_resources


def test_a_pid_with_another_start_time_is_never_signalled():
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        real = ProcessId.of(sleeper.pid)
        assert real is not None and real.alive()
        impostor = ProcessId(sleeper.pid, real.start_ticks + 1)  # the same PID, another process
        assert not impostor.alive()
        assert impostor.signal(signal.SIGKILL) is False
        assert sleeper.poll() is None, "the process that now holds the PID was left alone"
        assert real.signal(signal.SIGKILL) is True
        assert sleeper.wait(timeout=10) == -signal.SIGKILL
        assert not real.alive() and ProcessId.of(sleeper.pid) is None
    finally:
        sleeper.kill()
        sleeper.wait()


def test_the_leftovers_file_tracks_changes_and_clean_up_removes_what_it_lists(tmp_path):
    registry = Leftovers()
    registry.write_to(tmp_path / "resources.json")
    data_dir, kept = tmp_path / "data", tmp_path / "kept"
    data_dir.mkdir()
    kept.mkdir()
    (data_dir / "file").write_text("x")
    server = subprocess.Popen(["sleep", "60"])
    stopped = subprocess.Popen(["sleep", "60"])
    try:
        registry.add_dir(data_dir)
        registry.add_dir(kept)
        registry.discard_dir(kept)      # removed by the lab itself: no longer listed
        registry.add_process(server.pid, "postgresql orders-primary")
        registry.add_process(stopped.pid, "postgresql orders-standby")
        registry.discard_process(stopped.pid)
        listed = read_resources(tmp_path / "resources.json")
        assert listed["dirs"] == [str(data_dir)]
        assert [p["role"] for p in listed["processes"]] == ["postgresql orders-primary"]
        assert json.loads((tmp_path / "resources.json").read_text()) == listed

        done = clean_up(listed)
        assert done == [f"killed postgresql orders-primary (pid {server.pid})",
                        f"removed directory {data_dir}"]
        assert server.wait(timeout=10) == -signal.SIGKILL
        assert stopped.poll() is None and kept.exists() and not data_dir.exists()
        assert clean_up(listed) == []  # nothing left the second time
    finally:
        for process in (server, stopped):
            process.kill()
            process.wait()
