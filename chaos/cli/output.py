"""Output directories, checked before any work: a game day must not run for minutes (and inject
faults) only to find that its reports cannot be written."""
from __future__ import annotations

import tempfile
from pathlib import Path

from chaos.errors import ChaosError


def writable_dir(flag: str, path: Path) -> Path:
    """Create `path` if needed and prove a file can be written there (then removed); one-line
    ChaosError otherwise. Trying is the only honest check: permissions, a read-only mount, an
    immutable directory (`chattr +i`, which even root cannot write into) all show up here."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-check-"):
            pass
    except OSError as err:
        raise ChaosError(f"{flag}: cannot write into {path} ({err.strerror or err}); pass a writable "
                         "directory") from None
    return path
