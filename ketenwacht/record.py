"""`ketenwacht record`: the headless recorder daemon (no UI is loaded)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import socket
from pathlib import Path

from chain.topics import Topics
from chain.wire import Control, Message, Op
from ketenwacht.startup import cancel_on_signals
from mqtt.address import Brokers, describe
from mqtt.monitor import Monitor
from recording.recorder import Recorder


class _Counts:
    """A sink for the recorder: nothing to fold, only figures to log."""

    def __init__(self) -> None:
        self.accepted = self.rejected = 0
        self.connected = False

    def message_received(self, message: Message, *, received_at: float, retained: bool) -> None:
        self.accepted += 1

    def op_received(self, op: Op, *, received_at: float) -> None:
        self.accepted += 1

    def control_received(self, control: Control, *, received_at: float) -> None:
        self.accepted += 1

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


async def run_recorder(
    brokers: Brokers, topics: Topics, path: Path, *, keep_days: float | None,
    session: str,
) -> None:
    """Record everything under the root until SIGTERM/SIGINT; survives broker restarts, and
    on its persistent `session` also what arrives while it is away."""
    log = logging.getLogger("ketenwacht.recorder")
    counts = _Counts()
    keep = keep_days * 86_400 if keep_days else None
    async with Recorder(path, keep=keep) as recorder:
        monitor = Monitor(brokers, topics, session=session)
        task = asyncio.create_task(monitor.run(counts, record=recorder.record))
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
