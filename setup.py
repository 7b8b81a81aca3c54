"""Packages: the repo's `cli/`, `infra/` and `examples/` install as `perfenv.cli`, `perfenv.infra`
and `perfenv.examples` (one namespace: a team's own `infra/` never collides with ours).

Everything else about the distribution is in pyproject.toml.
"""

from setuptools import find_packages, setup

ROOTS = {
    "perfenv.cli": "cli",
    "perfenv.infra": "infra",
    "perfenv.examples": "examples",
    "perfenv.policy": "policy",
}

setup(
    package_dir=ROOTS,
    packages=[
        f"{namespace}.{package}" if package else namespace
        for namespace, directory in ROOTS.items()
        for package in ("", *find_packages(directory))
    ],
)
