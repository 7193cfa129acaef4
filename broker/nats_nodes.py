"""The node folders of a NATS setup: each node's certificate, and its nats.conf made from the
manifest, the ACL's roles and every user's current client certificate (NATS maps the
certificate's distinguished name to the user, so an old certificate maps to no one)."""

from __future__ import annotations

from collections.abc import Sequence

from broker import certs
from broker.acl import grants
from broker.nats_conf import NatsUser, node_conf, render
from broker.setup_dir import Layout, Manifest, Node, read_file, write_file

CONFIG = "nats.conf"


def node_files(layout: Layout, manifest: Manifest, node: Node) -> str:
    """Where the node's files live on its host, as its nats.conf names them."""
    if manifest.installed_at:
        return manifest.installed_at.rstrip("/")
    return str(layout.node(node.name).absolute())


def issue_node_certificates(layout: Layout, manifest: Manifest, ca: certs.Issued) -> None:
    """Each node's certificate names its own host; nodes present it to one another too."""
    for node in manifest.nodes:
        folder = layout.node(node.name)
        server = certs.make_server(ca, [node.host, "localhost", "127.0.0.1", "::1"],
                                   also_client=True)
        write_file(folder / "ca.crt", ca.cert_pem)
        write_file(folder / "server.crt", server.cert_pem + ca.cert_pem)
        write_file(folder / "server.key", server.key_pem, secret=True)


def setup_users(layout: Layout, manifest: Manifest) -> list[NatsUser]:
    """Every user of the manifest, named by its current certificate, with its grants."""
    return [
        NatsUser(certs.subject_of(read_file(layout.client(user) / "client.crt")),
                 grants(user.role, user.name, manifest.root))
        for user in manifest.users
    ]


def write_node_configs(
    layout: Layout, manifest: Manifest, extra: Sequence[NatsUser] = ()
) -> None:
    """(Re)write every node's nats.conf; a running node reloads it on SIGHUP (`ketenwacht
    broker --config` sends that itself when the file changes). `extra`: users beyond the
    manifest's, such as a test's observer."""
    users = [*setup_users(layout, manifest), *extra]
    for node in manifest.nodes:
        files = node_files(layout, manifest, node)
        conf = node_conf(
            node, manifest.nodes, files=files,
            store_dir=manifest.store_dir or f"{files}/jetstream",
            users=users,
        )
        write_file(layout.node(node.name) / CONFIG, render(conf))
