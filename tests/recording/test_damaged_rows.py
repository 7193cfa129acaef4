"""A recording with a damaged row (a time that is text or 1e300, a topic that is not UTF-8):
every other row is read, by report, replay --index and a screen's history alike, and one
warning line names the file, the row and the damage."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chain.engine import ChainEngine
from chain.topics import Topics
from ketenwacht.startup import load_topology
from playback.player import Player
from recording.history import load_history
from recording.reader import Recording
from tests.recording.damaged import (
    DAMAGED_ID,
    DAMAGES,
    ROWS,
    ketenwacht,
    one_line,
    recorded,
    recording,
)

WHY = {
    "text-time": "received_at 'yesterday' is not a time in 1970-2199",
    "huge-time": "received_at 1e+300 is not a time in 1970-2199",
    "non-utf8-topic": "topic is not UTF-8 text",
}
KINDS = list(DAMAGES)


def warning(path: Path, damage: str) -> str:
    return (f"ketenwacht: warning: {path}: 1 damaged row skipped (row {DAMAGED_ID}: "
            f"{WHY[damage]}); every other row was read")


@pytest.mark.parametrize("damage", KINDS)
def test_the_reader_reads_every_other_row_however_it_is_read(tmp_path: Path,
                                                              damage: str) -> None:
    """rows(), rows_after() in chunks, the summary and a player all have the other 239 rows;
    the damage is counted once however often the row is met."""
    path = recording(tmp_path / "rec.sqlite", damage)
    with Recording(path) as rec:
        assert [r.id for r in rec.rows()] == [n for n in range(1, ROWS + 1) if n != DAMAGED_ID]
        after, chunked = 0, 0
        while chunk := rec.rows_after(after, 7):
            after, chunked = chunk[-1].id, chunked + len(chunk)
        assert chunked == ROWS - 1
        assert rec.summary().messages == ROWS - 1
        player = Player(rec, ChainEngine(load_topology(None)), Topics())
        assert player.advance(rec.span.last_at) == ROWS - 1
        assert player.at_end
        assert rec.damage.count == 1


@pytest.mark.parametrize("damage", KINDS)
def test_report_reads_the_rest_and_warns_in_one_line(tmp_path: Path, damage: str) -> None:
    """`report`: exit 0, a report of the 239 good rows, one warning line naming file, row and
    damage (a text time was a ValueError, 1e300 an OverflowError in rendering)."""
    path = recording(tmp_path / "rec.sqlite", damage)
    result = ketenwacht("report", str(path), "--format", "json", "--out", "-")
    assert result.returncode == 0, result.stderr
    assert one_line(result.stderr) == warning(path, damage)
    assert json.loads(result.stdout)["recording"]["messages"] == ROWS - 1


@pytest.mark.parametrize("damage", KINDS)
def test_index_plays_every_good_row_and_says_what_it_skipped(tmp_path: Path,
                                                             damage: str) -> None:
    """`replay --index`: all 239 good rows played (1e300 used to stop it at row 99,
    silently), and the skipped row named in one line."""
    path = recording(tmp_path / "rec.sqlite", damage)
    quiet = ketenwacht("replay", str(path), "--index", "--quiet")
    assert quiet.returncode == 0, quiet.stderr
    assert one_line(quiet.stderr) == warning(path, damage)
    again = recording(tmp_path / "again.sqlite", damage)
    result = ketenwacht("replay", str(again), "--index")
    assert f"indexed again.sqlite: {ROWS - 1} messages played" in result.stderr, result.stderr


@pytest.mark.parametrize("damage", KINDS)
async def test_history_folds_the_rest_and_warns_in_one_line(tmp_path: Path,
                                                            damage: str) -> None:
    """A screen's history of such a file: the 239 good rows folded, one warning, and the
    file left where it is (its good rows are history, not damage)."""
    path = await recorded(tmp_path / "history.sqlite", damage)
    said: list[str] = []
    folded = await load_history(ChainEngine(load_topology(None)), Topics(), path, 0.0,
                                warn=said.append)
    assert folded == ROWS - 1
    assert said == [warning(path, damage).removeprefix("ketenwacht: warning: ")]
    assert path.exists()


def test_a_row_dated_after_the_last_holds_no_row_back(tmp_path: Path) -> None:
    """Row 100 dated 2100 (a time, so no damage, but after the last row's): `--index` plays
    all 240 rows, where the player stopped before it and left 141 unplayed, unsaid."""
    path = recording(tmp_path / "rec.sqlite")
    with sqlite3.connect(path) as db:
        db.execute("UPDATE messages SET received_at = ? WHERE id = ?",
                   (datetime(2100, 1, 1, tzinfo=UTC).timestamp(), DAMAGED_ID))
    result = ketenwacht("replay", str(path), "--index")
    assert result.returncode == 0, result.stderr
    assert f"indexed rec.sqlite: {ROWS} messages played" in result.stderr, result.stderr
    assert "warning" not in result.stderr
