"""A cache for offline evaluations of the program, keyed by everything they depend on.

Evaluating `__main__.py` under Pulumi's mock runtime takes about a second per stack (more with
imports). The evaluation is deterministic: its output depends only on the program's source
(`__main__.py`, `infra/**`), the stack's config files, any config overrides and the Pulumi
packages. So results are cached under a digest of exactly those inputs; any edit to one of them
is a new digest, hence a fresh evaluation. Standard library only: a cache hit imports no Pulumi.

Users: `chaos.targets.stack_inventory` (the game day's inventory) and `infra.cost` (the declared
resources of each what-if variant).

Cache directory: `$SECURECART_CACHE_DIR`, else `$XDG_CACHE_HOME/securecart-dr`, else
`~/.cache/securecart-dr`. `SECURECART_CACHE_DIR=off` disables it.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any, Mapping

REPO_ROOT = Path(__file__).resolve().parents[1]
_PACKAGES = ("pulumi", "pulumi-aws")


def cache_dir() -> Path | None:
    configured = os.environ.get("SECURECART_CACHE_DIR")
    if configured == "off":
        return None
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "securecart-dr"


def inputs_digest(stack: str, project_dir: Path = REPO_ROOT,
                  overrides: Mapping[str, Any] | None = None) -> str:
    """sha256 over every input of the evaluation: program source, stack config, overrides,
    package versions."""
    digest = hashlib.sha256()
    files = [project_dir / "__main__.py", project_dir / "Pulumi.yaml", project_dir / f"Pulumi.{stack}.yaml"]
    files += sorted(p for p in (project_dir / "infra").rglob("*")
                    if p.is_file() and p.suffix in (".py", ".json", ".yaml") and "__pycache__" not in p.parts)
    for path in files:
        digest.update(str(path.relative_to(project_dir)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes() if path.exists() else b"<missing>")
        digest.update(b"\0")
    for package in _PACKAGES:
        try:
            version = metadata.version(package)
        except metadata.PackageNotFoundError:
            version = "absent"
        digest.update(f"{package}=={version}\0".encode())
    digest.update(sys.version.encode())
    if overrides:
        digest.update(json.dumps(dict(overrides), sort_keys=True, default=str).encode())
    return digest.hexdigest()


def entry_path(kind: str, stack: str, key: str) -> Path | None:
    directory = cache_dir()
    if directory is None:
        return None
    safe_name = re.sub(r"[^A-Za-z0-9_.-]", "_", stack)
    return directory / f"{kind}-{safe_name}-{key[:24]}.json"


def read(path: Path | None) -> Any:
    """The cached JSON document, or None when missing or torn (evaluate again)."""
    if path is None:
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write(path: Path | None, document: Any) -> None:
    """Concurrent runs may fill the same entry: write aside, then rename (atomic)."""
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp",
                                         encoding="utf-8") as out:
            json.dump(document, out)
        os.replace(out.name, path)
    except OSError:
        pass  # a read-only cache only costs speed
