"""Checkpoints of the state engine, so that a replay can seek anywhere in a long recording.

They live beside the recording (`REC.sqlite.checkpoints`), written by one indexer, so the
recording itself is never written by a replay. A checkpoint is the engine as pickled by this
very version of `chain/`: any change to the core's code makes the old ones unusable, and
they are thrown away rather than trusted. Loading uses an unpickler that resolves only the
core's own classes, so a tampered file cannot run code.
"""

from __future__ import annotations

import functools
import hashlib
import io
import pickle
import sqlite3
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import chain
from chain.engine import ChainEngine
from chain.errors import ConfigError
from recording import fold as fold_loop

EVERY: Final = 900.0
"""Recorded seconds between checkpoints: a seek replays at most this much."""
FORMAT: Final = "2"
"""Version 2 keeps the fold's memory (recording/fold.py) beside the engine."""
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoints (
    slot INTEGER PRIMARY KEY,
    after_id INTEGER NOT NULL,
    fold BLOB NOT NULL,
    state BLOB NOT NULL
);
"""
_ALLOWED: Final = {("collections", "deque"), ("msgspec._utils", "rebuild")}
"""`rebuild(cls, kwargs)` builds a msgspec Struct; `cls` itself must pass the same check."""


@functools.cache
def core_fingerprint() -> str:
    """The sources a checkpoint's state depends on, the core's and the fold loop's, hashed on
    first use (not at import: a report never needs it)."""
    digest = hashlib.sha256()
    sources = [*sorted(Path(chain.__file__).parent.glob("*.py")), Path(fold_loop.__file__)]
    for source in sources:
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()[:16]



@dataclass(frozen=True)
class Checkpoint:
    slot: int
    """The checkpoint holds every row received before `slot * EVERY`."""
    after_id: int
    fold: bytes
    """The fold's memory: what its next decisions depend on beyond the engine."""
    engine: ChainEngine

    @property
    def at(self) -> float:
        return self.slot * EVERY


def freeze(engine: ChainEngine) -> bytes:
    return zlib.compress(pickle.dumps(engine, protocol=pickle.HIGHEST_PROTOCOL), 1)


class _CoreOnly(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> type:
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)  # type: ignore[no-any-return]
        if module.startswith("chain."):
            found = super().find_class(module, name)
            if isinstance(found, type):
                return found
        raise pickle.UnpicklingError(f"{module}.{name} is not part of a checkpoint")


def thaw(state: bytes) -> ChainEngine:
    try:
        engine = _CoreOnly(io.BytesIO(zlib.decompress(state))).load()
    except Exception as error:  # whatever a damaged blob raises, it is unusable
        raise ConfigError(f"damaged checkpoint: {error}") from None
    if not isinstance(engine, ChainEngine):
        raise ConfigError("damaged checkpoint: not an engine")
    return engine


class CheckpointStore:
    """The checkpoints of one recording. Writable by the indexer; read by every player."""

    def __init__(self, recording: Path, identity: str, *, writable: bool = False) -> None:
        self.path = recording.with_name(recording.name + ".checkpoints")
        self._identity = identity
        self._db: sqlite3.Connection | None = None
        self._writable = writable
        if writable:
            try:
                self._db = sqlite3.connect(self.path)
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.executescript(_SCHEMA)
                if not self._matches():
                    # Another format's table may have other columns: made anew, not emptied.
                    self._db.execute("DROP TABLE checkpoints")
                    self._db.executescript(_SCHEMA)
                    self._db.executemany(
                        "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                        [("recording", identity), ("core", core_fingerprint()), ("format", FORMAT)],
                    )
                    self._db.commit()
            except sqlite3.Error as error:
                self.close()
                raise ConfigError(f"{self.path}: cannot keep checkpoints: {error}") from None

    def _reader(self) -> sqlite3.Connection | None:
        """Readers open late: the indexer may create the file after the player started."""
        if self._db is None and not self._writable and self.path.exists():
            try:
                self._db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
                if not self._matches():
                    self.close()
            except sqlite3.Error:
                self.close()
        return self._db

    def _matches(self) -> bool:
        assert self._db is not None
        try:
            meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.Error:
            return False
        return (meta.get("recording") == self._identity and meta.get("core") == core_fingerprint()
                and meta.get("format") == FORMAT)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def add(self, slot: int, after_id: int, fold: bytes, state: bytes) -> None:
        assert self._db is not None
        self._db.execute("INSERT OR REPLACE INTO checkpoints VALUES (?, ?, ?, ?)",
                         (slot, after_id, fold, state))
        self._db.commit()

    def latest_slot(self) -> int | None:
        db = self._reader()
        if db is None:
            return None
        found = db.execute("SELECT max(slot) FROM checkpoints").fetchone()
        return None if found[0] is None else int(found[0])

    def at_or_before(self, at: float) -> Checkpoint | None:
        """The latest usable checkpoint not after `at`; a damaged one counts as absent."""
        db = self._reader()
        if db is None:
            return None
        for slot, after_id, fold, state in db.execute(
            "SELECT slot, after_id, fold, state FROM checkpoints "
            "WHERE slot <= ? ORDER BY slot DESC LIMIT 3", (int(at // EVERY),),
        ):
            try:
                return Checkpoint(int(slot), int(after_id), bytes(fold), thaw(state))
            except ConfigError:
                continue
        return None
