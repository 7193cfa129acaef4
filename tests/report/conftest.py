"""The report's model is folded from the core's engine: the core's fixtures serve here too."""

from __future__ import annotations

from tests.chain.conftest import connected, topology

__all__ = ["connected", "topology"]
