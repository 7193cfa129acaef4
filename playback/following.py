"""A player's screen in an exercise: it keeps the exercise's time, as the leader's clock
messages tell it, and steers nothing."""

from __future__ import annotations

import time
from collections.abc import Callable

from chain.engine import ChainEngine
from chain.errors import UsageError
from chain.inbox import EngineSink
from chain.playback import PlaybackClock, describe_speed
from chain.wire import ExerciseClock, Message, Op


class ExerciseFollower:
    kind = "EXERCISE"

    def __init__(self, name: str, wall: Callable[[], float] = time.time) -> None:
        self.name = name
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
        stamp = time.strftime("%a %d %b %Y %H:%M", time.localtime(at))
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
    """Takes nothing in until the exercise's clock is known: before it, there is no telling
    when a message belongs."""

    def __init__(self, engine: ChainEngine, follower: ExerciseFollower,
                 on_change: Callable[[], None] | None = None) -> None:
        super().__init__(engine, on_change, on_clock=follower.heard, dated_by_sender=True)
        self._follower = follower

    def message_received(self, message: Message, *, received_at: float, retained: bool) -> None:
        if self._follower.clock is not None:
            super().message_received(message, received_at=received_at, retained=retained)

    def op_received(self, op: Op, *, received_at: float) -> None:
        if self._follower.clock is not None:
            super().op_received(op, received_at=received_at)
