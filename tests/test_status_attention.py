"""`ketenwacht status` marks new problems and counts them, in text and JSON; an
acknowledgement that arrives while it listens marks its problem acknowledged."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime

from chain.topics import Topics
from chain.wire import Acknowledgement, encode
from mqtt.address import BrokerAddress
from mqtt.connection import make_client
from tests.chain import factory as f


async def status(address: BrokerAddress, *args: str, wait: float = 1.0,
                 meanwhile: Acknowledgement | None = None) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ketenwacht", "status", "--broker", address.url, "--wait",
        str(wait), *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    if meanwhile is not None:
        await asyncio.sleep(wait / 2)
        async with make_client(address, identifier="status-ack") as screen:
            await screen.publish(Topics().op(meanwhile), encode(meanwhile), qos=1)
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out.decode()


async def stopped_om(address: BrokerAddress) -> None:
    async with make_client(address, identifier="om") as om:
        await om.publish("keten/v1/om/status", encode(f.offline(cause="stopped")), qos=1,
                         retain=True)


async def test_status_marks_and_counts_a_new_problem(mosquitto: BrokerAddress) -> None:
    """om stopped (retained): its row says NEW, the problem list has it, the totals count
    one new problem; `--json` has the same in `new`, `problems` and `new_problems`."""
    await stopped_om(mosquitto)
    text = await status(mosquitto)
    om = next(line for line in text.splitlines() if line.startswith("om "))
    assert "✖ OFFLINE" in om and " NEW " in om
    assert "1 problems, 1 new (most severe first, then the most recent):" in text
    assert any(line.startswith("  NEW  ✖ OFFLINE") and "org om" in line
               for line in text.splitlines())
    assert text.splitlines()[-1].endswith("; 1 new problem; 0 payloads rejected")
    data = json.loads(await status(mosquitto, "--json"))
    assert data["new_problems"] == 1
    assert [(p["subject"], p["state"], p["new"]) for p in data["problems"]] == [
        ("org:om", "offline", True)]
    assert next(org for org in data["orgs"] if org["id"] == "om")["new"] is True


async def test_status_shows_an_acknowledgement_it_heard(mosquitto: BrokerAddress) -> None:
    """An acknowledgement of om published while status listens: om acknowledged by its
    author, nothing new."""
    await stopped_om(mosquitto)
    ack = Acknowledgement(id="k-status", author="duty officer", ts=datetime.now(UTC),
                          subject="org:om", text="phoned them")
    text = await status(mosquitto, wait=3.0, meanwhile=ack)
    om = next(line for line in text.splitlines() if line.startswith("om "))
    assert " ack " in om and " NEW " not in om
    assert any(line.startswith("  ack  ✖ OFFLINE") and "acknowledged by duty officer at" in line
               and line.endswith(": phoned them") for line in text.splitlines())
    assert text.splitlines()[-1].endswith("; 0 new problems; 0 payloads rejected")
