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
from datetime import datetime
from pathlib import Path
from typing import Final

import msgspec

from chain.topics import Topics
from chain.wire import Control, ExerciseClock, Message, Op
from ketenwacht.oversized import guarded
from ketenwacht.startup import cancel_on_signals
from mqtt.address import Brokers, describe
from mqtt.monitor import Monitor
from playback.following import WAITING_FOR_CLOCK, ExerciseFollower
from recording.recorder import Recorder

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


class _Stamp(msgspec.Struct):
    ts: datetime | None = None


_STAMP: Final = msgspec.json.Decoder(_Stamp)


def sent_at(payload: bytes) -> float | None:
    """The moment a message says it was sent (its `ts`), if it says one."""
    try:
        stamp = _STAMP.decode(payload)
    except msgspec.DecodeError:
        return None
    return None if stamp.ts is None else stamp.ts.timestamp()


class ExerciseDating:
    """Rows of an exercise root dated by the exercise's clock, whoever records them: a
    replay, a report or `status` then read the exercise's July 2025, not the December
    afternoon it was run on. A message is dated when the driver sent it (its `ts`, on the
    exercise's clock): at a day a second, a tenth of a second in transit would be 2.4 hours
    late. The rest (a retained copy found on subscribing, what says no time) is dated by
    `clock` on arrival; what comes before `clock` knows the time (None) waits, and is dated
    at its first moment."""

    def __init__(self, clock: Callable[[], float | None], record: Tap) -> None:
        self._clock = clock
        self._record = record
        self._waiting: list[tuple[str, bytes, int, bool, str | None]] = []
        self._live: float | None = None
        """The latest moment a live row was dated at."""
        self.dropped = 0

    @classmethod
    def following(cls, follower: ExerciseFollower, record: Tap) -> ExerciseDating:
        """For a recorder that follows an exercise led elsewhere."""
        return cls(lambda: None if follower.clock is None else follower.now(), record)

    def __call__(self, at: float, topic: str, payload: bytes, qos: int, retain: bool,
                 problem: str | None) -> None:
        now = self._clock()
        if now is None:
            if len(self._waiting) >= WAITING_FOR_CLOCK:
                del self._waiting[0]
                self.dropped += 1
            self._waiting.append((topic, payload, qos, retain, problem))
            return
        for row in self._waiting:
            self._record(now, *row)
        self._waiting.clear()
        if retain:
            # State found on subscribing is older than anything live: never after it.
            at = now if self._live is None else min(now, self._live)
        else:
            sent = sent_at(payload)
            at = now if sent is None else min(sent, now)
            self._live = at if self._live is None else max(self._live, at)
        self._record(at, topic, payload, qos, retain, problem)


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
        # Behind the dating: it compares what is stored, at the moment it is stored.
        store = await guarded(recorder, path, keep=keep)
        tap: Tap = store if follower is None else ExerciseDating.following(follower, store)
        monitor = Monitor(brokers, topics, session=session,
                          clock=follower.now if follower is not None else time.time)
        task = asyncio.create_task(monitor.run(counts, record=tap))
        cancel_on_signals(task)
        log.info("recording %s from %s into %s (session %s)",
                 topics.everything, describe(brokers), path, session)

        async def report() -> None:
            while True:
                await asyncio.sleep(60)
                log.info("recorded %d messages (%d rejected but kept; %d too big, kept cut; "
                         "%d repeated retained copies of those, kept as markers)",
                         recorder.written, counts.rejected, store.cut, store.markers)

        reporting = asyncio.create_task(report())
        with contextlib.suppress(asyncio.CancelledError):
            await task
        reporting.cancel()
    log.info("stopped; %d messages recorded in %s", recorder.written, path)
