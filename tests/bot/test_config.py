"""Configuration mistakes a person can make, each named with its key in the reader's language
(issue 21, item 7)."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import explain, load_settings
from bot.core import ConfigError
from bot.i18n import Translators

FR = Translators(ZoneInfo("Europe/Paris")).get("fr")


def _problems(path: Path, text: str | bytes, **kwargs: str) -> list[tuple[str, str]]:
    if isinstance(text, str):
        text = text.encode("utf-8")
    path.write_bytes(text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={}, **kwargs)
    return [(key, explain(FR, problem)) for key, problem in caught.value.problems]


def test_a_byte_order_mark_is_not_part_of_the_toml(tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes('\ufeff[network]\nname = "Réseau du Val"\n'.encode())
    assert load_settings(path, environ={}).network.name == "Réseau du Val"


def test_nan_and_inf_are_explained_in_french(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path / "c.toml",
        "[outbox]\nretry_base_seconds = nan\nretry_cap_seconds = inf\n"
        "[feeds]\nrefresh_minutes = inf\n",
    )
    expected = "un nombre ordinaire est attendu, ni nan ni inf, par exemple 2.5"
    assert problems == [
        ("outbox.retry_base_seconds", expected),
        ("outbox.retry_cap_seconds", expected),
        ("feeds.refresh_minutes", expected),
    ]


def test_text_settings_are_bounded(tmp_path: Path) -> None:
    huge = "R" * (2 * 1024 * 1024)
    problems = _problems(
        tmp_path / "c.toml",
        f'[network]\nname = "{huge}"\ntimezone = "{"x" * 300}"\n'
        f'[console]\nuser = "{"u" * 129}"\nchannel = ""\n'
        f'[roles.console]\ncoordinators = ["{"c" * 129}"]\n',
    )
    assert problems == [
        ("network.name", "doit compter au plus 200 caractères"),
        ("network.timezone", "doit compter au plus 64 caractères"),
        ("console.user", "doit compter au plus 128 caractères"),
        ("console.channel", "doit compter au moins 1 caractères"),
        ("roles.console.coordinators.0", "doit compter au plus 128 caractères"),
    ]


def test_a_region_is_not_a_time_zone_and_not_a_crash(tmp_path: Path) -> None:
    # ZoneInfo("America") raises IsADirectoryError, an OSError the validator did not expect.
    problems = _problems(tmp_path / "c.toml", '[network]\ntimezone = "America"\n')
    assert problems == [
        (
            "network.timezone",
            "fuseau horaire inconnu « America » : utilisez un nom IANA comme Europe/Paris",
        )
    ]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "mysql://tisserand@db.example/tisserand",
            "base de données non prise en charge « mysql » : Tisserand fonctionne avec SQLite",
        ),
        (
            "postgresql+asyncpg://u@h/d",
            "base de données non prise en charge « postgresql+asyncpg »",
        ),
        ("tisserand.sqlite3", "ce n’est pas une URL de base de données : écrivez sqlite:///"),
        ("sqlite://host:port:x/", "ce n’est pas une URL de base de données"),
    ],
)
def test_unsupported_database_urls_are_configuration_problems(
    tmp_path: Path, url: str, expected: str
) -> None:
    problems = _problems(tmp_path / "c.toml", "", database_url=url)
    assert len(problems) == 1
    assert problems[0][0] == "database_url"
    assert problems[0][1].startswith(expected)


def test_supported_database_urls_are_accepted(tmp_path: Path) -> None:
    for url in (
        "sqlite:///x.sqlite3",
        "sqlite+pysqlite:///x.sqlite3",
        "postgres://u@h/d",
        "postgresql://u:p@h:5432/d",
        "postgresql+psycopg://u@h/d",
    ):
        assert load_settings(None, database_url=url, environ={}).database_url == url
