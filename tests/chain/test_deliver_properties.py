"""`deliver`, the monitor's one entry for what the broker hands over, as a property: any
topic and any payload end as exactly one accepted message or one counted rejection, blamed
on a valid id or on no one, and never raise."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from chain.engine import ChainEngine
from chain.inbox import EngineSink, deliver
from chain.topics import Topics
from chain.wire import encode
from ketenwacht.startup import load_topology
from tests.chain import strategies as gen
from tests.chain.factory import T0_EPOCH

TOPICS = Topics()
TOPOLOGY = load_topology(None)
ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
levels = st.sampled_from(["om", "justid", "_ops", "+", "#", "", "OM", "om\n", "\ufffd",
                          "status", "heartbeat", "channel", "email", "x" * 600])
topics = st.one_of(
    st.text(max_size=80),
    st.lists(levels, max_size=5).map(lambda parts: "/".join(["keten", "v1", *parts])),
)
payloads = st.one_of(st.binary(max_size=300), gen.messages().map(encode))
arrivals = st.one_of(
    st.tuples(topics, payloads, st.booleans()),
    st.tuples(gen.messages().map(lambda m: (TOPICS.of(m), encode(m))), st.booleans())
    .map(lambda pair: (*pair[0], pair[1])),
)
"""Anything on any topic, and valid messages on their own topic."""


class CountingSink(EngineSink):
    def __init__(self, engine: ChainEngine) -> None:
        super().__init__(engine)
        self.blamed: list[str | None] = []

    def message_rejected(
        self, topic: str, reason: str, *, received_at: float, org: str | None
    ) -> None:
        self.blamed.append(org)
        super().message_rejected(topic, reason, received_at=received_at, org=org)


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(st.lists(arrivals, max_size=10))
def test_anything_delivered_is_taken_or_counted_once(
    arrivals: list[tuple[str, bytes, bool]],
) -> None:
    """Each arrival is a message, an empty retained clear, or one rejection; every
    rejection is counted once, on a valid id or unattributed."""
    engine = ChainEngine(TOPOLOGY)
    engine.monitor_connected(T0_EPOCH)
    sink = CountingSink(engine)
    for topic, payload, retained in arrivals:
        before = (sink.received, len(sink.blamed))
        problem = deliver(TOPICS, sink, topic, payload, retained, T0_EPOCH)
        taken, refused = sink.received - before[0], len(sink.blamed) - before[1]
        assert (taken, refused) in ((1, 0), (0, 1), (0, 0))
        assert (problem is not None) == (refused == 1)
        if refused:
            org = sink.blamed[-1]
            assert org is None or ID.fullmatch(org)
    view = engine.view(T0_EPOCH)
    assert view.rejected == len(sink.blamed)
    assert view.unattributed == sink.blamed.count(None)


def test_the_property_sees_both_outcomes() -> None:
    """The strategy reaches accepted messages as well as rejections, or it proves little."""
    outcomes: set[bool] = set()

    @settings(max_examples=50, deadline=None, derandomize=True, database=None)
    @given(arrivals)
    def probe(arrival: tuple[str, bytes, bool]) -> None:
        engine = ChainEngine(TOPOLOGY)
        topic, payload, retained = arrival
        outcomes.add(deliver(TOPICS, EngineSink(engine), topic, payload, retained, 0.0) is None)

    probe()
    assert outcomes == {True, False}
