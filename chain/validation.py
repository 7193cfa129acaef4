"""Turn msgspec's validation messages into the project's `file: key: problem` form."""

from __future__ import annotations

import re

import msgspec

_PATH = re.compile(r" - at `\$(?P<path>[^`]*)`$")


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
    return text[:1].lower() + text[1:] if text else text
