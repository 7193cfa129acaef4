"""Payloads every monitor refuses as too big, recorded as evidence rather than as bulk.

An organisation may retain a payload of megabytes on its own topic (a `broker init` setup takes
64 KiB at most, a Mosquitto left at its defaults 256 MB). Every monitor refuses it unread, being
over `chain.wire.MAX_PAYLOAD_BYTES`; but the broker hands its retained copy to the recorder
again on every subscription, so after every reconnect and every restart of the recorder, and
each copy was a row of its full size.

So a payload over that limit is stored as its first MAX_PAYLOAD_BYTES bytes and a NUL: still
too big, so a replay or the report refuses it as the live monitor did, and never valid JSON,
whatever the limit becomes. The row's `problem` says what the monitor said (the full size)
and the payload's SHA-256. A retained copy equal to the last too-big copy recorded on its
topic (the same SHA-256) is recorded as a short marker with the same problem instead: still
a retained row, because the fold reads a retained row a while after the last live one as a
fresh subscription after the recorder's outage (`RESUBSCRIBE_GAP` in recording/fold.py); and
still refused, so a replay shows the organisation INVALID again there, as the live screen did
(its reason there reads "JSON is malformed"; the row's problem keeps the monitor's own).

Payloads within the limit are stored as they came, repeated retained copies included: the
fold applies each copy again as a live screen did on reconnecting (a retained birth makes its
organisation alive again, a retained reading refreshes its channel), and none is over 16 KiB.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import sqlite3
from pathlib import Path
from typing import Final, NamedTuple

from chain.errors import ConfigError
from chain.inbox import Tap
from chain.wire import MAX_PAYLOAD_BYTES
from recording.recorder import Recorder

MAX_TRACKED: Final = 10_000
"""Topics whose last copy stored was too big that are remembered, each by its SHA-256
(about 200 bytes with its topic). Beyond, the longest unchanged is forgotten, and its next
copy stored cut again: more rows, never a new value missed."""
CUT: Final = MAX_PAYLOAD_BYTES
"""Bytes of a too-big payload kept as evidence of what it was."""
_PROBLEM: Final = re.compile(
    r"\Apayload of \d+ bytes exceeds \d+; sha256 (?P<digest>[0-9a-f]{64})\Z")
"""The problem of a cut or a marker: the size refusal (no other begins so, and it quotes
nothing of the payload) and the SHA-256 added here."""


class Copy(NamedTuple):
    digest: str
    """SHA-256 of the whole payload, in hex."""
    stored_at: float | None
    """When its cut was last stored (None: the recording no longer has it)."""


def cut(payload: bytes) -> bytes:
    """What is stored of a too-big payload: its start, and a NUL (never valid JSON)."""
    return payload[:CUT] + b"\0"


def marker(size: int, digest: str) -> bytes:
    """What is stored of a repeated retained copy; starts with what no JSON starts with."""
    return (f"(not stored again: the same {size} bytes as the last copy recorded on this "
            f"topic, sha256 {digest})").encode()


class Latest(dict[str, Copy]):
    """The last too-big copy stored per topic, of at most MAX_TRACKED topics."""

    def __init__(self, known: dict[str, Copy] | None = None) -> None:
        super().__init__()
        for topic, copy in (known or {}).items():
            self.put(topic, copy)

    def put(self, topic: str, copy: Copy) -> None:
        self.pop(topic, None)  # to the end: the most recently stored
        if len(self) >= MAX_TRACKED:
            del self[next(iter(self))]
        self[topic] = copy


class OversizedCopies:
    """A Tap in front of the recorder's: too-big payloads stored cut, repeated retained
    copies of them as markers (see the module's docstring)."""

    def __init__(self, record: Tap, *, keep: float | None = None,
                 known: dict[str, Copy] | None = None) -> None:
        """`keep`: the recording's retention in seconds; a copy whose cut was stored more than
        half of it ago is stored cut again, so the recording always holds one.
        `known`: what `learn` found in the recording, for a recorder that starts again."""
        self._record = record
        self._keep = keep
        self._last = Latest(known)
        self.cut = self.markers = 0

    def __call__(self, at: float, topic: str, payload: bytes, qos: int, retain: bool,
                 problem: str | None) -> None:
        if len(payload) <= MAX_PAYLOAD_BYTES:
            if retain:
                self._last.pop(topic, None)  # the topic's retained value is no big one now
            self._record(at, topic, payload, qos, retain, problem)
            return
        digest = hashlib.sha256(payload).hexdigest()
        refused = problem or f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD_BYTES}"
        said = f"{refused}; sha256 {digest}"
        last = self._last.get(topic)
        if retain and last is not None and last.digest == digest and self._still_kept(last, at):
            self.markers += 1
            self._record(at, topic, marker(len(payload), digest), qos, retain, said)
            return
        # A live one too: published retained, it is what the next subscription brings back
        # (and if not, that copy differs and is stored cut: one more row, nothing missed).
        self._last.put(topic, Copy(digest, at))
        self.cut += 1
        self._record(at, topic, cut(payload), qos, retain, said)

    def _still_kept(self, copy: Copy, at: float) -> bool:
        if copy.stored_at is None:
            return False
        return self._keep is None or at - copy.stored_at <= self._keep / 2


def learn(path: Path) -> dict[str, Copy]:
    """The last copy stored on each topic, where it was too big, as `OversizedCopies`
    recorded it into `path`: so a recorder started again stores no copy it already has.

    One pass over the retained and too-big rows (a full scan: they have no index of their
    own; about 0.2 s for 2 million rows, 500 MB, in the page cache)."""
    last = Latest()
    try:
        with contextlib.closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro",
                                                uri=True)) as db:
            # A damaged row (a topic not UTF-8, a moment no number: recording/damage.py)
            # must not keep the recorder from starting: at worst its copy is stored again.
            db.text_factory = lambda raw: raw.decode(errors="replace")
            for topic, problem, at, size, retain in db.execute(
                    "SELECT topic, problem, received_at, length(payload), retain "
                    "FROM messages WHERE retain = 1 OR length(payload) > ? ORDER BY id",
                    (MAX_PAYLOAD_BYTES,)):
                _learn_row(last, topic, problem, at, size, bool(retain))
    except sqlite3.Error as error:
        raise ConfigError(f"{path}: cannot read the recording: {error}") from None
    return dict(last)


def _learn_row(last: Latest, topic: str, problem: object, at: object, size: int,
               retain: bool) -> None:
    """One row, as `OversizedCopies` took it when it stored it."""
    found = _PROBLEM.match(problem) if isinstance(problem, str) else None
    if found is None:
        if retain:
            last.pop(topic, None)  # within the limit: the topic's retained value is no big one
        return
    digest = found["digest"]
    stored_at: float | None = None
    if size > MAX_PAYLOAD_BYTES:  # a cut
        stored_at = float(at) if isinstance(at, int | float) else None
    elif (before := last.get(topic)) is not None and before.digest == digest:
        stored_at = before.stored_at  # a marker of the cut before it (None: pruned since)
    last.put(topic, Copy(digest, stored_at))


async def guarded(recorder: Recorder, path: Path, *, keep: float | None = None
                  ) -> OversizedCopies:
    """The recorder's tap with too-big payloads stored cut, knowing what `path` holds: what
    every recorder (`record`, a screen's history, an exercise) records through."""
    return OversizedCopies(recorder.record, keep=keep, known=await asyncio.to_thread(learn, path))
