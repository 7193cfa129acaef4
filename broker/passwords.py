"""Mosquitto 2.0 password files: `user:$7$iterations$salt$hash`, PBKDF2-SHA512, made in Python.

Hashing here rather than through `mosquitto_passwd` means `broker init` runs on any machine,
not only on the broker host. The iteration count is mosquitto_passwd's own default: the
passwords are random tokens of 192 bits, so no iteration count would make guessing them
feasible, and Mosquitto pays the count again on every connect.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Final

from chain.errors import ConfigError

ITERATIONS: Final = 101
SALT_BYTES: Final = 12
HASH_BYTES: Final = 64
MAX_ITERATIONS: Final = 10_000_000


def new_password() -> str:
    """192 random bits, URL-safe, so it survives a TOML string, a URL and a shell alike."""
    return secrets.token_urlsafe(24)


def hash_password(password: str, *, iterations: int = ITERATIONS) -> str:
    salt = secrets.token_bytes(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, HASH_BYTES)
    return f"$7${iterations}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, hashed: str) -> bool:
    """True when `password` matches a `$7$` hash; False for any other or malformed hash."""
    parts = hashed.split("$")
    if len(parts) != 5 or parts[:2] != ["", "7"] or not parts[2].isdigit():
        return False
    iterations = int(parts[2])
    if not 0 < iterations <= MAX_ITERATIONS:
        return False
    try:
        salt = base64.b64decode(parts[3], validate=True)
        expected = base64.b64decode(parts[4], validate=True)
    except ValueError:
        return False
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, len(expected))
    return bool(expected) and hmac.compare_digest(digest, expected)


def parse_password_file(text: str, origin: str) -> dict[str, str]:
    """username → hash; blank lines and `#` comments skipped, as Mosquitto does."""
    users: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        username, colon, hashed = line.partition(":")
        if not colon or not username or not hashed:
            raise ConfigError(f"{origin}:{number}: expected user:hash")
        if username in users:
            raise ConfigError(f"{origin}:{number}: user {username!r} appears twice")
        users[username] = hashed
    return users


def render_password_file(users: dict[str, str]) -> str:
    return "".join(f"{name}:{hashed}\n" for name, hashed in users.items())


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
