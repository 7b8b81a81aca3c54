"""junit.xml: a test case per scenario and per budget, so CI shows what broke by name."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from perfenv.cli.verdict.budgets import value_text


def _case(suite: ET.Element, classname: str, name: str, seconds: float) -> ET.Element:
    return ET.SubElement(suite, "testcase", classname=classname, name=name, time=f"{seconds:.3f}")


def _mark(case: ET.Element, verdict: str, message: str) -> int:
    """Add a failure or error element; return 1 for a failure, 0 otherwise."""
    if verdict == "fail":
        ET.SubElement(case, "failure", type="budget", message=message).text = message
        return 1
    if verdict == "invalid":
        ET.SubElement(case, "error", type="invalid", message=message).text = message
    if verdict == "skipped":
        ET.SubElement(case, "skipped", message=message)
    return 0


def junit_xml(doc: dict[str, Any]) -> str:
    suite_name = doc["suite"]["name"]
    root = ET.Element("testsuites", name=f"perfenv {suite_name}")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    moved = {s["scenario"]: s for s in (doc.get("comparison") or {}).get("scenarios", [])}
    for scenario in doc["scenarios"]:
        name = scenario["name"]
        classname = f"perfenv.{suite_name}.{name}"
        seconds = float(scenario["plan"]["duration_s"]) * max(1, len(scenario["runs"]))
        ts = ET.SubElement(root, "testsuite", name=f"{suite_name}.{name}")
        tests = failures = errors = 0

        case = _case(ts, classname, f"scenario {name} ({scenario['kind']})", seconds)
        message = scenario["reason"] or scenario["verdict"]
        failures += _mark(case, scenario["verdict"], f"scenario {name}: {message}")
        errors += scenario["verdict"] == "invalid"
        tests += 1

        for budget in scenario["budgets"]:
            case = _case(ts, classname, f"budget {budget['budget']}", 0.0)
            measured = value_text(budget["metric"], budget["value"])
            verdict = "invalid" if scenario["verdict"] == "invalid" else budget["verdict"]
            text = f"budget {budget['budget']} {'breached' if verdict == 'fail' else verdict}"
            failures += _mark(case, verdict, f"{text}: measured {measured}")
            errors += verdict == "invalid"
            tests += 1

        if name in moved:
            comparison = moved[name]
            case = _case(ts, classname, f"no regression vs {doc['comparison']['baseline']}", 0.0)
            if comparison.get("regressed"):
                ET.SubElement(
                    case, "failure", type="regression", message=comparison.get("summary", "")
                ).text = comparison.get("summary", "")
                failures += 1
            tests += 1

        ts.set("tests", str(tests))
        ts.set("failures", str(failures))
        ts.set("errors", str(errors))
        ts.set("time", f"{seconds:.3f}")
        totals["tests"] += tests
        totals["failures"] += failures
        totals["errors"] += errors
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(doc: dict[str, Any], path: Path) -> Path:
    path.write_text(junit_xml(doc))
    return path
