"""`ketenwacht record`: everything kept, bad payloads flagged, through a broker restart."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import sys
from pathlib import Path

from broker.connection import make_client
from broker.recorder import Recorder, read_since
from chain.wire import encode
from tests.chain import factory as f
from tests.conftest import Mosquitto, until

T0 = 1_752_742_800.0


def rows(path: Path) -> list[tuple[str, bytes, str | None]]:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT topic, payload, problem FROM messages ORDER BY id").fetchall()


async def publish(mosquitto: Mosquitto, *messages: tuple[str, bytes]) -> None:
    async with make_client(mosquitto.address, identifier="publisher") as client:
        for topic, payload in messages:
            await client.publish(topic, payload, qos=1)


async def test_records_good_and_bad_through_a_broker_restart(
    mosquitto_process: Mosquitto, tmp_path: Path
) -> None:
    """Good and bad payloads before and after kill -9 of Mosquitto: all kept, bad flagged."""
    out = tmp_path / "rec.sqlite"
    recorder = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ketenwacht", "record", "--broker", mosquitto_process.address.url,
        "--out", str(out), stderr=asyncio.subprocess.PIPE,
    )
    try:
        await asyncio.sleep(1.5)  # connected and subscribed
        await publish(mosquitto_process,
                      ("keten/v1/om/status", encode(f.online())),
                      ("keten/v1/om/heartbeat", b"{garbage"))
        await until(lambda: out.exists() and len(rows(out)) >= 2, within=10)
        mosquitto_process.kill()
        mosquitto_process.start()
        await asyncio.sleep(2.0)  # the recorder is back (backoff at most 4 s)
        for _ in range(20):
            await publish(mosquitto_process, ("keten/v1/om/heartbeat", encode(f.heartbeat(seq=9))))
            await asyncio.sleep(0.5)
            if len(rows(out)) >= 3:
                break
        recorder.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(recorder.communicate(), timeout=10)
        assert recorder.returncode == 0, stderr.decode()
    finally:
        if recorder.returncode is None:
            recorder.kill()
            await recorder.wait()
    kept = rows(out)
    assert kept[0][0] == "keten/v1/om/status" and kept[0][2] is None
    assert kept[1][1] == b"{garbage"
    assert kept[1][2] == "JSON is malformed: object keys must be strings (byte 1)"
    assert any(topic == "keten/v1/om/heartbeat" and problem is None
               for topic, _, problem in kept[2:])


async def test_retention_prunes_what_is_older_than_kept(tmp_path: Path) -> None:
    """With keep = 1 hour, rows more than an hour older than the newest are pruned."""
    path = tmp_path / "rec.sqlite"
    async with Recorder(path, keep=3600) as recorder:
        recorder.record(T0, "keten/v1/om/heartbeat", b"old", 0, False)
        await asyncio.sleep(0.7)
        recorder.record(T0 + 7200, "keten/v1/om/heartbeat", b"new", 0, False)
    assert [r.payload async for r in read_since(path, 0)] == [b"new"]
