"""Bad input through a real broker to the monitor: every kind is counted as an invalid reading
of the organisation whose topic it came on, with its reason; hostile topics are counted
chain-wide or refused by the broker; the monitor stays connected throughout."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from chain.engine import ChainEngine
from chain.inbox import EngineSink
from chain.topics import MAX_TOPIC_LENGTH, Topics
from chain.views import OrgState
from chain.wire import MAX_PAYLOAD_BYTES, encode
from ketenwacht.startup import load_topology
from mqtt.address import BrokerAddress
from mqtt.connection import make_client
from mqtt.monitor import Monitor
from tests.chain import factory as f
from tests.conftest import until
from tests.mqtt.raw_mqtt import forwarding_broker, publish_raw

GOOD = encode(f.flow(120, seq=2)).decode()
BAD: list[tuple[str, bytes, str]] = [
    # (what, payload on keten/v1/om/flow/om-justid, part of the reason the operator sees)
    ("malformed JSON", b'{"kind" "flow"}', "JSON is malformed"),
    ("truncated JSON", b'{"kind":"flow",', "input data was truncated"),
    ("wrong types", GOOD.replace('"count":120', '"count":"120"').encode(),
     "count: expected int, got str"),
    ("unknown kind", GOOD.replace('"kind":"flow"', '"kind":"rumour"').encode(),
     "kind: invalid value 'rumour'"),
    ("future schema version", GOOD.replace('"v":1', '"v":2').encode(),
     "v: schema version 2 is newer than 1"),
    ("NaN", GOOD.replace('"count":120', '"count":NaN').encode(),
     "NaN and Infinity are not JSON numbers"),
    ("overflowing number", GOOD.replace('"count":120', '"count":1e999').encode(),
     "count: number out of range"),
    ("negative counter", GOOD.replace('"count":120', '"count":-5').encode(),
     "count: expected int >= 0"),
    ("huge payload", b"[" * (MAX_PAYLOAD_BYTES + 1), f"exceeds {MAX_PAYLOAD_BYTES}"),
    ("invalid UTF-8 in the kind", GOOD.replace('"kind":"flow"', '"kind":"fl\xf6w"')
     .encode("latin-1"), "a string is not valid UTF-8"),
    ("deep nesting", GOOD.replace('"count":120', '"x":' + "[" * 4000 + "]" * 4000
                                  + ',"count":120').encode(), "JSON nested too deeply"),
    ("wrong org", GOOD.replace('"org":"om"', '"org":"justid"').encode(),
     "a flow of 'justid' belongs on 'keten/v1/justid/flow/om-justid'"),
]


@asynccontextmanager
async def monitoring(address: BrokerAddress) -> AsyncIterator[tuple[ChainEngine, list[bool]]]:
    """A monitor folding into an engine; yields it and every connection change it saw."""
    engine = ChainEngine(load_topology(None))
    changes: list[bool] = []

    class Sink(EngineSink):
        def connection_changed(self, connected: bool, at: float) -> None:
            changes.append(connected)
            super().connection_changed(connected, at)

    task = asyncio.create_task(Monitor(address, Topics()).run(Sink(engine)))
    try:
        await until(lambda: changes == [True], within=5)
        yield engine, changes
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_every_kind_of_bad_payload_is_an_invalid_reading_of_its_org(
    any_broker: BrokerAddress,
) -> None:
    """Each bad payload on om's topic: om's count goes up by one with that reason; then a
    good reading is still taken, and om is INVALID, never ONLINE, in between."""
    async with monitoring(any_broker) as (engine, changes), \
            make_client(any_broker, identifier="om-agent") as om:
        for n, (what, payload, reason) in enumerate(BAD, start=1):
            await om.publish("keten/v1/om/flow/om-justid", payload, qos=1)

            def counted(n: int = n) -> bool:
                """om's invalid count went up"""
                return engine.view(time.time()).org("om").invalid == n

            await until(counted, within=5)
            om_view = engine.view(time.time()).org("om")
            assert reason in om_view.last_invalid, what
            assert om_view.state is OrgState.INVALID, what
        await om.publish("keten/v1/om/heartbeat", encode(f.heartbeat(seq=3)), qos=1)
        await until(lambda: engine.view(time.time()).org("om").session == 1, within=5)
        view = engine.view(time.time())
        assert view.org("om").state is OrgState.INVALID
        assert (view.rejected, view.unattributed) == (len(BAD), 0)
        assert changes == [True]


