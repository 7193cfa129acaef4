"""MQTT 3.1.1 packets written by hand over plain TCP, for what no client library will send:
topics with wildcards, invalid UTF-8 or NUL; and a broker that forwards such topics."""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import AsyncIterator


def _string(data: bytes) -> bytes:
    return struct.pack("!H", len(data)) + data


def _packet(header: int, body: bytes) -> bytes:
    length, encoded = len(body), bytearray()
    while True:
        byte, length = length % 128, length // 128
        encoded.append(byte | (0x80 if length else 0))
        if not length:
            return bytes([header]) + bytes(encoded) + body


def connect(client_id: bytes) -> bytes:
    return _packet(0x10, _string(b"MQTT") + bytes([4, 0x02]) + struct.pack("!H", 30)
                   + _string(client_id))


def publish(topic: bytes, payload: bytes) -> bytes:
    """QoS 0, not retained: the topic goes out exactly as given."""
    return _packet(0x30, _string(topic) + payload)


async def publish_raw(port: int, topic: bytes, payload: bytes) -> bool:
    """Connect, publish, and say whether the broker then hung up on us (as Mosquitto does on
    a protocol violation)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(connect(b"raw-publisher"))
        await writer.drain()
        await asyncio.wait_for(reader.readexactly(4), timeout=5)  # CONNACK
        writer.write(publish(topic, payload))
        await writer.drain()
        try:
            return await asyncio.wait_for(reader.read(1), timeout=0.5) == b""
        except TimeoutError:
            return False
    finally:
        writer.transport.abort()


@contextlib.asynccontextmanager
async def forwarding_broker(*publishes: tuple[bytes, bytes]) -> AsyncIterator[int]:
    """A broker that breaks the rules: to every client that subscribes it forwards these
    (topic, payload) publishes as they are. Yields its port."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            await reader.read(1024)  # CONNECT
            writer.write(b"\x20\x02\x00\x00")
            subscribe = await reader.read(1024)
            writer.write(b"\x90\x03" + subscribe[2:4] + b"\x01")  # SUBACK, QoS 1 granted
            for topic, payload in publishes:
                writer.write(publish(topic, payload))
            await writer.drain()
            while data := await reader.read(1024):
                if data[0] == 0xC0:  # PINGREQ: still here
                    writer.write(b"\xd0\x00")

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1]
