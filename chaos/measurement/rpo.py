"""Data loss: which acknowledged writes the recovered store lost, and the RPO in seconds.

Inputs: the canary's `write_acked` events and the engine's `audit` event, which lists the
sequence numbers present in the recovered store after recovery.

- Pre-fault acknowledged writes: acknowledged at or before the fault time. Lost: those whose seq
  is absent from the audit. Writes acknowledged after the fault are reported apart (how many and
  how many survived) and never counted as lost: the fault cannot have lost what did not exist.
- Recovery point: the ack time of the newest pre-fault write such that every pre-fault write
  acknowledged up to it is present (the consistent prefix the store recovered to).
  RPO seconds = fault time - recovery point. When the loss is a tail (the usual case: the
  unreplicated end of the stream) this is exactly "fault time - ack time of the newest pre-fault
  write present"; when a write is lost while newer ones survived, the older hole counts, so the
  RPO is never understated. Nothing lost: RPO 0 (every acknowledged write survived; the canary
  resolves that to one inter-ack interval). Everything lost: fault time - first ack, flagged.
- No audit event: the RPO is unknown (None) and the verdict fails with that reason.
"""
from __future__ import annotations

from dataclasses import dataclass

from chaos.journal import Event


@dataclass(frozen=True)
class RpoMeasurement:
    rpo_seconds: float | None
    audited: bool
    store: str | None
    acknowledged_writes: int
    lost_writes: int | None
    recovery_point: float | None
    newest_present_ack: float | None
    everything_lost: bool
    lost_before_newest_present: int
    post_fault_acknowledged_writes: int
    post_fault_survived_writes: int | None


def measure_rpo(fault_time: float, *, acks: list[Event], audit: Event | None) -> RpoMeasurement:
    """`acks` sorted by time; `audit` the last audit of the workload (None when none was taken)."""
    pre_fault = [a for a in acks if a.t <= fault_time]
    post_fault = [a for a in acks if a.t > fault_time]
    if audit is None:
        return RpoMeasurement(
            rpo_seconds=None,
            audited=False,
            store=None,
            acknowledged_writes=len(pre_fault),
            lost_writes=None,
            recovery_point=None,
            newest_present_ack=None,
            everything_lost=False,
            lost_before_newest_present=0,
            post_fault_acknowledged_writes=len(post_fault),
            post_fault_survived_writes=None,
        )

    present = set(audit.data.get("present") or ())
    first_lost: int | None = None
    newest_present: float | None = None
    lost = 0
    lost_before_newest_present = 0
    for index, ack in enumerate(pre_fault):
        if ack.data.get("seq") in present:
            newest_present = ack.t
            lost_before_newest_present = lost
        else:
            lost += 1
            if first_lost is None:
                first_lost = index

    if not pre_fault:
        recovery_point, rpo = None, None
    elif first_lost is None:
        recovery_point, rpo = pre_fault[-1].t, 0.0
    elif first_lost == 0:
        recovery_point, rpo = None, fault_time - pre_fault[0].t
    else:
        recovery_point = pre_fault[first_lost - 1].t
        rpo = fault_time - recovery_point

    return RpoMeasurement(
        rpo_seconds=rpo,
        audited=True,
        store=audit.data.get("store"),
        acknowledged_writes=len(pre_fault),
        lost_writes=lost,
        recovery_point=recovery_point,
        newest_present_ack=newest_present,
        everything_lost=bool(pre_fault) and newest_present is None,
        lost_before_newest_present=lost_before_newest_present,
        post_fault_acknowledged_writes=len(post_fault),
        post_fault_survived_writes=sum(1 for a in post_fault if a.data.get("seq") in present),
    )


def lost_seqs(fault_time: float, *, acks: list[Event], audit: Event | None) -> list[tuple[float, object]]:
    """(ack time, seq) of every lost pre-fault write, for plotting the RPO gap."""
    if audit is None:
        return []
    present = set(audit.data.get("present") or ())
    return [(a.t, a.data.get("seq")) for a in acks if a.t <= fault_time and a.data.get("seq") not in present]
