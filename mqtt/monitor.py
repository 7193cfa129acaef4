"""The monitor loop: subscribe to a topic root and hand every message to `chain.inbox.deliver`."""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable, Sequence

import aiomqtt

from chain.errors import BrokerUnavailableError
from chain.inbox import MonitorSink, Tap, deliver
from chain.topics import Topics
from chain.wire import Isolation, Op, encode
from mqtt.address import BrokerAddress, as_brokers
from mqtt.connection import Backoff, Client, make_client, run_connected, subscribe

log = logging.getLogger("ketenwacht.monitor")


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
            clock=self._clock,
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
            raise BrokerUnavailableError(f"not connected to {self.address.url}: action not sent")
        try:
            await client.publish(
                self.topics.op(op), encode(op), qos=1, retain=isinstance(op, Isolation)
            )
        except aiomqtt.MqttError as error:
            raise BrokerUnavailableError(f"{self.address.url}: action not sent: {error}") from None

    def dispatch(
        self, sink: MonitorSink, topic: str, payload: object, retained: bool,
        now: float | None = None,
    ) -> str | None:
        return deliver(
            self.topics, sink, topic, payload, retained, self._clock() if now is None else now
        )
