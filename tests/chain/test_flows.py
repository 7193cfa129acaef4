"""Link states as statistical decisions on both ends' counters, with an injected clock, and
their impact on the processes that depend on them."""

from __future__ import annotations

import pytest

from chain.engine import ChainEngine
from chain.flows import SLOW_HOLD, STALL_MINIMUM, stall_level
from chain.views import LinkState, ProcessState
from tests.chain import factory as f
from tests.chain.traffic import INTERVAL, Feed, declared_by, expected_rate

T0 = f.T0_EPOCH
"""Thursday 17 Jul 2025, 11:00 in Amsterdam: office hours."""


@pytest.fixture
def feed(connected: ChainEngine) -> Feed:
    feed = Feed(connected)
    feed.start(T0)
    return feed


def level(engine: ChainEngine) -> float:
    return stall_level(engine.topology.messages_per_year)


def test_no_counts_is_unknown(feed: Feed) -> None:
    """A link nobody has counted yet is UNKNOWN, and puts nothing at risk."""
    view = feed.engine.view(T0 + 1)
    assert view.link("om-justid").state is LinkState.UNKNOWN
    assert view.process("vog").state is ProcessState.OK


def test_counts_that_never_moved_are_unknown_not_flowing(feed: Feed) -> None:
    """Counters reporting 0 and never moving: UNKNOWN ("no movement seen yet"), never
    FLOWING, until the silence is improbable: then STALLED."""
    at = feed.run(T0, T0 + 600, send=False)
    link = feed.engine.view(at).link("om-justid")
    assert link.state is LinkState.UNKNOWN
    assert "no movement seen yet" in link.cause
    stalled_at = declared_by(feed.engine, feed.link, T0, level(feed.engine))
    at = feed.run(at, stalled_at + 2 * INTERVAL, send=False)
    assert feed.engine.view(at).link("om-justid").state is LinkState.STALLED


def test_healthy_flow_is_flowing_and_its_processes_ok(feed: Feed) -> None:
    """Both ends counting at the expected rate: FLOWING, with rates, and the rate expected
    for this hour (learned from that traffic, so still the prior's); VOG is OK."""
    at = feed.run(T0, T0 + 3600)
    view = feed.engine.view(at)
    link = view.link("om-justid")
    assert link.state is LinkState.FLOWING
    assert link.sent_per_hour is not None and link.sent_per_hour > 0
    assert link.usual_per_hour == pytest.approx(expected_rate(feed.engine, feed.link, at),
                                                rel=0.1)
    assert view.process("vog").state is ProcessState.OK


def test_a_stop_is_stalled_when_the_silence_is_improbable_not_before(feed: Feed) -> None:
    """After the last movement, STALLED exactly when ln(chain's messages a year) messages
    were expected (the oracle sums the profile second by second); VOG AT RISK, data as of
    the last movement."""
    at = feed.run(T0, T0 + 3600)
    last_move = feed.engine.view(at).link("om-justid").last_movement
    assert last_move is not None
    declared = declared_by(feed.engine, feed.link, last_move, level(feed.engine))
    assert declared - last_move > STALL_MINIMUM
    before = feed.run(at, declared - INTERVAL, send=False)
    assert feed.engine.view(before - 1).link("om-justid").state is LinkState.FLOWING
    after = feed.run(before, declared + INTERVAL, send=False)
    view = feed.engine.view(after)
    link = view.link("om-justid")
    assert link.state is LinkState.STALLED
    assert link.since == pytest.approx(declared, abs=2)
    vog = view.process("vog")
    assert vog.state is ProcessState.AT_RISK
    assert vog.data_as_of == last_move
    assert vog.causes[0].startswith("om-justid stalled")


def test_a_stop_late_in_the_evening_is_declared_when_the_morning_is_missing(
    feed: Feed,
) -> None:
    """An office-hours link that stops at 21:00 on Thursday: a quiet night is not improbable,
    so it is still FLOWING at 06:00 and STALLED only as Friday morning fails to come."""
    evening = T0 + 10 * 3600  # 21:00 local
    at = feed.run(T0, evening)
    last_move = feed.engine.view(at).link("om-justid").last_movement
    assert last_move is not None
    declared = declared_by(feed.engine, feed.link, last_move, level(feed.engine))
    assert declared > T0 + 19 * 3600 + INTERVAL  # after 06:00 Friday
    at = feed.run(at, T0 + 19 * 3600, send=False)  # 06:00 Friday
    assert feed.engine.view(at).link("om-justid").state is LinkState.FLOWING
    at = feed.run(at, declared + INTERVAL, send=False)
    link = feed.engine.view(at).link("om-justid")
    assert link.state is LinkState.STALLED
    # At two an hour, what the day taught shifts the moment by seconds, not minutes.
    assert link.since == pytest.approx(declared, abs=60)


def test_sender_counting_receiver_flat_is_stuck(feed: Feed) -> None:
    """The OM sends, Justid receives nothing: STUCK, by the receiver's silence judged like
    a stall while the sender counts on."""
    at = feed.run(T0, T0 + 3600)
    quiet = at - INTERVAL
    declared = declared_by(feed.engine, feed.link, quiet, level(feed.engine))
    at = feed.run(at, declared + 2 * INTERVAL, receive=False)
    link = feed.engine.view(at).link("om-justid")
    assert link.state is LinkState.STUCK
    assert "justid receives nothing" in link.cause


