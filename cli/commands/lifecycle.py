"""Commands: lifecycle (owned by its issue; registers on cli.commands.app)."""
