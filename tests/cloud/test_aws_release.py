"""The one real-cloud test: `perfenv run --target aws` of the smoke suite in a real account.

Opt-in only: `pytest -m cloud` (the default run and `make test` deselect the marker). Without
AWS credentials in the environment it is collected and skipped, with one reason. With them it
needs what README.md's "First run on AWS" lists (the account allowlist, an S3 state store and
Pulumi backend, the Pulumi CLI, the published runtime artifact, an allowed Kubernetes context
or `kubernetes.enabled: false`) and creates, measures and destroys a real perf stack: it costs
money (`perfenv cost estimate --stack perf`), and its `--max-cost` caps the estimate.

The credentials are read from the environment as it was when the test was collected: the
suite's autouse fixture (tests/conftest.py) replaces them with fakes for every other test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

REAL_ENV = dict(os.environ)  # before tests/conftest.py's fakes
CREDENTIALS = (
    ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"),
    ("AWS_PROFILE",),
    ("AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"),
)
NEEDED = ("PERFENV_AWS_ACCOUNTS", "PERFENV_STATE_URL", "PULUMI_BACKEND_URL")


def _why_not(env: dict[str, str]) -> str | None:
    """Why the test cannot run here, in one sentence; None if it can."""
    if not any(all(env.get(name) for name in names) for names in CREDENTIALS):
        return (
            "no AWS credentials in the environment (AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or a web identity): the real-cloud test "
            "runs only against an account you give it"
        )
    missing = [name for name in NEEDED if not env.get(name)]
    if missing or not env.get("PERFENV_STATE_URL", "").startswith("s3://"):
        return (
            f"AWS credentials but not the rest of README.md's first run on AWS: set "
            f"{', '.join(missing) or 'PERFENV_STATE_URL=s3://BUCKET/PREFIX'}"
        )
    return None


WHY_NOT = _why_not(REAL_ENV)


@pytest.mark.cloud
@pytest.mark.skipif(WHY_NOT is not None, reason=WHY_NOT or "")
def test_a_release_runs_on_aws_and_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    env = {**REAL_ENV, "PERFENV_HOME": str(tmp_path / "home")}
    run = subprocess.run(
        [sys.executable, "-m", "perfenv.cli.main", "run", "--release", "0.0.0-cloud"]
        + ["--target", "aws", "--suite", "suites/smoke.yaml", "--workers", "1"]
        + ["--max-cost", "5", "--out", str(out), "--format", "json"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
        stdin=subprocess.DEVNULL,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    record = json.loads(run.stdout)
    assert record["leftovers"] == 0 and record["status"] == "done"
    results = json.loads((out / "results.json").read_text())
    (scenario,) = results["scenarios"]
    (measured,) = scenario["runs"]
    assert len(measured["generator"]["instances"]) == scenario["plan"]["workers"] == 1
    assert results["target"]["kind"] == "aws"


def test_without_credentials_the_reason_is_one_clear_sentence() -> None:
    assert _why_not({}) is not None and "no AWS credentials" in (_why_not({}) or "")
    with_keys = {"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"}
    assert "PERFENV_AWS_ACCOUNTS" in (_why_not(with_keys) or "")
    ready = with_keys | dict.fromkeys(NEEDED, "s3://bucket/prefix")
    assert _why_not(ready) is None
