"""Checkpoints of the state engine, so that a replay can seek anywhere in a long recording.

A checkpoint is the engine's snapshot (`chain.engine.EngineSnapshot`: typed data, never
pickle) encoded with msgpack, made by this very version of `chain/` for this very topology:
any change to either makes the old ones unusable, and they are thrown away rather than
trusted. Decoding builds nothing but the snapshot's declared fields, so a tampered file can
at worst be refused; a refused checkpoint is skipped and the replay plays from an earlier
one, or from the start.

They are a cache of this machine's, kept under the user's cache directory, one file per
recording, written by one indexer: the recording itself is never written by a replay, and
checkpoints that came with a recording handed over for review are never read.
"""

from __future__ import annotations

import functools
import hashlib
import os
import sqlite3
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import msgspec

import chain
from chain.engine import ChainEngine, EngineSnapshot
from chain.errors import ConfigError
from chain.topology import Topology
from recording import fold as fold_loop

EVERY: Final = 900.0
"""Recorded seconds between checkpoints: a seek replays at most this much."""
FORMAT: Final = "3"
"""Version 3: the engine as a msgpack EngineSnapshot (2 was a pickle, never read again)."""
MAX_STATE: Final = 256 * 1024 * 1024
"""Bytes a checkpoint's engine may inflate to: a tampered one must not exhaust memory."""
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoints (
    slot INTEGER PRIMARY KEY,
    after_id INTEGER NOT NULL,
    fold BLOB NOT NULL,
    state BLOB NOT NULL
);
"""
_DECODER: Final = msgspec.msgpack.Decoder(EngineSnapshot)


@functools.cache
def core_fingerprint() -> str:
    """The sources a checkpoint's state depends on, the core's and the fold loop's, hashed on
    first use (not at import: a report never needs it)."""
    digest = hashlib.sha256()
    sources = [*sorted(Path(chain.__file__).parent.glob("*.py")), Path(fold_loop.__file__)]
    for source in sources:
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()[:16]


def topology_fingerprint(topology: Topology) -> str:
    return hashlib.sha256(msgspec.msgpack.encode(topology)).hexdigest()[:16]


def default_directory() -> Path:
    """Where this user's checkpoints are kept: a cache, safe to delete."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "ketenwacht" / "checkpoints"


def store_path(recording: Path, directory: Path) -> Path:
    """One file per recording, named by where it is (a recording grows while recorded)."""
    where = hashlib.sha256(str(recording.resolve()).encode()).hexdigest()[:16]
    return directory / f"{recording.name}.{where}.checkpoints"


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
    return zlib.compress(msgspec.msgpack.encode(engine.snapshot()), 1)


def thaw(state: bytes, topology: Topology) -> ChainEngine:
    """The engine a checkpoint holds; ConfigError, in one line, for one that is damaged or
    tampered with."""
    try:
        inflater = zlib.decompressobj()
        raw = inflater.decompress(state, MAX_STATE)
        if inflater.unconsumed_tail:
            raise ValueError(f"inflates to more than {MAX_STATE:,} bytes")
        return ChainEngine.from_snapshot(topology, _DECODER.decode(raw))
    except (zlib.error, msgspec.DecodeError, ValueError, TypeError, KeyError) as error:
        raise ConfigError(f"damaged checkpoint: {error}") from None


class CheckpointStore:
    """The checkpoints of one recording. Writable by the indexer; read by every player."""

    def __init__(self, recording: Path, identity: str, topology: Topology, *,
                 directory: Path | None = None, writable: bool = False) -> None:
        self.path = store_path(recording, directory or default_directory())
        self._topology = topology
        self._meta = {"recording": identity, "core": core_fingerprint(), "format": FORMAT,
                      "topology": topology_fingerprint(topology)}
        self._db: sqlite3.Connection | None = None
        self._writable = writable
        if writable:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                try:
                    self._open_for_writing()
                except sqlite3.DatabaseError:
                    self.close()  # not a database (any more): a cache is made anew
                    for stale in (self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm")):
                        stale.unlink(missing_ok=True)
                    self._open_for_writing()
            except (OSError, sqlite3.Error) as error:
                self.close()
                raise ConfigError(f"{self.path}: cannot keep checkpoints: {error}") from None

    def _open_for_writing(self) -> None:
        self._db = sqlite3.connect(self.path)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        if not self._matches():
            # Another format's table may have other columns: made anew, not emptied.
            self._db.execute("DROP TABLE checkpoints")
            self._db.executescript(_SCHEMA)
            self._db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                                 list(self._meta.items()))
            self._db.commit()

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
        return all(meta.get(key) == value for key, value in self._meta.items())

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
        try:
            found = db.execute("SELECT max(slot) FROM checkpoints").fetchone()
            return None if found[0] is None else int(found[0])
        except (sqlite3.Error, TypeError, ValueError):
            return None  # a damaged store is no store: the indexer makes it anew

    def at_or_before(self, at: float) -> Checkpoint | None:
        """The latest usable checkpoint not after `at`; a damaged one counts as absent."""
        db = self._reader()
        if db is None:
            return None
        try:
            rows = db.execute(
                "SELECT slot, after_id, fold, state FROM checkpoints "
                "WHERE slot <= ? ORDER BY slot DESC LIMIT 3", (int(at // EVERY),),
            ).fetchall()
        except sqlite3.Error:
            return None
        for slot, after_id, fold, state in rows:
            try:
                return Checkpoint(int(slot), int(after_id), bytes(fold),
                                  thaw(bytes(state), self._topology))
            except (ConfigError, TypeError, ValueError):
                continue
        return None
