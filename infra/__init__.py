"""The Pulumi program: what exists. Never imports cli."""
