"""Where a stack lives: the `Target` protocol and its implementations (local, aws)."""
