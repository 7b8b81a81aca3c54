"""Fakes for the lifecycle tests: a Target, a suite runner, Automation API stacks, `pulumi`."""
