"""Recordings as testers hand them over: made by the real Recorder, then damaged with SQLite,
or laid out as older Ketenwacht versions laid them out."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Final

from chain.wire import encode
from recording.recorder import Recorder
from tests.chain import factory as f

T0: Final = f.T0_EPOCH
ROWS: Final = 240
DAMAGED_ID: Final = 100
DAMAGES: Final = {
    "text-time": "UPDATE messages SET received_at = 'yesterday' WHERE id = ?",
    "huge-time": "UPDATE messages SET received_at = 1e300 WHERE id = ?",
    "non-utf8-topic": "UPDATE messages SET topic = CAST(X'6b6574656e2f76312f6f6d2fff' AS TEXT) "
                      "WHERE id = ?",
}
"""What testers wrote into row DAMAGED_ID: a time that is text, one far beyond any date, and
a topic `keten/v1/om/` followed by the byte 0xff."""
LAYOUT_BEFORE_PROBLEM: Final = """
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    received_at REAL NOT NULL,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    qos INTEGER NOT NULL,
    retain INTEGER NOT NULL
);
CREATE INDEX messages_received_at ON messages (received_at);
"""
"""The recorder's first layout (commit dc211cd), before rejected payloads were flagged."""


async def _record(path: Path) -> None:
    async with Recorder(path) as recorder:
        recorder.record(T0, "keten/v1/om/status", encode(f.online(interval=60)), 1, True)
        for n in range(1, ROWS):
            recorder.record(T0 + 60 * n, "keten/v1/om/heartbeat",
                            encode(f.heartbeat(seq=n + 1, interval=60)), 0, False)


async def recorded(path: Path, damage: str | None = None) -> Path:
    """ROWS rows of om (a birth, then a heartbeat a minute), with `damage` done to one."""
    await _record(path)
    if damage is not None:
        with sqlite3.connect(path) as db:
            db.execute(DAMAGES[damage], (DAMAGED_ID,))
    return path


def recording(path: Path, damage: str | None = None) -> Path:
    """`recorded`, outside an event loop."""
    return asyncio.run(recorded(path, damage))


def legacy(path: Path, source: Path) -> Path:
    """`source`'s rows in the layout before the `problem` column, without a version."""
    with sqlite3.connect(path) as db, sqlite3.connect(source) as rows:
        db.executescript(LAYOUT_BEFORE_PROBLEM)
        db.executemany(
            "INSERT INTO messages (id, received_at, topic, payload, qos, retain) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            rows.execute("SELECT id, received_at, topic, payload, qos, retain FROM messages"))
    return path


def ketenwacht(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ketenwacht", *args], capture_output=True,
                          text=True, timeout=timeout, check=False)


def one_line(stderr: str) -> str:
    """The only line of `stderr`, which holds no traceback."""
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]
