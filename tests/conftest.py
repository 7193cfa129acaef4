"""Real brokers for tests: amqtt in-process and a Mosquitto subprocess on a free port."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from broker.address import BrokerAddress
from broker.embedded import EmbeddedBroker, free_port


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


@pytest.fixture(autouse=True)
def _isolated_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never read or write the developer's own state or config."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[BrokerAddress]:
    binary = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if os.path.exists(
        "/usr/sbin/mosquitto") else None)
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("mosquitto is not installed (apt-get install mosquitto mosquitto-clients)")
        pytest.skip("mosquitto is not installed")
    port = free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        "log_dest stderr\nlog_type error\n"
    )
    process = subprocess.Popen([binary, "-c", str(conf)], stderr=subprocess.PIPE)
    try:
        wait_for_port(port)
        yield BrokerAddress("127.0.0.1", port)
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
async def amqtt() -> AsyncIterator[BrokerAddress]:
    async with EmbeddedBroker() as broker:
        yield broker.address


@pytest.fixture(params=["amqtt", "mosquitto"])
def any_broker(request: pytest.FixtureRequest) -> BrokerAddress:
    """The same test against the embedded broker and against Mosquitto."""
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
