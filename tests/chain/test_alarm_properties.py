"""Seeded property: a healthy link following its profile as a true Poisson stream is never
STALLED, STUCK or SLOW over days; stopped at any moment, it is STALLED within the bound
docs/alarms.md gives (the moment `level` messages were expected, plus one report)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from chain.engine import ChainEngine
from chain.flows import stall_level
from chain.views import LinkState
from ketenwacht.startup import load_topology
from tests.chain import factory as f
from tests.chain.traffic import Feed, declared_by

T0 = f.T0_EPOCH
DAYS = 3
LOOK = 600.0
"""A screen looks every ten minutes."""
ALARMS = {LinkState.STALLED, LinkState.STUCK, LinkState.SLOW}


@settings(max_examples=8, deadline=None, derandomize=True)
@given(link_id=st.sampled_from(["om-justid", "justid-justis", "politie-om", "om-cjib"]),
       seed=st.integers(0, 2**32 - 1), stop_after=st.floats(0.0, 7 * 86400.0))
def test_healthy_never_alarms_and_a_stop_is_always_declared_in_time(
    link_id: str, seed: int, stop_after: float
) -> None:
    engine = ChainEngine(load_topology(None))
    engine.monitor_connected(T0)
    feed = Feed(engine, link_id, seed=seed)
    feed.start(T0)
    at = T0
    while at < T0 + DAYS * 86400:
        at = feed.run(at, at + LOOK)
        link = engine.evaluate(at).link(link_id)
        assert link.state not in ALARMS, (at - T0, link)
    at = feed.run(at, at + stop_after % (4 * 86400))  # on to a moment of the week
    last = engine.view(at).link(link_id).last_movement
    assert last is not None
    bound = declared_by(engine, feed.link, last, stall_level(
        engine.topology.messages_per_year)) + feed.interval
    while at <= bound:
        at = feed.run(at, at + feed.interval, send=False)
    link = engine.view(at).link(link_id)
    assert link.state is LinkState.STALLED, link
    assert link.since is not None and link.since <= bound
