"""what-if-<workload>.png: monthly cost against the envelope's RPO, one point per strategy.

The decision the seed asks for in one picture: moving left (less data lost) costs money; the
chart shows how much each step costs for this workload, with the RTO in each label.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from infra.cost.estimate import StrategyOption  # noqa: E402


def write_what_if_chart(path: Path, workload: str, options: list[StrategyOption]) -> Path:
    figure, axis = plt.subplots(figsize=(8, 5))
    # Strategies that land on the same point (same cost, same envelope) share one label.
    points: dict[tuple[float, float, float | None], list[str]] = {}
    for option in options:
        if option.envelope_rpo_seconds is not None:
            key = (option.envelope_rpo_seconds, round(option.monthly_usd, 2), option.envelope_rto_seconds)
            points.setdefault(key, []).append(option.strategy)
    for (rpo_seconds, usd, rto_seconds), strategies in points.items():
        rpo = max(rpo_seconds, 0.1)  # log axis: RPO 0 drawn at 0.1 s, labelled 0
        axis.scatter([rpo], [usd], s=60)
        rto = "—" if rto_seconds is None else f"{rto_seconds:,.0f} s"
        partial = any(o.unpriced for o in options if o.strategy in strategies)
        axis.annotate(f"{' / '.join(strategies)}\nRPO {rpo_seconds:,.0f} s, RTO {rto}, ${usd:,.2f}"
                      + (" + unpriced" if partial else ""),
                      (rpo, usd), textcoords="offset points", xytext=(8, 4), fontsize=8)
    axis.set_xscale("log")
    # From zero, so the gap between strategies is shown at its true size; headroom for the labels.
    axis.set_ylim(0, max([usd for (_, usd, _) in points] or [1.0]) * 1.3)
    axis.margins(x=0.3)
    axis.set_xlabel("envelope RPO on AWS, seconds (log; region loss)")
    axis.set_ylabel("USD per month (month 12)")
    axis.set_title(f"{workload}: cost against RPO, per DR strategy")
    axis.grid(True, which="both", alpha=0.3)
    missing = [o.strategy for o in options if o.envelope_rpo_seconds is None]
    if missing:
        axis.text(0.01, 0.01, f"no envelope for: {', '.join(missing)}", transform=axis.transAxes, fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
