"""`ketenwacht status` prints what agents and operators sent as visible escapes: terminal
control sequences in a reason never reach the terminal raw, in text or in JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import msgspec

from chain.topics import Topics
from chain.wire import Isolation, encode
from mqtt.address import BrokerAddress
from mqtt.connection import make_client
from tests.chain import factory as f
from tests.hostile import HOSTILE, SHOWN, raw_controls
from tests.test_status_invalid import status


async def publish_hostile(address: BrokerAddress) -> None:
    """Retained: an isolation of cjib with a hostile reason (an operator), and a reading of
    om's whose hostile `kind` the decoder quotes in its reason, raw (an agent)."""
    isolation = Isolation(id="i1", author="duty officer", ts=datetime.now(UTC), org="cjib",
                          isolated=True, reason=HOSTILE)
    reading = encode(f.heartbeat()).replace(b'"heartbeat"', msgspec.json.encode(HOSTILE))
    async with make_client(address, identifier="om") as om:
        await om.publish(Topics().op(isolation), encode(isolation), qos=1, retain=True)
        await om.publish("keten/v1/om/heartbeat", reading, qos=1, retain=True)


async def test_status_text_shows_control_sequences_escaped(mosquitto: BrokerAddress) -> None:
    """The text table: cjib's isolation reason and om's invalid-reading reason shown with
    their escapes, no control or bidi character left in the output."""
    await publish_hostile(mosquitto)
    text = await status(mosquitto)
    assert raw_controls(text) == []
    lines = text.splitlines()
    cjib = next(line for line in lines if line.startswith("cjib "))
    om = next(line for line in lines if line.startswith("om "))
    assert all(part in cjib and part in om for part in SHOWN), (cjib, om)


async def test_status_json_keeps_the_raw_text_and_prints_no_raw_controls(
    mosquitto: BrokerAddress,
) -> None:
    """`--json` hands a reader the exact strings sent, while the printed document holds
    nothing a terminal obeys (C0 escaped as JSON does, DEL, C1 and bidi as `\\u` too)."""
    await publish_hostile(mosquitto)
    document = await status(mosquitto, "--json")
    assert raw_controls(document) == []
    orgs = {org["id"]: org for org in json.loads(document)["orgs"]}
    assert orgs["cjib"]["cause"] == HOSTILE
    assert HOSTILE in orgs["om"]["last_invalid"]
