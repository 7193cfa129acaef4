"""The chain's own certificate authority: a CA, the broker's server certificate, one client
certificate per user (its common name is the MQTT username) and a revocation list.

ECDSA P-256 throughout: small, quick to make, and understood by every TLS stack an agent
might be written with.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import secrets
from dataclasses import dataclass
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_DAYS: Final = 10 * 365
LEAF_DAYS: Final = 2 * 365
CLOCK_SKEW: Final = dt.timedelta(minutes=5)
"""Certificates start a little in the past, so a host whose clock lags still accepts them."""


@dataclass(frozen=True)
class Issued:
    """A certificate and its private key, both PEM."""

    cert_pem: bytes
    key_pem: bytes

    @property
    def cert(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.cert_pem)


def make_ca(name: str = "Ketenwacht chain CA", *, days: int = CA_DAYS) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = _name(name)
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(_pem(cert), _key_pem(key))


def make_server(ca: Issued, hostnames: list[str], *, days: int = LEAF_DAYS,
                also_client: bool = False) -> Issued:
    """The broker's certificate, valid for each host name or IP address it is reached by.
    `also_client`: a NATS node's, which also presents it to the other nodes on its routes."""
    names: list[x509.GeneralName] = []
    for host in hostnames:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    usages = [ExtendedKeyUsageOID.SERVER_AUTH]
    if also_client:
        usages.append(ExtendedKeyUsageOID.CLIENT_AUTH)
    return _leaf(ca, hostnames[0], usages, days=days, extra=x509.SubjectAlternativeName(names))


def make_client(ca: Issued, username: str, *, days: int = LEAF_DAYS,
                not_before: dt.datetime | None = None) -> Issued:
    """A client certificate whose common name Mosquitto takes as the username. Its
    organisational unit is new with every issue, so that NATS, which names a user by the
    whole distinguished name, no longer knows the old one after a rotation."""
    return _leaf(ca, username, [ExtendedKeyUsageOID.CLIENT_AUTH], days=days,
                 not_before=not_before, unit=f"issue-{secrets.token_hex(8)}")


def make_crl(ca: Issued, revoked_serials: list[int], *, days: int = CA_DAYS) -> bytes:
    """A revocation list; it lasts as long as the CA, since OpenSSL refuses an expired one and
    a forgotten renewal must not lock every agent out."""
    ca_key = _load_key(ca)
    now = _now()
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.cert.subject)
        .last_update(now - CLOCK_SKEW)
        .next_update(now + dt.timedelta(days=days))
    )
    for serial in sorted(set(revoked_serials)):
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(now - CLOCK_SKEW)
            .build()
        )
    return builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def serial_of(cert_pem: bytes) -> int:
    return x509.load_pem_x509_certificate(cert_pem).serial_number


def subject_of(cert_pem: bytes) -> str:
    """A certificate's distinguished name as NATS names the user it maps to (RFC 4514)."""
    return x509.load_pem_x509_certificate(cert_pem).subject.rfc4514_string()


def revoked_serials(crl_pem: bytes) -> list[int]:
    return [entry.serial_number for entry in x509.load_pem_x509_crl(crl_pem)]


def _leaf(
    ca: Issued,
    common_name: str,
    usages: list[x509.ObjectIdentifier],
    *,
    days: int,
    extra: x509.ExtensionType | None = None,
    not_before: dt.datetime | None = None,
    unit: str | None = None,
) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    ca_key = _load_key(ca)
    start = not_before or _now() - CLOCK_SKEW
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name, unit))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
    )
    if extra is not None:
        builder = builder.add_extension(extra, critical=False)
    return Issued(_pem(builder.sign(ca_key, hashes.SHA256())), _key_pem(key))


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=cert_sign,
        crl_sign=cert_sign, encipher_only=False, decipher_only=False,
    )


def _name(common_name: str, unit: str | None = None) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Ketenwacht"),
        *([x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit)] if unit else []),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _load_key(issued: Issued) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(issued.key_pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise TypeError("the CA key is not an EC key")
    return key


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
