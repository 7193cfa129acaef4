"""A bare MQTT 3.1.1 CONNECT over TLS, for what a well-behaved client library will not do:
connect with a Last Will and then vanish without a DISCONNECT, so the broker sends the Will."""

from __future__ import annotations

import asyncio
import ssl
import struct


def _string(text: str | bytes) -> bytes:
    data = text.encode() if isinstance(text, str) else text
    return struct.pack("!H", len(data)) + data


def _remaining_length(length: int) -> bytes:
    encoded = bytearray()
    while True:
        byte, length = length % 128, length // 128
        encoded.append(byte | (0x80 if length else 0))
        if not length:
            return bytes(encoded)


def connect_packet(
    client_id: str, username: str, password: str, will_topic: str, will_payload: bytes
) -> bytes:
    # username, password, Will retained, Will QoS 1, Will, clean session
    flags = 0x80 | 0x40 | 0x20 | 0x08 | 0x04 | 0x02
    body = (_string("MQTT") + bytes([4, flags]) + struct.pack("!H", 30) + _string(client_id)
            + _string(will_topic) + _string(will_payload) + _string(username)
            + _string(password))
    return bytes([0x10]) + _remaining_length(len(body)) + body


async def connect_and_vanish(
    host: str, port: int, context: ssl.SSLContext, packet: bytes
) -> int | None:
    """Send CONNECT, read CONNACK's return code (None if the broker hung up), then drop the
    connection without a DISCONNECT."""
    reader, writer = await asyncio.open_connection(host, port, ssl=context,
                                                   server_hostname=host)
    try:
        writer.write(packet)
        await writer.drain()
        try:
            connack = await asyncio.wait_for(reader.readexactly(4), timeout=5)
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        return connack[3]
    finally:
        writer.transport.abort()
