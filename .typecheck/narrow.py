"""Write narrowed `__init__.pyi` stubs of the Pulumi provider packages for mypy (docs/adr/0012).

pulumi_aws's `__init__.py` imports all of its ~250 subpackages under `typing.TYPE_CHECKING`, so
any `import pulumi_aws.ec2` made mypy read the whole provider (3,100 modules, 3.3 GB, minutes);
pulumi_kubernetes does the same. The stub written here for such a package is the package's own
`__init__.py` with that block cut down to the subpackages perfenv's code names (found by reading
`cli/` and `infra/`). Everything perfenv uses keeps the provider's own types: mypy finds the
subpackages themselves in site-packages, behind these stubs. A subpackage named nowhere in the
code is simply absent to mypy, which then reports `Module "pulumi_aws" has no attribute ...`.

Run by `make lint` (the stubs are generated, not committed: they follow the installed version).
"""

from __future__ import annotations

import re
import shutil
import sys
import sysconfig
from collections import defaultdict
from pathlib import Path

PROVIDERS = ("pulumi_aws", "pulumi_kubernetes")
MARKER = "# Make subpackages available:"
HERE = Path(__file__).resolve().parent
SOURCES = (HERE.parent / "cli", HERE.parent / "infra")
_NAMES = "|".join(PROVIDERS)
_DOTTED = re.compile(rf"\b((?:{_NAMES})(?:\.\w+)+)")
_ALIAS = re.compile(rf"^\s*import\s+((?:{_NAMES})(?:\.\w+)*)\s+as\s+(\w+)", re.M)
_FROM = re.compile(rf"^\s*from\s+((?:{_NAMES})(?:\.\w+)*)\s+import\s+([\w, ]+)", re.M)


def used_chains(text: str) -> set[str]:
    """Every dotted name under a provider package that `text` spells, aliases resolved."""
    chains = set(_DOTTED.findall(text))
    for module, alias in _ALIAS.findall(text):
        chains |= {module + rest for rest in re.findall(rf"\b{alias}((?:\.\w+)+)", text)}
    for module, names in _FROM.findall(text):
        chains |= {f"{module}.{name.strip()}" for name in names.split(",") if name.strip()}
    return chains


def kept(chains: set[str]) -> dict[str, set[str]]:
    """package -> the subpackage names the code reaches through it."""
    keep: dict[str, set[str]] = defaultdict(set)
    for chain in chains:
        parts = chain.split(".")
        for depth in range(1, len(parts)):
            keep[".".join(parts[:depth])].add(parts[depth])
    return keep


def narrowed(init: str, names: set[str]) -> str | None:
    """`init` with its TYPE_CHECKING imports cut down to `names` (None: it has no such block)."""
    head, marker, _ = init.partition(MARKER)
    if not marker:
        return None
    imports = "".join(f"from . import {name} as {name}\n" for name in sorted(names))
    return f"{head}# Narrowed by .typecheck/narrow.py to the subpackages perfenv uses:\n{imports}"


def main() -> None:
    site = Path(sysconfig.get_paths()["purelib"])
    for provider in PROVIDERS:  # stubs of an earlier run may name what the code no longer uses
        shutil.rmtree(HERE / provider, ignore_errors=True)
    chains: set[str] = set()
    for root in SOURCES:
        for path in root.rglob("*.py"):
            chains |= used_chains(path.read_text(encoding="utf-8"))
    for package, names in sorted(kept(chains).items()):
        init = site.joinpath(*package.split("."), "__init__.py")
        if not init.is_file():
            continue
        subpackages = {n for n in names if (init.parent / n / "__init__.py").is_file()}
        stub = narrowed(init.read_text(encoding="utf-8"), subpackages)
        if stub is None:
            continue
        target = HERE.joinpath(*package.split("."), "__init__.pyi")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(stub, encoding="utf-8")
        print(
            f"{target.relative_to(HERE.parent)}: {', '.join(sorted(subpackages))}", file=sys.stderr
        )


if __name__ == "__main__":
    main()
