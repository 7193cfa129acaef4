"""Real servers the probe tests talk to: SMTP (aiosmtpd), SIP responders, HTTP."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Route = Callable[[], tuple[int, str, bytes]]


@contextmanager
def http_server(routes: dict[str, Route]) -> Iterator[str]:
    """A threaded HTTP server on a free loopback port; yields its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            route = routes.get(self.path)
            status, content_type, body = route() if route else (404, "text/plain", b"no")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def sip_answer(request: bytes, status: str) -> bytes:
    """A SIP response echoing the request's Via, From, To, Call-ID and CSeq."""
    lines = request.decode().split("\r\n")
    keep = [ln for ln in lines if ln.split(":", 1)[0] in ("Via", "From", "To", "Call-ID", "CSeq")]
    return ("\r\n".join([f"SIP/2.0 {status}", *keep, "Content-Length: 0"]) + "\r\n\r\n").encode()


class SipUdpResponder(asyncio.DatagramProtocol):
    """Answers every OPTIONS with `status`; `ignore_first` requests go unanswered (loss)."""

    def __init__(self, status: str = "200 OK", ignore_first: int = 0) -> None:
        self.status = status
        self.ignore = ignore_first
        self.received = 0
        self.transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # asyncio's selector datagram transport does not subclass DatagramTransport.
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.received += 1
        if self.received <= self.ignore:
            return
        send = getattr(self.transport, "sendto")  # noqa: B009
        send(sip_answer(data, "100 Trying"), addr)
        send(sip_answer(data, self.status), addr)


async def sip_tcp_server(status: str) -> asyncio.Server:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readuntil(b"\r\n\r\n")
        writer.write(sip_answer(request, status))
        await writer.drain()
        writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0)
