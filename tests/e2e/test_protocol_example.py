"""docs/protocol.md's worked example, run verbatim with the real mosquitto_pub."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import time
from pathlib import Path

import pytest

from chain.engine import ChainEngine
from chain.inbox import EngineSink
from chain.topics import Topics
from chain.views import OrgState
from ketenwacht.startup import load_topology
from mqtt.address import BrokerAddress
from mqtt.monitor import Monitor
from tests.conftest import until

PROTOCOL = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"


def example(name: str) -> str:
    """The shell block between <!-- NAME:start --> and <!-- NAME:end -->."""
    text = PROTOCOL.read_text()
    block = re.search(rf"<!-- {name}:start -->\n```sh\n(.*?)```\n<!-- {name}:end -->", text, re.S)
    assert block, f"{name} block missing from {PROTOCOL}"
    return block.group(1)


async def run_shell(script: str, address: BrokerAddress) -> None:
    env = {**os.environ, "HOST": address.host, "PORT": str(address.port)}
    process = await asyncio.create_subprocess_exec(
        "bash", "-euo", "pipefail", "-c", script, env=env, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()


async def test_worked_example_produces_the_documented_state(any_broker: BrokerAddress) -> None:
    """The example makes om DEGRADED (email down) with its readings; the stop makes it OFFLINE."""
    if shutil.which("mosquitto_pub") is None:
        if os.environ.get("CI"):
            pytest.fail("mosquitto_pub missing (apt-get install mosquitto-clients)")
        pytest.skip("mosquitto_pub missing")
    engine = ChainEngine(load_topology(None))
    sink = EngineSink(engine)
    monitor = asyncio.create_task(Monitor(any_broker, Topics()).run(sink))
    try:
        await until(lambda: engine.view(0).monitor_connected, within=5)
        await run_shell(example("worked-example"), any_broker)

        def om_degraded() -> bool:
            """om DEGRADED with its backlog"""
            om = engine.view(time.time()).org("om")
            return om.state is OrgState.DEGRADED and om.backlog_total == 1250

        await until(om_degraded, within=5)
        view = engine.view(time.time())
        om = view.org("om")
        assert om.cause == "email down"
        assert om.session == 7
        phone = om.channel("phone")
        assert phone is not None
        assert phone.up
        assert phone.latency_ms == 850
        assert view.link("om-justid").sent_total == 48210
        assert (om.seq_gaps, om.duplicates, view.rejected) == (0, 0, 0)

        await run_shell(example("worked-example-stop"), any_broker)
        await until(lambda: engine.view(time.time()).org("om").cause == "stopped", within=5)
        assert engine.view(time.time()).org("om").state is OrgState.OFFLINE
    finally:
        monitor.cancel()
        await asyncio.gather(monitor, return_exceptions=True)



def test_the_documented_isolation_example_decodes() -> None:
    """The operator-action example in docs/protocol.md is a valid `isolation` message."""
    from chain.wire import Isolation, decode

    text = PROTOCOL.read_text()
    payload = re.search(r"_ops/isolation/om -m \\\n  '(.*?)'", text)
    assert payload, "isolation example missing"
    op = decode(payload.group(1).encode())
    assert isinstance(op, Isolation)
    assert (op.org, op.isolated) == ("om", True)
