"""The state engine with an injected clock: every organisation state and transition so far."""

from __future__ import annotations

import msgspec
import pytest

from chain.engine import STALE_AFTER_INTERVALS, ChainEngine
from chain.topology import Topology
from chain.views import OrgState
from tests.chain import factory as f

T0 = f.T0_EPOCH
INTERVAL = 5.0


@pytest.fixture
def engine(connected: ChainEngine) -> ChainEngine:
    return connected


def state(engine: ChainEngine, now: float, org: str = "om") -> tuple[OrgState, float | None, str]:
    view = engine.view(now).org(org)
    return view.state, view.since, view.cause


def test_unknown_before_the_monitor_ever_connects(topology: Topology) -> None:
    """No broker connection yet: every organisation is UNKNOWN, with no since."""
    engine = ChainEngine(topology)
    assert state(engine, T0) == (OrgState.UNKNOWN, None, "monitor not connected yet")


def test_unknown_until_anything_is_heard(engine: ChainEngine) -> None:
    """Connected but silent organisations are UNKNOWN since the monitor connected."""
    assert state(engine, T0 + 60) == (OrgState.UNKNOWN, T0, "nothing received yet")


def test_birth_makes_online(engine: ChainEngine) -> None:
    """A birth status makes the organisation ONLINE since its arrival."""
    engine.apply(f.online(), received_at=T0 + 1)
    assert state(engine, T0 + 2) == (OrgState.ONLINE, T0 + 1, "")


def test_stale_after_missed_heartbeats_then_recovers(engine: ChainEngine) -> None:
    """No heartbeat for 3 intervals turns STALE at the deadline; the next one revives it."""
    engine.apply(f.online(interval=INTERVAL), received_at=T0)
    engine.apply(f.heartbeat(seq=2, interval=INTERVAL), received_at=T0 + 5)
    deadline = T0 + 5 + STALE_AFTER_INTERVALS * INTERVAL
    assert state(engine, deadline)[0] is OrgState.ONLINE
    stale, since, cause = state(engine, deadline + 0.1)
    assert (stale, since) == (OrgState.STALE, deadline)
    assert cause == "no heartbeat for 15s"
    engine.apply(f.heartbeat(seq=3), received_at=deadline + 10)
    assert state(engine, deadline + 10)[0] is OrgState.ONLINE


def test_last_will_makes_offline_lost_once_the_agent_had_time_to_return(
    engine: ChainEngine,
) -> None:
    """A Last Will (cause lost) makes STALE at once, saying so, and OFFLINE (since the Will)
    when the agent has not spoken again within three intervals."""
    engine.apply(f.online(interval=5), received_at=T0)
    engine.apply(f.offline(cause="lost"), received_at=T0 + 7)
    assert state(engine, T0 + 8) == (
        OrgState.STALE, T0 + 7, "connection lost (Last Will); OFFLINE unless it returns")
    assert state(engine, T0 + 7 + 15) == (OrgState.OFFLINE, T0 + 7, "lost")


def test_a_will_followed_by_the_sessions_heartbeat_never_shows_offline(
    engine: ChainEngine,
) -> None:
    """A broker that ends a connection itself (a cluster node in trouble) sends its Will; the
    agent connects again and its heartbeat comes: ONLINE, and OFFLINE at no moment."""
    engine.apply(f.online(interval=5), received_at=T0)
    engine.apply(f.offline(cause="lost"), received_at=T0 + 7)
    engine.apply(f.heartbeat(seq=3, interval=5), received_at=T0 + 12)
    for at in (T0 + 8, T0 + 12, T0 + 30):
        assert state(engine, at)[0] is not OrgState.OFFLINE
    assert state(engine, T0 + 13)[0] is OrgState.ONLINE


