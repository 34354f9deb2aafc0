"""One PostgreSQL server from the cluster primitives: template copy, start, crash, restart, port clash."""
from __future__ import annotations

import os
import shutil
import socket
import tempfile
from pathlib import Path

import pytest

from chaos.lab.postgres.cluster import PgServer, find_binaries, make_owned_dir, memory_backed_dir

if find_binaries() is None and os.environ.get("CI"):
    pytest.fail("PostgreSQL server binaries are missing in CI; .ci/run must install postgresql-15",
                pytrace=False)
pytestmark = pytest.mark.skipif(
    find_binaries() is None,
    reason="PostgreSQL server binaries not found (pg_config --bindir); install postgresql-15 to run these",
)


@pytest.fixture
def home():
    created = Path(tempfile.mkdtemp(prefix="pgcluster-", dir=memory_backed_dir()))
    path = make_owned_dir(created, within=created)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def new_server(home: Path, port: int | None = None) -> PgServer:
    extra = {"port": port} if port else {}
    server = PgServer(name="lab-cluster-test", bins=find_binaries(), data_dir=home / "data", socket_dir=home,
                      log_file=home / "server.log", **extra)
    server.init_from_template()
    server.configure({})
    return server


def test_a_crashed_server_keeps_its_commits_and_its_port(home):
    server = new_server(home)
    try:
        server.start()
        port = server.port
        server.query("CREATE TABLE t (v int)")
        server.query("INSERT INTO t VALUES (1)")
        server.crash()
        assert not server.is_running()
        server.start()  # crash recovery replays the WAL
        assert server.port == port
        assert server.query("SELECT v FROM t") == [(1,)]
    finally:
        server.stop("immediate")
    assert server.postmaster_pid() is None


def test_first_start_moves_off_a_port_someone_else_took(home):
    squatter = socket.create_server(("127.0.0.1", 0))
    taken = squatter.getsockname()[1]
    server = new_server(home, port=taken)
    try:
        server.start()
        assert server.port != taken
        assert server.query("SELECT 1") == [(1,)]
    finally:
        server.stop("immediate")
        squatter.close()


def test_a_server_and_its_backends_die_with_the_process_that_started_it(home):
    """The lab's process is SIGKILLed: no `finally`, no atexit. Its server must not outlive it
    (PR_SET_PDEATHSIG), and neither may the backends the server forked (PostgreSQL ends them when
    their postmaster dies). The server is started from a thread that ends before the kill: only
    the process's death may take the server down, not the end of the thread that asked for it."""
    import signal
    import subprocess
    import sys

    from tenacity import Retrying, retry_if_result, stop_after_delay, wait_fixed

    script = f"""
import os, signal, threading
from pathlib import Path
from chaos.lab.postgres.cluster import PgServer, find_binaries
home = Path({str(home)!r})
server = PgServer(name="lab-cluster-test", bins=find_binaries(), data_dir=home / "data", socket_dir=home,
                  log_file=home / "server.log")
server.init_from_template()
server.configure({{}})
starter = threading.Thread(target=server.start)  # like an HTTP request thread of the lab
starter.start()
starter.join()
session = server.connect()                       # one backend, idle in its own session
backend = session.execute("SELECT pg_backend_pid()").fetchone()[0]
print(server.postmaster_pid(), backend, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""
    lab = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).resolve().parents[2],
                         capture_output=True, text=True, timeout=120)
    assert lab.returncode == -signal.SIGKILL, lab.stderr
    postmaster, backend = (int(pid) for pid in lab.stdout.split())

    def running(pid: int) -> bool:
        try:
            return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
        except OSError:
            return False

    still = Retrying(stop=stop_after_delay(30), wait=wait_fixed(0.05), retry=retry_if_result(bool),
                     retry_error_callback=lambda state: True,
                     )(lambda: running(postmaster) or running(backend))
    assert not still, f"left running: postmaster {running(postmaster)}, backend {running(backend)}"
