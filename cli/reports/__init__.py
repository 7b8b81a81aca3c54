"""The run's reports, all written from the results document so they can be rebuilt from it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from perfenv.cli.reports.html import write_html
from perfenv.cli.reports.junit import write_junit
from perfenv.cli.reports.markdown import write_summary

REPORT_FILES = ("results.json", "junit.xml", "summary.md", "report.html")

__all__ = ["REPORT_FILES", "write_html", "write_junit", "write_reports", "write_summary"]


def write_reports(doc: dict[str, Any], out_dir: Path) -> list[Path]:
    """junit.xml, summary.md and report.html from `doc` (results.json is written by the caller)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    return [
        write_junit(doc, out_dir / "junit.xml"),
        write_summary(doc, out_dir / "summary.md"),
        write_html(doc, out_dir / "report.html"),
    ]
