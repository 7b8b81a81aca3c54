"""Type errors that `make lint` must keep finding (docs/adr/0012). Never imported or run.

Each line below is a type error that mypy reports and the `type: ignore[code]` accepts. Were the
code a line calls to lose its types (the narrowed provider stubs turning a subpackage into Any,
a package of ours skipped or read as Any), mypy would no longer report the error, the ignore
would be unused, and strict mypy (`warn_unused_ignores`) fails on an unused ignore.
"""

import pulumi_aws
import pulumi_aws.ec2
import pulumi_kubernetes as k8s

from perfenv.cli.durations import parse_duration
from perfenv.infra.project import load_project

pulumi_aws.ec2.Vpc("canary", cidr_block=10)  # type: ignore[call-overload]
pulumi_aws.get_availability_zones_output(state=1)  # type: ignore[arg-type]
pulumi_aws.lb.TargetGroup("canary", port="80")  # type: ignore[call-overload]
k8s.core.v1.Namespace("canary", metadata=3)  # type: ignore[call-overload]
parse_duration(3)  # type: ignore[arg-type]
load_project(start="here")  # type: ignore[arg-type]
