"""A player's screen in an exercise: it keeps the exercise's time, as the leader's clock
messages tell it, and steers nothing."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

from chain.engine import ChainEngine
from chain.errors import UsageError
from chain.inbox import EngineSink
from chain.playback import PlaybackClock, banner_time, describe_speed
from chain.wire import ExerciseClock, Message, Op

WAITING_FOR_CLOCK: Final = 100_000
"""What is kept until the exercise's clock is heard; beyond, the rest is left out."""


class ExerciseFollower:
    kind = "EXERCISE"

    def __init__(self, name: str, wall: Callable[[], float] = time.time, *,
                 zone: str | None = None) -> None:
        """`zone`: the topology's, for the banner's time (None: the machine's)."""
        self.name = name
        self.zone = zone
        self.title = ""
        self.day_zero = 0.0
        self.clock: PlaybackClock | None = None
        self._wall = wall

    def heard(self, message: ExerciseClock) -> None:
        self.clock = PlaybackClock(message.at.timestamp(), wall=self._wall(),
                                   speed=message.speed, paused=message.paused)
        self.title = message.title
        self.day_zero = message.day_zero.timestamp()

    def now(self) -> float:
        return self._wall() if self.clock is None else self.clock.now(self._wall())

    def describe(self) -> str:
        if self.clock is None:
            return f"{self.name} — waiting for the exercise clock"
        at = self.now()
        state = "PAUSED" if self.clock.paused else describe_speed(self.clock.speed)
        stamp = banner_time(at, self.zone)
        day = (at - self.day_zero) / 86_400
        return f"{self.name} — NOT REAL  ·  day {day:.1f}  ·  {stamp}  ·  {state}"

    def _led(self) -> None:
        raise UsageError("the exercise leader steers the exercise; this screen follows it")

    def toggle_pause(self) -> None:
        self._led()

    def faster(self) -> None:
        self._led()

    def slower(self) -> None:
        self._led()

    def seek(self, at: float) -> None:
        self._led()


class FollowingSink(EngineSink):
    """Takes everything in on the exercise's clock: what comes before the clock is known
    (the monitor's connection, the retained state found on subscribing) waits for it and is
    dated at its first moment, never by the wall clock, which is another year's."""

    def __init__(self, engine: ChainEngine, follower: ExerciseFollower,
                 on_change: Callable[[], None] | None = None) -> None:
        super().__init__(engine, on_change, on_clock=self._heard, dated_by_sender=True)
        self._follower = follower
        self._waiting: list[Callable[[float], None]] = []

    def _heard(self, clock: ExerciseClock) -> None:
        first = self._follower.clock is None
        self._follower.heard(clock)
        if first:
            now = self._follower.now()
            for take in self._waiting:
                take(now)
            self._waiting.clear()

    def _wait(self, take: Callable[[float], None]) -> None:
        if len(self._waiting) < WAITING_FOR_CLOCK:
            self._waiting.append(take)

    def message_received(self, message: Message, *, received_at: float, retained: bool) -> None:
        if self._follower.clock is None:
            self._wait(lambda now: EngineSink.message_received(
                self, message, received_at=now, retained=True))
            return
        super().message_received(message, received_at=received_at, retained=retained)

    def op_received(self, op: Op, *, received_at: float) -> None:
        if self._follower.clock is None:
            self._wait(lambda now: EngineSink.op_received(self, op, received_at=now))
            return
        super().op_received(op, received_at=received_at)

    def connection_changed(self, connected: bool, at: float) -> None:
        if self._follower.clock is None:
            self._wait(lambda now: EngineSink.connection_changed(self, connected, now))
            return
        super().connection_changed(connected, at)
