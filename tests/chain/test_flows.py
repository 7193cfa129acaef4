"""Link states from both ends' counters, and impact on the processes that depend on them."""

from __future__ import annotations

import pytest

from chain.engine import ChainEngine
from chain.flows import STALL_MINIMUM, stall_after
from chain.views import LinkState, ProcessState
from tests.chain import factory as f

T0 = f.T0_EPOCH


@pytest.fixture
def engine(connected: ChainEngine) -> ChainEngine:
    engine = connected
    for org in ("om", "justid", "justis"):
        engine.apply(f.online(org=org, seq=1, interval=5.0), received_at=T0)
    return engine


class Feed:
    """Both ends of om-justid counting, one message every `gap` seconds, with heartbeats."""

    def __init__(self, engine: ChainEngine) -> None:
        self.engine = engine
        self.seq = {"om": 1, "justid": 1}
        self.sent = self.received = 1000

    def tick(self, at: float, *, send: int = 1, receive: int = 1) -> None:
        self.sent += send
        self.received += receive
        for org, direction, count in (("om", "sent", self.sent),
                                      ("justid", "received", self.received)):
            self.seq[org] += 1
            self.engine.apply(f.heartbeat(org=org, seq=self.seq[org]), received_at=at)
            self.seq[org] += 1
            self.engine.apply(
                f.flow(count, org=org, direction=direction, seq=self.seq[org]), received_at=at
            )
        self.seq["justis"] = self.seq.get("justis", 1) + 1
        self.engine.apply(f.heartbeat(org="justis", seq=self.seq["justis"]), received_at=at)


def run(feed: Feed, start: float, end: float, step: float = 5.0, **amounts: int) -> float:
    at = start
    while at < end:
        feed.tick(at, **amounts)
        at += step
    return at


def test_no_counts_is_unknown(engine: ChainEngine) -> None:
    """A link nobody has counted yet is UNKNOWN, and depends on nothing."""
    assert engine.view(T0 + 1).link("om-justid").state is LinkState.UNKNOWN


def test_both_ends_moving_is_flowing_and_processes_ok(engine: ChainEngine) -> None:
    """Counts rising at both ends: FLOWING with rates; VOG is OK."""
    feed = Feed(engine)
    at = run(feed, T0, T0 + 600)
    view = engine.view(at)
    link = view.link("om-justid")
    assert link.state is LinkState.FLOWING
    assert link.sent_per_hour == pytest.approx(720, rel=0.05)
    assert link.last_movement == at - 5
    assert view.process("vog").state is ProcessState.OK


def test_silence_at_both_ends_is_stalled_and_puts_vog_at_risk(engine: ChainEngine) -> None:
    """Counters flat longer than the usual cadence allows: STALLED, VOG AT RISK since then."""
    feed = Feed(engine)
    at = run(feed, T0, T0 + 1200)
    last_move = at - 5
    at = run(feed, at, at + 400, send=0, receive=0)
    view = engine.view(at)
    link = view.link("om-justid")
    assert link.state is LinkState.STALLED
    assert link.since == pytest.approx(last_move + STALL_MINIMUM)
    vog = view.process("vog")
    assert vog.state is ProcessState.AT_RISK
    assert vog.data_as_of == last_move
    assert vog.causes[0].startswith("om-justid stalled")


def test_sender_counting_receiver_flat_is_stuck(engine: ChainEngine) -> None:
    """The OM sends, Justid receives nothing: STUCK."""
    feed = Feed(engine)
    at = run(feed, T0, T0 + 1200)
    at = run(feed, at, at + 300, send=1, receive=0)
    link = engine.view(at).link("om-justid")
    assert link.state is LinkState.STUCK
    assert "justid receives nothing" in link.cause


def test_an_offline_end_makes_the_link_down_and_blocks_its_processes(
    engine: ChainEngine,
) -> None:
    """OM's Last Will, confirmed (three intervals without its return): om-justid DOWN since
    the Will, VOG and continuous screening AT RISK."""
    feed = Feed(engine)
    at = run(feed, T0, T0 + 300)
    engine.apply(f.offline(org="om", cause="lost"), received_at=at)
    view = engine.view(at + 3 * 5.0 + 1)
    link = view.link("om-justid")
    assert (link.state, link.since) == (LinkState.DOWN, at)
    assert link.cause == "om offline (lost)"
    for process in ("vog", "continuous_screening", "residence_decisions"):
        assert view.process(process).state is ProcessState.AT_RISK
    assert view.process("charging").state is ProcessState.BLOCKED  # an OM process itself


def test_rate_well_below_usual_is_slow(engine: ChainEngine) -> None:
    """After an hour at 12/min, a drop to 2/min is SLOW."""
    feed = Feed(engine)
    at = run(feed, T0, T0 + 3600)
    at = run(feed, at, at + 600, step=30)
    link = engine.view(at).link("om-justid")
    assert link.state is LinkState.SLOW
    assert "usually" in link.cause


def test_a_counter_just_seen_is_not_yet_stalled_or_stuck(engine: ChainEngine) -> None:
    """Silence is measured from the first sample: a fresh link is FLOWING, not STALLED."""
    feed = Feed(engine)
    feed.tick(T0)
    feed.tick(T0 + 5, receive=0)
    assert engine.view(T0 + 6).link("om-justid").state is LinkState.FLOWING
    # Without an hour of history the topology's usual rate sets the cadence (20.5/h).
    limit = stall_after(engine.topology.links[3], None, None)
    assert engine.topology.links[3].id == "om-justid"
    assert limit == pytest.approx(5 * 3600 / 20.5)
    assert engine.view(T0 + 5 + limit - 1).link("om-justid").state is LinkState.STUCK
    assert engine.view(T0 + 5 + limit + 1).link("om-justid").state is LinkState.STALLED
