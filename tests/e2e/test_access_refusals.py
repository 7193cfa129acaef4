"""Who gets no connection at all: anonymous, wrong passwords, untrusted or expired certificates,
old TLS, and a Last Will on someone else's topic. Each refusal has a passing twin beside it."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import socket
import ssl
import warnings
from pathlib import Path

import pytest

from broker import certs
from broker.embedded import free_port
from tests.e2e.raw_mqtt import connect_and_vanish, connect_packet
from tests.e2e.secured import SecuredBroker, Setup, connects

pytestmark = pytest.mark.asyncio(loop_scope="module")

GRACE = 0.3


async def test_the_provisioned_credentials_connect(secured: SecuredBroker) -> None:
    """The twin of every refusal below: the same broker, the right credentials (Mosquitto:
    the password; NATS: the certificate)."""
    assert await connects(secured.client("om"))


async def test_anonymous_is_refused(secured: SecuredBroker) -> None:
    """No username (Mosquitto) or no certificate (NATS), no connection. A refused TLS
    handshake leaves the client waiting for its connect timeout, hence a short one."""
    assert not await connects(secured.client(None, timeout=2))


async def test_a_wrong_password_is_refused(mosquitto_secured: SecuredBroker) -> None:
    """Mosquitto, where the password is the identity: a wrong password, another user's
    password and an unknown user are all refused."""
    secured = mosquitto_secured
    assert not await connects(secured.client("om", "not-the-password"))
    assert not await connects(secured.client("om", secured.setup.password("justid")))
    assert not await connects(secured.client("nobody", "whatever"))


async def test_a_certificate_of_the_chain_that_was_not_handed_out_is_refused(
    nats_secured: SecuredBroker, tmp_path: Path
) -> None:
    """NATS, where the certificate is the identity: one the chain's CA signed but `broker
    init` did not hand out (as an old, rotated one is; or one for a name that is no user)
    maps to no user and is refused; the provisioned one gets in."""
    ca = _chain_ca(nats_secured.setup)
    for name in ("om", "nobody"):
        issued = certs.make_client(ca, name)
        cert, key = _client_cert(tmp_path, issued, name)
        assert not await connects(nats_secured.certificate_client(name, cert, key)), name
    folder = nats_secured.setup.folder("om")
    assert await connects(nats_secured.certificate_client(
        "om", folder / "client.crt", folder / "client.key"))


async def test_a_broker_signed_by_another_ca_is_not_trusted(
    secured: SecuredBroker, tmp_path: Path
) -> None:
    """A client that trusts another CA refuses the broker (no credentials are sent)."""
    other = tmp_path / "other-ca.pem"
    other.write_bytes(certs.make_ca("Not the chain").cert_pem)
    assert not await connects(secured.client("om", tls=secured.tls(ca_file=other)))


def _client_cert(tmp_path: Path, issued: certs.Issued, name: str) -> tuple[Path, Path]:
    cert, key = tmp_path / f"{name}.crt", tmp_path / f"{name}.key"
    cert.write_bytes(issued.cert_pem)
    key.write_bytes(issued.key_pem)
    return cert, key


def _chain_ca(setup: Setup) -> certs.Issued:
    return certs.Issued((setup.layout.ca / "ca.crt").read_bytes(),
                        (setup.layout.ca / "ca.key").read_bytes())


@pytest.mark.parametrize("kind", ["expired", "self-signed"])
async def test_a_bad_client_certificate_is_refused(
    secured: SecuredBroker, tmp_path: Path, kind: str
) -> None:
    """An expired certificate from the chain's CA, or one signed by itself, fails the
    handshake; a valid one gets in (Mosquitto: any the CA signed; NATS: the pinned one)."""
    if kind == "expired":
        issued = certs.make_client(_chain_ca(secured.setup), "om", days=1,
                                   not_before=dt.datetime.now(dt.UTC) - dt.timedelta(days=3))
    else:
        issued = certs.make_client(certs.make_ca("om"), "om")
    assert not await connects(secured.certificate_client("om", *_client_cert(tmp_path, issued,
                                                                             kind)))
    if secured.by_certificate:
        folder = secured.setup.folder("om")
        good = (folder / "client.crt", folder / "client.key")
    else:
        good = _client_cert(tmp_path, certs.make_client(_chain_ca(secured.setup), "om"), "ok")
    assert await connects(secured.certificate_client("om", *good))


async def test_the_provisioned_certificate_is_its_users_identity(
    mosquitto_secured: SecuredBroker,
) -> None:
    """On Mosquitto's certificate listener om's certificate, with no password, writes om's
    topics and not justid's: the ACL applies to the certificate's common name."""
    folder = mosquitto_secured.setup.folder("om")
    seen: list[str] = []
    async with (mosquitto_secured.client("recorder") as recorder,
                mosquitto_secured.certificate_client(
                    "om", folder / "client.crt", folder / "client.key") as om):
        await recorder.subscribe("keten/v1/#", qos=1)
        await om.publish("keten/v1/justid/status", b"forged", qos=1)
        await om.publish("keten/v1/om/status", b"own", qos=1)
        async with asyncio.timeout(5):
            async for message in recorder.messages:
                seen.append(message.topic.value)
                if message.topic.value == "keten/v1/om/status":
                    break
    assert seen == ["keten/v1/om/status"]


async def test_a_last_will_on_another_organisations_topic_never_arrives(
    secured: SecuredBroker,
) -> None:
    """om connects with a Will on justid's status and vanishes: nobody ever gets that Will
    (Mosquitto drops it, NATS refuses it as a publish violation); om's own Will does
    arrive."""
    seen: list[str] = []
    async with secured.client("recorder") as recorder:
        await recorder.subscribe("keten/v1/#", qos=1)
        for number, topic in enumerate(("keten/v1/justid/status", "keten/v1/om/status")):
            packet = connect_packet(f"will-{number}", "om", _password(secured, "om"), topic,
                                    b"lost")
            await connect_and_vanish("127.0.0.1", secured.address.port,
                                     secured.own_tls("om"), packet)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                async for message in recorder.messages:
                    seen.append(message.topic.value)
                    if message.topic.value == "keten/v1/om/status":
                        await asyncio.sleep(GRACE)
                        break
    assert seen == ["keten/v1/om/status"]


def _password(secured: SecuredBroker, user: str) -> str:
    return "" if secured.by_certificate else secured.setup.password(user)


def _tls_handshake(port: int, ca_file: Path, maximum: ssl.TLSVersion,
                   identity: Path | None = None) -> str:
    """The negotiated version, or the error; the client allows anything up to `maximum`
    (and offers the client certificate in `identity`, a user's folder)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = maximum
    context.set_ciphers("DEFAULT:@SECLEVEL=0")  # else OpenSSL 3 will not offer TLS 1.1 at all
    context.load_verify_locations(ca_file)
    if identity is not None:
        context.load_cert_chain(identity / "client.crt", identity / "client.key")
    try:
        with (socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
              context.wrap_socket(raw, server_hostname="127.0.0.1") as tls):
            return str(tls.version())
    except (ssl.SSLError, OSError) as error:
        return f"refused: {error}"


async def _lenient_server(setup: Setup) -> asyncio.Server:
    """A TLS server that accepts TLS 1.0 and up: proof that the client really offers 1.1."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    server = setup.layout.broker if setup.engine == "mosquitto" else setup.layout.node("n1")
    context.load_cert_chain(server / "server.crt", server / "server.key")

    async def close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    return await asyncio.start_server(close, "127.0.0.1", free_port(), ssl=context)


async def test_tls_below_1_2_is_refused(secured: SecuredBroker) -> None:
    """A TLS 1.1 client is turned away; the same client allowed TLS 1.2 gets in."""
    lenient = await _lenient_server(secured.setup)
    try:
        port = lenient.sockets[0].getsockname()[1]
        control = await asyncio.to_thread(
            _tls_handshake, port, secured.setup.ca_file, ssl.TLSVersion.TLSv1_1
        )
    finally:
        lenient.close()
    if control != "TLSv1.1":
        pytest.skip(f"this OpenSSL cannot speak TLS 1.1 at all ({control})")
    identity = secured.setup.folder("om") if secured.by_certificate else None
    old = await asyncio.to_thread(
        _tls_handshake, secured.address.port, secured.setup.ca_file, ssl.TLSVersion.TLSv1_1,
        identity,
    )
    assert old.startswith("refused"), old
    current = await asyncio.to_thread(
        _tls_handshake, secured.address.port, secured.setup.ca_file, ssl.TLSVersion.TLSv1_2,
        identity,
    )
    assert current == "TLSv1.2"
