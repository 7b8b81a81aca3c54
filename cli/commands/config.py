"""Commands: config (owned by its issue; registers on cli.commands.app)."""
