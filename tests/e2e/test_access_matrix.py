"""Every user, topic and action, on Mosquitto and on the embedded broker, from one setup.

A denied publish is silently dropped by both brokers, so each is observed: the admin watches
everything, a marker it publishes itself arrives, and a little later it has still not seen
the denied message. A denied subscription delivers nothing, retained or live.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator

import aiomqtt
import pytest
import pytest_asyncio

from tests.conftest import until
from tests.e2e.secured import ADMIN, SecuredBroker

pytestmark = pytest.mark.asyncio(loop_scope="module")

GRACE = 0.3
"""How long after the proof of delivery a denied message still has to turn up."""

OWN = "keten/v1/om/status"
OWN_DEEP = "keten/v1/om/flow/om-justid"
OTHER_ORG = "keten/v1/justid/status"
OPS = "keten/v1/_ops/annotation/a1"
EXERCISE_ORG = "keten-exercise/drill/v1/om/status"
EXERCISE_CONTROL = "keten-exercise/drill/v1/_exercise/control"
EXERCISE_OPS = "keten-exercise/drill/v1/_ops/annotation/a1"
OUTSIDE = "elsewhere/om/status"
TOPICS = (OWN, OWN_DEEP, OTHER_ORG, OPS, EXERCISE_ORG, EXERCISE_CONTROL, EXERCISE_OPS, OUTSIDE)
LIVE = {OWN, OWN_DEEP, OTHER_ORG, OPS}
EXERCISE = {EXERCISE_ORG, EXERCISE_CONTROL, EXERCISE_OPS}

# Written out by hand from issue #6, not derived from broker/acl.py, so that they can disagree.
MAY_WRITE = {
    "om": {OWN, OWN_DEEP},
    "justid": {OTHER_ORG},
    "tui": {OPS, EXERCISE_OPS},
    "recorder": set(),
    "replay": EXERCISE,
}
MAY_READ = {
    "om": {OWN, OWN_DEEP},
    "justid": {OTHER_ORG},
    "tui": LIVE | EXERCISE,
    "recorder": LIVE | EXERCISE,
    "replay": EXERCISE,
}
USERS = sorted(MAY_WRITE)


def cells() -> Iterator[tuple[str, str, str]]:
    for user in USERS:
        for topic in TOPICS:
            for action in ("publish", "subscribe"):
                yield user, topic, action


async def _collect(client: aiomqtt.Client, into: list[tuple[str, bytes]]) -> None:
    async for message in client.messages:
        assert isinstance(message.payload, bytes)
        into.append((message.topic.value, message.payload))


async def _published(broker: SecuredBroker) -> dict[str, set[str]]:
    """user → topics whose publish reached the admin."""
    nonce = uuid.uuid4().hex
    seen: list[tuple[str, bytes]] = []
    async with broker.client(ADMIN) as admin:
        await admin.subscribe("#", qos=1)
        watcher = asyncio.create_task(_collect(admin, seen))
        for user in USERS:
            async with broker.client(user) as client:
                for topic in TOPICS:
                    await client.publish(topic, f"{user} {nonce}".encode(), qos=1)
        marker = f"marker/{nonce}"
        await admin.publish(marker, b"end", qos=1)

        def marker_arrived() -> bool:
            """the admin's own marker came back"""
            return any(topic == marker for topic, _ in seen)

        await until(marker_arrived, within=5)
        await asyncio.sleep(GRACE)
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
    result: dict[str, set[str]] = {user: set() for user in USERS}
    for topic, payload in seen:
        user, _, tag = payload.decode().partition(" ")
        if tag == nonce and user in result:
            result[user].add(topic)
    return result


async def _subscribed(broker: SecuredBroker) -> dict[str, set[str]]:
    """user → topics it received, retained or live, after subscribing to each one."""
    received: dict[str, list[tuple[str, bytes]]] = {user: [] for user in USERS}
    async with contextlib.AsyncExitStack() as stack:
        admin = await stack.enter_async_context(broker.client(ADMIN))
        for topic in TOPICS:
            await admin.publish(topic, b"retained", qos=1, retain=True)
        tasks = []
        for user in USERS:
            client = await stack.enter_async_context(broker.client(user))
            for topic in TOPICS:
                await client.subscribe(topic, qos=1)
            tasks.append(asyncio.create_task(_collect(client, received[user])))
        for topic in TOPICS:
            await admin.publish(topic, b"live", qos=1)

        def all_allowed_live_arrived() -> bool:
            """every user has its allowed live messages"""
            return all(
                {t for t, p in received[user] if p == b"live"} >= MAY_READ[user]
                for user in USERS
            )

        with contextlib.suppress(AssertionError):  # the comparison below says what is missing
            await until(all_allowed_live_arrived, within=5)
        await asyncio.sleep(GRACE)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for topic in TOPICS:
            await admin.publish(topic, b"", qos=1, retain=True)
    return {user: {topic for topic, _ in messages} for user, messages in received.items()}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def observed(secured: SecuredBroker) -> dict[tuple[str, str], set[str]]:
    """What each user could do, measured once per broker: (user, action) → topics."""
    published = await _published(secured)
    subscribed = await _subscribed(secured)
    return {
        **{(user, "publish"): topics for user, topics in published.items()},
        **{(user, "subscribe"): topics for user, topics in subscribed.items()},
    }


@pytest.mark.parametrize(("user", "topic", "action"), list(cells()))
async def test_user_topic_action(
    observed: dict[tuple[str, str], set[str]], user: str, topic: str, action: str
) -> None:
    """Each cell of the matrix is allowed exactly when the security model says so."""
    expected = topic in (MAY_WRITE if action == "publish" else MAY_READ)[user]
    assert (topic in observed[user, action]) == expected


async def test_a_wildcard_subscription_never_shows_another_organisation(
    secured: SecuredBroker,
) -> None:
    """om subscribing to the whole root gets its own topics at most, never justid's."""
    seen: list[tuple[str, bytes]] = []
    async with broker_clients(secured, "om", "justid") as (om, justid):
        await om.subscribe("keten/v1/#", qos=1)
        await om.subscribe("#", qos=1)
        collector = asyncio.create_task(_collect(om, seen))
        await justid.publish(OTHER_ORG, b"justid's own", qos=1, retain=True)
        await justid.publish(OTHER_ORG, b"justid live", qos=1)
        await om.publish(OWN, b"om's own", qos=1)
        await asyncio.sleep(GRACE * 2)
        collector.cancel()
        await asyncio.gather(collector, return_exceptions=True)
        await justid.publish(OTHER_ORG, b"", qos=1, retain=True)
    assert not [topic for topic, _ in seen if not topic.startswith("keten/v1/om/")]


@contextlib.asynccontextmanager
async def broker_clients(
    broker: SecuredBroker, *users: str
) -> AsyncIterator[list[aiomqtt.Client]]:
    async with contextlib.AsyncExitStack() as stack:
        yield [await stack.enter_async_context(broker.client(user)) for user in users]
