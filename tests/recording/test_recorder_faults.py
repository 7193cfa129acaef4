"""`ketenwacht record` killed mid-batch keeps a sound database and everything it committed;
a full disk is one clear line in the log, not a crash, and what was committed stays."""

from __future__ import annotations

import asyncio
import resource
import sqlite3
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from chain.wire import encode
from mqtt.address import BrokerAddress
from mqtt.connection import make_client
from tests.chain import factory as f
from tests.conftest import until

TOPIC = "keten/v1/om/heartbeat"


def rows(path: Path) -> list[bytes]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return [bytes(r[0]) for r in db.execute("SELECT payload FROM messages ORDER BY id")]


def count(path: Path) -> int:
    return len(rows(path)) if path.exists() else 0


def payload(n: int, padding: int = 0) -> bytes:
    # Unique per n: seq carries it; padding grows the row for the disk-full test.
    return encode(f.heartbeat(seq=n)) + b" " * padding


@asynccontextmanager
async def recording(
    address: BrokerAddress, out: Path, *, file_size_limit: int | None = None
) -> AsyncIterator[asyncio.subprocess.Process]:
    def limit_file_size() -> None:
        # Python ignores SIGXFSZ, so a write past the limit fails with EFBIG, as on a full disk.
        if file_size_limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ketenwacht", "record", "--broker", address.url,
        "--out", str(out), stderr=asyncio.subprocess.PIPE, preexec_fn=limit_file_size,
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def until_recording(address: BrokerAddress, out: Path, marker: int) -> None:
    """Publish a marker until the recorder has stored it (it is connected and subscribed)."""
    async with make_client(address, identifier=f"marker-{marker}") as client:
        for _ in range(100):
            await client.publish(TOPIC, payload(marker), qos=1)
            await asyncio.sleep(0.2)
            if count(out) and payload(marker) in rows(out):
                return
    raise AssertionError("the recorder never recorded the marker")


async def feed(address: BrokerAddress, first: int, last: int, padding: int = 0) -> None:
    async with make_client(address, identifier=f"load-{first}") as client:
        for n in range(first, last + 1):
            await client.publish(TOPIC, payload(n, padding), qos=1)


async def test_recorder_killed_mid_batch_loses_nothing_committed(
    any_broker: BrokerAddress, tmp_path: Path
) -> None:
    """kill -9 under load: integrity_check ok; after a restart every earlier row is still
    there, in order, and new ones are appended."""
    out = tmp_path / "rec.sqlite"
    async with recording(any_broker, out) as recorder:
        await until_recording(any_broker, out, marker=1_000_000)
        load = asyncio.create_task(feed(any_broker, 1, 20_000))
        await until(lambda: count(out) > 2_000, within=20)
        recorder.kill()
        await recorder.wait()
        load.cancel()
        await asyncio.gather(load, return_exceptions=True)
    with sqlite3.connect(out) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    committed = rows(out)
    assert len(committed) > 2_000
    async with recording(any_broker, out) as recorder:
        await until_recording(any_broker, out, marker=2_000_000)
        recorder.terminate()
        _, stderr = await asyncio.wait_for(recorder.communicate(), timeout=10)
        assert recorder.returncode == 0, stderr.decode()
    after = rows(out)
    assert after[:len(committed)] == committed, "every committed row kept, in order"
    assert payload(2_000_000) in after[len(committed):]
    print(f"\nFIGURES recorder kill -9: {len(committed)} rows committed before the kill, "
          f"all {len(committed)} there after the restart, {len(after)} in all")


async def test_full_disk_is_one_clear_line_and_keeps_what_was_committed(
    any_broker: BrokerAddress, tmp_path: Path
) -> None:
    """Files may not grow past 1 MiB: the recorder logs one line per failed batch
    (no traceback), keeps running, stops cleanly; the database is sound and keeps its rows."""
    out = tmp_path / "rec.sqlite"
    async with recording(any_broker, out, file_size_limit=1024 * 1024) as recorder:
        await until_recording(any_broker, out, marker=1_000_000)
        await feed(any_broker, 1, 2_000, padding=400)
        await asyncio.sleep(1.5)  # a few flushes against the limit
        assert recorder.returncode is None, "still running"
        committed = rows(out)
        recorder.terminate()
        _, stderr = await asyncio.wait_for(recorder.communicate(), timeout=10)
    log = stderr.decode()
    assert "Traceback" not in log, log
    assert recorder.returncode == 0, log
    failures = [line for line in log.splitlines() if "not kept" in line]
    assert failures, log
    assert all("disk full" in line for line in failures), failures
    assert payload(1_000_000) in committed
    assert 500 < len(committed) < 2_001, "some load recorded, then the limit stopped it"
    with sqlite3.connect(out) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert rows(out)[:len(committed)] == committed
    print(f"\nFIGURES disk full: {len(committed)} rows kept; log: {failures[0]}")
