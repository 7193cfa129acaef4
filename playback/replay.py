"""A replay steered from the keyboard: a player on a virtual clock; pause, speed, seek.

The engine's `now` is the player's position, never ahead of what it has applied: a replay
too fast for the machine falls behind its clock instead of showing false staleness.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from chain.playback import SPEEDS, PlaybackClock, banner_time, describe_speed
from playback.player import Player

SLICE: Final = 5000
"""Rows applied between two yields to the event loop: keys and redraws stay responsive."""
TICK: Final = 0.05


class Replay:
    kind = "REPLAY"

    def __init__(self, player: Player, *, speed: float | None, name: str,
                 wall: Callable[[], float] = time.time) -> None:
        """`speed`: virtual seconds per wall second; None plays as fast as possible."""
        span = player.recording.span
        self.player = player
        self.name = name
        self._wall = wall
        self.clock = PlaybackClock(span.first_at, wall=wall(), speed=speed or 1.0,
                                   end=span.last_at)
        self.flat_out = speed is None
        self._seeking: float | None = None
        self._zone = player.engine.topology.timezone
        self.day_zero = datetime.fromtimestamp(span.first_at, ZoneInfo(self._zone)).replace(
            hour=0, minute=0, second=0, microsecond=0).timestamp()

    def now(self) -> float:
        return self.player.position

    async def run(self) -> None:
        """Play until cancelled; stops (paused) at the end of the recording."""
        player, last = self.player, self.player.recording.span.last_at
        while True:
            if self._seeking is not None:
                target: float | None = self._seeking
            elif self.clock.paused:
                target = None
            else:
                target = last if self.flat_out else self.clock.now(self._wall())
            applied = player.advance(target, limit=SLICE) if target is not None else 0
            if self._seeking is not None and applied < SLICE:
                player.position = self._seeking
                self.clock.seek(self._seeking, self._wall())
                self._seeking = None
            if player.at_end and not self.clock.paused and player.position >= last:
                self.flat_out = False
                self.clock.seek(last, self._wall())
                self.clock.pause(self._wall())
            await asyncio.sleep(0 if applied == SLICE else TICK)

    # ----------------------------------------------------------------- controls

    def toggle_pause(self) -> None:
        if self.flat_out:
            self.flat_out = False
            self.clock.seek(self.player.position, self._wall())
            self.clock.pause(self._wall())
            return
        if self.clock.paused and self.player.position >= self.player.recording.span.last_at:
            return  # at the end: nothing left to play
        self.clock.toggle(self._wall())

    def faster(self) -> None:
        if self.clock.speed >= SPEEDS[-1]:
            self.flat_out = True
        else:
            self.clock.faster(self._wall())

    def slower(self) -> None:
        if self.flat_out:
            self.flat_out = False
            self.clock.seek(self.player.position, self._wall())
        else:
            self.clock.slower(self._wall())

    def seek(self, at: float) -> None:
        """Start a seek; the run loop finishes it in slices, so the screen stays live."""
        self._seeking = self.player.jump_near(at)

    @property
    def seeking(self) -> bool:
        return self._seeking is not None

    def describe(self) -> str:
        if self._seeking is not None:
            state = "SEEKING"
        elif self.clock.paused:
            ended = self.player.position >= self.player.recording.span.last_at
            state = "END OF RECORDING" if ended else "PAUSED"
        else:
            state = "as fast as possible" if self.flat_out else describe_speed(self.clock.speed)
        day = (self.player.position - self.day_zero) // 86_400
        stamp = banner_time(self.player.position, self._zone, seconds=True)
        return f"{self.name}  ·  {stamp}  ·  day {day:.0f}  ·  {state}"
