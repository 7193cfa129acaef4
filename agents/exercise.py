"""An exercise: the scripted chain published under the exercise root on the exercise's clock.

One connection plays every organisation, as the replay identity the broker's ACL confines
to exercise roots. Each tick (one wall second) publishes the clock, then for every
organisation its heartbeat and readings as of that moment; an organisation that goes dark
publishes its Last Will and then nothing until it comes back with a new session. What the
crisis room hears by phone is published as operator reports under `_ops`, after the round
they fall in.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Final

import aiomqtt
import msgspec

from agents.scripted import ScriptedChain
from chain.errors import UsageError
from chain.playback import SPEEDS, PlaybackClock, banner_time, describe_speed
from chain.topics import Topics
from chain.wire import (
    WILL_SEQ,
    ExerciseClock,
    ExerciseInject,
    Heartbeat,
    ManualReport,
    Message,
    Status,
    encode,
)
from mqtt.address import BrokerAddress, as_brokers
from mqtt.connection import make_client, run_connected

TICK: Final = 1.0
"""Wall seconds between two rounds of publishing."""
MAX_SCALE: Final = SPEEDS[-1]
"""One day a second: a heartbeat interval may not exceed a day."""

log = logging.getLogger("ketenwacht.exercise")


class ChainVoices:
    """Sessions, sequence numbers and births of every organisation of the exercise."""

    def __init__(self, chain: ScriptedChain) -> None:
        self.chain = chain
        self._seq: dict[str, int] = {}
        self._session: dict[str, int] = {}
        self._online: dict[str, bool] = {}

    def _stamp(self, message: Message, at: float) -> Message:
        org = message.org
        self._seq[org] = self._seq.get(org, 0) + 1
        return msgspec.structs.replace(message, session=self._session[org], seq=self._seq[org],
                                       ts=datetime.fromtimestamp(at, UTC))

    def round(self, at: float, interval: float) -> list[Message]:
        """What every organisation publishes at `at`, with a heartbeat promised every
        `interval` seconds of exercise time."""
        out: list[Message] = []
        ts = datetime.fromtimestamp(at, UTC)
        for org in self.chain.topology.org_ids:
            online, session = self.chain.online(org, at), self.chain.session(org, at)
            was_online = self._online.get(org, False)
            if online and (not was_online or self._session.get(org) != session):
                self._session[org], self._seq[org] = session, 0
                out.append(self._stamp(Status(org=org, session=0, seq=0, ts=ts,
                                              state="online", interval=interval), at))
            elif was_online and not online:
                # Its last readings still left (email failing as the lines went down); then
                # the broker tells of the lost connection.
                out += [self._stamp(reading, at) for reading in self.chain.readings(org, at)]
                out.append(Status(org=org, session=self._session[org], seq=WILL_SEQ, ts=ts,
                                  state="offline", cause="lost"))
            self._online[org] = online
            if online:
                out.append(self._stamp(Heartbeat(org=org, session=0, seq=0, ts=ts,
                                                 interval=interval), at))
                out += [self._stamp(reading, at) for reading in self.chain.readings(org, at)]
        return out

    def reports(self, after: float, until: float) -> list[ManualReport]:
        """The operator reports of the scenario due after `after`, up to `until`, as the
        crisis room would enter them, dated at their moment in the scenario."""
        name = self.chain.scenario.scenario.name
        out: list[ManualReport] = []
        for number, report in self.chain.reports_between(after, until):
            observed = datetime.fromtimestamp(self.chain.moment(report.day), UTC)
            out.append(ManualReport(id=f"{name}-report-{number}", author=report.author,
                                    ts=observed, org=report.org, text=report.text,
                                    channel=report.channel, up=report.up,
                                    observed_at=observed))
        return out


class Exercise:
    """The exercise as the leader steers it: pause, speed, skip ahead."""

    kind = "EXERCISE"

    def __init__(self, chain: ScriptedChain, address: BrokerAddress | Sequence[BrokerAddress],
                 topics: Topics, *, scale: float,
                 wall: Callable[[], float] = time.time) -> None:
        if not topics.is_exercise:
            raise UsageError(f"topic root {topics.root!r} is not an exercise root")
        self.chain = chain
        self.brokers = as_brokers(address)
        self.topics = topics
        self.name = chain.scenario.scenario.name
        self._wall = wall
        self.clock = PlaybackClock(chain.start, wall=wall(), speed=min(scale, MAX_SCALE),
                                   end=chain.end)
        self.day_zero = chain.start
        self._voices = ChainVoices(chain)
        self._published_at = chain.start - 1
        self._wake = asyncio.Event()
        self.published = 0

    def now(self) -> float:
        return self.clock.now(self._wall())

    async def run(self) -> None:
        """Publish until cancelled; reconnects by itself."""
        def connect(address: BrokerAddress) -> aiomqtt.Client:
            client = make_client(address, identifier=f"ketenwacht-exercise-{self.name}")
            client.pending_calls_threshold = 1000  # a whole round is in flight on purpose
            return client

        await run_connected(connect, self.brokers, self._publish_forever, logger=log)

    async def _publish_forever(self, client: aiomqtt.Client) -> None:
        while True:
            await self.publish_round(client)
            self._wake.clear()
            try:
                async with asyncio.timeout(TICK):
                    await self._wake.wait()
            except TimeoutError:
                pass

    async def publish_round(self, client: aiomqtt.Client) -> None:
        at = self.now()
        await client.publish(self.topics.clock(), encode(self.clock_message(at)),
                             qos=1, retain=True)
        for number, inject in self.chain.injects_between(self._published_at, at):
            told = ExerciseInject(
                id=f"{self.name}-{number}",
                at=datetime.fromtimestamp(self.chain.moment(inject.day), UTC),
                text=inject.text, source=inject.source,
            )
            await client.publish(self.topics.inject(told.id), encode(told),
                                 qos=1, retain=True)
        if at > self._published_at:
            interval = min(max(self.clock.speed * TICK, 1.0), 86_400.0)
            messages = self._voices.round(at, interval)
            # All at once: at a day a minute, every millisecond in transit is a minute.
            await asyncio.gather(*(
                client.publish(self.topics.of(m), encode(m),
                               qos=0 if isinstance(m, Heartbeat) else 1,
                               retain=not isinstance(m, Heartbeat))
                for m in messages
            ))
            self.published += len(messages)
            # Events, not state: a retained report would greet the next run of the exercise.
            for report in self._voices.reports(self._published_at, at):
                await client.publish(self.topics.op(report), encode(report), qos=1)
            self._published_at = at

    def clock_message(self, at: float) -> ExerciseClock:
        header = self.chain.scenario.scenario
        return ExerciseClock(name=header.name, title=header.title,
                             at=datetime.fromtimestamp(at, UTC), speed=self.clock.speed,
                             paused=self.clock.paused,
                             day_zero=datetime.fromtimestamp(self.day_zero, UTC))

    # ----------------------------------------------------------------- controls

    def _changed(self) -> None:
        self._wake.set()  # every screen in the room learns at once

    def toggle_pause(self) -> None:
        self.clock.toggle(self._wall())
        self._changed()

    def faster(self) -> None:
        self.clock.faster(self._wall())
        self._changed()

    def slower(self) -> None:
        self.clock.slower(self._wall())
        self._changed()

    def seek(self, at: float) -> None:
        if at < self.now():
            raise UsageError("an exercise only moves forward; start it again to go back")
        self.clock.seek(min(at, self.chain.end), self._wall())
        self._changed()

    def describe(self) -> str:
        at = self.now()
        state = "PAUSED" if self.clock.paused else describe_speed(self.clock.speed)
        if self.clock.at_end or at >= self.chain.end:
            state = "END OF SCENARIO"
        stamp = banner_time(at, self.chain.topology.timezone)
        return (f"{self.name} — NOT REAL  ·  day {self.chain.day(at):.1f}  ·  {stamp}  ·  "
                f"{state}")
