"""Fixtures for agent tests: a config writer and an SMTP server with STARTTLS."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import trustme
from aiosmtpd.controller import Controller

from agents.config import LoadedConfig, load_config
from broker.embedded import free_port

WriteConfig = Callable[[str], LoadedConfig]


@pytest.fixture
def write_config(tmp_path: Path) -> WriteConfig:
    """Write an agent TOML (org om, a dead broker, state in tmp_path) plus extra text; load it."""

    def write(extra: str) -> LoadedConfig:
        path = tmp_path / "om.toml"
        path.write_text(
            f'org = "om"\nstate_dir = "{tmp_path / "state"}"\n'
            '[broker]\nurl = "mqtt://127.0.0.1:1"\n' + extra
        )
        return load_config(path)

    return write


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def smtp_server(ca: trustme.CA, tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """An aiosmtpd server offering STARTTLS with a certificate for 127.0.0.1; (port, CA file)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    port = free_port()

    class Handler:
        pass

    controller = Controller(
        Handler(),
        hostname="127.0.0.1",
        port=port,
        server_hostname="mail.om.test",
        tls_context=context,
        require_starttls=False,
        ident="mail.om.test ESMTP ketenwacht-test",
    )
    controller.start()
    try:
        yield port, ca_file
    finally:
        controller.stop()

