"""What a broker allows and holds, the same on Mosquitto (the settings `broker init` writes)
and on NATS (the embedded broker and `broker init --engine nats`)."""

from __future__ import annotations

from typing import Final

from chain.wire import MAX_PAYLOAD_BYTES

EXPIRY_DAYS: Final = 7
"""A persistent session is forgotten this long after its client was last seen (Mosquitto:
`persistent_client_expiration`; NATS: `consumer_inactive_threshold`), so a recorder retired
without a word stops costing memory and disk."""
EXPIRY: Final = EXPIRY_DAYS * 86_400.0

MAX_HELD: Final = 100_000
"""QoS 1 messages held per absent session (Mosquitto: `max_queued_messages`, default 1000):
200 organisations' readings for well over ten minutes; heartbeats (QoS 0) are not held.
NATS keeps them in JetStream on disk, bounded by the store's size instead."""

AUTOSAVE_SECONDS: Final = 10
"""Mosquitto writes its sessions and held messages to disk this often (default 1800): what a
crash of the broker can lose of them. NATS writes each to JetStream before its PUBACK."""

LARGEST_MESSAGE_BYTES: Final = 4 * 1024
"""No message of the wire is larger (tests/broker/test_limits.py builds the largest:
a manual report, 500 characters of text each escaped to 6 bytes, 3.6 KiB); the decoder
takes four times that (MAX_PAYLOAD_BYTES, 16 KiB), for fields a newer agent may add."""

MAX_PACKET_BYTES: Final = 4 * MAX_PAYLOAD_BYTES
"""The largest MQTT packet a broker takes (Mosquitto: `max_packet_size`; NATS:
`max_payload`): four times the largest payload the decoder accepts, so the wire can grow,
and a 256 MB packet is refused at its header instead of filling the broker's memory.

Not closer to the decoder's limit, on purpose: the broker disconnects whoever sends a
larger packet (and sends its Will), and an agent would send it again from its outbox on
reconnecting; a payload between the two is refused by the monitors instead, its
organisation shown INVALID with the size, which says what is wrong."""

MAX_CONNECTIONS: Final = 10_000
"""Connections a broker takes at once: 2 000 agents with screens and recorders, five times."""

CONNECT_TIMEOUT_SECONDS: Final = 5
"""A connection that has not logged in by then is closed (NATS: mqtt `auth_timeout`), so
idle sockets cannot pile up."""
