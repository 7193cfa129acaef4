"""The live screen (`ketenwacht tui`) with a damaged history file: the file is set aside
beside itself with one warning line, and the screen starts, recording into a new history.
A history with a damaged row is kept, the row skipped with one warning line."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from chain.wire import encode
from mqtt.address import BrokerAddress
from mqtt.connection import make_client
from tests.chain import factory as f
from tests.recording.damaged import (
    DAMAGED_ID,
    ROWS,
    one_line,
    recorded,
)

HEADLESS = {"TEXTUAL_DRIVER": "textual.drivers.headless_driver:HeadlessDriver"}
"""Textual's own headless driver: the real app, with no terminal to draw on."""
MARKER = encode(f.heartbeat(seq=999_999))


def stamp_newer(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 99")


def add_column(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("ALTER TABLE messages ADD COLUMN note TEXT NOT NULL DEFAULT ''")


DAMAGED: dict[str, tuple[Callable[[Path], None] | None, bytes | None, str]] = {
    "not-sqlite": (None, b"minutes of the exercise\n" * 200,
                   "not a readable SQLite database, so not a Ketenwacht recording "
                   "(file is not a database)"),
    "newer-version": (stamp_newer, None, "recording schema version 99 is newer than this "
                                         "Ketenwacht reads (1); upgrade"),
    "unknown-column": (add_column, None, "the recording has columns this Ketenwacht does not "
                                         "know (note); record into a new file"),
}


def set_aside(folder: Path) -> list[Path]:
    """The files set aside in `folder` (SQLite's -wal and -shm beside them left out)."""
    return [p for p in folder.iterdir() if ".damaged-" in p.name
            and not p.name.endswith(("-wal", "-shm"))]


def recorded_marker(path: Path) -> bool:
    """The marker heartbeat is in the history: the live screen runs and records."""
    if not path.is_file():
        return False
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        try:
            return db.execute("SELECT 1 FROM messages WHERE payload = ?",
                              (MARKER,)).fetchone() is not None
        except sqlite3.Error:
            return False


async def screen_until_marked(broker: BrokerAddress, history: Path) -> str:
    """Run the live screen on `history` until it records a marker published on `broker`;
    returns its standard error."""
    screen = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ketenwacht", "tui", "--broker", broker.url,
        "--history", str(history), stderr=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL, env={**os.environ, **HEADLESS})
    try:
        async with make_client(broker, identifier="marker") as client:
            for _ in range(150):
                await client.publish("keten/v1/om/heartbeat", MARKER, qos=1)
                await asyncio.sleep(0.2)
                if recorded_marker(history) or screen.returncode is not None:
                    break
        assert screen.returncode is None, "the screen ended"
        assert recorded_marker(history), "the screen never recorded the marker"
    finally:
        if screen.returncode is None:
            screen.terminate()
        _, stderr = await asyncio.wait_for(screen.communicate(), timeout=20)
    return stderr.decode()


@pytest.mark.parametrize("kind", list(DAMAGED))
async def test_a_damaged_history_is_set_aside_and_the_screen_starts(
    mosquitto: BrokerAddress, tmp_path: Path, kind: str
) -> None:
    """Not SQLite, a newer version, a column we do not know: renamed to
    `history.sqlite.damaged-<time>` (its content intact), one warning line, and the live
    screen records into a new history."""
    history = tmp_path / "history.sqlite"
    damage, content, problem = DAMAGED[kind]
    if content is not None:
        history.write_bytes(content)
    else:
        await recorded(history)
        assert damage is not None
        damage(history)
    before = history.read_bytes()
    stderr = await screen_until_marked(mosquitto, history)
    aside = set_aside(tmp_path)
    assert len(aside) == 1, aside
    assert aside[0].name.startswith("history.sqlite.damaged-")
    if content is not None:
        assert aside[0].read_bytes() == before
    assert one_line(stderr) == (
        f"ketenwacht: warning: {history}: {problem}; set aside as {aside[0].name}, the "
        "screen starts without that history")


async def test_a_history_with_a_damaged_row_is_kept_and_the_row_skipped(
    mosquitto: BrokerAddress, tmp_path: Path
) -> None:
    """A time that is text in one row: the other rows are history, the file stays and the
    screen records into it; one warning line names the row."""
    history = await recorded(tmp_path / "history.sqlite", "text-time")
    stderr = await screen_until_marked(mosquitto, history)
    assert not set_aside(tmp_path)
    with sqlite3.connect(history) as db:
        assert db.execute("SELECT count(*) FROM messages").fetchone()[0] > ROWS
    assert one_line(stderr) == (
        f"ketenwacht: warning: {history}: 1 damaged row skipped (row {DAMAGED_ID}: "
        "received_at 'yesterday' is not a time in 1970-2199); every other row was read")
