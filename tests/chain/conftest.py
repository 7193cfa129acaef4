"""Shared fixtures for the domain core: the seed topology, and an engine connected at T0."""

from __future__ import annotations

import pytest

from chain.engine import ChainEngine
from chain.topology import Topology
from ketenwacht.startup import load_topology
from tests.chain.factory import T0_EPOCH


@pytest.fixture(scope="session")
def topology() -> Topology:
    return load_topology(None)


@pytest.fixture
def connected(topology: Topology) -> ChainEngine:
    """An engine whose monitor connected at T0 (17 Jul 2025 09:00 UTC)."""
    engine = ChainEngine(topology)
    engine.monitor_connected(T0_EPOCH)
    return engine
