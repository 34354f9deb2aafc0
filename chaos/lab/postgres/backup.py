"""Base backups, the WAL archive, and the recovery settings of a point-in-time restore.

RDS keeps a daily snapshot plus the WAL it uploads to S3 about every 5 minutes, and restores to a
point in time by replaying that WAL. The lab does the same with real files: a `pg_basebackup` at
deploy (and after a promotion or restore), `archive_command` copying each completed WAL segment to
the instance's archive directory, and `recovery_target_time` replaying archived WAL. The lab
shortens RDS's 5-minute upload: before a restore it forces a segment switch on the source (when it
is up) so the WAL covering the target time is archived.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from tenacity import retry, retry_if_result, stop_after_delay, wait_fixed

from chaos.errors import ChaosError
from chaos.lab.postgres.cluster import PgServer, quote

ARCHIVE_WAIT_SECONDS = 30.0
# PostgreSQL 13+ stops recovery with this message when the archive ends before any commit past
# the target time: then every archived transaction is older than the target, so replaying all of
# it gives exactly the database as of the target time.
RECOVERY_ENDED_EARLY = "recovery ended before configured recovery target was reached"


@dataclass(frozen=True)
class BaseBackup:
    """A base backup on disk and the earliest time a restore from it can target."""

    path: Path
    earliest_restorable_time: float  # epoch seconds: the backup is consistent from here on


def take_base_backup(server: PgServer, dest: Path) -> BaseBackup:
    """A base backup of a running server into `dest`; restorable to any time after it completes."""
    server.base_backup_to(dest)
    return BaseBackup(path=dest, earliest_restorable_time=time.time())


def archive_settings(archive_dir: Path) -> dict[str, str]:
    """Settings that copy every completed WAL segment into `archive_dir` (never overwriting)."""
    command = f"test ! -f '{archive_dir}/%f' && cp '%p' '{archive_dir}/%f'"
    return {"archive_command": quote(command)}


def force_archive(server: PgServer, archive_dir: Path) -> None:
    """Close the current WAL segment on `server` and wait until the archiver has copied it."""
    switched_segment = server.query("SELECT pg_walfile_name(pg_switch_wal())")[0][0]

    @retry(stop=stop_after_delay(ARCHIVE_WAIT_SECONDS), wait=wait_fixed(0.05),
           retry=retry_if_result(lambda archived: not archived), retry_error_callback=lambda _: False)
    def archived() -> bool:
        return (archive_dir / switched_segment).exists()

    if not archived():
        raise ChaosError(f"postgresql: WAL segment {switched_segment} of {server.name} was not archived "
                         f"within {ARCHIVE_WAIT_SECONDS:.0f} s; see {server.log_file}")


def recovery_settings(archive_dir: Path, restore_time: float | None) -> dict[str, str]:
    """Settings that replay `archive_dir` up to `restore_time` (None: all of it), then promote."""
    settings = {
        "restore_command": quote(f"cp '{archive_dir}/%f' '%p'"),
        "recovery_target_timeline": quote("latest"),
        "recovery_target_action": quote("promote"),
    }
    if restore_time is not None:
        settings["recovery_target_time"] = quote(_postgres_timestamp(restore_time))
    return settings


def recovery_ended_early(server: PgServer) -> bool:
    try:
        return RECOVERY_ENDED_EARLY in server.log_file.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


def _postgres_timestamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f+00")
