"""What the tables say, without widgets: the clock-skew warning and the sparkline."""

from __future__ import annotations

from chain.engine import ChainEngine
from ketenwacht.startup import load_topology
from tests.chain import factory as f
from tui import format as fmt
from tui.rows import org_rows


def test_an_agent_ten_minutes_off_is_flagged_in_the_overview() -> None:
    """An ONLINE agent whose clock is 10 minutes behind gets a warning as its cause."""
    engine = ChainEngine(load_topology(None))
    beat = f.heartbeat(seq=2)
    at = beat.ts.timestamp() + 600
    engine.monitor_connected(at - 1)
    engine.apply(f.online(), received_at=at - 1)
    engine.apply(beat, received_at=at)
    row = next(r for r in org_rows(engine.view(at)) if r.key == "om")
    assert row.state == "online"
    assert row.cells["cause"] == "⚠ agent clock off by -600s"


def test_sparkline_scales_between_min_and_max() -> None:
    """The lowest value is the lowest bar, the highest the highest; flat is flat."""
    assert fmt.spark((1, 5, 9)) == "▁▄█"
    assert fmt.spark((3, 3)) == "▁▁"
    assert fmt.spark(()) == ""
