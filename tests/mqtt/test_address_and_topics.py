"""Broker URLs and topic names: parsing, and refusing payloads that do not fit their topic."""

from __future__ import annotations

import pytest

from chain.errors import PayloadError, UsageError
from chain.topics import Topics
from mqtt.address import BrokerAddress
from tests.chain import factory as f


def test_url_with_credentials_and_default_ports() -> None:
    """Credentials are parsed and percent-decoded, but never shown in `url`."""
    address = BrokerAddress.parse("mqtts://om:s%40cret@broker.example:8884")
    assert (address.host, address.port, address.tls) == ("broker.example", 8884, True)
    assert (address.username, address.password) == ("om", "s@cret")
    assert address.url == "mqtts://broker.example:8884"
    assert BrokerAddress.parse("mqtt://localhost").port == 1883


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://host", "scheme must be mqtt:// or mqtts://"),
        ("mqtt://", "no host"),
        ("mqtt://host:99999", "port must be a number"),
        ("mqtt://host/path", "unexpected path"),
    ],
)
def test_bad_urls_are_refused(url: str, problem: str) -> None:
    """Each malformed URL gives a UsageError naming the URL and the problem."""
    with pytest.raises(UsageError, match=problem):
        BrokerAddress.parse(url)


def test_topic_of_each_kind() -> None:
    """Topics follow design.md: <root>/<org>/<kind>[/<name>]."""
    topics = Topics("keten/v1")
    assert topics.of(f.online()) == "keten/v1/om/status"
    assert topics.of(f.heartbeat()) == "keten/v1/om/heartbeat"
    assert topics.of(f.channel(channel="phone")) == "keten/v1/om/channel/phone"
    assert topics.of(f.flow(1)) == "keten/v1/om/flow/om-justid"
    assert topics.of(f.backlog(1)) == "keten/v1/om/backlog/jds_pending"


@pytest.mark.parametrize(
    "topic",
    [
        "keten/v1/justid/heartbeat",  # org in payload differs from topic
        "keten/v1/om/status",  # wrong kind
        "keten/v1/om/heartbeat/extra",
        "other/v1/om/heartbeat",
        "keten/v1/om/heartbeat" + "x" * 600,
    ],
)
def test_payload_must_fit_its_topic(topic: str) -> None:
    """A heartbeat of `om` is accepted only on keten/v1/om/heartbeat."""
    with pytest.raises(PayloadError):
        Topics().check(topic, f.heartbeat())
    Topics().check("keten/v1/om/heartbeat", f.heartbeat())


@pytest.mark.parametrize("root", ["", "a/+/b", "a/#", "a/"])
def test_wildcard_roots_are_refused(root: str) -> None:
    """A topic root with wildcards or a trailing slash is a usage error."""
    with pytest.raises(UsageError):
        Topics(root)
