"""Entry point the Pulumi CLI runs for `pulumi preview --policy-pack policy`.

The rules live in dr_rules.py (imported as a sibling module: the CLI runs this file with the pack's
directory on sys.path); `python -m policy.offline` runs the same rules without the CLI.
"""
import sys
from pathlib import Path

from pulumi_policy import PolicyPack

# The pack shares infra/backup_selection.py (standard library only) with the program.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dr_rules import POLICIES, PACK_NAME

PolicyPack(name=PACK_NAME, policies=POLICIES)
