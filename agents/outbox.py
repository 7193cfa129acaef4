"""Store-and-forward: readings wait here, on disk, while the broker cannot be reached.

A bounded FIFO in the agent's own SQLite file (WAL, one connection, so one writer). When
full, the oldest messages make room and are counted as dropped; the count survives restarts.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

import aiosqlite

from chain.errors import ConfigError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO counters VALUES ('dropped', 0);
"""


class Outbox:
    def __init__(self, path: Path, *, max_messages: int) -> None:
        self.path = path
        self.max_messages = max_messages
        self._db: aiosqlite.Connection | None = None
        self.size = 0
        self.dropped = 0

    async def open(self) -> Outbox:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = await aiosqlite.connect(self.path)
            await self._db.execute("PRAGMA journal_mode=WAL")
            await self._db.execute("PRAGMA synchronous=FULL")
            await self._db.executescript(_SCHEMA)
            await self._db.commit()
            self.size = await self._scalar("SELECT count(*) FROM outbox")
            self.dropped = await self._scalar("SELECT value FROM counters WHERE name='dropped'")
        except (OSError, aiosqlite.Error) as error:
            await self.close()
            raise ConfigError(f"{self.path}: cannot open the outbox: {error}") from None
        return self

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    async def __aenter__(self) -> Outbox:
        return await self.open()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("outbox is not open")
        return self._db

    async def _scalar(self, query: str) -> int:
        async with self.db.execute(query) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def append(self, messages: list[tuple[str, bytes]]) -> None:
        """Keep messages (topic, payload) in order; beyond the bound the oldest go."""
        if not messages:
            return
        await self.db.executemany("INSERT INTO outbox (topic, payload) VALUES (?, ?)", messages)
        self.size += len(messages)
        excess = self.size - self.max_messages
        if excess > 0:
            await self.db.execute(
                "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox ORDER BY id LIMIT ?)",
                (excess,),
            )
            await self.db.execute(
                "UPDATE counters SET value = value + ? WHERE name='dropped'", (excess,)
            )
            self.size -= excess
            self.dropped += excess
        await self.db.commit()

    async def peek(self, limit: int) -> list[tuple[int, str, bytes]]:
        async with self.db.execute(
            "SELECT id, topic, payload FROM outbox ORDER BY id LIMIT ?", (limit,)
        ) as cursor:
            return [(int(r[0]), str(r[1]), bytes(r[2])) for r in await cursor.fetchall()]

    async def remove_through(self, last_id: int) -> None:
        """Forget every message up to and including `last_id`: the broker has them."""
        cursor = await self.db.execute("DELETE FROM outbox WHERE id <= ?", (last_id,))
        self.size -= max(0, cursor.rowcount)
        await self.db.commit()
