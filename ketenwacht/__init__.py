"""The `ketenwacht` command: the composition root that wires chain, broker, agents and tui."""
