"""nats-server configuration: for the embedded broker, and for the nodes of a production
setup (`broker init --engine nats`). Written as JSON, which nats-server reads as its own
configuration syntax, so every value is quoted exactly once and nothing is interpolated."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from broker.acl import Grant
from broker.limits import CONNECT_TIMEOUT_SECONDS, EXPIRY_DAYS, MAX_CONNECTIONS, MAX_PACKET_BYTES
from broker.setup_dir import Node
from chain.errors import UsageError

LOG_SIZE_LIMIT: Final = 10 * 1024 * 1024
LOG_FILES_KEPT: Final = 3
"""A flood of refused connections logs a line each: the log is rotated, never unbounded."""
JETSTREAM_FILE_STORE: Final = 4 * 1024**3
"""Sessions, retained messages and what is held for absent recorders, on disk."""
JETSTREAM_MEMORY_STORE: Final = 256 * 1024**2
JETSTREAM_SYNC: Final = "always"
"""Every message stored is on disk before its PUBACK. By default JetStream buffers writes
and syncs every 2 minutes, so a node killed with -9 lost QoS 1 readings it had already
acknowledged (55 of 5 003 once, in the suite's mid-drain restart): acknowledged means kept."""


def render(conf: Mapping[str, Any]) -> str:
    return json.dumps(conf, indent=2) + "\n"


def limits() -> dict[str, Any]:
    """What every server of ours sets, embedded or in production."""
    return {
        # MQTT publishes too (see broker/limits.py; JSON has no comments to say it in).
        "max_payload": MAX_PACKET_BYTES,
        "max_connections": MAX_CONNECTIONS,
        "max_pending": 16 * 1024 * 1024,
        "write_deadline": "10s",
        "logfile_size_limit": LOG_SIZE_LIMIT,
        "logfile_max_num": LOG_FILES_KEPT,
    }


JETSTREAM_API_TIMEOUT: Final = "20s"
"""How long an MQTT request to JetStream (a session lookup, storing a QoS 1 or a retained
message) may wait. When a node dies, JetStream elects new leaders in 4-9 s, sometimes two
rounds; NATS closes a client's connection when such a request fails, and then sends its
Will: with the default 5 s, a live organisation is shown "lost" because a node died."""


def mqtt_block(listen: str, *, replicas: int) -> dict[str, Any]:
    return {
        "listen": listen,
        "stream_replicas": replicas,
        "js_api_timeout": JETSTREAM_API_TIMEOUT,
        # Forget a persistent session's consumer once its client has been away this long,
        # as Mosquitto's persistent_client_expiration does.
        "consumer_inactive_threshold": f"{EXPIRY_DAYS * 24}h",
    }


def embedded_conf(
    *, host: str, port: int, monitor_port: int, store_dir: Path, name: str = "ketenwacht"
) -> dict[str, Any]:
    """One node without credentials, on loopback: MQTT on `port`, the NATS protocol on a
    random loopback port, health checks on `monitor_port`, JetStream in `store_dir`."""
    return {
        "server_name": name,
        "listen": "127.0.0.1:-1",
        "http": f"127.0.0.1:{monitor_port}",
        **limits(),
        "jetstream": {
            "store_dir": str(store_dir),
            "max_file_store": JETSTREAM_FILE_STORE,
            "max_memory_store": JETSTREAM_MEMORY_STORE,
            "sync_interval": JETSTREAM_SYNC,
        },
        "mqtt": mqtt_block(_listen(host, port), replicas=1),
        "authorization": {"timeout": CONNECT_TIMEOUT_SECONDS},
    }


def _listen(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@dataclass(frozen=True)
class NatsUser:
    """A user of a node: the distinguished name of its client certificate (NATS maps the
    certificate to the user) and what the ACL grants it."""

    subject: str
    grants: Sequence[Grant]


def nats_subjects(topic_filter: str) -> list[str]:
    """The NATS subjects an MQTT topic filter stands for. NATS maps `/` to `.`, `+` to `*`
    and `#` to `>`; `a/#` also matches `a` itself, so a permission must name both."""
    levels = topic_filter.split("/")
    if any(not level or "." in level or " " in level for level in levels):
        raise UsageError(f"NATS: topic filter {topic_filter!r}: empty levels, '.' and spaces "
                         "cannot be mapped to NATS subjects (use '-' or '_')")
    mapped = ["*" if level == "+" else ">" if level == "#" else level for level in levels]
    subjects = [".".join(mapped)]
    if mapped[-1] == ">" and len(mapped) > 1:
        subjects.append(".".join(mapped[:-1]))
    return subjects


def user_entry(user: NatsUser) -> dict[str, Any]:
    """One user, allowed only MQTT connections, with explicit allow lists: everything not
    listed (another organisation's subtree, `$JS` and `$SYS` subjects) is refused."""
    publish = sorted({s for g in user.grants if g.writes for s in nats_subjects(g.pattern)})
    subscribe = sorted({s for g in user.grants if g.reads for s in nats_subjects(g.pattern)})
    return {
        "user": user.subject,
        "permissions": {"publish": _only(publish), "subscribe": _only(subscribe)},
        "allowed_connection_types": ["MQTT"],
    }


def _only(subjects: list[str]) -> dict[str, list[str]]:
    # NATS reads an empty allow list as no restriction at all: nothing allowed is a deny.
    return {"allow": subjects} if subjects else {"deny": [">"]}


def node_conf(
    node: Node, nodes: Sequence[Node], *, files: str, store_dir: str,
    users: Sequence[NatsUser],
) -> dict[str, Any]:
    """A production node: MQTT over TLS 1.2+ where the client certificate is the identity
    (its distinguished name is the user: `--rotate` makes a new one, and a reload refuses
    the old one); routes to the other nodes over mutual TLS; JetStream with as many
    replicas as there are nodes, up to 3."""
    server_tls = {
        "cert_file": f"{files}/server.crt",
        "key_file": f"{files}/server.key",
        "ca_file": f"{files}/ca.crt",
        "min_version": "1.2",
        "timeout": CONNECT_TIMEOUT_SECONDS,
    }
    conf: dict[str, Any] = {
        "server_name": node.name,
        # The NATS protocol only on loopback, and no user may log in over it (MQTT only).
        "listen": "127.0.0.1:-1",
        "http": f"127.0.0.1:{node.monitor_port}",
        **limits(),
        "jetstream": {
            "store_dir": store_dir,
            "max_file_store": JETSTREAM_FILE_STORE,
            "max_memory_store": JETSTREAM_MEMORY_STORE,
            "sync_interval": JETSTREAM_SYNC,
        },
        "mqtt": {
            **mqtt_block(_listen(node.bind, node.mqtt_port), replicas=min(3, len(nodes))),
            "tls": {**server_tls, "verify_and_map": True},
        },
        "authorization": {
            "timeout": CONNECT_TIMEOUT_SECONDS,
            "users": [user_entry(user) for user in users],
        },
    }
    others = [other for other in nodes if other.name != node.name]
    if others:
        conf["cluster"] = {
            "name": "ketenwacht",
            "listen": _listen(node.bind, node.cluster_port),
            "routes": [f"nats-route://{_listen(o.host, o.cluster_port)}" for o in others],
            "no_advertise": True,
            "tls": {**server_tls, "verify": True},
        }
    return conf
