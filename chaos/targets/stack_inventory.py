"""A stack's inventory from the Pulumi program, evaluated offline and cached by what it depends on.

Evaluating `__main__.py` under Pulumi's mock runtime takes ~3.5 s here (imports of pulumi_aws
resource modules plus the program itself), more than the whole of a one-workload game day. The
evaluation is deterministic: its output depends only on the program's source (`__main__.py`,
`infra/**`), the stack's config files and the Pulumi packages. So the result is cached under a
digest of exactly those inputs; any edit to one of them is a new digest, hence a fresh evaluation.
A config the program refuses is never cached (the error is raised again on every call).

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
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
_PACKAGES = ("pulumi", "pulumi-aws")


def cache_dir() -> Path | None:
    configured = os.environ.get("SECURECART_CACHE_DIR")
    if configured == "off":
        return None
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "securecart-dr"


def inputs_digest(stack: str, project_dir: Path = REPO_ROOT) -> str:
    """sha256 over every input of the evaluation: program source, stack config, package versions."""
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
    return digest.hexdigest()


def stack_inventory(stack: str, project_dir: Path = REPO_ROOT) -> dict[str, Any]:
    """The inventory `pulumi up` would export for `stack` (raises the program's ConfigError)."""
    directory = cache_dir()
    try:
        key = inputs_digest(stack, project_dir)
    except OSError:
        directory = None  # an unreadable input: let the evaluation itself report it
    safe_name = re.sub(r"[^A-Za-z0-9_.-]", "_", stack)
    path = directory / f"inventory-{safe_name}-{key[:24]}.json" if directory else None
    if path is not None:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass  # missing or torn: evaluate again
    from infra.offline import evaluate_stack  # heavy (pulumi, pulumi_aws): only on a miss
    inventory = evaluate_stack(stack, project_dir).inventory
    if path is not None:
        _write_atomically(path, inventory)
    return inventory


def _write_atomically(path: Path, inventory: dict[str, Any]) -> None:
    """Concurrent game days may fill the same entry: write aside, then rename (atomic)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp",
                                         encoding="utf-8") as out:
            json.dump(inventory, out)
        os.replace(out.name, path)
    except OSError:
        pass  # a read-only cache only costs speed
