"""What a broker holds for a persistent session (a recorder's) while its client is away:
the same limits on Mosquitto (the settings `broker init` writes) and on the embedded broker."""

from __future__ import annotations

from typing import Final

EXPIRY_DAYS: Final = 7
"""A persistent session is forgotten this long after its client was last seen (Mosquitto:
`persistent_client_expiration`), so a recorder retired without a word stops costing memory."""
EXPIRY: Final = EXPIRY_DAYS * 86_400.0

MAX_HELD: Final = 100_000
"""QoS 1 messages held per absent session (Mosquitto: `max_queued_messages`, default 1000):
200 organisations' readings for well over ten minutes; heartbeats (QoS 0) are not held."""

AUTOSAVE_SECONDS: Final = 10
"""Mosquitto writes its sessions and held messages to disk this often (default 1800): what a
crash of the broker can lose of them."""
