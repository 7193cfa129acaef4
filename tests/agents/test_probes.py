"""Every probe type against a real server or source the test starts."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from pathlib import Path

import pytest

from agents.daemon import probe_set
from agents.manual import manual_file, write_manual
from agents.probes.schedule import Outcome, run_once
from broker.embedded import free_port
from chain.wire import BacklogGauge, ChannelReading, FlowCounter
from tests.agents.conftest import WriteConfig
from tests.agents.servers import SipUdpResponder, http_server, sip_tcp_server


async def measure(write_config: WriteConfig, probe_toml: str) -> Outcome:
    config = write_config("[[probe]]\n" + probe_toml)
    probes = probe_set(config)
    try:
        return await run_once(probes.probes[0], probes.context)
    finally:
        await probes.context.close()


def channel(outcome: Outcome) -> ChannelReading:
    assert isinstance(outcome.reading, ChannelReading), outcome.error
    return outcome.reading


def value(outcome: Outcome) -> int:
    reading = outcome.reading
    assert isinstance(reading, FlowCounter | BacklogGauge), outcome.error
    return reading.count if isinstance(reading, FlowCounter) else reading.items


# ------------------------------------------------------------------------- email


async def test_smtp_up_with_banner_latency_and_starttls(
    write_config: WriteConfig, smtp_server: tuple[int, Path]
) -> None:
    """Against aiosmtpd: up, the banner as detail, a latency, STARTTLS verified with our CA."""
    port, ca_file = smtp_server
    outcome = await measure(
        write_config,
        f'type = "smtp"\nhost = "127.0.0.1"\nport = {port}\nstarttls = true\n'
        f'ca_file = "{ca_file}"\n',
    )
    reading = channel(outcome)
    assert reading.up, reading.detail
    assert reading.channel == "email"
    assert "mail.om.test ESMTP ketenwacht-test" in reading.detail
    assert "STARTTLS ok" in reading.detail
    assert reading.latency_ms is not None and reading.latency_ms > 0


async def test_smtp_starttls_with_an_untrusted_certificate_is_down(
    write_config: WriteConfig, smtp_server: tuple[int, Path]
) -> None:
    """Without our CA the server's certificate does not verify: email is reported down."""
    port, _ = smtp_server
    outcome = await measure(
        write_config, f'type = "smtp"\nhost = "127.0.0.1"\nport = {port}\nstarttls = true\n'
    )
    reading = channel(outcome)
    assert not reading.up
    assert "certificate" in reading.detail.lower()


async def test_smtp_refused_is_down_with_the_reason(write_config: WriteConfig) -> None:
    """Nothing listening: down, and the detail says why."""
    port = free_port()
    outcome = await measure(write_config, f'type = "smtp"\nhost = "127.0.0.1"\nport = {port}\n')
    reading = channel(outcome)
    assert not reading.up
    assert "refused" in reading.detail.lower() or "connect" in reading.detail.lower()


# ------------------------------------------------------------------------- phone


async def test_sip_options_over_udp_survives_a_lost_request(write_config: WriteConfig) -> None:
    """The responder ignores the first OPTIONS; the retransmission gets 200 OK: phone up."""
    loop = asyncio.get_running_loop()
    responder = SipUdpResponder("200 OK", ignore_first=1)
    transport, _ = await loop.create_datagram_endpoint(
        lambda: responder, local_addr=("127.0.0.1", 0)
    )
    try:
        port = transport.get_extra_info("sockname")[1]
        outcome = await measure(
            write_config, f'type = "sip"\nhost = "127.0.0.1"\nport = {port}\ntimeout = 3\n'
        )
    finally:
        transport.close()
    reading = channel(outcome)
    assert reading.up, reading.detail
    assert reading.detail == "SIP/2.0 200 OK"
    assert responder.received == 2


async def test_sip_server_error_over_tcp_is_down(write_config: WriteConfig) -> None:
    """A 503 from the SIP server means the phones do not work."""
    server = await sip_tcp_server("503 Service Unavailable")
    port = server.sockets[0].getsockname()[1]
    try:
        outcome = await measure(
            write_config, f'type = "sip"\nhost = "127.0.0.1"\nport = {port}\ntransport = "tcp"\n'
        )
    finally:
        server.close()
    reading = channel(outcome)
    assert not reading.up
    assert reading.detail == "SIP/2.0 503 Service Unavailable"


async def test_sip_silence_is_down(write_config: WriteConfig) -> None:
    """A UDP port that never answers: down after the timeout, with no latency."""
    loop = asyncio.get_running_loop()
    silent, _ = await loop.create_datagram_endpoint(
        asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0)
    )
    port = silent.get_extra_info("sockname")[1]
    try:
        outcome = await measure(
            write_config, f'type = "sip"\nhost = "127.0.0.1"\nport = {port}\ntimeout = 0.6\n'
        )
    finally:
        silent.close()
    reading = channel(outcome)
    assert (reading.up, reading.latency_ms) == (False, None)
    assert "no answer" in reading.detail


@pytest.mark.parametrize(("status", "up"), [(200, True), (503, False)])
async def test_http_status_endpoint(write_config: WriteConfig, status: int, up: bool) -> None:
    """A contact-centre status page: up only on the expected status."""
    with http_server({"/health": lambda: (status, "text/plain", b"x")}) as base:
        outcome = await measure(write_config, f'type = "http-status"\nurl = "{base}/health"\n')
    reading = channel(outcome)
    assert (reading.up, reading.channel) == (up, "phone")
    assert reading.detail.startswith(f"HTTP {status}")


# ------------------------------------------------------------------------- values

