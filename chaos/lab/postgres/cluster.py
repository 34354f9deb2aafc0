"""PostgreSQL cluster primitives: find the binaries, make a data directory, start/stop/promote a server.

Everything here works on one PostgreSQL server (one data directory, one postmaster). How servers
are combined into an RDS instance with a Multi-AZ standby and replicas is `dataplane.py`'s job.

PostgreSQL refuses to run as root. When the lab runs as root, every PostgreSQL command runs as the
unprivileged `postgres` user (Debian's package creates it) through `subprocess`'s `user=`/`group=`
arguments, which switch user in the child without a `preexec_fn` (unsafe in a threaded server).

Every PostgreSQL process dies with the lab, however the lab ends (SIGKILL included): each program
runs under `setpriv --pdeathsig KILL` (util-linux), which asks the kernel to SIGKILL it when its
parent goes (`PR_SET_PDEATHSIG`). A server is therefore started as the lab's own child (`postgres
-D`, not `pg_ctl start`, whose postmaster outlives the short-lived pg_ctl), from one long-lived
thread (`_Spawner`: the kernel's "parent" is the thread that forked). The postmaster's own
children (backends, WAL sender/receiver, checkpointer...) exit when their postmaster dies:
PostgreSQL watches for that itself. Servers and directories are also written down in the lab's
leftovers file (chaos/lab/scratch.py), so a harness can clean up even without `setpriv`.
"""
from __future__ import annotations

import atexit
import os
import queue
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from tenacity import Retrying, retry_if_result, stop_after_delay, wait_fixed

from chaos.errors import ChaosError
from chaos.lab.scratch import LEFTOVERS

KILL_WAIT_SECONDS = 5.0  # SIGKILLed processes are normally gone within milliseconds

# The operating-system account that owns and runs the servers when the lab runs as root.
POSTGRES_OS_USER = "postgres"
# The bootstrap superuser inside every cluster; the lab's own admin connections use it.
ADMIN_ROLE = "postgres"
# 1 MB WAL segments (instead of 16 MB) make archiving, base backups and copies cheap in the lab;
# a segment switch forced before a point-in-time restore then archives little.
WAL_SEGMENT_MB = 1
COMMAND_TIMEOUT_SECONDS = 60.0
PORT_ATTEMPTS = 3

# Settings shared by every server. Per-server settings (port, archive, standby wiring) live in
# `lab_instance.conf`, included last so they win.
COMMON_SETTINGS: dict[str, str] = {
    "listen_addresses": "'127.0.0.1'",
    "shared_buffers": "'16MB'",
    "max_connections": "40",
    "max_worker_processes": "4",
    "max_parallel_workers_per_gather": "0",
    "jit": "off",
    # Honest durability: a commit is acknowledged after its WAL is flushed.
    "fsync": "on",
    "synchronous_commit": "on",
    "wal_level": "replica",
    "archive_mode": "on",
    "archive_timeout": "0",
    "max_wal_senders": "10",
    # No replication slots (they do not survive a failover in PostgreSQL 15); keep WAL instead.
    "wal_keep_size": "'128MB'",
    "max_wal_size": "'64MB'",
    "min_wal_size": "'8MB'",
    "hot_standby": "on",
    # A paused or lagging link must not make either side hang up.
    "wal_sender_timeout": "'10min'",
    "wal_receiver_timeout": "'10min'",
    "wal_receiver_status_interval": "'1s'",
    # A replica re-connects quickly after a failover of its source.
    "wal_retrieve_retry_interval": "'200ms'",
    # Dynamic shared memory in the data directory: an immediate stop leaves nothing in /dev/shm.
    "dynamic_shared_memory_type": "mmap",
    "logging_collector": "off",
    "log_min_messages": "warning",
}

