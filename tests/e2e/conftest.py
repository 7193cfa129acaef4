"""Module-scoped brokers with credentials, Mosquitto and NATS, each from its own `broker init`
setup, for a whole module; and brokers a test may kill and restart."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.conftest import Mosquitto
from tests.e2e.faults import EmbeddedRestartable, MosquittoRestartable, RestartableBroker
from tests.e2e.secured import SecuredBroker, nats_node, provision, start_mosquitto


@pytest.fixture(scope="module")
def mosquitto_secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecuredBroker]:
    setup = provision(tmp_path_factory.mktemp("setup") / "out")
    mosquitto, broker = start_mosquitto(setup, tmp_path_factory.mktemp("mosquitto"))
    try:
        yield broker
    finally:
        mosquitto.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def nats_secured(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[SecuredBroker]:
    setup = provision(tmp_path_factory.mktemp("setup") / "out", engine="nats")
    async with nats_node(setup, tmp_path_factory.mktemp("nats")) as broker:
        yield broker


@pytest.fixture(scope="module", params=["mosquitto", "nats"])
def secured(request: pytest.FixtureRequest) -> SecuredBroker:
    """The same test against Mosquitto and a NATS node, each run from a `broker init` setup.
    Tests using it run on the module's event loop (`pytest.mark.asyncio(loop_scope="module")`)."""
    broker: SecuredBroker = request.getfixturevalue(f"{request.param}_secured")
    return broker


@pytest_asyncio.fixture(params=["nats", "mosquitto"])
async def restartable(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[RestartableBroker]:
    """A running broker the test may kill (SIGKILL) and start again on the same port, with
    what it keeps on disk: Mosquitto, or the embedded NATS broker."""
    broker: EmbeddedRestartable | MosquittoRestartable
    if request.param == "nats":
        broker = EmbeddedRestartable(tmp_path / "jetstream")
    else:
        broker = MosquittoRestartable(Mosquitto(tmp_path, autosave=1))
    await broker.start()
    try:
        yield broker
    finally:
        await broker.kill()
