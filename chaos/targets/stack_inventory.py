"""A stack's inventory from the Pulumi program, evaluated offline and cached by what it depends on
(infra/evaluation_cache.py holds the digest and the cache, shared with the cost estimate).

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

from pathlib import Path
from typing import Any

from infra import evaluation_cache

REPO_ROOT = Path(__file__).resolve().parents[2]


def stack_inventory(stack: str, project_dir: Path = REPO_ROOT) -> dict[str, Any]:
    """The inventory `pulumi up` would export for `stack` (raises the program's ConfigError)."""
    try:
        path = evaluation_cache.entry_path("inventory", stack, evaluation_cache.inputs_digest(stack, project_dir))
    except OSError:
        path = None  # an unreadable input: let the evaluation itself report it
    cached = evaluation_cache.read(path)
    if cached is not None:
        return cached
    from infra.offline import evaluate_stack  # heavy (pulumi, pulumi_aws): only on a miss
    inventory = evaluate_stack(stack, project_dir).inventory
    evaluation_cache.write(path, inventory)
    return inventory

