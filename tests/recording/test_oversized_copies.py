"""What the recorder keeps of a too-big payload when the recording's retention or a restart
comes between its copies (ketenwacht/oversized.py; its broker test: tests/e2e)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from chain.wire import MAX_PAYLOAD_BYTES
from ketenwacht.oversized import OversizedCopies, learn
from recording.recorder import Recorder

T0 = 1_752_742_800.0
TOPIC = "keten/v1/om/status"
BIG = b"[" * (4 * MAX_PAYLOAD_BYTES)

Stored = list[tuple[float, str, bytes, int, bool, str | None]]


def sizes(stored: Stored) -> list[int]:
    return [len(payload) for _, _, payload, _, _, _ in stored]


def test_a_cut_older_than_half_the_retention_is_stored_again() -> None:
    """Kept an hour: a copy 10 minutes after its cut is a marker, one 40 minutes after it is
    cut again, so the hour always holds one cut."""
    stored: Stored = []
    copies = OversizedCopies(lambda *row: stored.append(row), keep=3600)
    for at in (T0, T0 + 600, T0 + 2400, T0 + 2500):
        copies(at, TOPIC, BIG, 1, True, None)
    cut = MAX_PAYLOAD_BYTES + 1
    assert [size == cut for size in sizes(stored)] == [True, False, True, False]


async def test_a_restarted_recorder_stores_a_copy_again_only_if_its_cut_is_gone(
    tmp_path: Path,
) -> None:
    """Learned from the file: a copy whose cut is in the recording comes back as a marker;
    once the cut is pruned, as a cut again. A damaged row does not stop the learning."""
    path = tmp_path / "rec.sqlite"
    async with Recorder(path) as recorder:
        copies = OversizedCopies(recorder.record)
        copies(T0, TOPIC, BIG, 1, True, None)
        copies(T0 + 60, TOPIC, BIG, 1, True, None)
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO messages (received_at, topic, payload, qos, retain) "
                   "VALUES ('yesterday', CAST(x'ff' AS TEXT), x'00', 0, 1)")
    again: Stored = []
    OversizedCopies(lambda *row: again.append(row), known=learn(path))(
        T0 + 120, TOPIC, BIG, 1, True, None)
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM messages WHERE length(payload) > ?", (MAX_PAYLOAD_BYTES,))
    OversizedCopies(lambda *row: again.append(row), known=learn(path))(
        T0 + 180, TOPIC, BIG, 1, True, None)
    assert sizes(again)[0] < 1024
    assert sizes(again)[1] == MAX_PAYLOAD_BYTES + 1
