"""The one error root of Ketenwacht; every error a user may see derives from it."""

from __future__ import annotations

# sysexits(3) codes, so scripts and systemd can tell failures apart.
EX_USAGE = 64
EX_DATAERR = 65
EX_NOINPUT = 66
EX_UNAVAILABLE = 69
EX_SOFTWARE = 70
EX_CONFIG = 78


class KetenwachtError(Exception):
    """Something a user can act on. `str()` is the one-line message shown to them."""

    exit_code = EX_SOFTWARE


class ConfigError(KetenwachtError):
    """A configuration or seed file is malformed; the message names file, key and problem."""

    exit_code = EX_CONFIG


class UsageError(KetenwachtError):
    """A command-line argument is wrong."""

    exit_code = EX_USAGE


class NoInputError(KetenwachtError):
    """A file given to read (a recording, say) does not exist or cannot be opened."""

    exit_code = EX_NOINPUT


class PayloadError(KetenwachtError):
    """A wire payload or topic could not be accepted."""

    exit_code = EX_DATAERR


class BrokerUnavailableError(KetenwachtError):
    """The MQTT broker could not be reached or refused us."""

    exit_code = EX_UNAVAILABLE
