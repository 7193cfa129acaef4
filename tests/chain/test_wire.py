"""Wire contract v1: every kind round-trips; every kind of bad payload is refused with a reason."""

from __future__ import annotations

import pytest

from chain.errors import PayloadError
from chain.wire import MAX_PAYLOAD_BYTES, Message, decode, encode
from tests.chain import factory as f

GOOD = (
    '{"kind":"heartbeat","v":1,"org":"om","session":3,"seq":7,'
    '"ts":"2025-07-17T09:00:00Z","interval":5}'
)


@pytest.mark.parametrize(
    "message",
    [f.online(), f.offline(cause="stopped"), f.heartbeat(), f.channel(up=False), f.flow(12),
     f.backlog(40)],
    ids=lambda m: type(m).__name__,
)
def test_every_kind_round_trips(message: Message) -> None:
    """Encoding then decoding gives back an equal message of the same kind."""
    assert decode(encode(message)) == message


def test_unknown_fields_are_tolerated_for_schema_evolution() -> None:
    """A newer agent may add fields; an older monitor still reads the message."""
    message = decode(GOOD.replace('"interval":5', '"interval":5,"cpu":0.3').encode())
    assert message == f.heartbeat(session=3, seq=7)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b'{"kind":"heartbeat",', "truncated"),
        (b"\xff\xfe", "invalid"),
        (b"[]", "expected object"),
        (b'{"kind":"rumour","org":"om"}', "kind: invalid value 'rumour'"),
        (GOOD.replace('"seq":7', '"seq":"7"').encode(), "seq: expected int, got str"),
        (GOOD.replace('"seq":7', '"seq":-1').encode(), "seq: expected int >= 0"),
        (GOOD.replace('"session":3,', "").encode(), "missing required field session"),
        (GOOD.replace("Z", "").encode(), "ts: expected datetime with a timezone"),
        (GOOD.replace('"v":1', '"v":2').encode(), "v: schema version 2 is newer than 1"),
        (GOOD.replace('"org":"om"', '"org":"om/#"').encode(), "org: expected str matching"),
        # `$` in a pattern also matches before a final newline: ids end at `\Z`.
        (GOOD.replace('"org":"om"', '"org":"om\\n"').encode(), "org: expected str matching"),
        (GOOD.replace('"seq":7', '"seq":1e999').encode(), "seq: number out of range"),
        (GOOD.replace('"seq":7', f'"seq":{2**64}').encode(), "seq: expected int <= "),
        (GOOD.replace('"interval":5', '"interval":Infinity').encode(),
         "NaN and Infinity are not JSON numbers"),
        (GOOD.replace('"interval":5', '"interval":0').encode(), "interval: expected float > 0"),
        (GOOD.replace('"interval":5', '"interval":NaN').encode(), "invalid"),
        (b'{"kind":"flow","org":"om","session":1,"seq":1,"ts":"2025-07-17T09:00:00Z",'
         b'"link":"om-justid","direction":"sent","count":-3}', "count: expected int >= 0"),
        (b" " * (MAX_PAYLOAD_BYTES + 1), f"exceeds {MAX_PAYLOAD_BYTES}"),
        # msgspec raised UnicodeDecodeError for these (found by bench/fuzz_decoder.py).
        (GOOD.replace('"kind":"heartbeat"', '"kind":"heartbe\xe1t"').encode("latin-1"),
         "not valid UTF-8"),
        (GOOD.replace('"org":"om"', '"org":"\xe3m"').encode("latin-1"), "not valid UTF-8"),
        # 4 KiB of brackets in an unknown field: msgspec recursed out of the stack here.
        (GOOD.replace('"interval":5', '"x":' + "[" * 2048 + "]" * 2048 + ',"interval":5')
         .encode(), "JSON nested too deeply"),
    ],
)
def test_bad_payloads_are_refused_with_a_reason(payload: bytes, reason: str) -> None:
    """Each malformed payload raises PayloadError whose text names the problem."""
    with pytest.raises(PayloadError) as caught:
        decode(payload)
    assert reason.lower() in str(caught.value).lower()