# Password authentication everywhere, no `trust` line: the servers listen on 127.0.0.1, which every
# local user can reach, and the lab may run as root on a shared machine (docs/lab.md, Threat model).
# The bootstrap superuser's password is random per lab process and never leaves it (nor the
# passfile the servers use for replication, mode 0600, owned by `postgres`); the RDS master user
# gets its own password, handed out through the inventory's secret (dataplane.py).
PG_HBA = """\
# Written by the SecureCart chaos lab: SCRAM passwords only, loopback only.
local   all          all                 scram-sha-256
host    all          all   127.0.0.1/32  scram-sha-256
local   replication  all                 scram-sha-256
host    replication  all   127.0.0.1/32  scram-sha-256
"""
ADMIN_PASSWORD = secrets.token_urlsafe(32)


@dataclass(frozen=True)
class PgBinaries:
    """Where the PostgreSQL server programs are (not on PATH on Debian)."""

    bindir: Path

    def __call__(self, program: str) -> str:
        return str(self.bindir / program)

    @property
    def version(self) -> str:
        out = subprocess.run([self("postgres"), "--version"], capture_output=True, text=True, check=True)
        return out.stdout.strip()


def find_binaries() -> PgBinaries | None:
    """Locate the server binaries with `pg_config --bindir`, or Debian's default path; None if absent."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip():
            candidates.append(Path(out.stdout.strip()))
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for bindir in candidates:
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists() and (bindir / "pg_basebackup").exists():
            return PgBinaries(bindir)
    return None


def require_binaries() -> PgBinaries:
    bins = find_binaries()
    if bins is None:
        raise ChaosError(
            "postgresql: server binaries not found (pg_config --bindir); "
            "install them with `apt-get install postgresql-15`"
        )
    return bins


def running_as_root() -> bool:
    return os.geteuid() == 0


def _dies_with_parent(args: list[str]) -> list[str]:
    """`args` run so that the kernel SIGKILLs them when their parent thread ends (module docstring).

    Applied after the switch to the `postgres` user (the kernel clears the setting when a process
    changes its credentials, so it must be set by the program that runs as that user). Without
    `setpriv`, the leftovers file is what a harness cleans up from.
    """
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL", "--", *args] if setpriv else list(args)


def _as_postgres_user() -> dict[str, Any]:
    if running_as_root():
        return {"user": POSTGRES_OS_USER, "group": POSTGRES_OS_USER, "extra_groups": []}
    return {}


def run_as_postgres(args: list[str], *, timeout: float = COMMAND_TIMEOUT_SECONDS, check: bool = True
                    ) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL program to completion, as the `postgres` OS user when we are root.

    The calling thread waits for it, so it can only lose its parent when the whole lab dies, and
    then it dies too (`_dies_with_parent`).
    """
    result = subprocess.run(
        _dies_with_parent(args), capture_output=True, text=True, timeout=timeout,
        stdin=subprocess.DEVNULL, cwd="/", **_as_postgres_user(),
    )
    if check and result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise ChaosError(
            f"postgresql: `{Path(args[0]).name} {' '.join(args[1:3])}` failed: "
            f"{detail[-1] if detail else 'exit ' + str(result.returncode)}; see the server log in the lab workdir"
        )
    return result


class _Spawner:
    """Forks every long-running server from one thread that lives as long as the lab process.

    `PR_SET_PDEATHSIG` fires when the *thread* that forked the child ends, not the process: a
    server started from an HTTP request thread of the lab would be SIGKILLed when that request
    ends. Forking from this dedicated thread ties every server to the lab process's lifetime.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def popen(self, args: list[str], **kwargs: Any) -> subprocess.Popen:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._serve, name="postgres-spawner", daemon=True)
                self._thread.start()
        reply: Future = Future()
        self._requests.put((args, kwargs, reply))
        return reply.result()

    def _serve(self) -> None:
        while True:
            args, kwargs, reply = self._requests.get()
            try:
                reply.set_result(subprocess.Popen(args, **kwargs))
            except BaseException as error:  # handed to the caller, who raises it
                reply.set_exception(error)


SPAWNER = _Spawner()


def give_to_postgres(path: Path) -> None:
    """Make a directory we created usable by the servers (owned by `postgres` when we are root)."""
    if running_as_root():
        shutil.chown(path, POSTGRES_OS_USER, POSTGRES_OS_USER)


def inside(path: Path, within: Path) -> Path:
    """`path` resolved (symlinks included); ChaosError unless it lies inside `within`.

    The lab runs as root: a name from a request ("..", an absolute path, a symlink planted in a
    shared directory) must never lead a mkdir, copy, chmod or chown outside the lab's own directory."""
    root, resolved = within.resolve(), path.resolve()
    if not resolved.is_relative_to(root) or (resolved == root and path != within):
        raise ChaosError(f"lab: {path} resolves to {resolved}, outside the lab directory {root}; "
                         "refusing to create, copy or chown it")
    return resolved


