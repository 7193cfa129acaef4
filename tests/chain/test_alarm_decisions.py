"""What the crisis log makes of link states (held, collapsed), and "data as of" through the
2025 shape: the OM dark on 18 Jul, back on a new session on 3 Aug, om-justid in September."""

from __future__ import annotations

from datetime import UTC, datetime

from chain.crisislog import FLAPPING_WINDOW, HOLD, EntryKind
from chain.engine import ChainEngine
from chain.flows import stall_level
from chain.views import LinkState, ProcessState
from tests.chain import factory as f
from tests.chain.traffic import INTERVAL, Feed, declared_by

T0 = f.T0_EPOCH


def link_entries(engine: ChainEngine) -> list[tuple[float, str, int]]:
    return [(e.at, e.state, e.changes)
            for e in engine.log.filtered(subject="om-justid", kinds=[EntryKind.LINK])]


def stall_for(feed: Feed, at: float, held: float) -> tuple[float, float]:
    """Silence on the link until it has been STALLED for `held` s; (declared, now)."""
    last = feed.engine.view(at).link("om-justid").last_movement
    assert last is not None
    declared = declared_by(feed.engine, feed.link, last,
                           stall_level(feed.engine.topology.messages_per_year))
    return declared, feed.run(at, declared + held, send=False, evaluate=True)


def test_a_stall_that_does_not_hold_never_enters_the_log(connected: ChainEngine) -> None:
    """STALLED for less than HOLD, then moving again: nothing logged for the link or the
    processes that depend on it, although the screen showed it."""
    feed = Feed(connected)
    feed.start(T0)
    at = feed.run(T0, T0 + 3600, evaluate=True)
    _, at = stall_for(feed, at, HOLD - 2 * INTERVAL)
    assert connected.view(at - INTERVAL).link("om-justid").state is LinkState.STALLED
    feed.run(at, at + 3600, evaluate=True)
    assert link_entries(connected) == []
    assert connected.log.filtered(kinds=[EntryKind.PROCESS]) == []


def test_a_stall_that_holds_is_one_entry_at_its_since(connected: ChainEngine) -> None:
    """STALLED for longer than HOLD: one entry, dated when it was declared."""
    feed = Feed(connected)
    feed.start(T0)
    at = feed.run(T0, T0 + 3600, evaluate=True)
    declared, at = stall_for(feed, at, HOLD + 2 * INTERVAL)
    [(logged_at, state, changes)] = link_entries(connected)
    assert (state, changes) == ("stalled", 1)
    assert abs(logged_at - declared) < 2


def test_back_and_forth_is_one_entry(connected: ChainEngine) -> None:
    """Three stalls and recoveries in quick succession: one entry for the link, rewritten
    with the latest state and the number of changes; after FLAPPING_WINDOW a new one."""
    feed = Feed(connected)
    feed.start(T0)
    at = feed.run(T0, T0 + 3600, evaluate=True)
    for _ in range(3):
        _, at = stall_for(feed, at, HOLD + INTERVAL)
        at = feed.run(at, at + HOLD + 2 * INTERVAL, evaluate=True)
    [(_, state, changes)] = link_entries(connected)
    assert (state, changes) == ("flowing", 6)
    at = feed.run(at, at + FLAPPING_WINDOW, evaluate=True)
    stall_for(feed, at, HOLD + INTERVAL)
    assert [entry[1:] for entry in link_entries(connected)] == [("flowing", 6), ("stalled", 1)]


def moment(day: int, month: int, hour: int = 11) -> float:
    return datetime(2025, month, day, hour - 2, tzinfo=UTC).timestamp()  # CEST


def test_data_as_of_moves_only_with_data_through_the_2025_outage(
    connected: ChainEngine,
) -> None:
    """The OM goes dark on 18 Jul; back on a new session on 3 Aug whose counter starts
    anew, om-justid carries nothing until September: VOG decisions stay "data as of
    18 Jul" all that time, and are fine again once JDS receives."""
    feed = Feed(connected, interval=300.0)
    feed.start(moment(17, 7))
    at = feed.run(moment(17, 7), moment(18, 7, 10))
    dark = connected.view(at).link("om-justid").last_movement
    assert dark is not None
    feed.silent.add("om")
    connected.apply(f.offline(org="om", session=1, cause="lost"), received_at=at)
    at = feed.run(at, moment(3, 8), send=False)
    vog = connected.view(at).process("vog")
    assert (vog.state, vog.data_as_of) == (ProcessState.AT_RISK, dark)
    feed.restart("om", at, count_from=52_000)
    at = feed.run(at, moment(2, 9), send=False)
    view = connected.view(at)
    assert view.org("om").session == 2
    assert view.link("om-justid").state is LinkState.STALLED
    assert (view.process("vog").state, view.process("vog").data_as_of) == (
        ProcessState.AT_RISK, dark)
    at = feed.run(at, at + 3600)
    assert connected.view(at).process("vog").state is ProcessState.OK
