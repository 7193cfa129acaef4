"""Sessions that go back, and seq numbers that lie: a live agent never looks dead for them."""

from __future__ import annotations

from chain.engine import ChainEngine
from chain.orgs import SESSION_BACK_SHOWN
from chain.topology import Topology
from chain.views import OrgState
from tests.chain import factory as f
from tests.chain.factory import T0_EPOCH as T0


def engine_with_om_at_session_50(topology: Topology) -> ChainEngine:
    engine = ChainEngine(topology)
    engine.monitor_connected(T0)
    engine.apply(f.online(session=50, seq=1), received_at=T0)
    for seq in range(2, 6):
        engine.apply(f.heartbeat(session=50, seq=seq), received_at=T0 + 5 * (seq - 1))
    return engine


def test_a_birth_in_a_lower_session_is_online_with_a_warning(topology: Topology) -> None:
    """An agent reinstalled without its counter starts at 1: ONLINE, saying so, for an hour."""
    engine = engine_with_om_at_session_50(topology)
    engine.apply(f.online(session=1, seq=1), received_at=T0 + 60)
    for seq in range(2, 20):
        engine.apply(f.heartbeat(session=1, seq=seq), received_at=T0 + 60 + 5 * seq)
    om = engine.view(T0 + 160).org("om")
    assert (om.state, om.session) == (OrgState.ONLINE, 1)
    assert om.cause == "session went back from 50 to 1"
    later = T0 + 60 + SESSION_BACK_SHOWN + 1
    engine.apply(f.heartbeat(session=1, seq=20), received_at=later)
    assert engine.view(later).org("om").cause == ""


def test_heartbeats_of_a_lower_session_take_over_once_the_known_one_is_silent(
        topology: Topology) -> None:
    """A forged higher session (or a birth that was lost) keeps a live agent out only until
    the higher session has been silent as long as makes it STALE."""
    engine = engine_with_om_at_session_50(topology)
    engine.apply(f.heartbeat(session=9_999, seq=1), received_at=T0 + 21)
    engine.apply(f.heartbeat(session=50, seq=6), received_at=T0 + 25)
    assert engine.view(T0 + 26).org("om").session == 9_999
    for seq in range(7, 12):
        engine.apply(f.heartbeat(session=50, seq=seq), received_at=T0 + 25 + 5 * (seq - 6))
    om = engine.view(T0 + 51).org("om")
    assert (om.state, om.session) == (OrgState.ONLINE, 50)
    assert om.cause == "session went back from 9999 to 50"


def test_a_late_will_of_a_lower_session_is_still_ignored(topology: Topology) -> None:
    """Only a birth or live heartbeats go back: an old session's Will or stop kills nothing."""
    engine = engine_with_om_at_session_50(topology)
    engine.apply(f.offline(session=49, seq=0), received_at=T0 + 21)
    engine.apply(f.offline(session=49, seq=7, cause="stopped"), received_at=T0 + 22)
    engine.apply(f.heartbeat(session=49, seq=8, hist=True), received_at=T0 + 23)
    om = engine.view(T0 + 24).org("om")
    assert (om.state, om.session, om.cause) == (OrgState.ONLINE, 50, "")


def test_forged_seq_numbers_never_hide_a_live_agents_heartbeats(topology: Topology) -> None:
    """11 547 forged heartbeats with the numbers the agent is about to use, and one far
    ahead: they count as duplicates, and the agent's own heartbeats keep it ONLINE."""
    engine = engine_with_om_at_session_50(topology)
    for seq in range(6, 6 + 11_547):
        engine.apply(f.heartbeat(session=50, seq=seq), received_at=T0 + 21)
    engine.apply(f.heartbeat(session=50, seq=10**12), received_at=T0 + 21)
    for step in range(1, 121):
        engine.apply(f.heartbeat(session=50, seq=5 + step), received_at=T0 + 21 + 5 * step)
    om = engine.view(T0 + 21 + 600).org("om")
    assert om.state is OrgState.ONLINE, om.cause
    assert om.duplicates == 120