def make_owned_dir(path: Path, mode: int = 0o700, *, within: Path) -> Path:
    """Create `path` for the servers, refusing anything that does not resolve inside `within`
    (checked before the mkdir, and again before the chmod and chown, on the path as it now is)."""
    inside(path, within)
    path.mkdir(parents=True, exist_ok=True, mode=mode)
    resolved = inside(path, within)
    os.chmod(resolved, mode)
    give_to_postgres(resolved)
    return path


def _write_private(path: Path, text: str) -> None:
    """A new file only its owner (`postgres` when we are root) can read, created 0600 from the start."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(text)
    give_to_postgres(path)


def free_port() -> int:
    """A currently free TCP port on 127.0.0.1 (the server start retries if someone takes it first)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def memory_backed_dir() -> Path | None:
    """A tmpfs directory for data directories, if the host has one with room (Linux: /dev/shm).

    The lab emulates crashes of PostgreSQL processes and regions, never a power loss of the host:
    what a crashed server has written is in the page cache and survives, on tmpfs exactly as on a
    disk. fsync stays on (on tmpfs it is free). On this project's CI VMs file-system calls on the
    disk are slow (copying a 28 MB cluster takes ~1 s there, 45 ms on tmpfs).
    """
    shm = Path("/dev/shm")
    try:
        stats = os.statvfs(shm)
    except OSError:
        return None
    room = stats.f_bavail * stats.f_frsize
    return shm if shm.is_dir() and os.access(shm, os.W_OK) and room > 2 * 1024**3 else None


def conf_line(key: str, value: str) -> str:
    return f"{key} = {value}\n"


def quote(value: str) -> str:
    """A PostgreSQL configuration string literal."""
    return "'" + value.replace("'", "''") + "'"