def test_planned_stop_makes_offline_stopped(engine: ChainEngine) -> None:
    """A planned-stop status makes OFFLINE at once, cause stopped; no staleness later."""
    engine.apply(f.online(), received_at=T0)
    engine.apply(f.offline(seq=9, cause="stopped"), received_at=T0 + 3)
    assert state(engine, T0 + 3600) == (OrgState.OFFLINE, T0 + 3, "stopped")


def test_late_will_of_an_old_session_is_ignored(engine: ChainEngine) -> None:
    """A restarted agent (session 2) is not killed by session 1's late Last Will."""
    engine.apply(f.online(session=1), received_at=T0)
    engine.apply(f.online(session=2), received_at=T0 + 10)
    engine.apply(f.offline(session=1, cause="lost"), received_at=T0 + 11)
    assert state(engine, T0 + 12) == (OrgState.ONLINE, T0 + 10, "")


def test_a_will_after_the_same_sessions_planned_stop_changes_nothing(
    engine: ChainEngine,
) -> None:
    """A broker may still send the Will of a connection that ended after its planned stop
    (a close that its DISCONNECT did not precede): the stop was that session's last word."""
    engine.apply(f.online(), received_at=T0)
    engine.apply(f.offline(seq=9, cause="stopped"), received_at=T0 + 3)
    engine.apply(f.offline(cause="lost"), received_at=T0 + 4)
    assert state(engine, T0 + 5) == (OrgState.OFFLINE, T0 + 3, "stopped")


def test_restart_after_offline_comes_back_online(engine: ChainEngine) -> None:
    """OFFLINE, then a birth from a new session: ONLINE since the new birth."""
    engine.apply(f.online(session=1), received_at=T0)
    engine.apply(f.offline(session=1, cause="lost"), received_at=T0 + 5)
    assert state(engine, T0 + 21)[0] is OrgState.OFFLINE
    engine.apply(f.online(session=2), received_at=T0 + 30)
    assert state(engine, T0 + 31) == (OrgState.ONLINE, T0 + 30, "")


def test_monitor_disconnect_is_unknown_never_offline(engine: ChainEngine) -> None:
    """When the monitor loses its broker every organisation is UNKNOWN, even an offline one."""
    engine.apply(f.online(org="om"), received_at=T0)
    engine.apply(f.online(org="cjib"), received_at=T0)
    engine.apply(f.offline(org="cjib", cause="lost"), received_at=T0 + 1)
    engine.monitor_disconnected(T0 + 2)
    for org in ("om", "cjib", "justis"):
        assert state(engine, T0 + 100, org) == (OrgState.UNKNOWN, T0 + 2, "monitor disconnected")


def test_reconnect_gives_a_fresh_grace_period(engine: ChainEngine) -> None:
    """After the monitor reconnects, agents are not STALE before they had time to beat."""
    engine.apply(f.online(), received_at=T0)
    engine.monitor_disconnected(T0 + 1)
    engine.monitor_connected(T0 + 100)
    assert state(engine, T0 + 101)[0] is OrgState.ONLINE
    assert state(engine, T0 + 100 + STALE_AFTER_INTERVALS * INTERVAL + 1)[0] is OrgState.STALE


def test_channel_down_degrades_since_it_went_down(engine: ChainEngine) -> None:
    """A channel reading `down` makes DEGRADED since the first down reading, not the latest."""
    engine.apply(f.online(), received_at=T0)
    engine.apply(f.channel(up=True, seq=2), received_at=T0 + 1)
    engine.apply(f.channel(up=False, seq=3), received_at=T0 + 2)
    engine.apply(f.heartbeat(seq=4), received_at=T0 + 3)
    engine.apply(f.channel(up=False, seq=5), received_at=T0 + 4)
    assert state(engine, T0 + 5) == (OrgState.DEGRADED, T0 + 2, "email down")
    engine.apply(f.channel(up=True, seq=6), received_at=T0 + 6)
    assert state(engine, T0 + 7)[0] is OrgState.ONLINE


