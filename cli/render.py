"""The one place that turns command results into every `--format`."""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from enum import StrEnum
from typing import Any

Row = Mapping[str, Any]


class Format(StrEnum):
    table = "table"
    json = "json"
    md = "md"
    csv = "csv"
    html = "html"


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def cell(value: Any) -> str:
    """How one value reads in a table, Markdown, CSV or HTML cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list | tuple):
        return ", ".join(cell(v) for v in value)
    if isinstance(value, Mapping):
        return json.dumps(value, default=_default, sort_keys=True)
    return str(value)


def _columns(rows: Sequence[Row], columns: Sequence[str] | None) -> list[str]:
    if columns:
        return list(columns)
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    return list(seen)


def to_json(data: Any) -> str:
    return json.dumps(data, indent=2, default=_default)


def render(
    data: Sequence[Row] | Row,
    fmt: Format,
    *,
    columns: Sequence[str] | None = None,
    title: str | None = None,
) -> str:
    """Render rows (or one record) as text in `fmt`. JSON keeps the full structure."""
    if fmt is Format.json:
        return to_json(data)
    rows: Sequence[Row] = [data] if isinstance(data, Mapping) else data
    cols = _columns(rows, columns)
    cells = [[cell(row.get(c)) for c in cols] for row in rows]
    if fmt is Format.csv:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(cols)
        writer.writerows(cells)
        return out.getvalue()
    if fmt is Format.md:
        esc = [[c.replace("|", "\\|") for c in r] for r in cells]
        lines = [f"### {title}", ""] if title else []
        lines += ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        lines += ["| " + " | ".join(r) + " |" for r in esc]
        return "\n".join(lines) + "\n"
    if fmt is Format.html:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in r) + "</tr>" for r in cells
        )
        caption = f"<caption>{html.escape(title)}</caption>" if title else ""
        return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>\n"
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(cols)]
    lines = [title] if title else []
    lines.append("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip())
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines) + "\n"
