"""Topics no MQTT client library accepts, received anyway from a broker that forwards them.

MQTT forbids invalid UTF-8, wildcards and empty names in a published topic. Mosquitto
and NATS disconnect a client that publishes one, but a broker that forwards one
anyway would make paho raise while decoding it (`UnicodeDecodeError`) or aiomqtt while
checking it (`ValueError`), inside paho's read loop: the connection drops, and a retained
one would drop it again on every resubscribe, leaving the screen UNKNOWN for good. Instead
the topic is delivered with the offending characters replaced by U+FFFD, so the monitor
refuses it like any other bad topic (unattributed: no organisation can be read from it)
and stays connected.
"""

from __future__ import annotations

from typing import Any, Final

import aiomqtt
import paho.mqtt.client as mqtt

REPLACEMENT: Final = "\ufffd"


def readable(raw: bytes) -> str:
    """The topic as text that aiomqtt accepts: bad UTF-8, wildcards and emptiness replaced."""
    text = raw.decode("utf-8", errors="replace").replace("+", REPLACEMENT)
    return text.replace("#", REPLACEMENT) or REPLACEMENT


def tolerate_hostile_topics(client: aiomqtt.Client) -> None:
    """Wrap aiomqtt's message callback on its paho client (there is no public hook)."""
    paho = client._client
    deliver = paho.on_message
    if deliver is None:
        return

    def on_message(own: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        try:
            aiomqtt.Topic(message.topic)
        except (UnicodeDecodeError, ValueError):
            message.topic = readable(message._topic).encode()
        deliver(own, userdata, message)

    paho.on_message = on_message
