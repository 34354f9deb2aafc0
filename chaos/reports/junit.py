"""junit.xml: one testsuite per scenario, one testcase per workload, so CI lists misses by name."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from chaos.journal import RunRecord
from chaos.measurement.results import ScenarioResult
from chaos.reports import format as fmt


def render_junit(run: RunRecord, results: list[ScenarioResult]) -> ET.ElementTree:
    """`time` of a testcase is its measured RTO (0 when none): what CI dashboards chart."""
    root = ET.Element("testsuites", name=f"securecart-dr game day ({run.stack} on {run.target})")
    suites: dict[str, ET.Element] = {}
    for result in results:
        suite = suites.get(result.scenario)
        if suite is None:
            suite = suites[result.scenario] = ET.SubElement(root, "testsuite", name=result.scenario)
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"chaos.{result.scenario}",
            name=result.workload,
            time=f"{result.rto_seconds or 0.0:.3f}",
        )
        if result.skipped:
            ET.SubElement(case, "skipped", message=result.skip_reason or "not applicable")
            continue
        if result.stopped:  # not a missed target: the run stopped before it could be judged
            error = ET.SubElement(case, "error", message="; ".join(result.notes[:1]),
                                  type=result.stopped.capitalize())
            error.text = _figures(result)
        elif not result.passed:
            failure = ET.SubElement(case, "failure", message="; ".join(result.reasons), type="TargetMissed")
            failure.text = _figures(result)
        ET.SubElement(case, "system-out").text = _figures(result)

    for element in [root, *suites.values()]:
        counted = list(element.iter("testcase"))
        element.set("tests", str(len(counted)))
        element.set("failures", str(sum(1 for c in counted if c.find("failure") is not None)))
        element.set("skipped", str(sum(1 for c in counted if c.find("skipped") is not None)))
        element.set("errors", str(sum(1 for c in counted if c.find("error") is not None)))
    return ET.ElementTree(root)


def write_junit(path: str | Path, run: RunRecord, results: list[ScenarioResult]) -> Path:
    path = Path(path)
    tree = render_junit(run, results)
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)
    return path


def _figures(result: ScenarioResult) -> str:
    return (
        f"{result.workload} ({result.strategy}, {result.kind}) under {result.scenario}: "
        f"RTO {fmt.rto(result)} (target {fmt.target(result.rto_target_seconds)}), "
        f"RPO {fmt.rpo(result)} (target {fmt.target(result.rpo_target_seconds)}), "
        f"lost {fmt.lost_of_acked(result)} acknowledged writes"
    )
