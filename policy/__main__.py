"""Entry point the Pulumi CLI runs for `pulumi preview --policy-pack policy`.

The rules live in dr_rules.py (imported as a sibling module: the CLI runs this file with the pack's
directory on sys.path); `python -m policy.offline` runs the same rules without the CLI.
"""
from pulumi_policy import PolicyPack

from dr_rules import POLICIES, PACK_NAME

PolicyPack(name=PACK_NAME, policies=POLICIES)
