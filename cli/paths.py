"""Where perfenv keeps its local files: `PERFENV_HOME`, else `.perfenv/` in the checkout."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def home() -> Path:
    return Path(os.environ.get("PERFENV_HOME") or REPO / ".perfenv")
