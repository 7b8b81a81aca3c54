"""`python -m examples.service --port P [...]`: see `examples.service.cli`."""

from examples.service.cli import main

main()
