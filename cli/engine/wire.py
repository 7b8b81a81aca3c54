"""What the generator processes tell the CLI: JSON records, one a line, in the run's out file.

- `start`  {proc, wall}: a driver began its schedule (wall: Unix time of its second 0)
- `window` {proc, t, planned, sent, ok, errors, hist, kinds, codes, late, dropped, lag_ms,
           slot_waits, expired}: one scheduled second of one driver, once every arrival in it
           finished (`codes`: responses by HTTP status)
- `tick`   {proc, cpu, loop_lag_ms, inflight, slots}: each wall second, a process's CPU (% of
           one core) and how late its event loop woke a 50 ms sleeper, at worst
- `done`   {proc, cpu_s, endpoints: {name: {count, errors, hist}}}: a driver's steady-state
           totals, and its CPU seconds over the schedule
- `error`  {kind, message}: the driver could not start (kind "locustfile": the user's file)

`proc` is the driver's share index (0..shares-1), or MASTER_PROC for Locust's master.
Histograms are encoded HdrHistograms (base64 text) in microseconds.
"""

from __future__ import annotations

from typing import Any

MESSAGE_TYPE = "perfenv"  # Locust custom message carrying a record from a worker to the master
MASTER_PROC = -1

# A send later than this behind its schedule, for a reason other than waiting for a free
# connection, is the generator falling behind.
LATE_SEND_MS = 100.0

PLAN_ENV = "PERFENV_ENGINE_PLAN"
OUT_ENV = "PERFENV_ENGINE_OUT"
ROLE_ENV = "PERFENV_ENGINE_ROLE"  # single | master | worker

Record = dict[str, Any]
