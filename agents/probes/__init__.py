"""Probes: each measures one thing of its organisation and turns it into a wire reading."""
