"""The agent: birth, heartbeats and readings for one organisation; a planned stop on exit.

Liveness contract (docs/protocol.md): a retained `status` online on connect, a heartbeat
every `interval`, a retained `status` offline (cause `stopped`) on a planned stop, and a
retained Last Will (cause `lost`) that the broker publishes if the connection dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Protocol

import aiomqtt
import msgspec

from broker.address import BrokerAddress
from broker.connection import cancel_and_wait, make_client, run_connected, until_disconnected
from broker.topics import Topics
from chain.engine import WILL_SEQ
from chain.wire import Heartbeat, Message, Status, encode

STOP_PUBLISH_TIMEOUT = 2.0


class ReadingSource(Protocol):
    async def read(self, now: float) -> Sequence[Message]:
        """Current readings; the agent stamps session, seq and ts on them."""
        ...


class Agent:
    def __init__(
        self,
        org: str,
        address: BrokerAddress,
        *,
        session: int,
        source: ReadingSource,
        topics: Topics | None = None,
        interval: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.org = org
        self.address = address
        self.topics = topics or Topics()
        self.session = session
        self.interval = interval
        self._source = source
        self._clock = clock
        self._seq = WILL_SEQ
        self.log = logging.LoggerAdapter(logging.getLogger("ketenwacht.agent"), {"org": org})

    def _stamp(self, message: Message) -> Message:
        self._seq += 1
        return msgspec.structs.replace(
            message, org=self.org, session=self.session, seq=self._seq, ts=self._now()
        )

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    def _status(self, state: str, cause: str | None, seq: int) -> Status:
        return Status(
            org=self.org,
            session=self.session,
            seq=seq,
            ts=self._now(),
            state="online" if state == "online" else "offline",
            cause="lost" if cause == "lost" else ("stopped" if cause else None),
            interval=self.interval,
        )

    def _client(self) -> aiomqtt.Client:
        will = aiomqtt.Will(
            self.topics.status(self.org),
            encode(self._status("offline", "lost", WILL_SEQ)),
            qos=1,
            retain=True,
        )
        keepalive = max(5, int(self.interval * 3))
        return make_client(
            self.address,
            identifier=f"ketenwacht-{self.org}-{self.session}",
            will=will,
            keepalive=keepalive,
        )

    async def run(self) -> None:
        """Run until cancelled; reconnects by itself."""
        self.log.info("agent starting, session %d, broker %s", self.session, self.address.url)
        await run_connected(self._client, self._work, logger=self.log.logger)

    async def publish(self, client: aiomqtt.Client, message: Message) -> None:
        retained = not isinstance(message, Heartbeat)
        await client.publish(
            self.topics.of(message), encode(message), qos=1 if retained else 0, retain=retained
        )

    async def _work(self, client: aiomqtt.Client) -> None:
        self._seq += 1
        await self.publish(client, self._status("online", None, self._seq))
        self.log.info("connected to %s", self.address.url)
        # A QoS 1 publish on a dead connection only fails after its timeout; watching for
        # the disconnection lets the agent reconnect at once instead.
        publishing = asyncio.create_task(self._publish_forever(client))
        watching = asyncio.create_task(until_disconnected(client))
        try:
            done, _ = await asyncio.wait({publishing, watching}, return_when="FIRST_COMPLETED")
        except asyncio.CancelledError:
            await cancel_and_wait(publishing, watching)
            await self._planned_stop(client)
            raise
        await cancel_and_wait(publishing, watching)
        for task in done:
            task.result()

    async def _publish_forever(self, client: aiomqtt.Client) -> None:
        while True:
            started = self._clock()
            await self.publish(client, self._stamp(self._heartbeat()))
            for reading in await self._source.read(started):
                await self.publish(client, self._stamp(reading))
            elapsed = self._clock() - started
            await asyncio.sleep(max(0.0, self.interval - elapsed))

    def _heartbeat(self) -> Heartbeat:
        return Heartbeat(org=self.org, session=0, seq=0, ts=self._now(), interval=self.interval)

    async def _planned_stop(self, client: aiomqtt.Client) -> None:
        self._seq += 1
        stopped = self._status("offline", "stopped", self._seq)
        with contextlib.suppress(aiomqtt.MqttError, TimeoutError):
            async with asyncio.timeout(STOP_PUBLISH_TIMEOUT):
                await self.publish(client, stopped)
                self.log.info("planned stop published")

