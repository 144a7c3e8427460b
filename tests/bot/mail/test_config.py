"""The ``[email]`` section."""

from __future__ import annotations

import pytest

from bot.config import load_settings
from bot.core import ConfigError


def _load(section: dict[str, object]) -> object:
    return load_settings(None, environ={}, overrides={"email": section})


def test_absent_section_means_no_email() -> None:
    assert load_settings(None, environ={}).email is None


def test_the_section_is_read_with_defaults() -> None:
    settings = load_settings(
        None,
        environ={},
        overrides={"email": {"host": "smtp.example.org", "sender": "Veille@Example.ORG"}},
    )
    assert settings.email is not None
    assert (settings.email.port, settings.email.security) == (587, "starttls")
    assert settings.email.sender == "Veille@example.org"  # the domain normalised


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ({"host": "smtp.example.org", "sender": "pas une adresse"}, "email.sender"),
        ({"host": "smtp.example.org", "sender": "a@b.org", "security": "ssl"}, "email.security"),
        ({"host": "smtp.example.org", "sender": "a@b.org", "port": 0}, "email.port"),
        ({"sender": "a@b.org"}, "email.host"),
        (
            {"host": "smtp.example.org", "sender": "a@b.org", "unsubscribe_url": "http://x.org"},
            "email.unsubscribe_url",
        ),
    ],
)
def test_bad_values_name_their_key(section: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(section)
    assert key in [where for where, _ in caught.value.problems]


def test_the_password_does_not_belong_in_the_file(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "t.toml"
    path.write_text(
        '[email]\nhost = "smtp.example.org"\nsender = "a@b.org"\npassword = "secret"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    ((where, problem),) = caught.value.problems
    assert where == "email.password"
    assert "TISSERAND_SMTP_PASSWORD" in problem
