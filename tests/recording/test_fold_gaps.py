"""The one fold finds a recorder's outage (a fresh subscription's retained burst after live
rows), and only that: a first subscription's retained copies can come among the first live
messages, milliseconds apart, which is no outage."""

from __future__ import annotations

from chain.crisislog import EntryKind
from chain.engine import ChainEngine
from chain.topics import Topics
from chain.wire import encode
from ketenwacht.startup import load_topology
from recording.fold import REPLAY, RESUBSCRIBE_GAP, Fold
from recording.reader import Row
from tests.chain import factory as f

T0 = f.T0_EPOCH
TOPICS = Topics()


def rows(*spec: tuple[float, str, bool]) -> list[Row]:
    made = []
    for number, (at, org, retain) in enumerate(spec, 1):
        payload = encode(f.online(org=org, seq=1)) if retain else encode(
            f.heartbeat(org=org, seq=number + 1))
        topic = TOPICS.status(org) if retain else TOPICS.heartbeat(org)
        made.append(Row(number, at, topic, payload, 1 if retain else 0, retain, None))
    return made


def monitor_entries(fold: Fold) -> list[str]:
    return [e.text for e in fold.engine.log.entries if e.kind is EntryKind.MONITOR]


def test_retained_copies_among_the_first_live_rows_are_no_outage() -> None:
    """om's live heartbeat, then justid's retained birth a millisecond later: one
    subscription, no gap, no "MONITOR DISCONNECTED"."""
    fold = Fold(ChainEngine(load_topology(None)), TOPICS, REPLAY)
    fold.feed(rows((T0, "om", True), (T0 + 0.5, "om", False), (T0 + 0.501, "justid", True),
                   (T0 + 5, "om", False)))
    fold.finish()
    assert fold.gaps == []
    assert monitor_entries(fold) == []


def test_a_retained_burst_after_a_silence_is_an_outage() -> None:
    """Live rows, nothing for a while, then retained copies: the recorder had lost the
    broker, and the monitor shows disconnected from the last live row to the burst."""
    fold = Fold(ChainEngine(load_topology(None)), TOPICS, REPLAY)
    back = T0 + 60
    fold.feed(rows((T0, "om", True), (T0 + 1, "om", False), (back, "om", True),
                   (back + 1, "om", False)))
    fold.finish()
    assert fold.gaps == [(T0 + 1, back)]
    assert back - (T0 + 1) >= RESUBSCRIBE_GAP
    assert monitor_entries(fold) == ["MONITOR DISCONNECTED from the broker",
                                     "monitor connected again"]