def test_an_offline_end_makes_the_link_down_and_blocks_its_processes(feed: Feed) -> None:
    """OM's Last Will, confirmed: om-justid DOWN since the Will, JDS-fed processes AT
    RISK, the OM's own BLOCKED."""
    at = feed.run(T0, T0 + 600)
    feed.engine.apply(f.offline(org="om", cause="lost"), received_at=at)
    view = feed.engine.view(at + 3 * INTERVAL + 1)
    link = view.link("om-justid")
    assert (link.state, link.since) == (LinkState.DOWN, at)
    assert link.cause == "om offline (lost)"
    for process in ("vog", "continuous_screening", "residence_decisions"):
        assert view.process(process).state is ProcessState.AT_RISK
    assert view.process("charging").state is ProcessState.BLOCKED


def test_a_rate_far_below_expectation_is_slow_once_it_has_held(connected: ChainEngine) -> None:
    """justid-justis (hundreds an hour) dropping to a tenth: SLOW, but not before the rate
    test has held for SLOW_HOLD; back at its rate, FLOWING again within one window."""
    feed = Feed(connected, "justid-justis")
    feed.start(T0)
    at = feed.run(T0, T0 + 3600)
    assert connected.view(at).link("justid-justis").state is LinkState.FLOWING
    drop, feed.scale = at, 0.1
    seen: dict[LinkState, float] = {}
    while at < drop + 2 * 3600:
        feed.tick(at)
        seen.setdefault(connected.view(at).link("justid-justis").state, at)
        at += INTERVAL
    assert set(seen) == {LinkState.FLOWING, LinkState.SLOW}, seen
    assert seen[LinkState.SLOW] - drop >= SLOW_HOLD
    link = connected.view(at - INTERVAL).link("justid-justis")
    assert link.state is LinkState.SLOW and "expected" in link.cause
    recovered, feed.scale = at, 1.0
    while connected.view(at - INTERVAL).link("justid-justis").state is LinkState.SLOW:
        assert at - recovered < 30 * 60, "still SLOW half an hour after recovering"
        feed.tick(at)
        at += INTERVAL


def test_a_new_session_or_reset_is_never_movement(feed: Feed) -> None:
    """OM restarts and its counter starts again from a new value: no movement, the link's
    last movement and VOG's "data as of" stay where they were, and the rate is "—" until
    there is a minute of counting after the reset."""
    at = feed.run(T0, T0 + 3600)
    stop = feed.engine.view(at).link("om-justid").last_movement
    at = feed.run(at, at + 6 * 3600, send=False)
    feed.session["om"] = 2
    feed.seq["om"] = 1
    feed.engine.apply(f.online(org="om", session=2, seq=1, interval=INTERVAL), received_at=at)
    feed.sent = 40_000  # a restarted counter, counting from wherever it starts
    feed.tick(at, send=False)
    view = feed.engine.view(at + 1)
    link = view.link("om-justid")
    assert link.last_movement == stop
    assert link.sent_per_hour is None
    assert view.process("vog").data_as_of == stop



def test_an_end_whose_agent_is_silent_is_no_evidence(feed: Feed) -> None:
    """Justid's agent goes silent (STALE, no Will) while the OM counts on: om-justid is
    UNKNOWN ("justid not reporting"), never STUCK; the OM's agent silent instead, the link
    is judged on what Justid receives alone."""
    at = feed.run(T0, T0 + 3600)
    feed.silent.add("justid")
    quiet = at - INTERVAL
    declared = declared_by(feed.engine, feed.link, quiet, level(feed.engine))
    end = feed.run(at, declared + 2 * INTERVAL)
    link = feed.engine.view(end).link("om-justid")
    assert (link.state, link.cause) == (LinkState.UNKNOWN, "justid not reporting")
    assert feed.engine.view(end).process("vog").state is ProcessState.OK

    feed.silent = {"om"}
    at = feed.run(end, end + 3600)
    assert feed.engine.view(at).link("om-justid").state is LinkState.FLOWING


def test_counts_that_stop_coming_while_heartbeats_go_on_are_unknown(feed: Feed) -> None:
    """Justid's agent beats on but its counter is no longer reported (its source broke):
    after three intervals om-justid is UNKNOWN ("no counts from justid for ..."), not
    FLOWING on old news."""
    at = feed.run(T0, T0 + 3600)
    feed.engine.apply(f.heartbeat(org="justid", seq=10_000, interval=INTERVAL),
                      received_at=at)
    beats = at
    while beats < at + 5 * INTERVAL:  # heartbeats only, from justid
        beats += INTERVAL
        feed.seq["justid"] += 1
        feed.engine.apply(f.heartbeat(org="justid", seq=10_000 + int(beats - at),
                                      interval=INTERVAL), received_at=beats)
    link = feed.engine.view(beats).link("om-justid")
    assert link.state is LinkState.UNKNOWN
    assert link.cause.startswith("no counts from justid for")
