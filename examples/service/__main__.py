"""`python -m perfenv.examples.service --port P [...]`: see `perfenv.examples.service.cli`."""

from perfenv.examples.service.cli import main

main()
