"""A matplotlib figure as inline SVG text (reports are self-contained pages)."""

from __future__ import annotations

import io
from typing import Any


def svg(figure: Any) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    text = buffer.getvalue()
    return text[text.index("<svg") :]
