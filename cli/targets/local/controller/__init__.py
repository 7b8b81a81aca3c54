"""A local stack's controller: the fleet at its desired size, a balancer per listener, the
truth about them in the emulator, and their metrics in its CloudWatch (see `main.py`)."""
