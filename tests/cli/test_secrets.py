"""Secrets stay out of reports and children: URLs without user info or query in the manifest,
results and logs; children without the passphrase or cloud credentials; the baseline label in
report.html escaped."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from perfenv.cli.detached import child_env, spawn_detached
from perfenv.cli.errors import BadInput
from perfenv.cli.lifecycle.testrun import run_suite
from perfenv.cli.reports.html import report_html
from perfenv.cli.state.manifest import new_manifest
from perfenv.cli.state.store import open_store
from perfenv.cli.state.urls import redact_url, restore
from perfenv.cli.verdict.suite import load_suite
from tests.cli.lifecycle.test_testrun import _suite_file, fake_engine
from tests.cli.reports.test_reports import _doc

SECRET = "s3cr3t-do-not-leak"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"s3://bucket/state?region=eu-west-1&profile={SECRET}", "s3://bucket/state"),
        (f"https://ci:{SECRET}@api.pulumi.com/?token={SECRET}#x", "https://api.pulumi.com/"),
        ("file:///home/ci/.perfenv/pulumi", "file:///home/ci/.perfenv/pulumi"),
        (f"http://{SECRET}@[::1]:8080/path?{SECRET}", "http://[::1]:8080/path"),
        ("http://[::1", "<malformed URL>"),
    ],
)
def test_urls_are_written_without_user_info_or_query(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_the_manifest_and_the_store_name_urls_without_secrets(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    backend = f"s3://pulumi-state?region=eu-west-1&profile={SECRET}"
    manifest = new_manifest(
        stack="perf-1-0-0-abc123",
        target="aws",
        backend=backend,
        state_url=f"file://{tmp_path}?key={SECRET}",
        release="1.0.0",
        tags={},
        ttl_s=60,
        out_dir=None,
        account="111111111111",
    )
    assert SECRET not in manifest.model_dump_json()
    assert restore(manifest.backend, backend) == backend  # the environment's, for teardown
    assert restore(manifest.backend, "s3://another-bucket") == manifest.backend
    assert SECRET not in open_store(f"file://{tmp_path}/state?key={SECRET}").url


def test_no_report_of_a_run_holds_the_urls_secrets(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake_engine(monkeypatch)
    suite = load_suite(_suite_file(tmp_path))
    url = f"http://ci:{SECRET}@127.0.0.1:9/"
    outcome = run_suite(suite, url, tmp_path / "out", release="1.0.0")
    assert outcome.results["target"]["url"] == "http://127.0.0.1:9"
    for path in (tmp_path / "out").iterdir():
        assert SECRET not in path.read_text(errors="replace"), path.name
    # A query would be sent before each request's path: refused, and not echoed.
    with pytest.raises(BadInput, match="takes no query") as refused:
        run_suite(suite, f"{url}?token={SECRET}", tmp_path / "out2", release="1.0.0")
    assert SECRET not in str(refused.value)


def test_children_get_no_passphrase_and_no_cloud_credentials(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", SECRET)
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE_FILE", "/run/secrets/passphrase")
    monkeypatch.setenv("PULUMI_BACKEND_URL", f"s3://b?profile={SECRET}")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", SECRET)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", "/secret.json")
    log = tmp_path / "child.log"
    code = "import json, os; print(json.dumps(dict(os.environ)))"
    proc = spawn_detached(["python3", "-c", code], log, env={**os.environ, "EXTRA": "1"})
    try:
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    seen = json.loads(log.read_text())
    assert SECRET not in json.dumps(seen)
    for name in ("PULUMI_CONFIG_PASSPHRASE_FILE", "GOOGLE_APPLICATION_CREDENTIALS"):
        assert name not in seen
    assert seen["AWS_SHARED_CREDENTIALS_FILE"] == os.devnull  # nowhere else to find any
    assert seen["AWS_EC2_METADATA_DISABLED"] == "true"
    assert seen["EXTRA"] == "1" and seen["PERFENV_HOME"] == os.environ["PERFENV_HOME"]
    assert child_env({"AWS_ACCESS_KEY_ID": "x", "PATH": "/bin"})["PATH"] == "/bin"


def test_the_baseline_label_in_report_html_is_escaped() -> None:
    label = "<script>alert('x')</script>/results.json"
    comparison = {"baseline": label, "regressed": False, "scenarios": []}
    page = report_html(_doc(comparison=comparison))
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
