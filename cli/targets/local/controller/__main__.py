"""`python -m perfenv.cli.targets.local.controller SPEC.json`: see `main.py`."""

import sys

from perfenv.cli.targets.local.controller.main import main

main(sys.argv[1:])
