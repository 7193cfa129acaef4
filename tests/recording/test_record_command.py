"""`ketenwacht record`: everything kept, bad payloads flagged, through a broker restart."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from broker.embedded import free_port
from chain.wire import encode
from mqtt.address import BrokerAddress
from mqtt.connection import make_client
from recording.reader import Recording
from recording.recorder import Recorder
from tests.chain import factory as f
from tests.conftest import Mosquitto, until

T0 = 1_752_742_800.0


def rows(path: Path) -> list[tuple[str, bytes, str | None]]:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT topic, payload, problem FROM messages ORDER BY id").fetchall()


def recorded_any(path: Path) -> bool:
    """Whether the recorder has written a row yet (a new file comes with its table)."""
    return path.exists() and bool(rows(path))


async def publish(address: BrokerAddress, *messages: tuple[str, bytes]) -> None:
    async with make_client(address, identifier="publisher") as client:
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
        await publish(mosquitto_process.address,
                      ("keten/v1/om/status", encode(f.online())),
                      ("keten/v1/om/heartbeat", b"{garbage"))
        await until(lambda: out.exists() and len(rows(out)) >= 2, within=10)
        mosquitto_process.kill()
        mosquitto_process.start()
        await asyncio.sleep(2.0)  # the recorder is back (backoff at most 4 s)
        for _ in range(20):
            await publish(mosquitto_process.address,
                          ("keten/v1/om/heartbeat", encode(f.heartbeat(seq=9))))
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
    with Recording(path) as recording:
        assert [r.payload for r in recording.rows()] == [b"new"]


class RecordCommand:
    """`ketenwacht record` as a process that can be stopped and started again."""

    def __init__(self, address: BrokerAddress, out: Path, env: dict[str, str]) -> None:
        self.args = [sys.executable, "-m", "ketenwacht", "record", "--broker", address.url,
                     "--out", str(out)]
        self.env = env
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            *self.args, env=self.env, stderr=asyncio.subprocess.PIPE)

    async def stop(self) -> str:
        """SIGTERM; what it logged."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(self.process.communicate(), timeout=10)
        assert self.process.returncode == 0, stderr.decode()
        return stderr.decode()

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


class BrokerProcess:
    """Mosquitto (saving every second) or `ketenwacht broker`, killed -9 and started again."""

    def __init__(self, kind: str, workdir: Path, env: dict[str, str]) -> None:
        self.mosquitto = Mosquitto(workdir, autosave=1) if kind == "mosquitto" else None
        port = self.mosquitto.address.port if self.mosquitto else free_port()
        self.address = BrokerAddress("127.0.0.1", port)
        self.env = env
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        if self.mosquitto is not None:
            self.mosquitto.start()
            return
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ketenwacht", "broker", "--port", str(self.address.port)],
            env=self.env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        # Ready when it says so: the port alone may still be the killed one's, going down.
        stdout = self.process.stdout
        assert stdout is not None
        assert "listening on" in stdout.readline()

    def kill(self) -> None:
        if self.mosquitto is not None:
            self.mosquitto.kill()
        elif self.process is not None:
            self.process.kill()
            self.process.wait()
            wait_for_port_closed(self.address.port)  # its nats-server dies with it


def wait_for_port_closed(port: int, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return
        time.sleep(0.02)
    raise AssertionError(f"something still listens on {port} after {within} s")


@pytest.mark.parametrize("kind", ["mosquitto", "nats"])
async def test_what_arrives_while_recorder_and_broker_restart_is_recorded(
    kind: str, tmp_path: Path
) -> None:
    """The recorder stops; the broker is killed (-9) and started again; readings arrive; the
    recorder starts again: it gets them, because the broker kept its session on disk and
    held them (Mosquitto's persistence; JetStream in the embedded broker's state directory)."""
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}
    out = tmp_path / "rec.sqlite"
    broker = BrokerProcess(kind, tmp_path, env)
    address = broker.address
    broker.start()
    recorder = RecordCommand(address, out, env)
    readings = [encode(f.flow(n, seq=n)) for n in range(1, 6)]
    try:
        await recorder.start()
        for _ in range(40):  # until it is subscribed: its first reading is recorded
            await publish(address, ("keten/v1/om/status", encode(f.online())))
            if recorded_any(out):
                break
            await asyncio.sleep(0.25)
        await asyncio.sleep(1.5)  # Mosquitto has saved the session (autosave 1 s)
        await recorder.stop()
        broker.kill()
        broker.start()
        await publish(address, *(("keten/v1/om/flow/om-justid", r) for r in readings))
        await asyncio.sleep(1.5)  # and what it holds
        await recorder.start()

        def all_recorded() -> bool:
            """the five readings published while the recorder was away are recorded"""
            return set(readings) <= {payload for _, payload, _ in rows(out)}

        await until(all_recorded, within=15)
        log = await recorder.stop()
        assert "no longer had session" not in log
    finally:
        await recorder.kill()
        broker.kill()

