"""One wire union: whatever part of the contract a payload is, it is taken only on the topics
of that part, and refused, with the rule it broke, everywhere else."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chain.engine import ChainEngine
from chain.inbox import EngineSink, deliver
from chain.topics import Topics, exercise_root
from chain.wire import Annotation, ExerciseClock, ExerciseInject, Isolation, Payload, encode
from ketenwacht.startup import load_topology
from tests.chain.factory import T0_EPOCH, heartbeat

LIVE = Topics()
EXERCISE = Topics(exercise_root("oefening"))
TS = datetime.fromtimestamp(T0_EPOCH, UTC)
NOTE = Annotation(id="n-1", author="duty officer", ts=TS, text="phoned om")
ISOLATION = Isolation(id="i-1", author="duty officer", ts=TS, org="om", isolated=True)
CLOCK = ExerciseClock(name="oefening", at=TS, speed=60.0, day_zero=TS)
INJECT = ExerciseInject(id="inj-1", at=TS, text="om offline")


def routed(topics: Topics, topic: str, payload: Payload) -> str | None:
    sink = EngineSink(ChainEngine(load_topology(None)))
    return deliver(topics, sink, topic, encode(payload), False, T0_EPOCH)


@pytest.mark.parametrize(("topics", "payload", "topic"), [
    (LIVE, heartbeat(), LIVE.heartbeat("om")),
    (LIVE, NOTE, LIVE.op(NOTE)),
    (LIVE, ISOLATION, LIVE.op(ISOLATION)),
    (EXERCISE, CLOCK, EXERCISE.clock()),
    (EXERCISE, INJECT, EXERCISE.inject("inj-1")),
])
def test_each_part_is_taken_on_its_own_topics(topics: Topics, payload: Payload,
                                              topic: str) -> None:
    """A reading, an operator action and an exercise's control each arrive where they belong."""
    assert routed(topics, topic, payload) is None


@pytest.mark.parametrize(("topics", "payload", "topic", "rule"), [
    (LIVE, NOTE, LIVE.heartbeat("om"), "this operator action belongs on"),
    (LIVE, heartbeat(), LIVE.op(NOTE), "a heartbeat of 'om' belongs on"),
    (LIVE, CLOCK, f"{LIVE.root}/_exercise/clock", "belongs under an exercise root"),
    (LIVE, INJECT, LIVE.heartbeat("om"), "belongs under an exercise root"),
    (EXERCISE, CLOCK, EXERCISE.inject("inj-1"), "this exercise message belongs on"),
    (EXERCISE, INJECT, EXERCISE.op(NOTE), "this exercise message belongs on"),
    (EXERCISE, NOTE, EXERCISE.clock(), "this operator action belongs on"),
])
def test_each_part_is_refused_elsewhere_with_the_rule(topics: Topics, payload: Payload,
                                                      topic: str, rule: str) -> None:
    """Off its own topics a payload is refused, and the reason says where it belongs."""
    reason = routed(topics, topic, payload)
    assert reason is not None and rule in reason
