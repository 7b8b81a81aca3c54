"""The `local` target: stacks realized in an embedded moto server, apps as local processes."""

from perfenv.cli.targets.local.target import LocalTarget

__all__ = ["LocalTarget"]
