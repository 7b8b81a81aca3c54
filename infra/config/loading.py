"""Loading stack files: YAML to validated `StackFile`s, with `file: field: message` errors."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from perfenv.infra.config.budgets import CostConfig
from perfenv.infra.config.environment import EnvironmentConfig, RunConfig, Team
from perfenv.infra.config.model import Model
from perfenv.infra.errors import ConfigError
from perfenv.infra.files import read_text

# libyaml's loader where it is built in: ~7x faster on many stack files (the cost report reads all)
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

ENVIRONMENT_KEY = "perfenv:environment"
COST_KEY = "perfenv:cost"
RUN_KEY = "perfenv:run"
TEAM_KEY = "perfenv:team"  # the team that pays for the stack (its `perfenv:team` tag)


class StackFile(Model):
    """One `stacks/Pulumi.<stack>.yaml`, validated."""

    stack: str
    path: Path
    environment: EnvironmentConfig | None = None
    cost: CostConfig | None = None
    run: RunConfig = RunConfig()
    team: Team | None = None


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def format_errors(where: str, error: ValidationError, prefix: str = "") -> list[str]:
    """`file: field.path: message` for each pydantic error."""
    lines = []
    for err in error.errors():
        loc = ".".join(str(part) if isinstance(part, str) else f"[{part}]" for part in err["loc"])
        loc = (prefix + "." + loc if loc else prefix).replace(".[", "[").strip(".")
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        if not err["loc"] and ": " in msg:  # model-level rules name their field first
            field, msg = msg.split(": ", 1)
            loc = f"{prefix}.{field}".strip(".")
        lines.append(f"{where}: {loc or '(top)'}: {msg}")
    return lines


def stack_name(path: Path) -> str:
    match = re.fullmatch(r"Pulumi\.(.+)\.yaml", path.name)
    if not match:
        raise ConfigError([f"{_display(path)}: (file): name must be Pulumi.<stack>.yaml"])
    return match.group(1)


def parse_config(path: Path, config: dict[str, Any]) -> StackFile:
    """Validate a stack's config mapping (as in the file's `config:` section)."""
    where = _display(path)
    unknown = sorted(k for k in config if k.startswith("perfenv:"))
    unknown = [k for k in unknown if k not in (ENVIRONMENT_KEY, COST_KEY, RUN_KEY, TEAM_KEY)]
    if unknown:
        raise ConfigError([f"{where}: config.{k}: unknown key" for k in unknown])
    has_env, has_cost = ENVIRONMENT_KEY in config, COST_KEY in config
    if has_env == has_cost:
        raise ConfigError(
            [f"{where}: config: needs exactly one of {ENVIRONMENT_KEY} or {COST_KEY}"]
        )
    lines: list[str] = []
    parsed: dict[str, Any] = {}
    for key, attr, model in (
        (ENVIRONMENT_KEY, "environment", EnvironmentConfig),
        (COST_KEY, "cost", CostConfig),
        (RUN_KEY, "run", RunConfig),
    ):
        if key in config:
            try:
                parsed[attr] = model.model_validate(config[key])
            except ValidationError as exc:
                lines += format_errors(where, exc)
    if TEAM_KEY in config:
        try:
            parsed["team"] = TypeAdapter(Team).validate_python(config[TEAM_KEY])
        except ValidationError as exc:
            lines += format_errors(where, exc, prefix=TEAM_KEY)
    if lines:
        raise ConfigError(lines)
    return StackFile(stack=stack_name(path), path=path, **parsed)


def read_config_text(path: Path, what: str) -> str:
    """The text of a config file; ConfigError in one line when it is missing, a directory,
    unreadable or not UTF-8."""
    where = _display(path)
    try:
        return read_text(path)
    except FileNotFoundError:
        raise ConfigError([f"{where}: (file): no such {what}"]) from None
    except IsADirectoryError:
        raise ConfigError([f"{where}: (file): a directory, not a {what}"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{where}: (file): not UTF-8 text"]) from None
    except OSError as exc:
        raise ConfigError([f"{where}: (file): unreadable ({exc.strerror or exc})"]) from None


def non_string_key(data: object, at: str = "") -> str | None:
    """Where a mapping in `data` has a key that is not a string (YAML allows `1:`, `true:`,
    `null:`), as a dotted path; None when every key is a string."""
    if isinstance(data, dict):
        for key, value in data.items():
            here = f"{at}.{key}" if at else str(key)
            if not isinstance(key, str):
                return here
            found = non_string_key(value, here)
            if found is not None:
                return found
    elif isinstance(data, list):
        for index, item in enumerate(data):
            found = non_string_key(item, f"{at}[{index}]")
            if found is not None:
                return found
    return None


def load_stack_file(path: Path) -> StackFile:
    """Read and validate one stack file; raises ConfigError with `file: field: message`."""
    where = _display(path)
    text = read_config_text(path, "stack file")
    try:
        data = yaml.load(text, Loader=_YAML_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"line {mark.line + 1}" if mark is not None else "(yaml)"
        raise ConfigError([f"{where}: {at}: malformed YAML"]) from None
    except RecursionError:
        raise ConfigError([f"{where}: (yaml): nested too deeply"]) from None
    bad_key = non_string_key(data)
    if bad_key is not None:
        raise ConfigError([f"{where}: {bad_key}: keys must be strings"])
    if not isinstance(data, dict) or not isinstance(data.get("config"), dict):
        raise ConfigError([f"{where}: config: missing or not a mapping"])
    extra = sorted(set(data) - {"config", "secretsprovider", "encryptionsalt", "encryptedkey"})
    if extra:
        raise ConfigError([f"{where}: {k}: unknown key" for k in extra])
    return parse_config(path, data["config"])


def check_disjoint(files: Iterable[StackFile]) -> list[str]:
    """`file: network.cidr: overlaps ...` for every pair of environment stacks that overlap."""
    envs = [f for f in files if f.environment is not None]
    lines = []
    for i, a in enumerate(envs):
        for b in envs[i + 1 :]:
            assert a.environment is not None and b.environment is not None
            net_a = ipaddress.IPv4Network(a.environment.network.cidr)
            net_b = ipaddress.IPv4Network(b.environment.network.cidr)
            if net_a.overlaps(net_b):
                lines.append(
                    f"{_display(b.path)}: network.cidr: {net_b} overlaps {net_a} "
                    f"of {_display(a.path)}"
                )
    return lines


def default_stacks_dir() -> Path:
    """The current project's stack config dir (`perfenv.infra.project`)."""
    from perfenv.infra.project import stacks_dir

    return stacks_dir()


def load_all(stacks_dir: Path | None = None) -> list[StackFile]:
    """Every stack file under stacks_dir (default: `default_stacks_dir()`), validated, plus the
    cross-stack rules."""
    if stacks_dir is None:
        stacks_dir = default_stacks_dir()
    files: list[StackFile] = []
    lines: list[str] = []
    for path in sorted(stacks_dir.glob("Pulumi.*.yaml")):
        try:
            files.append(load_stack_file(path))
        except ConfigError as exc:
            lines += exc.lines
    lines += check_disjoint(files)
    if lines:
        raise ConfigError(lines)
    return files


def environment_files(files: Iterable[StackFile]) -> list[StackFile]:
    return [f for f in files if f.environment is not None]
