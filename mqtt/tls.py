"""TLS for broker connections: our own CA, optional client certificates, TLS 1.2 or newer."""

from __future__ import annotations

import ssl
from pathlib import Path

from chain.errors import ConfigError


def client_context(
    *, ca_file: Path | None, cert_file: Path | None, key_file: Path | None, origin: str
) -> ssl.SSLContext:
    """A verifying client context; errors name the file and the key (`origin: broker.x`)."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        if ca_file is not None:
            context.load_verify_locations(cafile=str(ca_file))
    except (OSError, ssl.SSLError) as error:
        raise ConfigError(f"{origin}: broker.ca_file: cannot load {ca_file}: {error}") from None
    try:
        if cert_file is not None:
            context.load_cert_chain(str(cert_file), str(key_file) if key_file else None)
    except (OSError, ssl.SSLError) as error:
        raise ConfigError(
            f"{origin}: broker.cert_file: cannot load {cert_file} with its key: {error}"
        ) from None
    return context
