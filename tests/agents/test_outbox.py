"""The store-and-forward outbox: in order, bounded, drops counted and kept across restarts."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from agents.outbox import Outbox


def items(*numbers: int) -> list[tuple[str, bytes]]:
    return [(f"t/{n}", str(n).encode()) for n in numbers]


async def test_messages_come_back_in_order_and_go_once_delivered(tmp_path: Path) -> None:
    """peek returns oldest first; remove_through forgets exactly what was delivered."""
    async with Outbox(tmp_path / "o.sqlite", max_messages=100) as outbox:
        await outbox.append(items(1, 2, 3))
        await outbox.append(items(4))
        batch = await outbox.peek(3)
        assert [payload for _, _, payload in batch] == [b"1", b"2", b"3"]
        await outbox.remove_through(batch[-1][0])
        assert outbox.size == 1
        assert [p for _, _, p in await outbox.peek(10)] == [b"4"]


async def test_full_outbox_drops_the_oldest_and_counts(tmp_path: Path) -> None:
    """Past the bound the oldest go, and the count of dropped messages survives a restart."""
    path = tmp_path / "o.sqlite"
    async with Outbox(path, max_messages=10) as outbox:
        await outbox.append(items(*range(1, 16)))
        assert (outbox.size, outbox.dropped) == (10, 5)
        assert (await outbox.peek(1))[0][2] == b"6"
    async with Outbox(path, max_messages=10) as reopened:
        assert (reopened.size, reopened.dropped) == (10, 5)


async def test_outbox_is_a_plain_sqlite_file_in_wal_mode(tmp_path: Path) -> None:
    """The file is readable by any SQLite tool and uses WAL."""
    path = tmp_path / "o.sqlite"
    async with Outbox(path, max_messages=10) as outbox:
        await outbox.append(items(1))
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("SELECT topic FROM outbox").fetchall() == [("t/1",)]
