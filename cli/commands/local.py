"""Commands: local (owned by its issue; registers on cli.commands.app)."""