class _TemplateCache:
    """One `initdb` per lab process: every new primary copies this template (initdb costs ~1 s).

    The template lives in its own temporary directory, removed when the process exits.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._templates: dict[Path, Path] = {}
        self._root: Path | None = None

    def _ensure_root(self) -> Path:
        if self._root is None or not self._root.exists():
            self._root = Path(tempfile.mkdtemp(prefix="securecart-pg-template-", dir=memory_backed_dir()))
            LEFTOVERS.add_dir(self._root)  # removed by whoever outlives the lab (chaos.lab.scratch)
            os.chmod(self._root, 0o755)
            atexit.register(shutil.rmtree, self._root, True)
        return self._root

    def passfile(self) -> Path:
        """The libpq passfile (mode 0600, owned by `postgres`) with the superuser's password, for the
        servers' replication connections and pg_basebackup: a password never goes on a command line
        (other users can read those in /proc) or into a world-readable file."""
        with self._lock:
            root = self._ensure_root()
            path = root / "pgpass"
            if not path.exists():
                _write_private(path, f"*:*:*:{ADMIN_ROLE}:{ADMIN_PASSWORD}\n")
            return path

    def get(self, bins: PgBinaries) -> Path:
        self.passfile()  # before the template: the servers copied from it replicate with it
        with self._lock:
            if bins.bindir in self._templates and self._templates[bins.bindir].exists():
                return self._templates[bins.bindir]
            self._ensure_root()
            template = self._root / f"template-{len(self._templates)}"
            make_owned_dir(template, within=self._root)
            # initdb reads the superuser's password from a file of its own (first line, verbatim).
            initdb_pw = make_owned_dir(self._root / "initdb-pw", within=self._root) / "pw"
            _write_private(initdb_pw, ADMIN_PASSWORD + "\n")
            try:
                run_as_postgres([
                    bins("initdb"), "-D", str(template), "-U", ADMIN_ROLE, "--auth=scram-sha-256",
                    f"--pwfile={initdb_pw}", "--encoding=UTF8", "--locale=C",
                    f"--wal-segsize={WAL_SEGMENT_MB}", "--no-sync", "--no-instructions",
                ], timeout=120)
            finally:
                shutil.rmtree(initdb_pw.parent, ignore_errors=True)
            with open(template / "postgresql.conf", "a", encoding="utf-8") as conf:
                conf.write("\n# SecureCart chaos lab settings\n")
                for key, value in COMMON_SETTINGS.items():
                    conf.write(conf_line(key, value))
                conf.write("include_if_exists = 'lab_instance.conf'\n")
            (template / "pg_hba.conf").write_text(PG_HBA, encoding="utf-8")
            self._templates[bins.bindir] = template
            return template


TEMPLATES = _TemplateCache()


@dataclass
class PgServer:
    """One PostgreSQL server process and its data directory.

    `port` stays the same across restarts, so whatever points at this server keeps pointing at it.
    """

    name: str
    bins: PgBinaries
    data_dir: Path
    socket_dir: Path
    log_file: Path
    port: int = field(default_factory=free_port)
    settings: dict[str, str] = field(default_factory=dict)
    _started_once: bool = field(default=False, repr=False)
    _process: subprocess.Popen | None = field(default=None, repr=False)  # the postmaster, our child

    # ---- creating the data directory -------------------------------------------------------

    def init_from_template(self) -> None:
        """A fresh cluster, copied from the per-process initdb template (`cp -a` keeps ownership)."""
        template = TEMPLATES.get(self.bins)
        run_as_postgres(["cp", "-a", str(template), str(self.data_dir)])

    def init_from_base_backup(self, source: PgServer) -> None:
        """A copy of the running `source`, taken with pg_basebackup."""
        source.base_backup_to(self.data_dir)

    def base_backup_to(self, dest: Path) -> None:
        """pg_basebackup of this running server into `dest`, with the WAL that makes it consistent."""
        run_as_postgres([
            self.bins("pg_basebackup"),
            "-d", f"host=127.0.0.1 port={self.port} user={ADMIN_ROLE} passfile={TEMPLATES.passfile()}",
            "-D", str(dest), "-X", "stream", "-c", "fast", "--no-sync",
        ], timeout=120)

    def init_from_copy(self, backup_dir: Path) -> None:
        """A data directory copied from a base backup kept on disk (point-in-time restores)."""
        run_as_postgres(["cp", "-a", str(backup_dir), str(self.data_dir)])
        (self.data_dir / "postmaster.pid").unlink(missing_ok=True)

    def seed_older_wal(self, source: PgServer) -> int:
        """Copy `source`'s completed WAL segments older than this copy's own into its pg_wal.

        A base backup holds WAL from its start only. A server made from one cannot stream older
        WAL to a replica that lags behind that point, and such a replica would never follow a
        failover to this server. Returns how many segments were copied.
        """
        own_wal, source_wal = self.data_dir / "pg_wal", source.data_dir / "pg_wal"
        own = [name[8:] for name in _wal_segments(own_wal)]
        if not own:
            return 0
        oldest_position = min(own)  # log + segment number, whatever the timeline
        older = [name for name in _wal_segments(source_wal) if name[8:] < oldest_position]
        if older:
            run_as_postgres(["cp", "-p", *(str(source_wal / name) for name in older), str(own_wal)])
        return len(older)

    def configure(self, settings: dict[str, str], *, standby: bool = False, recovery: bool = False) -> None:
        """Write this server's own settings and the signal file that selects standby or recovery mode."""
        self.settings = dict(settings)
        lines = [
            "# This server's own settings, written by the chaos lab (included last, so they win).\n",
            conf_line("port", str(self.port)),
            conf_line("unix_socket_directories", quote(str(self.socket_dir))),
            conf_line("cluster_name", quote(self.name)),
        ] + [conf_line(key, value) for key, value in settings.items()]
        self._write_owned(self.data_dir / "lab_instance.conf", "".join(lines))
        for signal_file, wanted in (("standby.signal", standby), ("recovery.signal", recovery)):
            if wanted:
                self._write_owned(self.data_dir / signal_file, "")
            else:
                (self.data_dir / signal_file).unlink(missing_ok=True)

    def update_settings(self, changes: dict[str, str]) -> None:
        """Change settings of a running server and reload it (e.g. drop the synchronous standby)."""
        merged = {**self.settings, **changes}
        self.configure(merged, standby=(self.data_dir / "standby.signal").exists(),
                       recovery=(self.data_dir / "recovery.signal").exists())
        if self.is_running():
            run_as_postgres([self.bins("pg_ctl"), "-D", str(self.data_dir), "reload"], check=False)

    def _write_owned(self, path: Path, text: str) -> None:
        path.write_text(text, encoding="utf-8")
        if running_as_root():
            shutil.chown(path, POSTGRES_OS_USER, POSTGRES_OS_USER)

    # ---- lifecycle --------------------------------------------------------------------------

    def start(self, *, timeout: float = 60.0) -> None:
        """Start the server and return once it accepts connections.

        The port was free when chosen but another process may have taken it since; the first
        start of a server then moves to a new free port (later starts keep the port, which
        endpoints and links point at).
        """
        for _ in range(PORT_ATTEMPTS):
            if self._launch(timeout):
                self._started_once = True
                return
            if self._started_once or "could not bind" not in self.log_tail(10):
                break
            self.port = free_port()
            self.configure(self.settings, standby=(self.data_dir / "standby.signal").exists(),
                           recovery=(self.data_dir / "recovery.signal").exists())
        raise ChaosError(f"postgresql: server {self.name} did not start: {self.log_tail()}; see {self.log_file}")

    def _launch(self, timeout: float) -> bool:
        """Start the postmaster as our child and wait, as `pg_ctl -w start` does, until its
        postmaster.pid says `ready` (or `standby`: a hot standby accepting reads). False if it
        exited (e.g. its port was taken); ChaosError if it is still not ready after `timeout`."""
        self._reap()
        with open(self.log_file, "ab") as log:  # the server keeps its own handle
            # Own session: a Ctrl-C in the lab's terminal does not reach it; the lab stops its
            # servers itself, in order, from `close()`.
            process = SPAWNER.popen(
                _dies_with_parent([self.bins("postgres"), "-D", str(self.data_dir)]),
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd="/",
                start_new_session=True, **_as_postgres_user())
        self._process = process
        LEFTOVERS.add_process(process.pid, f"postgresql {self.name}")
        state = Retrying(stop=stop_after_delay(timeout), wait=wait_fixed(0.02),
                         retry=retry_if_result(lambda s: s == "starting"),
                         retry_error_callback=lambda rs: rs.outcome.result(),
                         )(lambda: self._start_state(process))
        if state == "exited":
            self._reap()
            return False
        if state == "starting":
            raise ChaosError(f"postgresql: server {self.name} not ready after {timeout:.0f} s: "
                             f"{self.log_tail()}; see {self.log_file}")
        return True

    def _start_state(self, process: subprocess.Popen) -> str:
        if process.poll() is not None:
            return "exited"
        try:
            lines = (self.data_dir / "postmaster.pid").read_text(encoding="utf-8").splitlines()
        except OSError:
            return "starting"
        # Line 1: the postmaster's PID (a stale file names another); line 8: its status.
        if len(lines) >= 8 and lines[0].strip() == str(process.pid) and lines[7].strip() in ("ready", "standby"):
            return "ready"
        return "starting"

    def _reap(self) -> None:
        """Collect our exited postmaster (no zombie left) and cross it off the leftovers."""
        process, self._process = self._process, None
        if process is None:
            return
        try:
            process.wait(timeout=KILL_WAIT_SECONDS)
        except subprocess.TimeoutExpired:  # still running: keep tracking it
            self._process = process
            return
        LEFTOVERS.discard_process(process.pid)

    def stop(self, mode: str = "fast", timeout: float = 30.0) -> None:
        """Stop the server: `fast` (clean shutdown) or `immediate` (a crash: no checkpoint, recovery on restart)."""
        if self.is_running():
            run_as_postgres([self.bins("pg_ctl"), "-D", str(self.data_dir), "-m", mode, "-t", str(int(timeout)),
                             "-w", "stop"], timeout=timeout + 10, check=False)
            if self.is_running():
                self.kill()
        self._reap()

    def crash(self) -> None:
        """An instance failure: the postmaster and its backends quit at once (SIGQUIT, like a crash)."""
        self.stop("immediate")

    def kill(self) -> None:
        """Last resort: SIGKILL the postmaster and every backend it started."""
        pid = self.postmaster_pid()
        if pid is None:
            return
        victims = [pid] + _children_of(pid)
        for victim in victims:
            try:
                os.kill(victim, signal.SIGKILL)
            except ProcessLookupError:
                pass
        # Wait (bounded) until the kernel has reaped them: a restart must not find an old backend.
        Retrying(stop=stop_after_delay(KILL_WAIT_SECONDS), wait=wait_fixed(0.02),
                 retry=retry_if_result(bool), retry_error_callback=lambda _: None,
                 )(lambda: any(_alive(v) for v in victims))
        (self.data_dir / "postmaster.pid").unlink(missing_ok=True)
        self._reap()

    def promote(self, timeout: float = 60.0) -> None:
        """End recovery on a standby; return when it accepts writes."""
        result = run_as_postgres([self.bins("pg_ctl"), "-D", str(self.data_dir), "-t", str(int(timeout)),
                                  "-w", "promote"], timeout=timeout + 10, check=False)
        if result.returncode != 0:
            raise ChaosError(f"postgresql: promoting {self.name} failed: {result.stderr.strip() or self.log_tail()}; "
                             f"see {self.log_file}")

    def postmaster_pid(self) -> int | None:
        try:
            first_line = (self.data_dir / "postmaster.pid").read_text(encoding="utf-8").split("\n", 1)[0]
            pid = int(first_line)
        except (OSError, ValueError):
            return None
        return pid if _alive(pid) else None

    def is_running(self) -> bool:
        return self.postmaster_pid() is not None

    def log_tail(self, lines: int = 3) -> str:
        try:
            text = self.log_file.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        except OSError:
            return "no server log"
        return " | ".join(text[-lines:]) or "empty server log"

    # ---- talking to it ----------------------------------------------------------------------

    def connect(self, dbname: str = "postgres") -> psycopg.Connection:
        """The lab's own superuser connection (its password never leaves the lab process)."""
        return psycopg.connect(host="127.0.0.1", port=self.port, dbname=dbname, user=ADMIN_ROLE,
                               password=ADMIN_PASSWORD, autocommit=True, connect_timeout=2)

    def query(self, sql: str, params: tuple = (), dbname: str = "postgres") -> list[tuple]:
        with self.connect(dbname) as conn:
            cur = conn.execute(sql, params)
            return cur.fetchall() if cur.description else []


def _wal_segments(pg_wal: Path) -> list[str]:
    """Names of WAL segment files (24 hex digits: timeline, log, segment) in a pg_wal directory."""
    try:
        return [entry.name for entry in pg_wal.iterdir()
                if len(entry.name) == 24 and all(c in "0123456789ABCDEF" for c in entry.name)]
    except OSError:
        return []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is not alive
        with open(f"/proc/{pid}/stat", encoding="utf-8") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _children_of(parent: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == parent:
            children.append(int(entry.name))
    return children
