"""The broker's packet limit against the wire: the largest legitimate message, the
decoder's limit at least four times that, the packet limit four times the decoder's."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from broker.limits import LARGEST_MESSAGE_BYTES, MAX_PACKET_BYTES
from chain.wire import (
    MAX_COUNT,
    MAX_PAYLOAD_BYTES,
    ChannelReading,
    ExerciseClock,
    ManualReport,
    Payload,
    decode,
    encode,
)

LATEST = datetime(9999, 12, 31, 23, 59, 59, 999_999,
                  tzinfo=timezone(-timedelta(hours=23, minutes=59)))
ESCAPED = "\x01"
"""A character JSON writes as six bytes (\\u0001), the most any takes."""


def test_the_largest_message_is_a_quarter_of_the_decoders_limit_and_a_sixteenth_of_a_packet(
) -> None:
    """Every field at its longest, every character escaped: the largest of these is still
    within LARGEST_MESSAGE_BYTES, decodes, and leaves the limits their margins."""
    largest: list[Payload] = [
        ManualReport(id="a" * 64, author=ESCAPED * 64, ts=LATEST, org="a" * 64,
                     text=ESCAPED * 500, channel="messaging", up=False, observed_at=LATEST),
        ChannelReading(org="a" * 64, session=MAX_COUNT, seq=MAX_COUNT, ts=LATEST,
                       channel="messaging", up=False, latency_ms=1.2345678901234567e-300,
                       detail=ESCAPED * 200, hist=True),
        ExerciseClock(name=ESCAPED * 64, title=ESCAPED * 300, at=LATEST,
                      speed=999_999.999_999_999_9, paused=True, day_zero=LATEST),
    ]
    for message in largest:
        assert decode(encode(message)) == message
    size = max(len(encode(message)) for message in largest)
    assert LARGEST_MESSAGE_BYTES // 2 < size <= LARGEST_MESSAGE_BYTES
    assert MAX_PAYLOAD_BYTES >= 4 * LARGEST_MESSAGE_BYTES
    assert MAX_PACKET_BYTES >= 4 * MAX_PAYLOAD_BYTES
