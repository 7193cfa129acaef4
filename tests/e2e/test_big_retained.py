"""An organisation retains a payload every monitor refuses as too big: `ketenwacht record`
keeps one cut copy of it through broker restarts and its own, a marker row per fresh
subscription (which the fold still reads as the recorder's outage), and a new value again."""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import sqlite3
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from broker.limits import MAX_PACKET_BYTES
from chain.engine import ChainEngine
from chain.topics import Topics
from chain.wire import MAX_PAYLOAD_BYTES, encode
from ketenwacht.startup import load_topology
from mqtt.connection import make_client
from recording.fold import REPLAY, Fold
from recording.reader import Recording
from tests.chain import factory as f
from tests.conftest import until
from tests.e2e.faults import MosquittoRestartable, RestartableBroker

TOPIC = "keten/v1/om/status"
HEARTBEAT = "keten/v1/om/heartbeat"


def big(broker: RestartableBroker, fill: bytes) -> bytes:
    """4 MB on Mosquitto at its defaults; on the embedded broker, just within its packet
    limit (64 KiB), the largest an organisation can retain there."""
    size = 4 * 2**20 if isinstance(broker, MosquittoRestartable) else MAX_PACKET_BYTES - 1024
    return b'{"kind":"status","text":"' + fill * size + b'"}'


def status_rows(path: Path) -> list[tuple[int, bytes, str | None]]:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT retain, payload, problem FROM messages WHERE topic = ? "
                          "ORDER BY id", (TOPIC,)).fetchall()


def kinds(path: Path, payload: bytes) -> tuple[int, int]:
    """(cuts, markers) of `payload` among the rows on TOPIC."""
    digest = hashlib.sha256(payload).hexdigest()
    rows = [(stored, problem) for _, stored, problem in status_rows(path)
            if problem is not None and problem.endswith(digest)]
    cuts = sum(len(stored) == MAX_PAYLOAD_BYTES + 1 for stored, _ in rows)
    return cuts, len(rows) - cuts


class Record:
    """`ketenwacht record` into `out`, a process stopped and started again."""

    def __init__(self, broker: RestartableBroker, out: Path) -> None:
        self.args = [sys.executable, "-m", "ketenwacht", "record", "--broker",
                     broker.address.url, "--out", str(out)]
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            *self.args, env=dict(os.environ), stderr=asyncio.subprocess.PIPE)

    async def stop(self) -> None:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(self.process.communicate(), timeout=15)
        assert self.process.returncode == 0, stderr.decode()


async def test_a_big_retained_payload_is_kept_once_through_restarts(
    restartable: RestartableBroker, tmp_path: Path
) -> None:
    """om retains a too-big status; the broker restarts twice, the recorder once, om retains
    a new one, the broker restarts twice more: one cut of each value, a marker per fresh
    subscription after it, no row over 16 KiB + 1, and the fold finds all five outages."""
    out = tmp_path / "rec.sqlite"
    first, second = big(restartable, b"a"), big(restartable, b"b")
    address = restartable.address
    beats = 0

    async def publish(topic: str, payload: bytes, *, retain: bool) -> None:
        async with make_client(address, identifier="om-test") as om:
            await om.publish(topic, payload, qos=1, retain=retain)

    async def rows_after(action: Callable[[], Awaitable[None]]) -> None:
        """A live heartbeat recorded, then `action`, then a new row on TOPIC."""
        nonlocal beats
        beats += 1
        await publish(HEARTBEAT, encode(f.heartbeat(seq=beats + 1)), retain=False)
        await until(lambda: out.exists() and _heartbeats(out) == beats, within=15)
        await asyncio.sleep(1.2)  # past RESUBSCRIBE_GAP, and Mosquitto's autosave (1 s)
        before = len(status_rows(out))
        await action()
        await until(lambda: len(status_rows(out)) > before, within=30)

    async def restart_broker() -> None:
        await restartable.kill()
        await restartable.start()

    async def restart_recorder() -> None:
        await recorder.stop()
        await recorder.start()

    await publish(TOPIC, first, retain=True)
    recorder = Record(restartable, out)
    await recorder.start()
    try:
        await until(lambda: out.exists() and bool(status_rows(out)), within=30)
        await rows_after(restart_broker)
        await rows_after(restart_broker)
        await rows_after(restart_recorder)
        assert kinds(out, first) == (1, 3)
        await rows_after(lambda: publish(TOPIC, second, retain=True))
        await rows_after(restart_broker)
        await rows_after(restart_broker)
        assert kinds(out, second) == (1, 2)
    finally:
        await recorder.stop()
    assert kinds(out, first) == (1, 3)
    assert all(len(stored) <= MAX_PAYLOAD_BYTES + 1 for _, stored, _ in status_rows(out))
    with Recording(out) as recording:
        fold = Fold(ChainEngine(load_topology(None)), Topics(), REPLAY)
        fold.feed(recording.rows())
        fold.finish()
    assert len(fold.gaps) == 5
    assert fold.engine.rejected == len(status_rows(out))  # refused in a replay, as live


def _heartbeats(path: Path) -> int:
    with sqlite3.connect(path) as db:
        count: int = db.execute("SELECT COUNT(*) FROM messages WHERE topic = ?",
                                (HEARTBEAT,)).fetchone()[0]
    return count
