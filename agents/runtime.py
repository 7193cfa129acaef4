"""The agent: birth, heartbeats and readings for one organisation; a planned stop on exit.

Liveness contract (docs/protocol.md): a retained `status` online on connect, a heartbeat
every `interval`, a retained `status` offline (cause `stopped`) on a planned stop, and a
retained Last Will (cause `lost`) that the broker publishes if the connection dies. A Will
that lands on the status topic while we live (an older session's, or one the broker sent late
for an earlier connection of ours) is answered with the birth again, so that no monitor
starting later reads a live agent as OFFLINE.

Readings are produced on schedule whether or not the broker is reachable. While it is not,
they wait in the outbox (store-and-forward) and are delivered after the reconnect, in
order, marked `hist`. Heartbeats are only sent live: a late heartbeat proves nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import ssl
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Literal, Protocol

import aiomqtt
import msgspec

from agents.outbox import Outbox
from chain.errors import PayloadError
from chain.topics import Topics
from chain.wire import WILL_SEQ, Heartbeat, Message, Status, decode, encode
from mqtt.address import BrokerAddress, as_brokers, describe
from mqtt.connection import cancel_and_wait, make_client, run_connected, subscribe

STOP_PUBLISH_TIMEOUT = 2.0
DRAIN_BATCH = 200


class ReadingSource(Protocol):
    async def read(self, now: float) -> Sequence[Message]:
        """Current readings; the agent stamps session, seq and ts on them."""
        ...


class Agent:
    def __init__(
        self,
        org: str,
        address: BrokerAddress | Sequence[BrokerAddress],
        *,
        session: int,
        source: ReadingSource,
        outbox: Outbox | None = None,
        topics: Topics | None = None,
        interval: float = 5.0,
        keepalive: int | None = None,
        tls_context: ssl.SSLContext | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """`clock` stamps and paces the rounds, `sleep` waits between them (in the clock's
        seconds): given together, a test runs agents and a monitor on a faster clock."""
        self.org = org
        self.brokers = as_brokers(address)
        self.address = self.brokers[0]
        """The node in use, or last tried."""
        self.topics = topics or Topics()
        self.session = session
        self.interval = interval
        self.outbox = outbox
        self._source = source
        self._keepalive = keepalive or max(5, int(interval * 3))
        self._tls_context = tls_context
        self._clock = clock
        self._sleep = sleep
        # A broker lets any logged-in client take over a client id, and sends the Will of the
        # connection it drops: with a guessable id another organisation could mark us "lost".
        self.client_id = f"ketenwacht-{org}-{session}-{secrets.token_hex(8)}"
        self._seq = WILL_SEQ
        self._live: aiomqtt.Client | None = None
        self._first_connection = asyncio.Event()
        self._round = asyncio.Lock()
        """Held while a heartbeat and readings are being stamped and sent."""
        self._connection_lost: asyncio.Task[None] | None = None
        self._buffered = asyncio.Event()
        """Set when readings went into the outbox: the drainer has work while connected."""
        self._overwritten = asyncio.Event()
        """Set when a Will replaced our retained birth: it is due again (see _rebirth)."""
        self.log = logging.LoggerAdapter(logging.getLogger("ketenwacht.agent"), {"org": org})

    # ----------------------------------------------------------------- messages

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    def _stamp(self, message: Message) -> Message:
        self._seq += 1
        return msgspec.structs.replace(
            message, org=self.org, session=self.session, seq=self._seq, ts=self._now()
        )

    def _status(
        self, state: Literal["online", "offline"], cause: Literal["stopped", "lost"] | None
    ) -> Status:
        seq = WILL_SEQ if cause == "lost" else self._next_seq()
        return Status(
            org=self.org, session=self.session, seq=seq, ts=self._now(),
            state=state, cause=cause, interval=self.interval,
        )

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _heartbeat(self) -> Heartbeat:
        return Heartbeat(
            org=self.org, session=self.session, seq=self._next_seq(), ts=self._now(),
            interval=self.interval,
            buffered=self.outbox.size if self.outbox else 0,
            dropped=self.outbox.dropped if self.outbox else 0,
        )

    async def publish(self, client: aiomqtt.Client, message: Message) -> None:
        live_state = not isinstance(message, Heartbeat) and not message.hist
        await client.publish(
            self.topics.of(message), encode(message), qos=0 if isinstance(message, Heartbeat)
            else 1, retain=live_state,
        )

    # ----------------------------------------------------------------- running

    def _client(self, address: BrokerAddress) -> aiomqtt.Client:
        self.address = address
        will = aiomqtt.Will(
            self.topics.status(self.org), encode(self._status("offline", "lost")),
            qos=1, retain=True,
        )
        client = make_client(
            address,
            identifier=self.client_id,
            will=will,
            keepalive=self._keepalive,
            tls_context=self._tls_context,
        )
        # Draining the outbox keeps a batch in flight on purpose; no warning for that.
        client.pending_calls_threshold = DRAIN_BATCH + 50
        return client

    async def run(self) -> None:
        """Run until cancelled; reconnects by itself, buffers while it cannot."""
        self.log.info("agent starting, session %d, broker %s", self.session,
                      describe(self.brokers))
        producer = asyncio.create_task(self._produce_forever(), name=f"produce-{self.org}")
        try:
            # A fleet of agents starts on random nodes, so a cluster shares their load.
            await run_connected(self._client, self.brokers, self._work, logger=self.log.logger,
                                first=secrets.randbelow(len(self.brokers)))
        finally:
            await cancel_and_wait(producer)

    async def _work(self, client: aiomqtt.Client) -> None:
        await self.publish(client, self._status("online", None))
        self._overwritten.clear()
        self.log.info("connected to %s", self.address.url)
        # Subscribed after the birth, so the retained copy it brings back is that birth.
        self._connection_lost = asyncio.create_task(self._watch_own_status(client))
        self._live = client
        self._first_connection.set()
        try:
            # Returns only when the connection is lost (the drainer runs while it lives).
            # Not `await task`: a planned stop cancels us, and would cancel the watch with us
            # while the round it lets finish (_finish_round) still needs it.
            await self._drain_until_lost(client, self._connection_lost)
            self._connection_lost.result()
        except asyncio.CancelledError:
            await self._finish_round()
            self._live = None
            await cancel_and_wait(self._connection_lost)
            await self._planned_stop(client)
            raise
        finally:
            self._live = None
            await cancel_and_wait(self._connection_lost)

    async def _produce_forever(self) -> None:
        if self.outbox is None:
            # Nowhere to keep readings made before the broker is reached: start with it.
            await self._first_connection.wait()
        while True:
            started = self._clock()
            async with self._round:
                client = self._live
                if client is not None:
                    await self._send_live(client, [self._heartbeat()])
                readings = [self._stamp(r) for r in await self._source.read(started)]
                await self._deliver(readings)
            elapsed = self._clock() - started
            await self._sleep(max(0.0, self.interval - elapsed))

    async def _deliver(self, readings: list[Message]) -> None:
        client = self._live
        backlog = self.outbox is not None and self.outbox.size > 0
        sent = 0 if client is None or backlog else await self._send_live(client, readings)
        await self._keep(readings[sent:])

    async def _send_live(self, client: aiomqtt.Client, messages: list[Message]) -> int:
        """Publish in order until one fails or the connection drops; returns how many went.

        All are started at once (so they leave in order) and acknowledged together: over a
        slow link a tick costs one round trip, not one per reading, and heartbeats keep time.
        """
        if not messages:
            return 0
        lost = self._connection_lost
        publishing = [asyncio.create_task(self.publish(client, m)) for m in messages]
        all_acknowledged = asyncio.ensure_future(asyncio.wait(publishing))
        waiting = {all_acknowledged} if lost is None else {all_acknowledged, lost}
        try:
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        finally:
            all_acknowledged.cancel()
            await cancel_and_wait(*(task for task in publishing if not task.done()))
        went = [not task.cancelled() and task.exception() is None for task in publishing]
        return went.index(False) if False in went else len(went)

    async def _keep(self, readings: list[Message]) -> None:
        """Buffer readings that could not go live; without an outbox they are lost."""
        if not readings:
            return
        if self.outbox is None:
            self.log.debug("no outbox: %d readings lost while disconnected", len(readings))
            return
        kept = [msgspec.structs.replace(r, hist=True) for r in readings]
        await self.outbox.append([(self.topics.of(m), encode(m)) for m in kept])
        self._buffered.set()

    async def _drain_until_lost(
        self, client: aiomqtt.Client, lost: asyncio.Task[None]
    ) -> None:
        """Drain (and be born again when due) for as long as the connection lives, but give up
        as soon as it drops: aiomqtt leaves a publish that was in flight then waiting for its
        PUBACK until its timeout. A planned stop cancels both before its last round."""
        jobs = [asyncio.create_task(self._drain_whenever_buffered(client)),
                asyncio.create_task(self._rebirth(client))]
        try:
            await asyncio.wait({*jobs, lost}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            await cancel_and_wait(*jobs)
        for job in jobs:
            if not job.cancelled():
                job.result()

    async def _watch_own_status(self, client: aiomqtt.Client) -> None:
        """Return nothing, ever: raise MqttError once the connection drops (as
        mqtt.connection.until_disconnected does); meanwhile note every Will that replaces our
        birth on our own status topic."""
        topic = self.topics.status(self.org)
        try:
            # QoS 0: all it needs is the retained status, and on NATS a QoS 1 subscription
            # is a JetStream consumer per agent, which under load can time out and make the
            # broker end the connection (and send the Will this is here to answer).
            await subscribe(client, topic, qos=0)
        except aiomqtt.MqttError as error:
            # If the link died, the iteration below says so at once; else we live unwatched.
            self.log.warning("not watching %s: %s", topic, error)
        async for message in client.messages:
            if self._overwrites_birth(message.payload):
                self._overwritten.set()
        raise aiomqtt.MqttError("message iteration ended")

    def _overwrites_birth(self, payload: object) -> bool:
        """An offline status of an older session (its late Will), or our own session's Will
        (the broker dropped a connection of ours). Our birth and our stop are no news."""
        if not isinstance(payload, bytes) or not payload:
            self.log.debug("ignored on our status topic: an empty payload")
            return False
        try:
            status = decode(payload)
        except PayloadError as error:
            self.log.debug("ignored on our status topic: %s", error)
            return False
        if not isinstance(status, Status) or status.org != self.org:
            self.log.debug("ignored on our status topic: not a status of ours")
            return False
        return status.state == "offline" and (
            status.session < self.session
            or (status.session == self.session and status.seq == WILL_SEQ)
        )

    async def _rebirth(self, client: aiomqtt.Client) -> None:
        """Publish the retained birth again whenever a Will has replaced it."""
        while True:
            await self._overwritten.wait()
            self._overwritten.clear()
            if await self._send_live(client, [self._status("online", None)]):
                self.log.info("a Last Will replaced our birth on the broker; birth published "
                              "again")
            else:
                self.log.warning("a Last Will replaced our birth on the broker; publishing "
                                 "the birth again failed")

    async def _drain_whenever_buffered(self, client: aiomqtt.Client) -> None:
        """Drain now, and again whenever readings are buffered while connected (a live
        publish that failed, or a round that found a backlog): none waits for a reconnect."""
        failing = False
        while True:
            self._buffered.clear()
            try:
                await self._drain(client)
            except aiomqtt.MqttError as error:
                # A lost connection cancels us; this one still lives, so the link is slow,
                # not dead. Reconnecting would only make the broker send our Will.
                if not failing:
                    self.log.warning("buffered readings not acknowledged (%s); retrying "
                                     "every %.1fs on this connection", error, self.interval)
                failing = True
                await self._sleep(self.interval)
                continue
            if failing:
                self.log.info("buffered readings acknowledged again")
            failing = False
            await self._buffered.wait()

    async def _drain(self, client: aiomqtt.Client) -> None:
        """Deliver what waited in the outbox, oldest first, before anything new."""
        if self.outbox is None or self.outbox.size == 0:
            return
        self.log.info("delivering %d buffered messages", self.outbox.size)
        while batch := await self.outbox.peek(DRAIN_BATCH):
            # Started in order, so the broker receives them in order; acknowledged together.
            await asyncio.gather(
                *(client.publish(topic, payload, qos=1) for _, topic, payload in batch)
            )
            await self.outbox.remove_through(batch[-1][0])
        self.log.info("buffer delivered")

    async def _finish_round(self) -> None:
        """Before a planned stop: let a round in flight finish and start no other, so that
        every seq stamped is sent and the stop is the session's last message (cut short, the
        round's remaining seqs would be a gap, and a reading could follow the stop)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(STOP_PUBLISH_TIMEOUT):
                await self._round.acquire()  # kept: the producer is cancelled next

    async def _planned_stop(self, client: aiomqtt.Client) -> None:
        try:
            async with asyncio.timeout(STOP_PUBLISH_TIMEOUT):
                await self.publish(client, self._status("offline", "stopped"))
        except (aiomqtt.MqttError, TimeoutError) as error:
            self.log.warning("planned stop not delivered: %s", error)
        else:
            self.log.info("planned stop published")
