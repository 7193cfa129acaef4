"""A TCP relay between one simulated agent and its broker, that the demo can cut.

Cut, it closes the agent's connection at the broker without an MQTT DISCONNECT, so the
broker publishes the agent's Last Will, and refuses new connections until restored: what
a network failure does, with the agent, its client and the broker all as they really are.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import replace

from mqtt.address import BrokerAddress

log = logging.getLogger("ketenwacht.relay")
CHUNK = 65536


class Relay:
    def __init__(self, target: BrokerAddress) -> None:
        self.target = target
        self.address = target
        """Where the agent connects: loopback, on the relay's port once started."""
        self._server: asyncio.Server | None = None
        self._port = 0
        self._open: set[asyncio.StreamWriter] = set()

    async def start(self) -> BrokerAddress:
        await self._listen()
        self.address = replace(self.target, host="127.0.0.1", port=self._port)
        return self.address

    @property
    def cut_off(self) -> bool:
        return self._server is None

    async def cut(self) -> None:
        """Drop every connection through the relay, both ways, and refuse new ones."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._open):
            writer.close()
        self._open.clear()

    async def restore(self) -> None:
        """Accept connections again, on the same port."""
        if self._server is None:
            await self._listen()

    async def close(self) -> None:
        await self.cut()

    async def _listen(self) -> None:
        # The same port after a cut: the agent knows no other. Refused meanwhile (nothing
        # listens), so its reconnects fail at once instead of waiting out a timeout.
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self._port)
        self._port = self._server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(self.target.host,
                                                                 self.target.port)
        except OSError as error:
            log.warning("relay to %s: %s", self.target.url, error)
            writer.close()
            return
        if self._server is None:
            # Cut while this connection was being made: it must not outlive the cut.
            up_writer.close()
            writer.close()
            return
        self._open |= {writer, up_writer}
        try:
            await asyncio.gather(_pump(reader, up_writer), _pump(up_reader, writer))
        finally:
            self._open -= {writer, up_writer}


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Forward until either side ends; then end the other (the relay is the network)."""
    with contextlib.suppress(OSError, asyncio.IncompleteReadError):
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
    writer.close()
