"""Invalid readings: counted per organisation, INVALID for a hold after the last one, never
healthy, one crisis-log entry per spell; what names no organisation is counted chain-wide."""

from __future__ import annotations

import pytest

from chain.crisislog import EntryKind
from chain.engine import ChainEngine
from chain.invalid import INVALID_HOLD, MAX_REASON
from chain.strangers import FIRST_SHOWN, MAX_DISTINCT
from chain.views import OrgState
from chain.wire import Isolation
from tests.chain import factory as f

T0 = f.T0_EPOCH
FUTURE = "v: schema version 2 is newer than 1"


@pytest.fixture
def engine(connected: ChainEngine) -> ChainEngine:
    return connected


def alive(engine: ChainEngine, until: float, *, every: float = 5.0, org: str = "om") -> None:
    """A birth at T0, then heartbeats every `every` seconds up to `until`."""
    engine.apply(f.online(org, interval=every), received_at=T0)
    seq, at = 2, T0 + every
    while at <= until:
        engine.apply(f.heartbeat(org, seq=seq, interval=every), received_at=at)
        seq, at = seq + 1, at + every


def test_an_invalid_reading_makes_an_online_org_invalid_then_it_recovers(
    engine: ChainEngine,
) -> None:
    """INVALID since the bad reading, with count and reason; ONLINE again after the hold."""
    alive(engine, T0 + 600)
    engine.reject("om", FUTURE, T0 + 100)
    view = engine.view(T0 + 101).org("om")
    assert (view.state, view.since) == (OrgState.INVALID, T0 + 100)
    assert view.cause == f"1 invalid reading (last: {FUTURE})"
    assert (view.invalid, view.last_invalid, view.invalid_at) == (1, FUTURE, T0 + 100)
    assert engine.view(T0 + 100 + INVALID_HOLD).org("om").state is OrgState.INVALID
    assert engine.view(T0 + 101 + INVALID_HOLD).org("om").state is OrgState.ONLINE
    assert engine.view(T0 + 600).org("om").invalid == 1  # the count stays in the figures


def test_an_org_that_only_ever_sent_garbage_is_invalid_never_online(engine: ChainEngine) -> None:
    """Nothing valid heard: INVALID with that said, then UNKNOWN again, never ONLINE."""
    engine.reject("om", "JSON is malformed: truncated", T0 + 10)
    engine.reject("om", "kind: invalid value 'rumour'", T0 + 20)
    view = engine.view(T0 + 21).org("om")
    assert (view.state, view.since) == (OrgState.INVALID, T0 + 10)
    assert view.cause == "nothing valid received; 2 invalid readings (last: kind: invalid " \
                         "value 'rumour')"
    assert engine.view(T0 + 21 + INVALID_HOLD).org("om").state is OrgState.UNKNOWN


def test_garbage_at_a_slow_probes_pace_is_one_spell_not_a_flapping_state(
    engine: ChainEngine,
) -> None:
    """A bad channel reading every minute, heartbeats every 5 s: INVALID throughout, and one
    crisis-log entry for it, not one per message."""
    alive(engine, T0 + 1800)
    for minute in range(1, 21):
        engine.reject("om", "channel: invalid value 'fax'", T0 + 60 * minute)
        for second in range(0, 60, 5):
            now = T0 + 60 * minute + second
            assert engine.evaluate(now).org("om").state is OrgState.INVALID
    entries = [e.text for e in engine.log.filtered(subject="om", kinds=[EntryKind.ORG])]
    assert entries == ["INVALID: 1 invalid reading (last: channel: invalid value 'fax')"]
    engine.evaluate(T0 + 1800)
    assert [e.state for e in engine.log.filtered(subject="om")][-1] == "online"


def test_the_hold_grows_with_a_slow_agents_interval(engine: ChainEngine) -> None:
    """An agent reporting every 10 minutes stays INVALID for 3 of its intervals."""
    alive(engine, T0 + 3600, every=600.0)
    engine.reject("om", FUTURE, T0 + 600)
    assert engine.view(T0 + 600 + 1800).org("om").state is OrgState.INVALID
    assert engine.view(T0 + 600 + 1801).org("om").state is OrgState.ONLINE


def test_invalid_outranks_a_down_channel_and_names_it(engine: ChainEngine) -> None:
    """Readings refused and email down: INVALID, the cause says both."""
    alive(engine, T0 + 60)
    engine.apply(f.channel(up=False, seq=100), received_at=T0 + 30)
    engine.reject("om", FUTURE, T0 + 40)
    view = engine.view(T0 + 41).org("om")
    assert view.state is OrgState.INVALID
    assert view.cause == f"1 invalid reading (last: {FUTURE}); email down"


@pytest.mark.parametrize("worse", ["offline", "stale", "isolated"])
def test_offline_stale_and_isolated_outrank_invalid(engine: ChainEngine, worse: str) -> None:
    """An org that stopped, went silent or was cut off shows that, not INVALID."""
    alive(engine, T0 + 10)
    engine.reject("om", FUTURE, T0 + 20)
    if worse == "offline":
        engine.apply(f.offline(seq=50, cause="stopped"), received_at=T0 + 21)
    elif worse == "isolated":
        engine.apply_op(Isolation(id="i1", author="duty", ts=f.TS, org="om", isolated=True),
                        received_at=T0 + 21)
    assert engine.view(T0 + 40).org("om").state is OrgState(worse)


def test_unattributed_rejections_touch_no_organisation(engine: ChainEngine) -> None:
    """A topic naming no organisation: counted chain-wide with its reason, no org changes."""
    alive(engine, T0 + 10)
    engine.reject(None, "topic longer than 512 characters", T0 + 5)
    view = engine.view(T0 + 10)
    assert (view.rejected, view.unattributed) == (1, 1)
    assert view.last_unattributed == "topic longer than 512 characters"
    assert all(o.invalid == 0 for o in view.orgs)
    assert view.org("om").state is OrgState.ONLINE


def test_a_hostile_reason_is_cut_short(engine: ChainEngine) -> None:
    """A reason quoting a huge payload or topic is kept to a readable length."""
    engine.reject("om", "x" * 10_000, T0)
    assert len(engine.view(T0).org("om").last_invalid) == MAX_REASON


def test_traffic_of_unknown_organisations_is_one_bounded_line(engine: ChainEngine) -> None:
    """10 000 ids outside the topology: no row for any, one line naming the first few, and
    memory that stops growing at MAX_DISTINCT ids; their garbage still counts as rejected."""
    for n in range(10_000):
        engine.apply(f.online(org=f"spam-{n}"), received_at=T0)
    engine.reject("spam-x", "kind: invalid value 'x'", T0)
    view = engine.view(T0)
    assert len(view.orgs) == len(engine.topology.org_ids)
    assert view.unknown_senders == (
        f"10,001 messages from over {MAX_DISTINCT:,} unknown senders (spam-0, spam-1, spam-2, …)")
    assert FIRST_SHOWN == 3 and len(engine.unknown.distinct) == MAX_DISTINCT
    assert (view.rejected, view.unattributed) == (1, 0)
