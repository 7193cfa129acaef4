"""`ketenwacht status` reports an organisation's invalid readings, in JSON and in text."""

from __future__ import annotations

import asyncio
import json
import sys

from chain.wire import encode
from mqtt.address import BrokerAddress
from mqtt.connection import make_client
from tests.chain import factory as f

FUTURE = "v: schema version 2 is newer than 1"


async def status(address: BrokerAddress, *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ketenwacht", "status", "--broker", address.url, "--wait", "1",
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out.decode()


async def test_a_retained_invalid_reading_shows_in_status(mosquitto: BrokerAddress) -> None:
    """A retained channel reading of a newer schema on om's topic: om INVALID with count,
    reason and time in `--json`; its cause and the totals in the text."""
    async with make_client(mosquitto, identifier="om") as om:
        future = encode(f.channel(up=False)).replace(b'"v":1', b'"v":2')
        await om.publish("keten/v1/om/channel/email", future, qos=1, retain=True)
    data = json.loads(await status(mosquitto, "--json"))
    om_view = next(org for org in data["orgs"] if org["id"] == "om")
    assert (om_view["state"], om_view["invalid"], om_view["last_invalid"]) == (
        "invalid", 1, FUTURE)
    assert isinstance(om_view["invalid_at"], float)
    assert (data["rejected"], data["unattributed"]) == (1, 0)
    text = await status(mosquitto)
    line = next(line for line in text.splitlines() if line.startswith("om "))
    assert "≠ INVALID" in line and f"nothing valid received; 1 invalid reading (last: {FUTURE})" \
        in line
    assert text.splitlines()[-1].endswith("; 1 payloads rejected")
