"""A fake `pulumi` executable for the Automation API: logs each call and answers like the CLI.

`install(bin_dir, log)` writes it; each invocation appends its arguments (as JSON, without
`--non-interactive`) to `log`. `up` fails with a locked-stack error while the file
`<bin_dir>/locked` holds a number above zero (decremented per call).
"""

from __future__ import annotations

import sys
from pathlib import Path

SCRIPT = r"""
import json, os, sys
from pathlib import Path

BIN = Path(__file__).resolve().parent
args = [a for a in sys.argv[1:] if a != "--non-interactive"]
with open(os.environ["FAKE_PULUMI_LOG"], "a") as log:
    log.write(json.dumps(args) + "\n")

def has(*words):
    return all(w in args for w in words)

if args == ["version"]:
    print("v3.272.0")
elif args[:1] == ["up"]:
    locked = BIN / "locked"
    left = int(locked.read_text()) if locked.exists() else 0
    if left > 0:
        locked.write_text(str(left - 1))
        print("error: the stack is currently locked by 1 lock(s)", file=sys.stderr)
        sys.exit(255)
    print("Updating (perf):")
elif has("stack", "output"):
    print(json.dumps({"service_url": "http://perf.example"}))
elif has("stack", "history"):
    print(json.dumps([{
        "kind": "update", "startTime": "2026-11-27T12:00:00.000Z", "message": "",
        "environment": {}, "config": {}, "result": "succeeded",
        "endTime": "2026-11-27T12:01:00.000Z", "resourceChanges": {"create": 41},
    }]))
elif has("stack", "ls"):
    print("[]")
elif has("tag", "ls"):
    print("{}")
elif "--json" in args:
    print("{}")
"""


def install(bin_dir: Path) -> Path:
    bin_dir.mkdir(parents=True, exist_ok=True)
    script = bin_dir / "pulumi"
    script.write_text(f"#!{sys.executable}\n{SCRIPT}")
    script.chmod(0o755)
    return script
