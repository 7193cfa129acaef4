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


def packet(header: int, body: bytes) -> bytes:
    return bytes([header]) + _remaining_length(len(body)) + body


def connect(
    client_id: str, *, username: str | None = None, password: str | None = None,
    will: tuple[str, bytes] | None = None, will_qos: int = 1, clean: bool = True,
    keepalive: int = 30,
) -> bytes:
    """A CONNECT as a client that means harm may send it: any flags, any QoS."""
    flags = (0x02 if clean else 0) | (0x80 if username is not None else 0)
    flags |= 0x40 if password is not None else 0
    body = _string("MQTT") + bytes([4])
    rest = _string(client_id)
    if will is not None:
        flags |= 0x04 | (will_qos << 3) | 0x20
        rest += _string(will[0]) + _string(will[1])
    if username is not None:
        rest += _string(username)
    if password is not None:
        rest += _string(password)
    return packet(0x10, body + bytes([flags]) + struct.pack("!H", keepalive) + rest)


class RawClient:
    """One connection that writes whatever it is told and reports what the broker did."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int, tls: ssl.SSLContext | None = None) -> RawClient:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=tls, server_hostname="localhost" if tls else None)
        return cls(reader, writer)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def connack(self, within: float = 5) -> int | None:
        """CONNACK's return code, or None if the broker hung up instead."""
        try:
            answer = await asyncio.wait_for(self.reader.readexactly(4), timeout=within)
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        return answer[3]

    async def hung_up(self, within: float) -> bool:
        """Whether the broker closes the connection within `within` s (reading what comes)."""
        try:
            async with asyncio.timeout(within):
                while await self.reader.read(65_536):
                    pass
        except TimeoutError:
            return False
        except ConnectionError:
            pass
        return True

    def abort(self) -> None:
        self.writer.transport.abort()
