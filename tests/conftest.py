"""Real brokers for tests: the embedded NATS broker and Mosquitto, subprocesses on free ports."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from broker.embedded import EmbeddedBroker, free_port, wait_for_port
from broker.limits import MAX_HELD
from mqtt.address import BrokerAddress


@pytest.fixture(autouse=True)
def _isolated_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never read or write the developer's own state or config."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)


@pytest.fixture
def new_york(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The machine's zone is New York's, six hours behind Amsterdam in July: times shown
    must still be the topology's (Amsterdam's)."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


class Mosquitto:
    """A Mosquitto subprocess on a fixed free port, which tests may kill and start again."""

    def __init__(
        self, workdir: Path, *, include: Path | None = None, port: int | None = None,
        autosave: int | None = None,
    ) -> None:
        """Anonymous on one loopback port; or, with `include`, a directory of production
        settings (`broker init`'s broker/) loaded as Debian loads conf.d, waiting on `port`.
        `autosave`: persistence as Debian turns it on, sessions and held messages saved in
        `workdir` every `autosave` seconds, and as many held as `broker init` allows."""
        binary = shutil.which("mosquitto") or (
            "/usr/sbin/mosquitto" if os.path.exists("/usr/sbin/mosquitto") else None
        )
        if binary is None:
            if os.environ.get("CI"):
                pytest.fail("mosquitto is not installed (apt-get install mosquitto)")
            pytest.skip("mosquitto is not installed")
        self.binary = binary
        self.address = BrokerAddress("127.0.0.1", port or free_port())
        self.conf = workdir / "mosquitto.conf"
        # As root, Mosquitto would drop to its own user and could neither read the 0600
        # files nor write its database.
        stay_root = "user root\n" if os.geteuid() == 0 else ""
        persistence = (
            f"persistence true\npersistence_location {workdir}/\nautosave_interval {autosave}\n"
            f"max_queued_messages {MAX_HELD}\n"
            if autosave else "persistence false\n"
        )
        if include is None:
            self.conf.write_text(
                f"{stay_root}listener {self.address.port} 127.0.0.1\nallow_anonymous true\n"
                f"{persistence}log_dest stderr\nlog_type error\n"
            )
        else:
            self.conf.write_text(
                f"{stay_root}{persistence}log_dest stderr\nlog_type error\n"
                f"include_dir {include}\n"
            )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "-c", str(self.conf)], stderr=subprocess.DEVNULL
        )
        wait_for_port(self.address.port)

    def reload(self) -> None:
        """SIGHUP: Mosquitto reads its password file and ACL again."""
        assert self.process is not None
        self.process.send_signal(signal.SIGHUP)

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, no Last Wills sent."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def mosquitto_process(tmp_path: Path) -> Iterator[Mosquitto]:
    broker = Mosquitto(tmp_path)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def mosquitto(mosquitto_process: Mosquitto) -> BrokerAddress:
    return mosquitto_process.address


@pytest.fixture
async def nats() -> AsyncIterator[BrokerAddress]:
    """The embedded broker: a nats-server with MQTT on a free loopback port."""
    async with EmbeddedBroker() as broker:
        yield broker.address


@pytest.fixture(params=["nats", "mosquitto"])
def any_broker(request: pytest.FixtureRequest) -> BrokerAddress:
    """The same test against the embedded NATS broker and against Mosquitto."""
    address: BrokerAddress = request.getfixturevalue(request.param)
    return address


async def until(predicate: Callable[[], bool], within: float, step: float = 0.05) -> None:
    """Wait until `predicate()` is true, or fail naming it (its docstring) after `within` s."""
    deadline = time.monotonic() + within
    while True:
        if predicate():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not true after {within}s: {predicate.__doc__ or predicate}")
        await asyncio.sleep(step)
