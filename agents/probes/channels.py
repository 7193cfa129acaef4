"""Channel probes: is the organisation reachable by email, by phone, on its platform?"""

from __future__ import annotations

import asyncio
import secrets
import socket
import ssl
import time
from dataclasses import dataclass

import aiosmtplib
import httpx

from agents.config import HttpStatusProbe, SipProbe, SmtpProbe
from agents.probes.base import ProbeContext, channel_reading
from chain.wire import ChannelReading


def _elapsed_ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


@dataclass
class Smtp:
    """Connect, read the banner, EHLO, optionally STARTTLS; latency is connect-to-banner."""

    settings: SmtpProbe

    async def measure(self, context: ProbeContext) -> ChannelReading:
        s = self.settings
        client = aiosmtplib.SMTP(
            hostname=s.host,
            port=s.port,
            timeout=s.timeout,
            start_tls=False,
            validate_certs=s.tls_verify,
            cert_bundle=str(context.config.resolve(s.ca_file)) if s.ca_file else None,
            local_hostname=s.helo,
        )
        started = time.perf_counter()
        try:
            banner = await client.connect()
            latency = _elapsed_ms(started)
            await client.ehlo()
            detail = banner.message.splitlines()[0] if banner.message else f"{banner.code}"
            if s.starttls:
                if not client.supports_extension("starttls"):
                    return self._down(context, latency, "STARTTLS not offered")
                await client.starttls()
                detail += " (STARTTLS ok)"
            await client.quit()
        except (aiosmtplib.SMTPException, OSError, ssl.SSLError) as error:
            return self._down(context, None, f"{type(error).__name__}: {error}")
        return channel_reading(context.org, s.channel, up=True, latency_ms=latency, detail=detail)

    def _down(self, context: ProbeContext, latency: float | None, why: str) -> ChannelReading:
        return channel_reading(
            context.org, self.settings.channel, up=False, latency_ms=latency, detail=why
        )


@dataclass
class Sip:
    """A SIP OPTIONS request ("are you there?") to the organisation's SIP server.

    Any final answer below 500 means the server is up and handling requests (a 403 or 405
    is still an answer); 5xx, silence or a refused connection mean the phones are down.
    """

    settings: SipProbe

    async def measure(self, context: ProbeContext) -> ChannelReading:
        s = self.settings
        started = time.perf_counter()
        try:
            status = await (self._over_udp() if s.transport == "udp" else self._over_tcp())
        except OSError as error:
            return self._reading(context, False, None, f"{type(error).__name__}: {error}")
        code = _status_code(status)
        up = code is not None and 200 <= code < 500
        return self._reading(context, up, _elapsed_ms(started), status or "unreadable answer")

    def _reading(
        self, context: ProbeContext, up: bool, latency: float | None, detail: str
    ) -> ChannelReading:
        return channel_reading(
            context.org, self.settings.channel, up=up, latency_ms=latency, detail=detail
        )

    def _request(self, local: tuple[str, int], call_id: str) -> bytes:
        s = self.settings
        uri = s.uri or f"sip:{s.host}"
        host, port = local
        branch = "z9hG4bK" + secrets.token_hex(8)
        lines = [
            f"OPTIONS {uri} SIP/2.0",
            f"Via: SIP/2.0/{s.transport.upper()} {host}:{port};branch={branch};rport",
            "Max-Forwards: 70",
            f"From: <sip:ketenwacht@{host}>;tag={secrets.token_hex(4)}",
            f"To: <{uri}>",
            f"Call-ID: {call_id}",
            "CSeq: 1 OPTIONS",
            f"Contact: <sip:ketenwacht@{host}:{port}>",
            "Accept: application/sdp",
            "User-Agent: ketenwacht",
            "Content-Length: 0",
        ]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    async def _over_udp(self) -> str:
        loop = asyncio.get_running_loop()
        call_id = f"{secrets.token_hex(8)}@ketenwacht"
        answered: asyncio.Future[str] = loop.create_future()

        class Listener(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
                text = data.decode("utf-8", "replace")
                code = _status_code(text.split("\r\n", 1)[0])
                if call_id in text and code is not None and code >= 200 and not answered.done():
                    answered.set_result(text.split("\r\n", 1)[0])

            def error_received(self, exc: Exception) -> None:
                if not answered.done():
                    answered.set_exception(exc)

        transport, _ = await loop.create_datagram_endpoint(
            Listener, remote_addr=(self.settings.host, self.settings.port)
        )
        try:
            local = transport.get_extra_info("sockname")
            request = self._request((local[0], local[1]), call_id)
            # UDP may lose the request; resend as RFC 3261 timer E does, 0.5 s then doubling.
            delay = 0.5
            while True:
                transport.sendto(request)
                done, _ = await asyncio.wait({answered}, timeout=delay)
                if done:
                    return answered.result()
                delay = min(delay * 2, 4.0)
        finally:
            transport.close()

    async def _over_tcp(self) -> str:
        reader, writer = await asyncio.open_connection(self.settings.host, self.settings.port)
        try:
            sock = writer.get_extra_info("socket")
            local = sock.getsockname() if isinstance(sock, socket.socket) else ("0.0.0.0", 0)
            call_id = f"{secrets.token_hex(8)}@ketenwacht"
            writer.write(self._request((local[0], local[1]), call_id))
            await writer.drain()
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("utf-8", "replace")
                status = head.split("\r\n", 1)[0]
                code = _status_code(status)
                if code is None or code >= 200:
                    return status
        finally:
            writer.close()


def _status_code(status_line: str) -> int | None:
    parts = status_line.split(" ", 2)
    if len(parts) >= 2 and parts[0] == "SIP/2.0" and parts[1].isdigit():
        return int(parts[1])
    return None


@dataclass
class HttpStatus:
    """An HTTP status endpoint, e.g. of a contact-centre platform: up when the status fits."""

    settings: HttpStatusProbe

    async def measure(self, context: ProbeContext) -> ChannelReading:
        s = self.settings
        started = time.perf_counter()
        try:
            response = await context.http.get(s.url, timeout=None)
        except httpx.HTTPError as error:
            return channel_reading(
                context.org, s.channel, up=False, latency_ms=None,
                detail=f"{type(error).__name__}: {error}",
            )
        up = response.status_code in s.expect_status
        return channel_reading(
            context.org, s.channel, up=up, latency_ms=_elapsed_ms(started),
            detail=f"HTTP {response.status_code} {response.reason_phrase}",
        )
