"""Properties over the decoder and the state engine, for inputs nobody thought to write:
decode refuses with PayloadError or gives back what was encoded; the engine never raises,
never shows ONLINE without a valid sign of life, and keeps its counts consistent."""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from chain.engine import ChainEngine
from chain.errors import PayloadError
from chain.invalid import INVALID_HOLD
from chain.sequence import SeqTracker
from chain.topology import Topology
from chain.views import OrgState
from chain.wire import Heartbeat, Message, Status, decode, encode
from tests.chain import strategies as gen
from tests.chain.factory import T0_EPOCH

BOUNDED = settings(max_examples=200, deadline=None, derandomize=True, database=None)
"""Bounded for CI time and the same examples every run: a failure here is reproducible."""


def decodes_or_refuses(payload: bytes) -> None:
    """Anything but PayloadError escapes, and fails the test."""
    with contextlib.suppress(PayloadError):
        decode(payload)


@BOUNDED
@given(st.binary(max_size=512))
def test_decode_of_arbitrary_bytes_raises_only_payload_error(payload: bytes) -> None:
    """Any bytes at all: a message or a PayloadError, nothing else."""
    decodes_or_refuses(payload)


@BOUNDED
@given(gen.json_values)
def test_decode_of_arbitrary_json_raises_only_payload_error(value: Any) -> None:
    """Any JSON document (NaN and Infinity included): a message or a PayloadError."""
    decodes_or_refuses(json.dumps(value).encode())


NEAR_MISSES = gen.json_values | gen.ids.map(lambda i: i + "\n") | st.sampled_from(
    ["om/#", "om/+", "", "OM", "-1", "9" * 30, "2025-07-17T09:00:00", "NaN"])
"""Any JSON value, and values one step from valid: a trailing newline, a wildcard, a
missing time zone."""
ID_FIELDS = ("org", "link", "process")


@BOUNDED
@given(gen.messages(), st.sampled_from(["kind", "v", "org", "session", "seq", "ts", "hist",
                                        "interval", "count", "items", "channel", "state",
                                        "link", "process"]),
       NEAR_MISSES)
def test_a_valid_message_with_one_field_replaced_is_decoded_or_refused(
    message: Message, field: str, value: Any
) -> None:
    """Near misses, where bugs hide: one field of a valid message set to another value. What
    is accepted still has ids that are exactly one safe topic level."""
    fields = json.loads(encode(message))
    fields[field] = value
    try:
        decoded = decode(json.dumps(fields).encode())
    except PayloadError:
        return
    for name in ID_FIELDS:
        if hasattr(decoded, name):
            assert re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", getattr(decoded, name))


@BOUNDED
@given(gen.messages())
def test_every_valid_message_round_trips(message: Message) -> None:
    """encode then decode gives back an equal message of the same kind."""
    decoded = decode(encode(message))
    assert decoded == message and type(decoded) is type(message)


@BOUNDED
@given(st.lists(st.integers(min_value=0, max_value=200), max_size=60))
def test_seq_accounting_matches_a_plain_count(seqs: list[int]) -> None:
    """Gaps are the numbers missing between lowest and highest; duplicates the repeats."""
    tracker = SeqTracker()
    fresh = [tracker.add(seq) for seq in seqs]
    seen = set(seqs)
    assert sum(fresh) == len(seen)
    assert tracker.duplicates == len(seqs) - len(seen)
    assert tracker.gaps == (max(seen) - min(seen) + 1 - len(seen) if seen else 0)


ORGS = ["om", "justid", "pilot-org"]
Step = tuple[str, Any, float]

steps = st.lists(
    st.one_of(
        st.tuples(st.just("message"),
                  st.tuples(gen.messages(orgs=st.sampled_from(ORGS),
                                         sessions=st.integers(0, 3), seqs=st.integers(0, 12),
                                         names=st.sampled_from(["om-justid", "jds_pending"]),
                                         amounts=st.integers(0, 50)),
                            st.booleans()),
                  st.floats(-30, 900)),
        st.tuples(st.just("reject"), st.sampled_from([*ORGS, None]), st.floats(-30, 900)),
        st.tuples(st.sampled_from(["connect", "disconnect"]), st.none(), st.floats(0, 900)),
    ),
    max_size=40,
)


def is_sign_of_life(message: Message) -> bool:
    return isinstance(message, Heartbeat) or (
        isinstance(message, Status) and message.state == "online")


@BOUNDED
@given(steps)
def test_the_engine_never_raises_and_never_shows_online_without_life(
    topology: Topology, run: list[Step]
) -> None:
    """Valid and invalid messages, retained or live, connects and disconnects, at times that
    may even go backwards: every view is consistent and nobody is ONLINE without a valid
    birth or heartbeat, nor while an invalid reading of theirs is recent."""
    engine = ChainEngine(topology)
    now, alive, refused = T0_EPOCH, set[str](), dict.fromkeys([*ORGS, None], 0)
    for kind, subject, delta in run:
        now += delta
        if kind == "message":
            message, retained = subject
            engine.apply(message, received_at=now, retained=retained)
            if is_sign_of_life(message):
                alive.add(message.org)
        elif kind == "reject":
            engine.reject(subject, "bad", now)
            refused[subject] += 1
        elif kind == "connect":
            engine.monitor_connected(now)
        else:
            engine.monitor_disconnected(now)
        view = engine.evaluate(now)
        for org in view.orgs:
            assert org.seq_gaps >= 0 and org.duplicates >= 0
            if org.state is OrgState.ONLINE:
                assert org.id in alive
                assert org.invalid_at is None or now - org.invalid_at > INVALID_HOLD
        # Readings naming a link or backlog that is not the organisation's are refused too.
        invalid = {org.id: org.invalid for org in view.orgs}
        assert "pilot-org" not in invalid  # not in the topology: never a row
        assert all(invalid[org] >= refused[org] for org in ORGS if org != "pilot-org")
        assert view.unattributed == refused[None]
        assert view.rejected >= sum(refused.values())
        assert (refused["pilot-org"] > 0) <= ("pilot-org" in view.unknown_senders)
