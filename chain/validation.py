"""Decoding with msgspec, errors turned into the project's `where: key: problem` form."""

from __future__ import annotations

import re
from typing import Protocol, TypeVar

import msgspec

from chain.errors import ConfigError, PayloadError

_PATH = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_NOT_A_NUMBER = re.compile(rb"[:\[,]\s*-?(NaN|Infinity)\b")
"""What some JSON encoders (Python's, JavaScript's) write for floats JSON cannot hold."""
T = TypeVar("T")


class Versioned(Protocol):
    @property
    def v(self) -> int: ...


V = TypeVar("V", bound=Versioned)


def describe(error: msgspec.ValidationError | msgspec.DecodeError) -> tuple[str, str]:
    """Split msgspec's "Expected `int`, got `str` - at `$.a[0].b`" into (key path, problem)."""
    text = str(error)
    match = _PATH.search(text)
    if match is None:
        return "", _lower_first(text)
    path = match.group("path").lstrip(".")
    return path, _lower_first(text[: match.start()])


def _lower_first(text: str) -> str:
    text = text.replace("`", "")
    if len(text) > 1 and text[1].isupper():
        return text  # an acronym such as "JSON" keeps its case
    return text[:1].lower() + text[1:] if text else text


def toml(text: str | bytes, kind: type[T]) -> T:
    """`msgspec.toml.decode`, whose every failure on bad text is a DecodeError: Python's
    TOML parser recurses per level of nesting (`a = [[[...]]]`, inline tables), so a deep
    file raises RecursionError; bytes that are not UTF-8 raise UnicodeDecodeError."""
    try:
        return msgspec.toml.decode(text, type=kind)
    except RecursionError:
        raise msgspec.DecodeError("nested too deeply") from None
    except UnicodeDecodeError:
        raise msgspec.DecodeError("the file is not UTF-8 text") from None


def decode_toml(text: str | bytes, kind: type[T], *, origin: str) -> T:
    """A TOML file into typed Structs; errors read `origin: key: problem`."""
    try:
        return toml(text, kind)
    except msgspec.ValidationError as error:
        path, problem = describe(error)
        raise ConfigError(f"{origin}: {path or 'top level'}: {problem}") from None
    except msgspec.DecodeError as error:
        raise ConfigError(f"{origin}: not valid TOML: {error}") from None


def decode_payload(
    decoder: msgspec.json.Decoder[V], payload: bytes, *, max_bytes: int, version: int
) -> V:
    """One JSON payload, size- and version-checked; errors read `key: problem`."""
    if len(payload) > max_bytes:
        raise PayloadError(f"payload of {len(payload)} bytes exceeds {max_bytes}")
    try:
        decoded = decoder.decode(payload)
    except (msgspec.ValidationError, msgspec.DecodeError) as error:
        path, problem = describe(error)
        if not path and _NOT_A_NUMBER.search(payload):
            problem += "; NaN and Infinity are not JSON numbers"
        raise PayloadError(f"{path}: {problem}" if path else problem) from None
    except UnicodeDecodeError:
        # msgspec raises this, not DecodeError, for bad UTF-8 inside a tag or a string it
        # checks against a pattern (`"kind":"heartbe\xe1t"`): found by bench/fuzz_decoder.py.
        raise PayloadError("JSON is malformed: a string is not valid UTF-8") from None
    except RecursionError:
        # msgspec recurses per level even to skip an unknown field: a couple of thousand
        # brackets, far under the size limit, would otherwise escape as a RecursionError.
        raise PayloadError("JSON nested too deeply") from None
    if decoded.v > version:
        raise PayloadError(f"v: schema version {decoded.v} is newer than {version}")
    return decoded
