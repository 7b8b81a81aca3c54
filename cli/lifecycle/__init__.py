"""The ephemeral run and its halves: up, down, run, stacks, reap (docs/design.md#the-ephemeral-run).

Checks come first, before anything exists; then the manifest (registry and out dir); then the
stack; then the suite; then, always, teardown: destroy, the leftovers check, stack removal and
the registry entry's deletion. Signals follow `perfenv.cli.state.signals`.

Every entry point takes `use: Deps` (what it calls out to) explicitly. The package's modules:
`guards` (the production refusal), `checks`, `deps`, `naming`, `cleanup` (teardown), `runner`
(run), `up_down`, `ephemeral` (stacks, reap, a stack's service_url), `testrun` (a suite).
"""

from __future__ import annotations

from perfenv.cli.durations import DEFAULT_TTL
from perfenv.cli.lifecycle.checks import (
    HEALTH_TIMEOUT_S,
    SETUP_MARGIN_S,
    check_baseline,
    check_cost,
    check_parity_cached,
    check_ttl,
    close_cost,
    cost_section,
    load_template,
    parse_ttl,
    record_cost,
    setup_margin_s,
    wait_healthy,
)
from perfenv.cli.lifecycle.cleanup import Teardown, teardown, teardown_message
from perfenv.cli.lifecycle.deps import Deps, TargetFactory
from perfenv.cli.lifecycle.ephemeral import (
    Ephemeral,
    list_ephemeral,
    reap,
    service_url,
    stack_probe,
    stack_telemetry,
    stacks,
)
from perfenv.cli.lifecycle.guards import not_production
from perfenv.cli.lifecycle.naming import (
    PROJECT,
    TAG,
    backend_of,
    new_stack_name,
    owner,
    run_tags,
    target_for,
    with_run,
)
from perfenv.cli.lifecycle.run_report import RECORD_COLUMNS, RunOptions, RunReport
from perfenv.cli.lifecycle.runner import run
from perfenv.cli.lifecycle.up_down import Outcome, down_manifest, down_stack, up_release, up_stack
from perfenv.cli.state.releases import release_slug

__all__ = [
    "DEFAULT_TTL",
    "HEALTH_TIMEOUT_S",
    "PROJECT",
    "RECORD_COLUMNS",
    "SETUP_MARGIN_S",
    "TAG",
    "Deps",
    "Ephemeral",
    "Outcome",
    "RunOptions",
    "RunReport",
    "TargetFactory",
    "Teardown",
    "backend_of",
    "check_baseline",
    "check_cost",
    "check_parity_cached",
    "check_ttl",
    "close_cost",
    "cost_section",
    "down_manifest",
    "down_stack",
    "list_ephemeral",
    "load_template",
    "new_stack_name",
    "not_production",
    "owner",
    "parse_ttl",
    "reap",
    "record_cost",
    "release_slug",
    "run",
    "run_tags",
    "service_url",
    "stack_probe",
    "stack_telemetry",
    "setup_margin_s",
    "stacks",
    "target_for",
    "teardown",
    "teardown_message",
    "up_release",
    "up_stack",
    "wait_healthy",
    "with_run",
]
