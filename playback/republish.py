"""A recording played back into a broker, under an exercise root, for a room of screens.

Each message goes out when the replay's clock reaches the moment it was recorded, on the
same topic under the exercise root instead of the recorded one; the clock itself is
published (retained) so that every following screen keeps the recording's time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Final

import aiomqtt

from chain.playback import PlaybackClock
from chain.topics import CONTROL, OPS, Topics
from chain.wire import ExerciseClock, encode
from mqtt.address import BrokerAddress, as_brokers
from mqtt.connection import make_client, run_connected
from recording.reader import Recording, Row

CHUNK: Final = 2000
CLOCK_EVERY: Final = 1.0
"""Wall seconds between clock messages (and the longest a wait for the next row lasts)."""

log = logging.getLogger("ketenwacht.replay")


class Republisher:
    def __init__(self, recording: Recording, address: BrokerAddress | Sequence[BrokerAddress],
                 *, recorded_root: str, target: Topics, speed: float | None, title: str,
                 wall: Callable[[], float] = time.time) -> None:
        self.recording = recording
        self.brokers = as_brokers(address)
        self.recorded_root = recorded_root
        self.target = target
        self.title = title
        self.flat_out = speed is None
        self._wall = wall
        span = recording.span
        self.clock = PlaybackClock(span.first_at, wall=wall(), speed=speed or 1.0,
                                   end=span.last_at)
        self._after_id = span.first_id - 1
        self._position = span.first_at
        self.published = 0
        self.skipped = 0
        """Rows outside the recorded root, or a recorded exercise's own clock."""

    def now(self) -> float:
        return self._position if self.flat_out else self.clock.now(self._wall())

    async def run(self) -> None:
        """Publish the whole recording, then return; reconnects on the way if it must."""
        done = asyncio.Event()

        def connect(address: BrokerAddress) -> aiomqtt.Client:
            client = make_client(address, identifier=f"ketenwacht-replay-{id(self):x}")
            client.pending_calls_threshold = CHUNK + 50
            return client

        async def work(client: aiomqtt.Client) -> None:
            await self._play(client)
            done.set()

        runner = asyncio.create_task(run_connected(connect, self.brokers, work, logger=log))
        waiting = asyncio.create_task(done.wait())
        try:
            await asyncio.wait({runner, waiting}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            runner.cancel()
            waiting.cancel()
            await asyncio.gather(runner, waiting, return_exceptions=True)

    async def _play(self, client: aiomqtt.Client) -> None:
        clock_sent = 0.0
        while rows := self.recording.rows_after(self._after_id, CHUNK):
            for row in rows:
                while not self.flat_out and self.clock.now(self._wall()) < row.received_at:
                    if self._wall() - clock_sent >= CLOCK_EVERY:
                        await self._send_clock(client)
                        clock_sent = self._wall()
                    ahead = (row.received_at - self.clock.now(self._wall())) / self.clock.speed
                    await asyncio.sleep(min(max(ahead, 0.001), CLOCK_EVERY))
                self._position = row.received_at
                if self.flat_out and self._wall() - clock_sent >= CLOCK_EVERY:
                    await self._send_clock(client)
                    clock_sent = self._wall()
                await self._send(client, row)
                self._after_id = row.id
        self._position = self.recording.span.last_at
        await self._send_clock(client)

    async def _send(self, client: aiomqtt.Client, row: Row) -> None:
        prefix = self.recorded_root + "/"
        rest = row.topic[len(prefix):]
        if not row.topic.startswith(prefix) or rest.startswith(f"{CONTROL}/clock"):
            self.skipped += 1
            return
        await client.publish(f"{self.target.root}/{rest}", row.payload, qos=1,
                             retain=_retained(rest))
        self.published += 1

    async def _send_clock(self, client: aiomqtt.Client) -> None:
        at = self.now()
        message = ExerciseClock(
            name=self.target.root.split("/")[1], title=self.title,
            at=datetime.fromtimestamp(at, UTC), speed=self.clock.speed,
            paused=False, day_zero=datetime.fromtimestamp(self.recording.span.first_at, UTC),
        )
        await client.publish(self.target.clock(), encode(message), qos=1, retain=True)


def _retained(rest: str) -> bool:
    """As the wire contract retains them: state yes, heartbeats and events no."""
    if rest.startswith(f"{OPS}/"):
        return rest.startswith(f"{OPS}/isolation/")
    return not rest.endswith("/heartbeat")
