"""history.png: measured / target over time, RTO and RPO, one line per (scenario, workload).

Dividing by the target puts every pair on one scale: the red line at 1.0 is the target, so a line
climbing towards it is a margin being eaten, whatever the pair's absolute numbers.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from chaos.history.trend import PairTrend  # noqa: E402


def write_chart(path: str | Path, trends: list[PairTrend], title: str) -> Path:
    path = Path(path)
    figure, axes = plt.subplots(2, 1, figsize=(11, 8), sharex=True)
    for axis, metric, target in ((axes[0], "rto_seconds", "rto_target_seconds"),
                                 (axes[1], "rpo_seconds", "rpo_target_seconds")):
        for trend in trends:
            points = [p for p in trend.points if getattr(p, metric) is not None
                      and getattr(p, target) > 0]
            if not points:
                continue
            times = [dt.datetime.fromtimestamp(p.started_at, tz=dt.timezone.utc) for p in points]
            ratios = [max(getattr(p, metric) / getattr(p, target), 1e-4) for p in points]
            style = dict(linewidth=2.2) if trend.regressions else dict(linewidth=1, alpha=0.6)
            axis.plot(times, ratios, marker="o", markersize=3,
                      label=f"{trend.scenario} / {trend.workload}" + (" (regressed)" if trend.regressions else ""),
                      **style)
        axis.axhline(1.0, color="red", linestyle="--", linewidth=1)
        axis.annotate("target", (0.005, 1.0), xycoords=("axes fraction", "data"), color="red",
                      fontsize=8, va="bottom")
        axis.set_yscale("log")
        axis.set_ylabel(f"{metric.split('_')[0].upper()} / target")
        axis.grid(True, which="both", alpha=0.3)
    axes[0].set_title(title)
    handles, labels = axes[0].get_legend_handles_labels()
    if handles:
        figure.legend(handles, labels, loc="lower center", ncol=3, fontsize=7, frameon=False)
    figure.tight_layout(rect=(0, 0.12, 1, 1))
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
