"""The password file format shared with Mosquitto, and the ACL as both brokers read it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from broker.acl import Access, Grant, parse_acl
from broker.passwords import hash_password, parse_password_file, verify_password
from chain.errors import ConfigError


def test_a_hash_verifies_its_own_password_only() -> None:
    """Our $7$ hash accepts the password it was made from and nothing else."""
    hashed = hash_password("s3cret")
    assert hashed.startswith("$7$101$")
    assert verify_password("s3cret", hashed)
    assert not verify_password("s3cret ", hashed)


def test_a_hash_made_by_mosquitto_passwd_verifies(tmp_path: Path) -> None:
    """The embedded broker accepts a password file written by Mosquitto's own tool."""
    tool = shutil.which("mosquitto_passwd")
    if tool is None:
        pytest.skip("mosquitto_passwd not installed")
    path = tmp_path / "passwords"
    subprocess.run([tool, "-c", "-b", str(path), "om", "from-mosquitto"], check=True)
    hashed = parse_password_file(path.read_text(), str(path))["om"]
    assert verify_password("from-mosquitto", hashed)
    assert not verify_password("other", hashed)


@pytest.mark.parametrize("hashed", [
    "", "plain", "$6$salt$hash", "$7$x$c2FsdA==$aGFzaA==", "$7$101$!!$aGFzaA==", "$7$0$c2FsdA==$",
    "$7$99999999999$c2FsdA==$aGFzaA==",
])
def test_a_malformed_hash_never_verifies(hashed: str) -> None:
    """Unknown schemes, bad base64, absurd iteration counts: refused, never an exception."""
    assert not verify_password("", hashed)


def test_a_malformed_password_file_names_the_line() -> None:
    """A line without a hash, or a user twice: file and line in the error."""
    with pytest.raises(ConfigError, match="passwords:2: expected user:hash"):
        parse_password_file("om:$7$1$a$b\njustid\n", "passwords")
    with pytest.raises(ConfigError, match="passwords:2: user 'om' appears twice"):
        parse_password_file("om:x\nom:y\n", "passwords")


@pytest.mark.parametrize(("text", "message"), [
    ("pattern write keten/v1/%u/#\n", "acl:1: expected 'user NAME'"),
    ("topic read keten/v1/#\n", "acl:1: a topic line before any user line"),
    ("user om\ntopic readonly keten/v1/om/#\n", "acl:2: access must be read"),
    ("user om\ntopic write keten/#/om\n", "acl:2: 'keten/#/om' is not a valid topic filter"),
    ("user om/x\n", "acl:1: username 'om/x' contains '/'"),
])
def test_an_acl_line_outside_what_we_write_is_refused(text: str, message: str) -> None:
    """Lines outside the subset we write are errors, not silently ignored rules."""
    with pytest.raises(ConfigError, match=message):
        parse_acl(text, "acl")


def test_a_bare_topic_line_is_readwrite_as_in_mosquitto() -> None:
    """`topic X` alone is readwrite, as Mosquitto reads it."""
    assert parse_acl("user om\ntopic keten/v1/om/#\n", "acl")["om"] == [
        Grant(Access.READWRITE, "keten/v1/om/#")]
