"""Hypothesis strategies for wire messages, written out field by field: `from_type` does
not honour the `Annotated` constraints (patterns, bounds, lengths) that make one valid."""

from __future__ import annotations

from datetime import UTC, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from chain.wire import (
    MAX_COUNT,
    BacklogGauge,
    ChannelReading,
    FlowCounter,
    Heartbeat,
    Message,
    Status,
)

ids = st.from_regex(r"\A[a-z0-9][a-z0-9_-]{0,63}\Z")
counts = st.integers(min_value=0, max_value=MAX_COUNT)
seconds = st.floats(min_value=0, max_value=86_400, exclude_min=True, allow_nan=False)
times = st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=2))]))


def envelopes(
    orgs: st.SearchStrategy[str] = ids,
    sessions: st.SearchStrategy[int] = counts,
    seqs: st.SearchStrategy[int] = counts,
) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({
        "org": orgs, "session": sessions, "seq": seqs, "ts": times, "hist": st.booleans(),
    })


def messages(
    orgs: st.SearchStrategy[str] = ids,
    sessions: st.SearchStrategy[int] = counts,
    seqs: st.SearchStrategy[int] = counts,
    names: st.SearchStrategy[str] = ids,
    amounts: st.SearchStrategy[int] = counts,
) -> st.SearchStrategy[Message]:
    """Valid messages of every kind; narrower strategies make them interact in an engine."""
    envelope = envelopes(orgs, sessions, seqs)
    status = st.builds(
        lambda e, state, cause, interval: Status(**e, state=state, cause=cause,
                                                  interval=interval),
        envelope, st.sampled_from(["online", "offline"]),
        st.sampled_from([None, "stopped", "lost"]), st.none() | seconds,
    )
    heartbeat = st.builds(
        lambda e, interval, buffered, dropped: Heartbeat(**e, interval=interval,
                                                         buffered=buffered, dropped=dropped),
        envelope, seconds, amounts, amounts,
    )
    channel = st.builds(
        lambda e, channel, up, latency, detail: ChannelReading(
            **e, channel=channel, up=up, latency_ms=latency, detail=detail),
        envelope, st.sampled_from(["email", "phone", "portal", "messaging"]), st.booleans(),
        st.none() | st.floats(min_value=0, allow_nan=False, allow_infinity=False),
        st.text(max_size=200),
    )
    flow = st.builds(
        lambda e, link, direction, count: FlowCounter(**e, link=link, direction=direction,
                                                      count=count),
        envelope, names, st.sampled_from(["sent", "received"]), amounts,
    )
    backlog = st.builds(
        lambda e, process, items: BacklogGauge(**e, process=process, items=items),
        envelope, names, amounts,
    )
    return st.one_of(status, heartbeat, channel, flow, backlog)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
"""Anything JSON can hold (and NaN and Infinity, which Python's json writes anyway)."""
