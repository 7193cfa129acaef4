"""The ready `agent.toml` that `ketenwacht broker init` writes for each organisation."""

from __future__ import annotations

import json

from broker.setup_dir import Manifest

DEFAULT_INTERVAL = 30.0
"""Production heartbeat: STALE after 90 s of silence, and little traffic for 17 agents."""


def agent_config(manifest: Manifest, org: str) -> str:
    header = f"""\
# The agent of {org}, made by `ketenwacht broker init`. Install this folder as
# /etc/ketenwacht/ (see README, "Running an agent in production"), then add the
# [[probe]] sections that fit (deploy/examples/ has one for each type).
# Paths are relative to this file's folder.

org = "{org}"
interval = {DEFAULT_INTERVAL}
"""
    if manifest.engine == "nats":
        urls = ", ".join(json.dumps(url) for url in manifest.urls)
        return header + f"""
[broker]
# Every node of the cluster: the agent moves to the next when its node goes away.
url = [{urls}]
cert_file = "client.crt"       # the identity: the certificate's name is the organisation
key_file = "client.key"        # only this organisation's; `broker init --rotate {org}` renews it
ca_file = "ca.pem"             # the chain's own CA, to verify the broker
root = {json.dumps(manifest.root)}
"""
    host = manifest.hostnames[0]
    host = f"[{host}]" if ":" in host else host
    return header + f"""
[broker]
url = {json.dumps(manifest.urls[0])}
password_file = "password"     # only this organisation's; `broker init --rotate {org}` renews it
ca_file = "ca.pem"             # the chain's own CA, to verify the broker
root = {json.dumps(manifest.root)}

# To log in with the client certificate instead (its common name is the username):
# url = {json.dumps(f"mqtts://{host}:{manifest.cert_port}")}
# cert_file = "client.crt"
# key_file = "client.key"
"""
