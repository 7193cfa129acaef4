"""The agent's config file: typed, strict, and every mistake told in one line with file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.config import SmtpProbe, load_config
from agents.daemon import broker_address, state_dir_of, tls_context
from chain.errors import ConfigError

BASE = 'org = "om"\n[broker]\nurl = "mqtt://broker.test:1883"\n'


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "om.toml"
    path.write_text(text)
    return path


def test_a_complete_config_decodes_with_defaults(tmp_path: Path) -> None:
    """Defaults: 5 s interval, username = org, 60 s for channel probes, interval for values."""
    config = load_config(write(tmp_path, BASE + (
        '[[probe]]\ntype = "smtp"\nhost = "mail.om.test"\n'
        '[[probe]]\ntype = "manual"\nbacklog = "paper_intake"\n'
    )))
    assert config.settings.interval == 5.0
    smtp, manual = config.settings.probes
    assert isinstance(smtp, SmtpProbe)
    assert (smtp.port, smtp.channel) == (25, "email")
    assert (config.every(smtp), config.every(manual)) == (60.0, 5.0)
    address = broker_address(config)
    assert (address.host, address.username, address.password) == ("broker.test", "om", None)


def test_password_from_a_file_relative_to_the_config(tmp_path: Path) -> None:
    """password_file is read (and stripped), relative to the config file's folder."""
    (tmp_path / "secret").write_text("s3cret\n")
    config = load_config(write(tmp_path, BASE + 'password_file = "secret"\n'))
    assert broker_address(config).password == "s3cret"


def test_password_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """password_env names an environment variable holding the secret."""
    monkeypatch.setenv("OM_MQTT_PASSWORD", "from-env")
    config = load_config(write(tmp_path, BASE + 'password_env = "OM_MQTT_PASSWORD"\n'))
    assert broker_address(config).password == "from-env"


def test_state_dir_relative_to_the_config(tmp_path: Path) -> None:
    """A relative state_dir is resolved against the config file's folder."""
    config = load_config(write(tmp_path, 'state_dir = "state"\n' + BASE))
    assert state_dir_of(config) == tmp_path / "state"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("org = 'om'\n", "top level: object missing required field broker"),
        (BASE.replace('"om"', "3"), "org: expected str, got int"),
        (BASE.replace('"om"', '"O.M"'), "org: expected str matching regex"),
        (BASE + "colour = 'blue'\n", "broker: object contains unknown field colour"),
        ("interval = 0\n" + BASE, "interval: expected float > 0"),
        (BASE + "[[probe]]\ntype = 'fax'\n", "probe[0].type: invalid value 'fax'"),
        (BASE + "[[probe]]\ntype = 'smtp'\n", "probe[0]: object missing required field host"),
        (BASE + "[[probe]]\ntype = 'smtp'\nhost = 'm'\nport = 70000\n",
         "probe[0].port: expected int <= 65535"),
        (BASE + "[[probe]]\ntype = 'file'\npath = 'x'\n",
         "probe[0]: give either flow (with direction) or backlog"),
        (BASE + "[[probe]]\ntype = 'file'\npath = 'x'\nflow = 'om-justid'\n",
         "probe[0].direction: required with flow"),
        (BASE + "[[probe]]\ntype = 'file'\npath = 'x'\nflow = 'om-justid'\ndirection = 'up'\n",
         "probe[0].direction: invalid enum value 'up'"),
        (BASE + "password = 'a'\npassword_env = 'B'\n",
         "broker: give one of password, password_env, not several"),
        (BASE + "password_env = 'KETENWACHT_TEST_UNSET'\n",
         "broker.password_env: environment variable KETENWACHT_TEST_UNSET is not set"),
        (BASE + "password_file = 'missing'\n", "broker.password_file: cannot read"),
        (BASE + "cert_file = 'c.pem'\n", "broker: cert_file and key_file go together"),
        ("[broker\n", "not valid TOML: "),
    ],
)
def test_each_mistake_gives_one_line_naming_file_and_key(
    tmp_path: Path, text: str, message: str
) -> None:
    """Each kind of mistake: a ConfigError of one line that starts with the file's path."""
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    shown = str(caught.value)
    assert shown.startswith(f"{path}: ")
    assert message in shown
    assert "\n" not in shown


def test_tls_files_with_a_plain_url_are_refused(tmp_path: Path) -> None:
    """A CA file with mqtt:// is a contradiction, named at broker.url."""
    config = load_config(write(tmp_path, BASE + "ca_file = 'ca.pem'\n"))
    with pytest.raises(ConfigError, match=r"broker.url: TLS files are configured, so use mqtts://"):
        tls_context(config, broker_address(config))


def test_unreadable_ca_file_is_named(tmp_path: Path) -> None:
    """A CA file that does not exist is reported at broker.ca_file."""
    text = BASE.replace("mqtt://broker.test:1883", "mqtts://broker.test") + "ca_file = 'ca.pem'\n"
    config = load_config(write(tmp_path, text))
    with pytest.raises(ConfigError, match=r"broker.ca_file: cannot load .*ca.pem"):
        tls_context(config, broker_address(config))


def test_bad_broker_url_is_named(tmp_path: Path) -> None:
    """A URL with the wrong scheme is reported at broker.url."""
    config = load_config(write(tmp_path, BASE.replace("mqtt://", "http://")))
    with pytest.raises(ConfigError, match=r"om.toml: broker.url: broker URL .*scheme"):
        broker_address(config)
