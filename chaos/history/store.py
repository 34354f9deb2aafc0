"""Where the history lives: a local JSON Lines file (default), or an S3 object (staging, CI).

S3 has no append, so adding an entry is read, add, write back with a conditional PUT
(`If-Match` on the ETag read, or `If-None-Match: *` for the first entry): two game days finishing
together cannot overwrite each other's entry; the loser re-reads and retries, a bounded number of
times.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_random

from chaos.errors import ChaosError
from chaos.history.entries import HistoryEntry

DEFAULT_DIR = Path("gameday-history")
MAX_HISTORY_BYTES = 64 * 1024 * 1024  # refuse to load more: a history is kilobytes per run


def default_location(stack: str) -> str:
    return str(DEFAULT_DIR / f"{stack}.jsonl")


def parse_lines(text: str, where: str) -> list[HistoryEntry]:
    """Entries of a JSON Lines history; a corrupt line is a one-line ChaosError naming it."""
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entries.append(HistoryEntry.from_dict(json.loads(line)))
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise ChaosError(f"--history: {where} line {number} is not a history entry "
                             f"({type(err).__name__}); fix or remove that line") from None
    return entries


def render_lines(entries: list[HistoryEntry]) -> str:
    return "".join(json.dumps(e.to_dict(), sort_keys=True) + "\n" for e in entries)


class HistoryStore(Protocol):
    location: str

    def load(self) -> list[HistoryEntry]: ...

    def append(self, entry: HistoryEntry) -> None: ...


class FileHistory:
    def __init__(self, path: str) -> None:
        self.location = path
        self._path = Path(path)

    def load(self) -> list[HistoryEntry]:
        try:
            if self._path.stat().st_size > MAX_HISTORY_BYTES:
                raise ChaosError(f"--history: {self._path} is over {MAX_HISTORY_BYTES} bytes; "
                                 "archive it and start a new one")
            text = self._path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError) as err:
            raise ChaosError(f"--history: cannot read {self._path} ({err}); pass a readable "
                             "history file") from None
        return parse_lines(text, str(self._path))

    def append(self, entry: HistoryEntry) -> None:
        """One line, appended and flushed: an interrupted append loses at most that line."""
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            with self._path.open("a", encoding="utf-8") as handle:
                handle.write(render_lines([entry]))
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as err:
            raise ChaosError(f"--history: cannot append to {self._path} ({err.strerror}); pass "
                             "a writable path or --no-history") from None


class _Conflict(Exception):
    """Someone else wrote the history object between our read and our write."""


class S3History:
    ATTEMPTS = 5

    def __init__(self, url: str, session: object | None = None) -> None:
        parsed = urlparse(url)
        if parsed.scheme != "s3" or not parsed.netloc or not parsed.path.strip("/"):
            raise ChaosError(f"--history: {url!r} is not s3://BUCKET/KEY")
        self.location = url
        self._bucket, self._key = parsed.netloc, parsed.path.lstrip("/")
        if session is None:
            import boto3
            session = boto3.Session()  # explicit session: the default credential chain
        self._s3 = session.client("s3")  # type: ignore[attr-defined]

    def _read(self) -> tuple[list[HistoryEntry], str | None]:
        from botocore.exceptions import BotoCoreError, ClientError
        try:
            answer = self._s3.get_object(Bucket=self._bucket, Key=self._key)
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return [], None
            raise ChaosError(f"--history: cannot read {self.location} "
                             f"({err.response['Error'].get('Code')}); check the bucket and "
                             "credentials") from None
        except BotoCoreError as err:
            raise ChaosError(f"--history: cannot reach {self.location} ({err})") from None
        if answer.get("ContentLength", 0) > MAX_HISTORY_BYTES:
            raise ChaosError(f"--history: {self.location} is over {MAX_HISTORY_BYTES} bytes; "
                             "archive it and start a new one")
        text = answer["Body"].read().decode("utf-8")
        return parse_lines(text, self.location), answer.get("ETag")

    def load(self) -> list[HistoryEntry]:
        return self._read()[0]

    def append(self, entry: HistoryEntry) -> None:
        try:
            for attempt in Retrying(retry=retry_if_exception_type(_Conflict),
                                    stop=stop_after_attempt(self.ATTEMPTS),
                                    wait=wait_random(0.1, 1.0), reraise=True):
                with attempt:
                    self._append_once(entry)
        except _Conflict:
            raise ChaosError(f"--history: {self.location} changed under {self.ATTEMPTS} attempts "
                             "in a row; retry later or pass --no-history") from None

    def _append_once(self, entry: HistoryEntry) -> None:
        from botocore.exceptions import BotoCoreError, ClientError
        entries, etag = self._read()
        body = render_lines(entries + [entry]).encode("utf-8")
        condition = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
        try:
            self._s3.put_object(Bucket=self._bucket, Key=self._key, Body=body,
                                ContentType="application/x-ndjson", **condition)
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code")
            if code in ("PreconditionFailed", "ConditionalRequestConflict", "412", "409"):
                raise _Conflict() from None
            raise ChaosError(f"--history: cannot write {self.location} ({code}); check the "
                             "bucket policy and credentials, or pass --no-history") from None
        except BotoCoreError as err:
            raise ChaosError(f"--history: cannot reach {self.location} ({err})") from None


def open_history(location: str, session: object | None = None) -> HistoryStore:
    if location.startswith("s3://"):
        return S3History(location, session)
    return FileHistory(location)
