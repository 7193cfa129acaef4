"""Virtual time for replays and exercises: recorded or scripted time running at a chosen speed.

Pure: the caller passes the wall clock in. The state engine is then given `now(wall)`, so
staleness, rates and trends look exactly as they did when the time was real.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

SPEEDS: Final = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 1440.0, 3600.0, 10_080.0, 86_400.0)
"""The steps `faster` and `slower` move through; 1440 is one day a minute."""


class PlaybackClock:
    """Virtual time that runs `speed` times as fast as the wall clock, from `start`, and
    stops at `end` (a recording has no future)."""

    def __init__(self, start: float, *, wall: float, speed: float = 1.0,
                 end: float | None = None, paused: bool = False) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self.end = end
        self.paused = paused
        self._anchor_virtual = start
        self._anchor_wall = wall

    def now(self, wall: float) -> float:
        at = self._anchor_virtual
        if not self.paused:
            at += (wall - self._anchor_wall) * self.speed
        return at if self.end is None else min(at, self.end)

    def _reanchor(self, wall: float) -> None:
        self._anchor_virtual, self._anchor_wall = self.now(wall), wall

    def pause(self, wall: float) -> None:
        self._reanchor(wall)
        self.paused = True

    def resume(self, wall: float) -> None:
        self._reanchor(wall)
        self.paused = False

    def toggle(self, wall: float) -> None:
        (self.resume if self.paused else self.pause)(wall)

    def set_speed(self, speed: float, wall: float) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self._reanchor(wall)
        self.speed = speed

    def faster(self, wall: float) -> None:
        self.set_speed(next((s for s in SPEEDS if s > self.speed), self.speed), wall)

    def slower(self, wall: float) -> None:
        self.set_speed(next((s for s in reversed(SPEEDS) if s < self.speed), self.speed), wall)

    def seek(self, at: float, wall: float) -> None:
        self._anchor_virtual, self._anchor_wall = at, wall

    @property
    def at_end(self) -> bool:
        return self.end is not None and self._anchor_virtual >= self.end


def describe_speed(speed: float) -> str:
    if speed >= 86_400 and speed % 86_400 == 0:
        return f"{speed / 86_400:g} day/s"
    if speed >= 1440 and speed % 1440 == 0:
        return f"{speed / 1440:g} day/min"
    return f"{speed:g}x"


def banner_time(at: float, zone: str | None, *, seconds: bool = False) -> str:
    """A replay's or an exercise's moment for its banner, in the topology's zone (as every
    other time on the screen and in the report); None: the machine's."""
    moment = datetime.fromtimestamp(at, ZoneInfo(zone) if zone else None)
    return moment.strftime("%a %d %b %Y %H:%M:%S" if seconds else "%a %d %b %Y %H:%M")
