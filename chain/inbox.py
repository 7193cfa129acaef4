"""The inbox: one received message (topic and bytes) decoded, checked against its topic, and
handed to a sink, which for a screen folds it into the engine.

Pure: the monitor loop, the history loader, the player and the report all route through
`deliver`, so each judges a message exactly as the others do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from chain.engine import ChainEngine
from chain.errors import PayloadError
from chain.topics import Topics
from chain.wire import Control, ExerciseClock, ExerciseInject, Message, Op, decode

Tap = Callable[[float, str, bytes, int, bool, str | None], None]
"""Receives every message as it came: (received_at, topic, payload, qos, retain, problem),
where `problem` says why it was rejected, or is None."""


class MonitorSink(Protocol):
    def message_received(self, message: Message, *, received_at: float, retained: bool) -> None:
        ...

    def message_rejected(
        self, topic: str, reason: str, *, received_at: float, org: str | None
    ) -> None:
        """`org`: the organisation the topic names (`Topics.org_of`), None if none."""

    def connection_changed(self, connected: bool, at: float) -> None: ...

    def op_received(self, op: Op, *, received_at: float) -> None: ...

    def control_received(self, control: Control, *, received_at: float) -> None: ...


def dated(message: Message, received_at: float, *, retained: bool, by_sender: bool) -> float:
    """When the engine takes `message` to have happened: on arrival, or, in an exercise, at
    the driver's clock (on a fast clock, transit would turn milliseconds into minutes). A
    retained message is the state found on subscribing, dated by its arrival either way."""
    return message.ts.timestamp() if by_sender and not retained else received_at


class EngineSink:
    """Folds what the monitor receives into a ChainEngine."""

    def __init__(self, engine: ChainEngine, on_change: Callable[[], None] | None = None,
                 *, on_clock: Callable[[ExerciseClock], None] | None = None,
                 dated_by_sender: bool = False) -> None:
        """`dated_by_sender`: in an exercise, the driver's clock is the only clock there is,
        and transit at a day a minute would turn milliseconds into minutes of skew."""
        self.engine = engine
        self._dated_by_sender = dated_by_sender
        self.received = 0
        self._on_change = on_change or (lambda: None)
        self._on_clock = on_clock

    def message_received(self, message: Message, *, received_at: float, retained: bool) -> None:
        self.received += 1
        received_at = dated(message, received_at, retained=retained,
                            by_sender=self._dated_by_sender)
        self.engine.apply(message, received_at=received_at, retained=retained)
        self._on_change()

    def message_rejected(
        self, topic: str, reason: str, *, received_at: float, org: str | None
    ) -> None:
        self.engine.reject(org, reason, received_at)
        self._on_change()

    def op_received(self, op: Op, *, received_at: float) -> None:
        self.engine.apply_op(op, received_at=received_at)
        self._on_change()

    def control_received(self, control: Control, *, received_at: float) -> None:
        if isinstance(control, ExerciseInject):
            self.engine.log.record_inject(control)
        elif self._on_clock is not None:
            self._on_clock(control)
        self._on_change()

    def connection_changed(self, connected: bool, at: float) -> None:
        if connected:
            self.engine.monitor_connected(at)
        else:
            self.engine.monitor_disconnected(at)
        self._on_change()


def deliver(
    topics: Topics, sink: MonitorSink, topic: str, payload: object, retained: bool, now: float
) -> str | None:
    """Decode, check against its topic, and hand to the sink: a message, an operator
    action, or a rejection with its reason (which is also returned)."""
    if not isinstance(payload, bytes):
        sink.message_rejected(topic, "payload is not bytes", received_at=now,
                              org=topics.org_of(topic))
        return "payload is not bytes"
    if not payload and retained:
        return None  # a retained message being cleared
    try:
        decoded = decode(payload)
        topics.check(topic, decoded)
    except PayloadError as error:
        sink.message_rejected(topic, str(error), received_at=now, org=topics.org_of(topic))
        return str(error)
    if isinstance(decoded, Control):
        sink.control_received(decoded, received_at=now)
    elif isinstance(decoded, Op):
        sink.op_received(decoded, received_at=now)
    else:
        sink.message_received(decoded, received_at=now, retained=retained)
    return None
