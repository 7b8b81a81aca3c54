"""The shape of the environment a suite ran on, stored with its results (`target.shape`).

Two runs are comparable without a caveat only on the same shape: the perf stack's scale fields
(sizes, counts, instance types; not its cost budgets or capacity expectations, which do not
change how it performs), or,
for `perfenv test --url`, the URL's origin. A comparison across shapes is allowed and names the
difference ("baseline ran on c6i.large x2, this run on c6i.large x3").
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import urlsplit

from perfenv.infra.config import EnvironmentConfig, scale_fields

# Scale fields that do not change how the environment performs.
_NOT_SHAPE = ("budgets", "capacity")


def _value(model: Any, path: str) -> Any:
    value = model
    for part in path.split("."):
        value = getattr(value, part)
    return value.model_dump(mode="json") if hasattr(value, "model_dump") else value


def _fingerprint(fields: dict[str, Any]) -> str:
    text = json.dumps(fields, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def describe(env: EnvironmentConfig) -> str:
    """What the service runs on, in a few words: `c6i.large x2` or `2 pods (500m, 512Mi)`."""
    if env.app.platform == "kubernetes":
        return f"{env.app.replicas} pods ({env.app.cpu_limit}, {env.app.memory_limit})"
    return f"{env.fleet.instance_type} x{env.fleet.desired}"


def environment_shape(env: EnvironmentConfig) -> dict[str, Any]:
    paths = sorted(p for p in scale_fields(EnvironmentConfig) if not p.startswith(_NOT_SHAPE))
    fields = {path: _value(env, path) for path in paths}
    fields["app.platform"] = env.app.platform
    return {"fingerprint": _fingerprint(fields), "description": describe(env), "fields": fields}


def url_shape(url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
    return {"fingerprint": _fingerprint({"url": origin}), "description": origin, "fields": {}}


def shape_note(baseline: dict[str, Any] | None, candidate: dict[str, Any] | None) -> str:
    """'' when both ran on the same shape; else a sentence naming the difference."""
    if baseline is None:
        return "the baseline's environment shape is unknown (stored before shapes were recorded)"
    if candidate is None or baseline.get("fingerprint") == candidate.get("fingerprint"):
        return ""
    b_fields, c_fields = baseline.get("fields") or {}, candidate.get("fields") or {}
    changed = [
        f"{k} {b_fields.get(k)} -> {c_fields.get(k)}"
        for k in sorted(set(b_fields) | set(c_fields))
        if b_fields.get(k) != c_fields.get(k)
    ]
    detail = f" ({'; '.join(changed)})" if changed else ""
    return (
        f"baseline ran on {baseline.get('description')}, "
        f"this run on {candidate.get('description')}{detail}"
    )