HOSTILE_TOPICS = [
    b"keten/v1/om/+", b"keten/v1/#", b"keten/v1/om/\xff\xfe", b"keten/v1/\xc3\x28/heartbeat",
    b"keten/v1/om/a\x00b", b"keten/v1/om/" + b"x" * MAX_TOPIC_LENGTH,
]


async def test_hostile_topics_blame_no_one_and_leave_the_monitor_connected(
    any_broker: BrokerAddress,
) -> None:
    """Published raw: the broker refuses or drops what breaks MQTT's rules (Mosquitto hangs
    up on the publisher); what it forwards is counted unattributed; no organisation is
    blamed; the monitor never loses its connection and still takes the next good message."""
    payload = encode(f.heartbeat(seq=2))
    async with monitoring(any_broker) as (engine, changes):
        for topic in HOSTILE_TOPICS:
            await publish_raw(any_broker.port, topic, payload)
        async with make_client(any_broker, identifier="om-agent") as om:
            await om.publish("keten/v1/om/heartbeat", encode(f.heartbeat(seq=3)), qos=1)
        await until(lambda: engine.view(time.time()).org("om").session == 1, within=5)
        view = engine.view(time.time())
        assert view.org("om").state is OrgState.ONLINE
        assert all(org.invalid == 0 for org in view.orgs)
        assert view.unattributed >= 1  # the long topic is legal MQTT: both brokers forward it
        assert view.rejected == view.unattributed
        assert changes == [True]


async def test_mosquitto_hangs_up_on_a_publisher_breaking_topic_rules(
    mosquitto: BrokerAddress,
) -> None:
    """Wildcards, invalid UTF-8 and NUL: refused at publish time by hanging up, as MQTT
    3.1.1 allows; the long topic is legal. Pinned so a change of Mosquitto shows up here."""
    hung_up = [await publish_raw(mosquitto.port, topic, b"{}") for topic in HOSTILE_TOPICS]
    assert hung_up == [True, True, True, True, True, False]


async def test_nats_hangs_up_on_a_publisher_breaking_topic_rules(
    nats: BrokerAddress,
) -> None:
    """NATS refuses what breaks MQTT's rules as Mosquitto does. Pinned so a change of
    nats-server shows up here."""
    hung_up = [await publish_raw(nats.port, topic, b"{}") for topic in HOSTILE_TOPICS]
    assert hung_up == [True, True, True, True, True, False]


async def test_a_broker_forwarding_unreadable_topics_does_not_drop_the_monitor() -> None:
    """paho cannot decode an invalid-UTF-8 topic and aiomqtt refuses a wildcard one; both are
    refused as unattributed instead of breaking the connection, and the good message after
    them arrives."""
    good = encode(f.heartbeat(seq=2))
    forwarded = [(b"keten/v1/om/\xff\xfe", good), (b"keten/v1/om/+", good),
                 (b"keten/v1/om/heartbeat", good)]
    async with forwarding_broker(*forwarded) as port, \
            monitoring(BrokerAddress("127.0.0.1", port)) as (engine, changes):
        await until(lambda: engine.view(time.time()).org("om").session == 1, within=5)
        await asyncio.sleep(0.2)
        view = engine.view(time.time())
        assert (view.unattributed, view.org("om").invalid) == (2, 0)
        assert "\ufffd" in view.last_unattributed
        assert changes == [True]
