"""The Pulumi program of this project: perfenv's environments, from the stack's config.

`perfenv init` writes this same file into a new project. The environment components are a
library (`perfenv.infra`): compose your own resources beside them here.
"""

from perfenv.infra.program import main

main()
