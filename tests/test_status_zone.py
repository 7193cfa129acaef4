"""`status` shows times in the topology's zone, as the screen and the report do."""

from __future__ import annotations

import pytest

from chain.engine import ChainEngine
from chain.topology import Topology
from ketenwacht.startup import load_topology
from ketenwacht.status import as_text
from tests.chain import factory as f
from tests.chain.factory import T0_EPOCH
from tui.format import zone_of


@pytest.mark.usefixtures("new_york")
def test_status_text_is_in_the_topologys_zone() -> None:
    """om stopped at 09:00 UTC: 11:00 in Amsterdam on the status line, not New York's 05:00."""
    topology: Topology = load_topology(None)
    engine = ChainEngine(topology)
    engine.monitor_connected(T0_EPOCH - 60)
    engine.apply(f.online(), received_at=T0_EPOCH - 30)
    engine.apply(f.offline(seq=2, cause="stopped"), received_at=T0_EPOCH)
    text = as_text(engine.evaluate(T0_EPOCH + 60), zone_of(topology.timezone))
    line = next(line for line in text.splitlines() if line.startswith("om "))
    assert "11:00:00" in line and "05:00:00" not in line, line
