"""The per-organisation agent daemon and the simulator that plays the chain."""