FLOW = 'flow = "om-justid"\ndirection = "sent"\n'
METRICS = b"""# HELP jds_messages_total Messages to JDS.
# TYPE jds_messages_total counter
jds_messages_total{direction="sent",queue="main"} 48210.0
jds_messages_total{direction="sent",queue="retry"} 12.0
# TYPE pending gauge
pending 1250
"""


async def test_http_json_field_by_path(write_config: WriteConfig) -> None:
    """A JSON endpoint: the number at a dotted path, list indexes included."""
    body = b'{"queues": [{"name": "jds", "pending": 1250}]}'
    with http_server({"/stats": lambda: (200, "application/json", body)}) as base:
        outcome = await measure(
            write_config,
            f'type = "http-json"\nurl = "{base}/stats"\nfield = "queues.0.pending"\n'
            'backlog = "jds_pending"\n',
        )
    assert value(outcome) == 1250


async def test_http_json_missing_field_names_it(write_config: WriteConfig) -> None:
    """A path that is not in the document: an error naming the missing step."""
    with http_server({"/stats": lambda: (200, "application/json", b'{"a": {}}')}) as base:
        outcome = await measure(
            write_config, f'type = "http-json"\nurl = "{base}/stats"\nfield = "a.b"\n{FLOW}'
        )
    assert outcome.error == "field 'a.b': no 'b' there"


async def test_prometheus_metric_by_name_and_labels(write_config: WriteConfig) -> None:
    """A /metrics page: one series chosen by name and labels."""
    with http_server({"/metrics": lambda: (200, "text/plain", METRICS)}) as base:
        outcome = await measure(
            write_config,
            f'type = "prometheus"\nurl = "{base}/metrics"\nmetric = "jds_messages_total"\n'
            f'labels = {{ queue = "main" }}\n{FLOW}',
        )
        ambiguous = await measure(
            write_config,
            f'type = "prometheus"\nurl = "{base}/metrics"\nmetric = "jds_messages_total"\n{FLOW}',
        )
    assert value(outcome) == 48210
    assert ambiguous.error is not None and "2 series match" in ambiguous.error


async def test_sql_query_on_sqlite(write_config: WriteConfig, tmp_path: Path) -> None:
    """A read-only query on an SQLite database: the first column of the first row."""
    database = tmp_path / "cases.sqlite"
    with sqlite3.connect(database) as db:
        db.execute("CREATE TABLE outbox (id INTEGER, sent INTEGER)")
        db.executemany("INSERT INTO outbox VALUES (?, ?)", [(i, i % 2) for i in range(41)])
    outcome = await measure(
        write_config,
        f'type = "sql"\ndatabase = "{database}"\n'
        'query = "SELECT count(*) FROM outbox WHERE sent = 0"\nbacklog = "jds_pending"\n',
    )
    assert value(outcome) == 21


async def test_file_with_a_number_and_with_json(write_config: WriteConfig, tmp_path: Path) -> None:
    """A file holding one number, and a JSON file with a field."""
    (tmp_path / "count.txt").write_text("  317\n")
    (tmp_path / "stats.json").write_text('{"jds": {"pending": 9}}')
    plain = await measure(write_config, f'type = "file"\npath = "count.txt"\n{FLOW}')
    as_json = await measure(
        write_config, 'type = "file"\npath = "stats.json"\nfield = "jds.pending"\nbacklog = "x"\n'
    )
    assert (value(plain), value(as_json)) == (317, 9)


async def test_command_output_and_failure(write_config: WriteConfig) -> None:
    """A command's stdout is the number; a non-zero exit is an error with its stderr."""
    python = sys.executable
    good = await measure(
        write_config, f'type = "command"\nargv = ["{python}", "-c", "print(42)"]\n{FLOW}'
    )
    bad = await measure(
        write_config,
        f'type = "command"\nargv = ["{python}", "-c", "import sys; sys.exit(\'no db\')"]\n{FLOW}',
    )
    assert value(good) == 42
    assert bad.error is not None and bad.error.endswith("exit 1: no db")


async def test_command_killed_at_its_timeout(write_config: WriteConfig) -> None:
    """A hanging command is stopped at the probe's timeout and reported."""
    outcome = await measure(
        write_config,
        f'type = "command"\nargv = ["{sys.executable}", "-c", "import time; time.sleep(30)"]\n'
        f"timeout = 0.5\n{FLOW}",
    )
    assert outcome.error == "no result within 0.5s"


async def test_manual_value_set_by_hand(write_config: WriteConfig) -> None:
    """Unset, the manual probe says how to set it; once set, it reports the value."""
    config = write_config('[[probe]]\ntype = "manual"\nbacklog = "paper_intake"\n')
    before = await measure(write_config, 'type = "manual"\nbacklog = "paper_intake"\n')
    assert before.error is not None and "ketenwacht agent set" in before.error
    state = Path(config.settings.state_dir or "")
    write_manual(manual_file(state, "om"), "backlog:paper_intake", 120)
    after = await measure(write_config, 'type = "manual"\nbacklog = "paper_intake"\n')
    assert value(after) == 120


@pytest.mark.parametrize(
    ("reported", "error"),
    [("-3", "expected a count of 0 or more, got -3.0"), ("nan", "expected a finite number"),
     ("many", "expected a number, got 'many'")],
)
async def test_values_that_are_not_counts_are_refused(
    write_config: WriteConfig, tmp_path: Path, reported: str, error: str
) -> None:
    """Negative, NaN or text values never become readings."""
    (tmp_path / "count.txt").write_text(reported)
    outcome = await measure(write_config, f'type = "file"\npath = "count.txt"\n{FLOW}')
    assert outcome.reading is None
    assert outcome.error is not None and error in outcome.error
