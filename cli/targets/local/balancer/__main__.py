"""`python -m perfenv.cli.targets.local.balancer SPEC.json`: see `server.py`."""

import sys

from perfenv.cli.targets.local.balancer.server import main

main(sys.argv[1:])
