"""Tests for bot.dates: table tests over every accepted form, DST, errors, and properties."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.dates import (
    DATE_EXAMPLES_EN,
    DATE_EXAMPLES_FR,
    DEADLINE_DEFAULT_TIME,
    DURATION_EXAMPLES_EN,
    DURATION_EXAMPLES_FR,
    DateParseError,
    parse_clock_shift,
    parse_datetime,
    parse_deadline,
    parse_duration,
)

PARIS = ZoneInfo("Europe/Paris")
# Sunday 22 November 2026, 10:00 in Paris (09:00 UTC)
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=PARIS)

# derandomized: the same examples on every run, so the suite cannot flake
PROPERTY_SETTINGS = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def local(text: str, *, now: datetime = NOW, default_time: time | None = None) -> datetime:
    """Parse and show the result as a naive Paris wall time (easier to read in tables)."""
    result = parse_datetime(text, now=now, tz=PARIS, default_time=default_time)
    assert result.tzinfo is UTC
    return result.astimezone(PARIS).replace(tzinfo=None)


def wall(year: int, month: int, day: int, hour: int = 0, minute: int = 0, sec: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, sec)


# --------------------------------------------------------------------------- table tests

ACCEPTED: list[tuple[str, datetime]] = [
    # ISO
    ("2026-12-03 14:00", wall(2026, 12, 3, 14, 0)),
    ("2026-12-03T14:00", wall(2026, 12, 3, 14, 0)),
    ("2026-12-03t14:00:30", wall(2026, 12, 3, 14, 0, 30)),
    ("2026-12-03", wall(2026, 12, 3, 9, 0)),
    ("2026/12/03 14h", wall(2026, 12, 3, 14, 0)),
    ("2025-01-15 08:00", wall(2025, 1, 15, 8, 0)),  # the past is not refused
    # French numeric, day first
    ("3/12", wall(2026, 12, 3, 9, 0)),
    ("3/12 14h30", wall(2026, 12, 3, 14, 30)),
    ("03/12/2026 14:00", wall(2026, 12, 3, 14, 0)),
    ("3/12/26", wall(2026, 12, 3, 9, 0)),
    ("3.12 14h", wall(2026, 12, 3, 14, 0)),
    ("3.12.2026", wall(2026, 12, 3, 9, 0)),
    ("3-12-2026", wall(2026, 12, 3, 9, 0)),
    ("3-12", wall(2026, 12, 3, 9, 0)),
    ("31.12", wall(2026, 12, 31, 9, 0)),
    ("3/01", wall(2027, 1, 3, 9, 0)),  # January is past: next year
    ("22/11", wall(2026, 11, 22, 9, 0)),  # today's date stays this year, even if 09:00 passed
    ("21/11", wall(2027, 11, 21, 9, 0)),
    ("29/02", wall(2028, 2, 29, 9, 0)),  # next leap day
    ("  3/12   14h30  ", wall(2026, 12, 3, 14, 30)),
    # French words
    ("jeudi 3 décembre 14h", wall(2026, 12, 3, 14, 0)),
    ("JEUDI 3 DÉCEMBRE 14H", wall(2026, 12, 3, 14, 0)),
    ("3 décembre 2026 à 14h30", wall(2026, 12, 3, 14, 30)),
    ("le 3 déc. à 9h", wall(2026, 12, 3, 9, 0)),
    ("1er mars 10h", wall(2027, 3, 1, 10, 0)),
    ("1ᵉʳ mars 10h", wall(2027, 3, 1, 10, 0)),
    ("3 decembre", wall(2026, 12, 3, 9, 0)),
    ("3 janv", wall(2027, 1, 3, 9, 0)),
    ("3 janvier 2027", wall(2027, 1, 3, 9, 0)),
    ("12 févr. 10h", wall(2027, 2, 12, 10, 0)),
    ("2 fevrier", wall(2027, 2, 2, 9, 0)),
    ("5 mars", wall(2027, 3, 5, 9, 0)),
    ("5 avr", wall(2027, 4, 5, 9, 0)),
    ("8 mai", wall(2027, 5, 8, 9, 0)),
    ("21 juin", wall(2027, 6, 21, 9, 0)),
    ("14 juil.", wall(2027, 7, 14, 9, 0)),
    ("15 août", wall(2027, 8, 15, 9, 0)),
    ("15 aout", wall(2027, 8, 15, 9, 0)),
    ("1 sept", wall(2027, 9, 1, 9, 0)),
    ("1 oct", wall(2027, 10, 1, 9, 0)),
    ("30 nov", wall(2026, 11, 30, 9, 0)),
    ("samedi 28 novembre", wall(2026, 11, 28, 9, 0)),
    # relative
    ("aujourd'hui 18h", wall(2026, 11, 22, 18, 0)),
    ("aujourd’hui 18h", wall(2026, 11, 22, 18, 0)),
    ("demain 9h", wall(2026, 11, 23, 9, 0)),
    ("demain", wall(2026, 11, 23, 9, 0)),
    ("après-demain 14h", wall(2026, 11, 24, 14, 0)),
    ("apres demain", wall(2026, 11, 24, 9, 0)),
    ("hier 9h", wall(2026, 11, 21, 9, 0)),
    ("ce soir", wall(2026, 11, 22, 20, 0)),
    ("ce matin", wall(2026, 11, 22, 9, 0)),
    ("cet après-midi", wall(2026, 11, 22, 14, 0)),
    ("demain soir", wall(2026, 11, 23, 20, 0)),
    ("demain matin", wall(2026, 11, 23, 9, 0)),
    ("ce soir 9h", wall(2026, 11, 22, 21, 0)),
    ("demain 9h du soir", wall(2026, 11, 23, 21, 0)),
    ("demain à 3h de l'après-midi", wall(2026, 11, 23, 15, 0)),
    ("demain midi", wall(2026, 11, 23, 12, 0)),
    ("vendredi 18h", wall(2026, 11, 27, 18, 0)),
    ("vendredi", wall(2026, 11, 27, 9, 0)),
    ("vendredi prochain", wall(2026, 11, 27, 9, 0)),
    ("ven. 18h", wall(2026, 11, 27, 18, 0)),
    ("lundi 9h", wall(2026, 11, 23, 9, 0)),
    ("dimanche 18h", wall(2026, 11, 22, 18, 0)),  # today, still ahead
    ("dimanche 9h", wall(2026, 11, 29, 9, 0)),  # today has passed 09:00
    ("dimanche prochain 18h", wall(2026, 11, 29, 18, 0)),  # never today
    ("dans 2 jours", wall(2026, 11, 24, 10, 0)),
    ("dans 3h", wall(2026, 11, 22, 13, 0)),
    ("dans 1 semaine", wall(2026, 11, 29, 10, 0)),
    ("dans une semaine", wall(2026, 11, 29, 10, 0)),
    ("dans 1h30", wall(2026, 11, 22, 11, 30)),
    ("d'ici 2 jours", wall(2026, 11, 24, 10, 0)),
    ("dans 2 jours à 14h", wall(2026, 11, 24, 14, 0)),
    ("maintenant", wall(2026, 11, 22, 10, 0)),
    # English
    ("tomorrow 9am", wall(2026, 11, 23, 9, 0)),
    ("friday 6pm", wall(2026, 11, 27, 18, 0)),
    ("on friday at 6 pm", wall(2026, 11, 27, 18, 0)),
    ("next friday", wall(2026, 11, 27, 9, 0)),
    ("december 3 2pm", wall(2026, 12, 3, 14, 0)),
    ("December 3rd, 2026 at 2:30pm", wall(2026, 12, 3, 14, 30)),
    ("dec. 3", wall(2026, 12, 3, 9, 0)),
    ("the 3rd of december", wall(2026, 12, 3, 9, 0)),
    ("3 dec 14:00", wall(2026, 12, 3, 14, 0)),
    ("in 2 days", wall(2026, 11, 24, 10, 0)),
    ("in a week", wall(2026, 11, 29, 10, 0)),
    ("in 3 hours", wall(2026, 11, 22, 13, 0)),
    ("today 6pm", wall(2026, 11, 22, 18, 0)),
    ("tonight", wall(2026, 11, 22, 20, 0)),
    ("tomorrow evening", wall(2026, 11, 23, 20, 0)),
    ("tomorrow noon", wall(2026, 11, 23, 12, 0)),
    ("now", wall(2026, 11, 22, 10, 0)),
    # times alone: the next occurrence
    ("14h", wall(2026, 11, 22, 14, 0)),
    ("14h30", wall(2026, 11, 22, 14, 30)),
    ("14:30", wall(2026, 11, 22, 14, 30)),
    ("14 h 30", wall(2026, 11, 22, 14, 30)),
    ("14h 30", wall(2026, 11, 22, 14, 30)),
    ("14 heures", wall(2026, 11, 22, 14, 0)),
    ("9h05", wall(2026, 11, 23, 9, 5)),  # 09:05 has passed today
    ("10h", wall(2026, 11, 22, 10, 0)),  # exactly now is not the past
    ("midi", wall(2026, 11, 22, 12, 0)),
    ("minuit", wall(2026, 11, 23, 0, 0)),
    ("2pm", wall(2026, 11, 22, 14, 0)),
    ("9am", wall(2026, 11, 23, 9, 0)),
    ("12am", wall(2026, 11, 23, 0, 0)),
    ("12pm", wall(2026, 11, 22, 12, 0)),
    ("9:30 p.m.", wall(2026, 11, 22, 21, 30)),
    ("14.30", wall(2026, 11, 22, 14, 30)),
    ("demain 9.30", wall(2026, 11, 23, 9, 30)),
]


@pytest.mark.parametrize(("text", "expected"), ACCEPTED)
def test_accepted_forms(text: str, expected: datetime) -> None:
    assert local(text) == expected


def test_default_time_is_used_for_dates_without_time() -> None:
    assert local("3/12", default_time=time(18, 30)) == wall(2026, 12, 3, 18, 30)
    assert local("2026-12-03", default_time=time(7, 0)) == wall(2026, 12, 3, 7, 0)
    assert local("3/12 14h", default_time=time(18, 30)) == wall(2026, 12, 3, 14, 0)
    # an aware default_time: its tzinfo is ignored, the text is read in tz
    assert local("3/12", default_time=time(8, 0, tzinfo=UTC)) == wall(2026, 12, 3, 8, 0)


def test_now_in_any_zone() -> None:
    now_tokyo = NOW.astimezone(ZoneInfo("Asia/Tokyo"))
    assert local("demain 9h", now=now_tokyo) == wall(2026, 11, 23, 9, 0)
    assert local("dans 3h", now=NOW.astimezone(UTC)) == wall(2026, 11, 22, 13, 0)


def test_explicit_offset_is_honoured() -> None:
    assert parse_datetime("2026-12-03T14:00:00+01:00", now=NOW, tz=PARIS) == datetime(
        2026, 12, 3, 13, 0, tzinfo=UTC
    )
    assert parse_datetime("2026-12-03T14:00-05:00", now=NOW, tz=PARIS) == datetime(
        2026, 12, 3, 19, 0, tzinfo=UTC
    )
    assert parse_datetime("2026-12-03T14:00Z", now=NOW, tz=PARIS) == datetime(
        2026, 12, 3, 14, 0, tzinfo=UTC
    )
    assert parse_datetime("2026-12-03 14:00 +0530", now=NOW, tz=PARIS) == datetime(
        2026, 12, 3, 8, 30, tzinfo=UTC
    )


def test_weekday_on_that_weekday() -> None:
    friday_before = datetime(2026, 11, 27, 17, 0, tzinfo=PARIS)
    friday_after = datetime(2026, 11, 27, 19, 0, tzinfo=PARIS)
    assert local("vendredi 18h", now=friday_before) == wall(2026, 11, 27, 18, 0)
    assert local("vendredi 18h", now=friday_after) == wall(2026, 12, 4, 18, 0)
    assert local("vendredi prochain 18h", now=friday_before) == wall(2026, 12, 4, 18, 0)


def test_year_inference_in_december() -> None:
    december = datetime(2026, 12, 20, 23, 0, tzinfo=PARIS)
    assert local("3/01", now=december) == wall(2027, 1, 3, 9, 0)
    assert local("20/12", now=december) == wall(2026, 12, 20, 9, 0)
    assert local("19/12", now=december) == wall(2027, 12, 19, 9, 0)
    assert local("31 décembre", now=december) == wall(2026, 12, 31, 9, 0)


@pytest.mark.parametrize("text", DATE_EXAMPLES_FR + DATE_EXAMPLES_EN)
def test_examples_parse(text: str) -> None:
    assert parse_datetime(text, now=NOW, tz=PARIS).tzinfo is UTC


@pytest.mark.parametrize("text", DURATION_EXAMPLES_FR + DURATION_EXAMPLES_EN)
def test_duration_examples_parse(text: str) -> None:
    assert parse_duration(text) > timedelta(0)


# --------------------------------------------------------------------------- DST

SPRING_GAP = [
    # 2027-03-28: Paris jumps from 02:00 CET to 03:00 CEST; 02:30 does not exist
    ("2027-03-28 02:30", datetime(2027, 3, 28, 1, 30, tzinfo=UTC)),
    ("28/03/2027 2h30", datetime(2027, 3, 28, 1, 30, tzinfo=UTC)),
    ("2027-03-28 03:30", datetime(2027, 3, 28, 1, 30, tzinfo=UTC)),
    ("2027-03-28 01:59", datetime(2027, 3, 28, 0, 59, tzinfo=UTC)),
]


@pytest.mark.parametrize(("text", "expected"), SPRING_GAP)
def test_spring_gap_is_shifted_forward(text: str, expected: datetime) -> None:
    result = parse_datetime(text, now=NOW, tz=PARIS)
    assert result == expected
    assert result.astimezone(PARIS).hour == 3 or text.endswith("01:59")


def test_autumn_fold_takes_first_occurrence() -> None:
    # 2026-10-25: Paris goes back from 03:00 CEST to 02:00 CET; 02:30 happens twice
    result = parse_datetime("2026-10-25 02:30", now=NOW, tz=PARIS)
    assert result == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert result.astimezone(PARIS).utcoffset() == timedelta(hours=2)


def test_days_keep_wall_clock_across_dst_but_hours_are_elapsed() -> None:
    before = datetime(2026, 10, 24, 10, 0, tzinfo=PARIS)
    one_day = parse_datetime("dans 1 jour", now=before, tz=PARIS)
    assert one_day.astimezone(PARIS).replace(tzinfo=None) == wall(2026, 10, 25, 10, 0)
    assert one_day - before == timedelta(hours=25)
    hours = parse_datetime("dans 24h", now=before, tz=PARIS)
    assert hours - before == timedelta(hours=24)
    assert parse_deadline("1j", now=before, tz=PARIS) == one_day
    assert parse_deadline("24h", now=before, tz=PARIS) == hours


def test_weekday_across_spring_gap() -> None:
    saturday = datetime(2027, 3, 27, 12, 0, tzinfo=PARIS)
    assert local("dimanche 2h30", now=saturday) == wall(2027, 3, 28, 3, 30)


# --------------------------------------------------------------------------- errors

REFUSED: list[tuple[str, str]] = [
    ("", "empty"),
    ("   ", "empty"),
    ("\t\n", "empty"),
    ("n'importe quoi", "unreadable"),
    ("25h", "unreadable"),
    ("24:00", "unreadable"),
    ("14h60", "unreadable"),
    ("14:75", "unreadable"),
    ("13pm", "unreadable"),
    ("0am", "unreadable"),
    ("prochain", "unreadable"),
    ("le", "unreadable"),
    ("mars 10h", "unreadable"),
    ("demain blabla", "unreadable"),
    ("dans", "unreadable"),
    ("dans deux jours", "unreadable"),
    ("25.70", "unreadable"),
    ("2026-12-03T14:00+25:00", "unreadable"),
    ("31/02", "invalid_date"),
    ("31/02/2027", "invalid_date"),
    ("30 février", "invalid_date"),
    ("3/13", "invalid_date"),
    ("0/12", "invalid_date"),
    ("2026-02-29", "invalid_date"),
    ("2026-13-01", "invalid_date"),
    ("mercredi 3 décembre 2026", "invalid_date"),
    ("mercredi 3/12", "invalid_date"),
    ("demain vendredi", "invalid_date"),
    ("9999-12-31 23:59-05:00", "invalid_date"),
    ("0001-01-01 00:00", "invalid_date"),
    ("3.12", "ambiguous"),
    ("14h 15h", "ambiguous"),
    ("demain 3/12", "ambiguous"),
    ("lundi mardi", "ambiguous"),
    ("dans 3h à 14h", "ambiguous"),
    ("dans 2 jours vendredi", "ambiguous"),
    ("demain matin 15h", "ambiguous"),
    ("maintenant 14h", "ambiguous"),
    ("soir matin", "ambiguous"),
    ("demain 3.12 14h", "ambiguous"),
]


@pytest.mark.parametrize(("text", "code"), REFUSED)
def test_refused_forms(text: str, code: str) -> None:
    with pytest.raises(DateParseError) as info:
        parse_datetime(text, now=NOW, tz=PARIS)
    assert info.value.code == code
    assert info.value.text == text
    assert isinstance(info.value, ValueError)


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="aware") as info:
        parse_datetime("demain", now=datetime(2026, 11, 22, 10, 0), tz=PARIS)
    assert not isinstance(info.value, DateParseError)


# --------------------------------------------------------------------------- durations

DURATIONS: list[tuple[str, timedelta]] = [
    ("2j", timedelta(days=2)),
    ("2 jours", timedelta(days=2)),
    ("1 jour", timedelta(days=1)),
    ("3h", timedelta(hours=3)),
    ("1h30", timedelta(hours=1, minutes=30)),
    ("1h 30", timedelta(hours=1, minutes=30)),
    ("1h05", timedelta(hours=1, minutes=5)),
    ("90min", timedelta(minutes=90)),
    ("90 min", timedelta(minutes=90)),
    ("90 minutes", timedelta(minutes=90)),
    ("2d3h", timedelta(days=2, hours=3)),
    ("2j 3h 15min", timedelta(days=2, hours=3, minutes=15)),
    ("2 jours et 3 heures", timedelta(days=2, hours=3)),
    ("2 days, 3 hours", timedelta(days=2, hours=3)),
    ("1 semaine", timedelta(weeks=1)),
    ("2sem", timedelta(weeks=2)),
    ("2 semaines", timedelta(weeks=2)),
    ("2w", timedelta(weeks=2)),
    ("1 week", timedelta(weeks=1)),
    ("30m", timedelta(minutes=30)),
    ("45s", timedelta(seconds=45)),
    ("45 secondes", timedelta(seconds=45)),
    ("1,5 jour", timedelta(days=1, hours=12)),
    ("1.5h", timedelta(hours=1, minutes=30)),
    ("une semaine", timedelta(weeks=1)),
    ("an hour", timedelta(hours=1)),
    ("0h", timedelta(0)),
    ("  2J  3H ", timedelta(days=2, hours=3)),
    ("48h", timedelta(hours=48)),
]


@pytest.mark.parametrize(("text", "expected"), DURATIONS)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "empty"),
        (" ", "empty"),
        ("2", "unreadable"),
        ("2 mois", "unreadable"),
        ("2h 3h", "unreadable"),
        ("-2h", "unreadable"),
        ("am", "unreadable"),
        ("h", "unreadable"),
        ("2j demain", "unreadable"),
        ("99999999999j", "unreadable"),
        ("999999999w", "unreadable"),
    ],
)
def test_parse_duration_refuses(text: str, code: str) -> None:
    with pytest.raises(DateParseError) as info:
        parse_duration(text)
    assert info.value.code == code
    assert info.value.text == text


# --------------------------------------------------------------------------- deadlines


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2j", wall(2026, 11, 24, 10, 0)),
        ("48h", wall(2026, 11, 24, 10, 0)),
        ("1h30", wall(2026, 11, 22, 11, 30)),
        ("18h", wall(2026, 11, 23, 4, 0)),  # a bare duration wins
        ("18:00", wall(2026, 11, 22, 18, 0)),
        ("aujourd'hui 18h", wall(2026, 11, 22, 18, 0)),
        ("vendredi 18h", wall(2026, 11, 27, 18, 0)),
        ("vendredi", wall(2026, 11, 27, 23, 59)),  # end of that day
        ("3/12", wall(2026, 12, 3, 23, 59)),
        ("dans 2 jours", wall(2026, 11, 24, 10, 0)),
        ("in 1 week", wall(2026, 11, 29, 10, 0)),
    ],
)
def test_parse_deadline(text: str, expected: datetime) -> None:
    result = parse_deadline(text, now=NOW, tz=PARIS)
    assert result.tzinfo is UTC
    assert result.astimezone(PARIS).replace(tzinfo=None) == expected


def test_parse_deadline_default_time_is_overridable() -> None:
    assert parse_deadline("3/12", now=NOW, tz=PARIS) == parse_deadline(
        "3/12", now=NOW, tz=PARIS, default_time=DEADLINE_DEFAULT_TIME
    )
    result = parse_deadline("3/12", now=NOW, tz=PARIS, default_time=None)
    assert result.astimezone(PARIS).replace(tzinfo=None) == wall(2026, 12, 3, 9, 0)


@pytest.mark.parametrize(
    ("text", "code"),
    [("", "empty"), ("bientôt", "unreadable"), ("31/02", "invalid_date"), ("3.12", "ambiguous")],
)
def test_parse_deadline_refuses(text: str, code: str) -> None:
    with pytest.raises(DateParseError) as info:
        parse_deadline(text, now=NOW, tz=PARIS)
    assert info.value.code == code


# --------------------------------------------------------------------------- console clock


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+2d3h", NOW + timedelta(days=2, hours=3)),
        ("+ 2j", NOW + timedelta(days=2)),
        ("+90min", NOW + timedelta(minutes=90)),
        ("2026-12-03T09:00", datetime(2026, 12, 3, 8, 0, tzinfo=UTC)),
        ("2026-12-03 09:00", datetime(2026, 12, 3, 8, 0, tzinfo=UTC)),
        ("2026-12-03T09:00:30.5", datetime(2026, 12, 3, 8, 0, 30, 500000, tzinfo=UTC)),
        ("2026-12-03T09:00+00:00", datetime(2026, 12, 3, 9, 0, tzinfo=UTC)),
        ("2026-12-03T09:00Z", datetime(2026, 12, 3, 9, 0, tzinfo=UTC)),
        ("2026-12-03", datetime(2026, 12, 2, 23, 0, tzinfo=UTC)),  # local midnight
        ("2020-01-01T00:00", datetime(2019, 12, 31, 23, 0, tzinfo=UTC)),  # past not refused
    ],
)
def test_parse_clock_shift(text: str, expected: datetime) -> None:
    result = parse_clock_shift(text, now=NOW, tz=PARIS)
    assert result == expected
    assert result.tzinfo is UTC


def test_clock_shift_across_dst_is_elapsed_time() -> None:
    before = datetime(2026, 10, 24, 10, 0, tzinfo=PARIS)
    assert parse_clock_shift("+1d", now=before, tz=PARIS) - before == timedelta(hours=24)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "empty"),
        ("+", "unreadable"),
        ("2d", "unreadable"),
        ("-2d", "unreadable"),
        ("+2 mois", "unreadable"),
        ("demain 9h", "unreadable"),
        ("2026-02-31T09:00", "invalid_date"),
        ("2026-12-03T25:00", "unreadable"),
        ("+999999999w", "unreadable"),
    ],
)
def test_parse_clock_shift_refuses(text: str, code: str) -> None:
    with pytest.raises(DateParseError) as info:
        parse_clock_shift(text, now=NOW, tz=PARIS)
    assert info.value.code == code
    assert info.value.text == text


# --------------------------------------------------------------------------- properties

ZONES = st.sampled_from(
    [
        PARIS,
        ZoneInfo("UTC"),
        ZoneInfo("America/New_York"),
        ZoneInfo("America/Sao_Paulo"),
        ZoneInfo("Asia/Kolkata"),
        ZoneInfo("Australia/Lord_Howe"),  # 30-minute DST
        ZoneInfo("Pacific/Kiritimati"),  # +14:00
    ]
)
MINUTE_MOMENTS = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 12, 31, 23, 59), timezones=st.just(UTC)
).map(lambda d: d.replace(second=0, microsecond=0))


@PROPERTY_SETTINGS
@given(moment=MINUTE_MOMENTS, tz=ZONES)
def test_property_iso_wall_time_round_trips(moment: datetime, tz: ZoneInfo) -> None:
    shown = moment.astimezone(tz)
    text = shown.strftime("%Y-%m-%d %H:%M")
    result = parse_datetime(text, now=NOW, tz=tz)
    assert result.tzinfo is UTC
    assert result.astimezone(tz).strftime("%Y-%m-%d %H:%M") == text
    if shown.fold == 0:
        assert result == moment
    else:  # the second occurrence of a repeated wall time: the first one is chosen
        assert result == shown.replace(fold=0).astimezone(UTC)
        assert result < moment


def _exists(wall_time: datetime, tz: ZoneInfo) -> bool:
    aware = wall_time.replace(tzinfo=tz)
    return aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall_time


@st.composite
def day_months(draw: st.DrawFn) -> tuple[int, int]:
    month = draw(st.integers(1, 12))
    day = draw(st.integers(1, 29 if month == 2 else calendar.monthrange(2027, month)[1]))
    return day, month


@PROPERTY_SETTINGS
@given(
    day_month=day_months(),
    hour=st.integers(0, 23),
    minute=st.integers(0, 59),
    now=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2090, 12, 31), timezones=st.just(UTC)
    ),
)
def test_property_french_numeric_day_month(
    day_month: tuple[int, int], hour: int, minute: int, now: datetime
) -> None:
    day, month = day_month
    result = parse_datetime(f"{day}/{month} {hour:02d}h{minute:02d}", now=now, tz=PARIS)
    shown = result.astimezone(PARIS)
    today = now.astimezone(PARIS).date()
    # the first year whose date exists and is not before today
    assert (shown.day, shown.month) == (day, month)
    assert shown.date() >= today
    for year in range(today.year, shown.year):
        assert calendar.monthrange(year, month)[1] < day or date(year, month, day) < today
    typed = datetime(shown.year, month, day, hour, minute)
    if _exists(typed, PARIS):
        assert (shown.hour, shown.minute) == (hour, minute)
    else:  # spring gap in Paris: one hour forward
        assert shown.replace(tzinfo=None) == typed + timedelta(hours=1)


@PROPERTY_SETTINGS
@given(a=st.integers(0, 10_000), b=st.integers(0, 10_000), c=st.integers(0, 10_000))
def test_property_duration_components(a: int, b: int, c: int) -> None:
    expected = timedelta(days=a, hours=b, minutes=c)
    assert parse_duration(f"{a}j{b}h{c}min") == expected
    assert parse_duration(f"{a} jours {b} heures {c} minutes") == expected
    assert parse_duration(f"{a}d {b}h {c}m") == expected


def _only_date_parse_errors(text: str) -> None:
    for call in (
        lambda: parse_datetime(text, now=NOW, tz=PARIS),
        lambda: parse_deadline(text, now=NOW, tz=PARIS),
        lambda: parse_clock_shift(text, now=NOW, tz=PARIS),
        lambda: parse_duration(text),
    ):
        try:
            result = call()
        except DateParseError as error:
            assert error.code in {"unreadable", "ambiguous", "invalid_date", "empty"}
            assert error.text == text
        else:
            assert isinstance(result, timedelta) or result.tzinfo is UTC


@PROPERTY_SETTINGS
@given(text=st.text())
def test_property_arbitrary_text_only_raises_date_parse_error(text: str) -> None:
    _only_date_parse_errors(text)


VOCABULARY = [
    "demain", "dans", "in", "2", "3", "14h", "14h30", "9am", "12:00", "+01:00", "z", "3/12",
    "31/02", "3.12", "14.30", "2026-12-03", "t", "jeudi", "prochain", "next", "décembre", "dec.",
    "1er", "à", "le", "soir", "matin", "midi", "minuit", "jours", "h", "min", "semaine", "une",
    "maintenant", "29/02", "9999-12-31", "0001-01-01", "23:59", "-", ",", "pm", "of", "99999999",
]  # fmt: skip


@PROPERTY_SETTINGS
@given(words=st.lists(st.sampled_from(VOCABULARY), max_size=6), joiner=st.sampled_from([" ", ""]))
def test_property_vocabulary_soup_only_raises_date_parse_error(
    words: list[str], joiner: str
) -> None:
    _only_date_parse_errors(joiner.join(words))


def test_a_date_without_an_hour_is_refused_when_an_hour_is_needed() -> None:
    for text in ("18 mars", "jeudi", "demain", "3/12", "dans 2 jours"):
        with pytest.raises(DateParseError) as info:
            parse_datetime(text, now=NOW, tz=PARIS, need_time=True)
        assert info.value.code == "missing_time", text
    for text in ("18 mars 14h", "ce soir", "dans 2 heures", "maintenant", "midi"):
        parse_datetime(text, now=NOW, tz=PARIS, need_time=True)


def test_past_reads_the_last_occurrence() -> None:
    december = datetime(2026, 12, 15, 10, 0, tzinfo=PARIS)
    since = parse_datetime("1 janvier", now=december, tz=PARIS, past=True, default_time=time(0))
    assert since.astimezone(PARIS).date() == date(2026, 1, 1)
    ahead = parse_datetime("1 janvier", now=december, tz=PARIS, default_time=time(0))
    assert ahead.astimezone(PARIS).date() == date(2027, 1, 1)
    last = parse_datetime("20 décembre", now=december, tz=PARIS, past=True)
    assert last.astimezone(PARIS).date() == date(2025, 12, 20)
    monday = parse_datetime("lundi", now=december, tz=PARIS, past=True, default_time=time(0))
    assert monday.astimezone(PARIS).date() == date(2026, 12, 14)
    tuesday = parse_datetime("mardi 9h", now=december, tz=PARIS, past=True)
    assert tuesday.astimezone(PARIS).date() == date(2026, 12, 15)
    later = parse_datetime("mardi 18h", now=december, tz=PARIS, past=True)
    assert later.astimezone(PARIS).date() == date(2026, 12, 8)


@pytest.mark.parametrize(
    ("text", "detail", "values"),
    [
        ("31 février", "day_of_month", {"month": 2, "day": 31, "days": 28}),
        ("30/02/2028", "day_of_month", {"month": 2, "day": 30, "days": 29}),
        ("31/04/2027", "day_of_month", {"month": 4, "day": 31, "days": 30}),
        ("demain 25h", "hour", {"hour": 25}),
        ("demain 14:75", "minute", {"minute": 75}),
        ("vendredi 3 décembre", "weekday", {"weekday": 4, "actual": 3}),
        ("9999-12-31 23:59", "out_of_range", {}),
    ],
)
def test_what_is_impossible_is_said(text: str, detail: str, values: dict[str, int]) -> None:
    with pytest.raises(DateParseError) as info:
        parse_datetime(text, now=NOW, tz=PARIS)
    assert (info.value.detail, info.value.values) == (detail, values)
