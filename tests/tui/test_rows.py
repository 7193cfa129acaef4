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


def test_a_channel_reading_too_old_to_say_anything_is_not_shown_up() -> None:
    """No reading is "—"; a reading older than three of the agent's intervals is "? … old",
    never "✓ up": an old "up" is no news, and no data is not health."""
    engine = ChainEngine(load_topology(None))
    at = f.T0_EPOCH
    engine.monitor_connected(at)
    engine.apply(f.online(interval=5.0), received_at=at)
    engine.apply(f.channel(up=True, seq=2), received_at=at)

    def email(now: float) -> str:
        return next(r for r in org_rows(engine.view(now)) if r.key == "om").cells["email"]

    assert email(at + 1).startswith("✓")
    assert email(at + 16) == "? 16s old"
    assert engine.view(at + 16).org("om").channel("email").current is False  # type: ignore[union-attr]
    phone = next(r for r in org_rows(engine.view(at + 1)) if r.key == "om").cells["phone"]
    assert phone == fmt.NONE
