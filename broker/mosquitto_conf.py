"""mosquitto.conf for production: TLS listeners only, plaintext at most on loopback.

Written as a drop-in for /etc/mosquitto/conf.d/: Debian's main mosquitto.conf already sets
persistence, the pid file and logging, and Mosquitto refuses some of those twice.
"""

from __future__ import annotations

from broker.limits import (
    AUTOSAVE_SECONDS,
    EXPIRY_DAYS,
    LARGEST_MESSAGE_BYTES,
    MAX_CONNECTIONS,
    MAX_HELD,
    MAX_PACKET_BYTES,
)
from broker.setup_dir import Manifest
from chain.wire import MAX_PAYLOAD_BYTES


def render_mosquitto_conf(manifest: Manifest) -> str:
    files = manifest.installed_at.rstrip("/")
    tls = [
        f"cafile {files}/ca.crt",
        f"certfile {files}/server.crt",
        f"keyfile {files}/server.key",
        "tls_version tlsv1.2",  # Mosquitto 2.0: the lowest version this listener accepts
    ]
    lines = [
        "# Ketenwacht: Mosquitto 2.0 settings made by `ketenwacht broker init`.",
        "# Install as /etc/mosquitto/conf.d/ketenwacht.conf; the files it names must be",
        "# readable by the mosquitto user (see README, \"Production setup\").",
        "",
        "# No anonymous clients, on any listener; every user is in the password file and",
        "# may do exactly what the ACL grants it, nothing more.",
        "allow_anonymous false",
        f"password_file {files}/passwords",
        f"acl_file {files}/acl",
        "",
        "# The recorder keeps a persistent session: what agents publish while it (or this",
        "# broker) restarts is held for it. Debian's mosquitto.conf turns persistence on;",
        "# these say how often it is saved, how much is held and for how long.",
        f"autosave_interval {AUTOSAVE_SECONDS}",
        f"max_queued_messages {MAX_HELD}",
        f"persistent_client_expiration {EXPIRY_DAYS}d",
        "",
        f"# Packets up to {MAX_PACKET_BYTES // 1024} KiB. No message of ours is over "
        f"{LARGEST_MESSAGE_BYTES // 1024} KiB (a manual report,",
        "# 500 characters, each escaped); monitors refuse a payload over "
        f"{MAX_PAYLOAD_BYTES // 1024} KiB, showing its",
        f"# organisation INVALID with the size. A packet over {MAX_PACKET_BYTES // 1024} KiB "
        "is refused at its header, before",
        "# its bytes fill the broker's memory, and its sender disconnected (its Will sent). The",
        "# gap is on purpose: a reading somewhat too big shows as INVALID, not as an agent",
        "# \"lost\" in a reconnect loop. Connections are bounded per listener (below).",
        f"max_packet_size {MAX_PACKET_BYTES}",
        "",
        "# Username and password over TLS.",
        f"listener {manifest.tls_port}",
        *tls,
        f"max_connections {MAX_CONNECTIONS}",
        "",
    ]
    if manifest.cert_port:
        lines += [
            "# Client certificates from the chain's CA; the certificate's common name is the",
            "# username, so the ACL applies unchanged. Revoked certificates are in crl.pem.",
            f"listener {manifest.cert_port}",
            *tls,
            "require_certificate true",
            "use_identity_as_username true",
            f"crlfile {files}/crl.pem",
            "",
        ]
    if manifest.local_port:
        lines += [
            "# Plaintext for a recorder or screen on this host only; passwords still apply.",
            f"listener {manifest.local_port} 127.0.0.1",
            "",
        ]
    return "\n".join(lines)
