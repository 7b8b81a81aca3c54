"""`python -m perfenv.cli.targets.local.controller SPEC.json`: see `main.py`."""

import sys

from perfenv.cli.detached import end_process
from perfenv.cli.targets.local.controller.main import main

main(sys.argv[1:])
end_process(0)  # everything it started is stopped: destroy waits on this exit
