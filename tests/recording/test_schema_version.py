"""A recording's schema version (PRAGMA user_version): set by the recorder, an older one read
as it is and migrated by the recorder, a newer one refused in one line; columns no version
of ours has are ignored by readers, with a warning, and refused by the recorder."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest

from recording.recorder import Recorder
from recording.schema import VERSION
from tests.recording.damaged import ROWS, T0, ketenwacht, legacy, one_line, recording

NEWER = "PRAGMA user_version = 99"
EXTRA = "ALTER TABLE messages ADD COLUMN note TEXT"


def altered(path: Path, statement: str) -> Path:
    recording(path)
    with sqlite3.connect(path) as db:
        db.execute(statement)
    return path


def version_and_columns(path: Path) -> tuple[int, list[str]]:
    with sqlite3.connect(path) as db:
        return (db.execute("PRAGMA user_version").fetchone()[0],
                [row[1] for row in db.execute("PRAGMA table_info(messages)")])


def contents(path: Path) -> tuple[int, list[str], int]:
    """Version, columns and rows: what refusing a file must leave as it was."""
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT count(*) FROM messages").fetchone()[0]
    return (*version_and_columns(path), rows)


async def record_one(path: Path) -> None:
    async with Recorder(path) as recorder:
        recorder.record(T0 + 60 * ROWS, "keten/v1/om/heartbeat", b"{}", 0, False, "bad")


def test_the_recorder_sets_the_version_of_a_new_recording(tmp_path: Path) -> None:
    """A recording the recorder creates says which layout it has."""
    path = recording(tmp_path / "rec.sqlite")
    assert version_and_columns(path)[0] == VERSION == 1


@pytest.mark.parametrize("command", [["report", "--out", "-"], ["replay", "--index"]])
def test_a_newer_version_is_refused_in_one_line(tmp_path: Path, command: list[str]) -> None:
    """Version 99: exit 78 (EX_CONFIG) and one line saying to upgrade, nothing read."""
    path = altered(tmp_path / "rec.sqlite", NEWER)
    result = ketenwacht(command[0], str(path), *command[1:])
    assert result.returncode == 78
    assert one_line(result.stderr) == (
        f"ketenwacht: {path}: recording schema version 99 is newer than this Ketenwacht "
        "reads (1); upgrade")
    assert result.stdout == ""


def test_the_recorder_refuses_a_newer_version_in_one_line(tmp_path: Path) -> None:
    """`record --out` into a version-99 file: one line, and the file is not touched."""
    path = altered(tmp_path / "rec.sqlite", NEWER)
    before = contents(path)
    result = ketenwacht("record", "--broker", "mqtt://127.0.0.1:1", "--out", str(path),
                        timeout=20)  # without the check it records (retries) for ever
    assert result.returncode == 78
    assert "recording schema version 99 is newer than this Ketenwacht" in one_line(
        result.stderr)
    assert contents(path) == before


def test_a_recording_made_before_the_problem_column_is_reported(tmp_path: Path) -> None:
    """Version 0 without `problem` (the first layout): report and replay read it, no flags,
    no warning; it was refused as 'not a Ketenwacht recording'."""
    path = legacy(tmp_path / "old.sqlite", recording(tmp_path / "rec.sqlite"))
    report = ketenwacht("report", str(path), "--format", "json", "--out", "-")
    assert report.returncode == 0, report.stderr
    assert report.stderr == ""
    assert json.loads(report.stdout)["recording"]["messages"] == ROWS
    index = ketenwacht("replay", str(path), "--index", "--quiet")
    assert (index.returncode, index.stderr) == (0, "")
    assert version_and_columns(path)[0] == 0  # a reader never writes


def test_the_recorder_migrates_an_older_recording_in_place(tmp_path: Path) -> None:
    """Appending to a version-0 file: the `problem` column is added, the version set, every
    earlier row kept, and the new row's problem stored."""
    path = legacy(tmp_path / "old.sqlite", recording(tmp_path / "rec.sqlite"))
    asyncio.run(record_one(path))
    version, columns = version_and_columns(path)
    assert (version, columns[-1]) == (VERSION, "problem")
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*), max(problem) FROM messages").fetchone() == (
            ROWS + 1, "bad")


def test_unknown_columns_are_ignored_by_readers_with_one_warning(tmp_path: Path) -> None:
    """A `note` column someone added: the report reads every row and says in one line that
    the column is ignored."""
    path = altered(tmp_path / "rec.sqlite", EXTRA)
    result = ketenwacht("report", str(path), "--format", "json", "--out", "-")
    assert result.returncode == 0, result.stderr
    assert one_line(result.stderr) == (
        f"ketenwacht: warning: {path}: columns this Ketenwacht does not know are ignored "
        "(note)")
    assert json.loads(result.stdout)["recording"]["messages"] == ROWS


def test_the_recorder_refuses_unknown_columns_in_one_line(tmp_path: Path) -> None:
    """`record --out` into a file with a `note` column: one line, nothing written to it."""
    path = altered(tmp_path / "rec.sqlite", EXTRA)
    before = contents(path)
    result = ketenwacht("record", "--broker", "mqtt://127.0.0.1:1", "--out", str(path),
                        timeout=20)  # without the check it records (retries) for ever
    assert result.returncode == 78
    assert one_line(result.stderr) == (
        f"ketenwacht: {path}: the recording has columns this Ketenwacht does not know "
        "(note); record into a new file")
    assert contents(path) == before