def test_hist_readings_never_make_fresh(engine: ChainEngine) -> None:
    """A buffered heartbeat delivered late does not revive a STALE organisation."""
    engine.apply(f.online(), received_at=T0)
    late = T0 + 100
    engine.apply(f.heartbeat(seq=2, hist=True), received_at=late)
    assert state(engine, late)[0] is OrgState.STALE


def test_retained_birth_gives_grace_but_retained_heartbeat_age_is_unknown(
    engine: ChainEngine,
) -> None:
    """A retained online status seen at connect counts as alive only for one grace period."""
    engine.apply(f.online(), received_at=T0, retained=True)
    assert state(engine, T0 + 1)[0] is OrgState.ONLINE
    assert state(engine, T0 + STALE_AFTER_INTERVALS * INTERVAL + 1)[0] is OrgState.STALE


def test_seq_gaps_and_duplicates_are_counted_and_duplicates_dropped(engine: ChainEngine) -> None:
    """seq 1,2,5,5,3: 3 fills its hole late (not applied), 4 stays a gap, one duplicate."""
    engine.apply(f.online(seq=1), received_at=T0)
    engine.apply(f.backlog(10, seq=2), received_at=T0 + 1)
    engine.apply(f.backlog(50, seq=5), received_at=T0 + 2)
    engine.apply(f.backlog(99, seq=5), received_at=T0 + 3)
    engine.apply(f.backlog(77, seq=3), received_at=T0 + 4)
    view = engine.view(T0 + 5).org("om")
    assert (view.seq_gaps, view.duplicates) == (1, 1)
    assert view.backlog_total == 50


def test_buffered_history_after_live_traffic_fills_the_gap(engine: ChainEngine) -> None:
    """Birth 12 arrives before buffered 2..11 (hist): no gaps, no duplicates, state unchanged."""
    engine.apply(f.online(seq=1), received_at=T0)
    engine.apply(f.online(seq=12), received_at=T0 + 50)
    engine.apply(f.backlog(7, seq=13), received_at=T0 + 51)
    assert engine.view(T0 + 51).org("om").seq_gaps == 10
    for seq in range(2, 12):
        engine.apply(
            msgspec.structs.replace(f.backlog(seq * 100, seq=seq), hist=True), received_at=T0 + 52
        )
    view = engine.view(T0 + 53).org("om")
    assert (view.seq_gaps, view.duplicates) == (0, 0)
    assert view.backlog_total == 7


def test_new_session_restarts_sequence_accounting(engine: ChainEngine) -> None:
    """seq starts again at 1 in a new session without counting duplicates."""
    engine.apply(f.online(session=1, seq=1), received_at=T0)
    engine.apply(f.heartbeat(session=1, seq=40), received_at=T0 + 1)
    engine.apply(f.online(session=2, seq=1), received_at=T0 + 2)
    engine.apply(f.heartbeat(session=2, seq=2), received_at=T0 + 3)
    view = engine.view(T0 + 4).org("om")
    assert (view.session, view.duplicates, view.seq_gaps) == (2, 0, 38)


def test_flow_rate_from_cumulative_counters(engine: ChainEngine) -> None:
    """Counts 100 → 110 over 60 s is 600 per hour; a lost message loses no counts."""
    engine.apply(f.flow(100, seq=1), received_at=T0)
    engine.apply(f.flow(110, seq=3), received_at=T0 + 60)  # seq 2 lost
    link = engine.view(T0 + 60).link("om-justid")
    assert link.sent_total == 110
    assert link.sent_per_hour == pytest.approx(600.0)
    assert link.received_per_hour is None


