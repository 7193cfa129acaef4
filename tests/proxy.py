"""A TCP proxy the tests control: cut, reset or stall connections, refuse new ones, add
latency, split the stream into tiny fragments, or hold the broker's side open after the
client has gone (so the broker sends that client's Last Will only when the test says)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import time

from mqtt.address import BrokerAddress


class _Connection:
    """One client's connection and its connection upstream, forwarded both ways."""

    def __init__(self, client: asyncio.StreamWriter, upstream: asyncio.StreamWriter) -> None:
        self.client = client
        self.upstream = upstream
        self.flowing = asyncio.Event()
        self.flowing.set()

    def writers(self) -> tuple[asyncio.StreamWriter, asyncio.StreamWriter]:
        return self.client, self.upstream


class Proxy:
    def __init__(self, target: BrokerAddress) -> None:
        self.target = target
        self.port = 0
        self.latency = 0.0
        """Seconds every chunk waits before it is forwarded, each way."""
        self.fragment: int | None = None
        """Forward at most this many bytes per write (1: byte by byte), each way."""
        self.hold_open = False
        """When a client goes away, keep its upstream connection open until cut()."""
        self._server: asyncio.Server | None = None
        self._connections: set[_Connection] = set()
        self._dropped: set[_Connection] = set()

    async def start(self) -> BrokerAddress:
        await self.listen()
        return BrokerAddress("127.0.0.1", self.port)

    async def listen(self) -> None:
        """Accept connections (again, on the same port)."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def refuse(self) -> None:
        """Stop listening: new connections are refused, as by a host whose broker is down."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def stop(self) -> None:
        self.cut()
        await self.refuse()

    @property
    def connections(self) -> int:
        return len(self._connections)

    def cut(self) -> None:
        """Close every connection through the proxy, both ways (FIN)."""
        for connection in list(self._connections):
            for writer in connection.writers():
                writer.close()
        self._connections.clear()

    def reset(self) -> None:
        """Abort every connection with a TCP reset (RST), as a firewall or NAT box may."""
        for connection in list(self._connections):
            for writer in connection.writers():
                sock = writer.get_extra_info("socket")
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.setsockopt(
                            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                        )
                writer.transport.abort()
        self._connections.clear()

    def drop_clients(self) -> None:
        """Close only the clients' side: with `hold_open`, the broker still sees each
        connection alive, as after a NAT box forgot it."""
        for connection in list(self._connections):
            connection.client.close()
            self._dropped.add(connection)

    def release_dropped(self) -> None:
        """Close the broker's side of the connections drop_clients() left open: only now
        does the broker see them end (and send their Last Wills)."""
        for connection in self._dropped:
            connection.upstream.close()
        self._dropped.clear()

    def stall(self) -> None:
        """Half-open: stop forwarding on every current connection without closing it.
        New connections flow normally."""
        for connection in self._connections:
            connection.flowing.clear()

    def resume(self) -> None:
        """After stall(): forward again what was held, and whatever comes next."""
        for connection in self._connections:
            connection.flowing.set()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(self.target.host, self.target.port)
        except OSError:
            writer.close()
            return
        connection = _Connection(writer, up_writer)
        self._connections.add(connection)
        await asyncio.gather(
            self._pump(connection, reader, up_writer, hold=True),
            self._pump(connection, up_reader, writer, hold=False),
            return_exceptions=True,
        )
        self._connections.discard(connection)

    async def _pump(
        self, connection: _Connection, reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter, *, hold: bool,
    ) -> None:
        # Reading and writing are apart so that latency delays every chunk by the same time
        # instead of adding up; a stalled connection keeps reading into the queue.
        queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()
        forwarding = asyncio.create_task(self._forward(connection, queue, writer))
        try:
            while data := await reader.read(65536):
                queue.put_nowait((time.monotonic() + self.latency, data))
            queue.put_nowait(None)
            await forwarding
        finally:
            forwarding.cancel()
            if not (hold and self.hold_open):
                with contextlib.suppress(OSError):
                    writer.close()

    async def _forward(
        self, connection: _Connection, queue: asyncio.Queue[tuple[float, bytes] | None],
        writer: asyncio.StreamWriter,
    ) -> None:
        while (item := await queue.get()) is not None:
            due, data = item
            await connection.flowing.wait()
            if (delay := due - time.monotonic()) > 0:
                await asyncio.sleep(delay)
            step = self.fragment or len(data)
            for start in range(0, len(data), step):
                writer.write(data[start:start + step])
                await writer.drain()
