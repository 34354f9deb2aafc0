"""Decisive verdicts: a measurement resolution must never be what turns a verdict into a PASS.

Every lab measurement is known to one resolution (AWS-equivalent seconds): the canary resolves
RPO to one interval between acknowledged writes, the probe resolves RTO to one probe step (both
lab seconds / time factor). The canary writes sequentially, so the newest write the recovered
store holds was applied at most one interval before its acknowledgement: the true value lies
within one resolution of the measured one. Hence:

- PASS needs `measured + resolution <= target`: even the worst value the measurement allows
  meets the target;
- `measured <= target < measured + resolution` is **undecided**: not a PASS (exit 1), with a
  reason naming the resolution and the way to a finer one (a larger `--time-factor`: more lab
  seconds per AWS second; a larger `--rate` for RPO);
- `measured > target` fails as before.

A zero target (RPO 0: nothing may be lost) is judged by the lost writes, not by a duration, so no
resolution applies to it. An unknown resolution adds nothing: for RTO it means the first probe
after the fault passed, so the true value lies between the fault and that probe, at most the
measured one.

**The resolution a wave must reach** (`allowed_resolution`, used by `chaos.engine.waves` to pick
each wave's factor and by the findings): the verdict can only be undecided when the measurement
lands within one resolution of the target. Where the lab is expected to land is AWS's worst case
for the mechanism (the envelope: the lab pads its actions to it and runs replication at AWS's
typical lag, below it). So the resolution only has to be fine against the room between envelope
and target, not against the target itself:

    allowed = max(1 % of target, MARGIN_SHARE x (target - envelope))

MARGIN_SHARE = 1/4 leaves the other 3/4 of that room to the lab's own unpadded seconds (detection,
runbook API calls, probe latency) that the factor magnifies into AWS seconds
(`chaos.engine.waves` checks that budget too), so neither resolution nor lab overhead can push a
healthy measurement past its target. Without an envelope, or with one at or beyond the target, the
room is unknown or gone and the bound is 1 % of the target (issue 13's), as before.
"""
from __future__ import annotations

RESOLUTION_FLOOR = 0.01   # never required finer than 1 % of the target judged (issue 13's bound)
MARGIN_SHARE = 0.25       # of the room (target - envelope) the resolution may take
# Lab seconds a recovery spends on unpadded work: detection polls, runbook API calls against the
# lab, the probe's write and read. The 2026-11-30 prod game day measured 0.2-1.0 s for the
# unpadded recoveries at factors 0.002-0.02 (load average ~2); x2 for a busy machine. The wave
# planner leaves room for it (chaos.engine.waves); the envelope findings allow for it.
LAB_OVERHEAD_SECONDS = 2.0


def allowed_resolution(target: float, envelope: float | None) -> float | None:
    """The coarsest resolution (AWS-equivalent seconds) a result judged against `target` may have;
    None for a zero target (lost writes judge it, not a duration)."""
    if target <= 0:
        return None
    space = room(target, envelope)
    return max(RESOLUTION_FLOOR * target, MARGIN_SHARE * space) if space else RESOLUTION_FLOOR * target


def room(target: float, envelope: float | None) -> float | None:
    """Seconds between AWS's worst case and the target (None: unknown or none)."""
    if envelope is None or target <= 0 or envelope >= target:
        return None
    return target - envelope


def undecided(measured: float | None, resolution: float | None, target: float) -> bool:
    """True when the measurement meets the target but one resolution more would not."""
    if measured is None or resolution is None or target <= 0:
        return False
    return measured <= target < measured + resolution


def undecided_reason(label: str, measured: float, resolution: float, target: float) -> str:
    """The one-line reason of an undecided result, naming the resolution and the fix."""
    finer = ("a larger --time-factor (lab seconds per AWS second) or --rate" if label == "RPO"
             else "a larger --time-factor (lab seconds per AWS second)")
    return (f"{label} {measured:.3f} s is within its resolution ({resolution:.3f} s, AWS-equivalent) "
            f"of the target {target:g} s: not a decisive PASS; rerun with {finer} for a finer "
            "resolution")


__all__ = ["LAB_OVERHEAD_SECONDS", "MARGIN_SHARE", "RESOLUTION_FLOOR", "allowed_resolution", "room",
           "undecided", "undecided_reason"]
