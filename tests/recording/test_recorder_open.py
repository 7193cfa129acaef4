"""A recording that cannot be opened for writing is one line, every time: no aiosqlite
worker thread is left to die with "Event loop is closed" after it (one run in three did)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from chain.errors import ConfigError
from recording.recorder import Recorder
from tests.recording.damaged import ketenwacht, one_line, recorded

RUNS = 8
"""The thread lost the race in about one run of three: all eight clean is chance once in
several thousand."""


def test_record_into_an_unopenable_path_is_one_line_every_time(tmp_path: Path) -> None:
    """`record --out` naming a directory: eight runs, each exit 78 and one line naming it,
    no traceback from a thread after it."""
    out = tmp_path / "state" / "recording.sqlite"
    out.mkdir(parents=True)
    for _ in range(RUNS):
        result = ketenwacht("record", "--broker", "mqtt://127.0.0.1:1", "--out", str(out),
                            timeout=30)
        assert result.returncode == 78
        assert one_line(result.stderr).startswith(f"ketenwacht: {out}: ")


async def test_a_failed_open_starts_no_aiosqlite_thread(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite refusing to open an existing recording (as an unwritable state directory
    makes it): the error comes before aiosqlite has a worker thread, so none can outlive
    the event loop."""
    out = await recorded(tmp_path / "recording.sqlite")
    started: list[str] = []
    start = threading.Thread.start

    def noting_start(thread: threading.Thread) -> None:
        started.append(thread.name)
        start(thread)

    def refuse(*args: object, **kwargs: object) -> sqlite3.Connection:
        raise sqlite3.OperationalError("unable to open database file")

    monkeypatch.setattr(threading.Thread, "start", noting_start)
    monkeypatch.setattr(sqlite3, "connect", refuse)
    with pytest.raises(ConfigError, match=f"{out}: cannot open the recording: unable to open"):
        async with Recorder(out):
            pass
    assert not [name for name in started if "_connection_worker_thread" in name]
