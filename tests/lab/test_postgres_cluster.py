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
