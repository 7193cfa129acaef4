"""`ketenwacht record`: the headless recorder daemon (no UI is loaded)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Final

from chain.topics import Topics
from chain.wire import Control, ExerciseClock, Message, Op
from ketenwacht.startup import cancel_on_signals
from mqtt.address import Brokers, describe
from mqtt.monitor import Monitor
from playback.following import ExerciseFollower
from recording.recorder import Recorder

WAITING_FOR_CLOCK: Final = 100_000
"""Rows of an exercise root kept until its clock is heard; beyond, the oldest go."""
Tap = Callable[[float, str, bytes, int, bool, str | None], None]


class RecorderSink:
    """A sink for the recorder: nothing to fold, only figures to log (and the exercise's
    clock, when the root is an exercise's)."""

    def __init__(self, follower: ExerciseFollower | None = None) -> None:
        self.accepted = self.rejected = 0
        self.connected = False
        self.follower = follower

    def message_received(self, message: Message, *, received_at: float, retained: bool) -> None:
        self.accepted += 1

    def op_received(self, op: Op, *, received_at: float) -> None:
        self.accepted += 1

    def control_received(self, control: Control, *, received_at: float) -> None:
        self.accepted += 1
        if self.follower is not None and isinstance(control, ExerciseClock):
            self.follower.heard(control)

    def message_rejected(
        self, topic: str, reason: str, *, received_at: float, org: str | None
    ) -> None:
        self.rejected += 1

    def connection_changed(self, connected: bool, at: float) -> None:
        self.connected = connected


def recorder_session(path: Path, topics: Topics) -> str:
    """The recorder's client id: the same for every run on this host into this file under
    this root (so the broker's session is resumed), different for any other recorder (so no
    two recorders take each other's connection over)."""
    host = re.sub(r"[^A-Za-z0-9_-]", "-", socket.gethostname())[:32] or "host"
    digest = hashlib.sha256(f"{path.resolve()}\n{topics.root}".encode()).hexdigest()[:10]
    return f"ketenwacht-recorder-{host}-{digest}"


class ExerciseDating:
    """Rows of an exercise root dated by the exercise's clock, as the leader's screen dates
    them, whoever records: a replay, a report or `status` then read the exercise's July 2025,
    not the December afternoon it was run on. Rows that come before the clock is heard wait,
    and are dated at its first moment."""

    def __init__(self, follower: ExerciseFollower, record: Tap) -> None:
        self._follower = follower
        self._record = record
        self._waiting: list[tuple[str, bytes, int, bool, str | None]] = []
        self.dropped = 0

    def __call__(self, at: float, topic: str, payload: bytes, qos: int, retain: bool,
                 problem: str | None) -> None:
        if self._follower.clock is None:
            if len(self._waiting) >= WAITING_FOR_CLOCK:
                del self._waiting[0]
                self.dropped += 1
            self._waiting.append((topic, payload, qos, retain, problem))
            return
        now = self._follower.now()
        for row in self._waiting:
            self._record(now, *row)
        self._waiting.clear()
        self._record(now, topic, payload, qos, retain, problem)


async def run_recorder(
    brokers: Brokers, topics: Topics, path: Path, *, keep_days: float | None,
    session: str,
) -> None:
    """Record everything under the root until SIGTERM/SIGINT; survives broker restarts, and
    on its persistent `session` also what arrives while it is away."""
    log = logging.getLogger("ketenwacht.recorder")
    follower = ExerciseFollower(topics.root) if topics.is_exercise else None
    counts = RecorderSink(follower)
    keep = keep_days * 86_400 if keep_days else None
    async with Recorder(path, keep=keep) as recorder:
        tap: Tap = recorder.record if follower is None else ExerciseDating(follower,
                                                                           recorder.record)
        monitor = Monitor(brokers, topics, session=session,
                          clock=follower.now if follower is not None else time.time)
        task = asyncio.create_task(monitor.run(counts, record=tap))
        cancel_on_signals(task)
        log.info("recording %s from %s into %s (session %s)",
                 topics.everything, describe(brokers), path, session)

        async def report() -> None:
            while True:
                await asyncio.sleep(60)
                log.info("recorded %d messages (%d rejected but kept)",
                         recorder.written, counts.rejected)

        reporting = asyncio.create_task(report())
        with contextlib.suppress(asyncio.CancelledError):
            await task
        reporting.cancel()
    log.info("stopped; %d messages recorded in %s", recorder.written, path)