def test_counter_reset_is_a_new_baseline_not_movement(engine: ChainEngine) -> None:
    """A decrease or a new session starts counting again from its value: the total does not
    jump, and the rate counts only from the reset, "—" until a minute has passed."""
    engine.apply(f.flow(100, seq=1), received_at=T0)
    engine.apply(f.flow(110, seq=2), received_at=T0 + 60)
    engine.apply(f.flow(5, seq=3), received_at=T0 + 120)
    assert engine.view(T0 + 120).link("om-justid").sent_per_hour is None
    engine.apply(f.flow(15, session=2, seq=1), received_at=T0 + 180)
    link = engine.view(T0 + 180).link("om-justid")
    assert (link.last_movement, link.sent_per_hour) == (T0 + 60, None)
    engine.apply(f.flow(20, session=2, seq=2), received_at=T0 + 240)
    link = engine.view(T0 + 240).link("om-justid")
    assert link.sent_per_hour == pytest.approx(5 / 60 * 3600)
    assert link.last_movement == T0 + 240


def test_retained_counter_is_a_baseline_not_a_rate_sample(engine: ChainEngine) -> None:
    """An hours-old retained count followed by a live one gives no bogus spike."""
    engine.apply(f.flow(100, seq=1), received_at=T0, retained=True)
    engine.apply(f.flow(500, seq=2), received_at=T0 + 5)
    assert engine.view(T0 + 5).link("om-justid").sent_per_hour is None
    engine.apply(f.flow(501, seq=3), received_at=T0 + 65)
    assert engine.view(T0 + 65).link("om-justid").sent_per_hour == pytest.approx(60.0)


def test_flow_without_movement_for_a_window_reads_zero(engine: ChainEngine) -> None:
    """A counter that stopped reporting long ago shows a rate of zero, not its old rate."""
    engine.apply(f.flow(100, seq=1), received_at=T0)
    engine.apply(f.flow(110, seq=2), received_at=T0 + 60)
    assert engine.view(T0 + 60 + 301).link("om-justid").sent_per_hour == 0.0


def test_an_org_outside_the_topology_is_counted_not_shown(engine: ChainEngine) -> None:
    """An agent the topology does not know is one line of the view, never a row."""
    engine.apply(f.online(org="pilot-org"), received_at=T0)
    view = engine.view(T0 + 1)
    assert "pilot-org" not in {org.id for org in view.orgs}
    assert view.unknown_senders == "1 message from 1 unknown sender (pilot-org)"


def test_rejections_are_counted(engine: ChainEngine) -> None:
    """Rejected payloads show up in the view's count, attributed or not."""
    engine.reject("om", "truncated", T0)
    engine.reject(None, "topic longer than 512 characters", T0)
    view = engine.view(T0)
    assert (view.rejected, view.unattributed, view.org("om").invalid) == (2, 1, 1)


def test_buffer_figures_come_from_the_latest_heartbeat(engine: ChainEngine) -> None:
    """An agent draining its buffer says so in its heartbeat; the view shows it."""
    engine.apply(f.online(), received_at=T0)
    beat = msgspec.structs.replace(f.heartbeat(seq=2), buffered=120, dropped=3)
    engine.apply(beat, received_at=T0 + 1)
    view = engine.view(T0 + 1).org("om")
    assert (view.buffered, view.dropped) == (120, 3)


def test_a_slow_probe_keeps_its_channel_down_between_readings(engine: ChainEngine) -> None:
    """A probe that reads once a minute under 5 s heartbeats: DEGRADED all minute long, not
    flapping back to ONLINE after three heartbeats; said to be an old reading when it is."""
    engine.apply(f.online(), received_at=T0)
    engine.apply(f.channel(up=False, seq=2), received_at=T0)
    for beat in range(1, 13):
        engine.apply(f.heartbeat(seq=2 + beat), received_at=T0 + beat * INTERVAL)
        assert state(engine, T0 + beat * INTERVAL)[0] is OrgState.DEGRADED
    assert state(engine, T0 + 60)[2] == "email down (last checked 60s ago)"
    engine.apply(f.channel(up=True, seq=20), received_at=T0 + 61)
    assert state(engine, T0 + 61)[0] is OrgState.ONLINE
