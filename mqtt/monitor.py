"""The monitor side: subscribe to a topic root and hand every decoded message to a sink."""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Protocol

import aiomqtt

from chain.engine import ChainEngine
from chain.errors import BrokerUnavailable, PayloadError
from chain.exercise import Control, ExerciseClock, ExerciseInject, decode_control
from chain.ops import Isolation, Op, decode_op, encode_op
from chain.topics import Topics
from chain.wire import Message, decode
from mqtt.address import BrokerAddress, as_brokers
from mqtt.connection import Backoff, Client, make_client, run_connected, subscribe

log = logging.getLogger("ketenwacht.monitor")


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
        if self._dated_by_sender and not retained:
            received_at = message.ts.timestamp()
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


def monitor_backoff() -> Backoff:
    """Quicker back than an agent: a chain has one or a few monitors, not hundreds to spread
    out, and until a recorder is back its broker holds what arrives in memory only."""
    return Backoff(initial=0.1, maximum=1.0)


class Monitor:
    """Reads every message under a topic root; reconnects on its own until cancelled."""

    def __init__(self, address: BrokerAddress | Sequence[BrokerAddress], topics: Topics,
                 *, clock: Callable[[], float] = time.time, session: str | None = None) -> None:
        """`clock` dates what arrives: the wall clock live, the exercise's clock in one.

        `session`: a persistent session under this client id, for a recorder. The broker
        then keeps the subscription while the monitor is away (across its own restarts too,
        when it persists sessions) and delivers the QoS 1 messages it held on return, so a
        reading acknowledged in between is not lost. Held messages are dated by their
        arrival here, like everything else; heartbeats (QoS 0) are not held.
        """
        self.brokers = as_brokers(address)
        self.address = self.brokers[0]
        """The node in use, or last tried."""
        self.topics = topics
        self._clock = clock
        self.session = session
        self._identifier = session or f"ketenwacht-monitor-{uuid.uuid4().hex[:8]}"
        self._resumed = False
        self.sessions_lost = 0
        """Reconnects on which the broker no longer had the persistent session."""
        self._client: aiomqtt.Client | None = None

    async def run(
        self, sink: MonitorSink, *, backoff: Backoff | None = None, record: Tap | None = None
    ) -> None:
        """Dispatch every message to `sink`; with `record`, hand each one, as received and
        before decoding, to the recorder too."""
        def connect(address: BrokerAddress) -> aiomqtt.Client:
            self.address = address
            return make_client(address, identifier=self._identifier, keepalive=10,
                               clean_session=self.session is None)

        async def work(client: aiomqtt.Client) -> None:
            if self.session is not None:
                self._check_session(client)
            await subscribe(client, self.topics.everything, qos=1)
            self._client = client
            try:
                async for received in client.messages:
                    now = self._clock()
                    topic, payload = received.topic.value, received.payload
                    problem = self.dispatch(sink, topic, payload, received.retain, now)
                    if record is not None and isinstance(payload, bytes):
                        record(now, topic, payload, received.qos, received.retain, problem)
            finally:
                self._client = None

        await run_connected(
            connect, self.brokers, work, logger=log, on_connection=sink.connection_changed,
            backoff=backoff or monitor_backoff(), first=random.randrange(len(self.brokers)),
        )

    def _check_session(self, client: aiomqtt.Client) -> None:
        present = isinstance(client, Client) and client.session_present
        if self._resumed and not present:
            # Only a reconnect can tell: on the first connect the session may be new.
            self.sessions_lost += 1
            log.warning(
                "the broker no longer had session %s (no persistence, or it expired): what "
                "was published while this monitor was away is not in the recording",
                self._identifier,
            )
        self._resumed = True

    @property
    def subscribed(self) -> bool:
        """Whether the monitor holds its subscription now (what is published reaches it)."""
        return self._client is not None

    @property
    def queued(self) -> int:
        """Messages received from the broker but not yet dispatched (0 when disconnected)."""
        return len(self._client.messages) if self._client is not None else 0

    async def publish_op(self, op: Op) -> None:
        """Publish an operator action on the monitor's own connection."""
        client = self._client
        if client is None:
            raise BrokerUnavailable(f"not connected to {self.address.url}: action not sent")
        try:
            await client.publish(
                self.topics.op(op), encode_op(op), qos=1, retain=isinstance(op, Isolation)
            )
        except aiomqtt.MqttError as error:
            raise BrokerUnavailable(f"{self.address.url}: action not sent: {error}") from None

    def dispatch(
        self, sink: MonitorSink, topic: str, payload: object, retained: bool,
        now: float | None = None,
    ) -> str | None:
        return deliver(
            self.topics, sink, topic, payload, retained, self._clock() if now is None else now
        )


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
        if topics.is_control(topic):
            control = decode_control(payload)
            topics.check_control(topic, control)
            sink.control_received(control, received_at=now)
            return None
        if topics.is_ops(topic):
            op = decode_op(payload)
            topics.check_op(topic, op)
            sink.op_received(op, received_at=now)
            return None
        message = decode(payload)
        topics.check(topic, message)
    except PayloadError as error:
        sink.message_rejected(topic, str(error), received_at=now, org=topics.org_of(topic))
        return str(error)
    sink.message_received(message, received_at=now, retained=retained)
    return None
