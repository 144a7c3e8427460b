"""Each reason a session operation is refused is a class with its message id; members read
the same sentences as before the classes (written by the if-chain they replace)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.core import TisserandError
from bot.i18n import Translators
from bot.storage.sessions import SessionRow
from commands.sessions import (
    AlreadyConfirmed,
    AlreadyWaitlisted,
    AttendanceTooEarly,
    CapacityBelowConfirmed,
    CheckinClosed,
    FeedbackNotAttended,
    NotAttending,
    NotRegistered,
    QuotaBelowConfirmed,
    QuotasOverCapacity,
    RegistrationsClosed,
    SessionCancelled,
    SessionError,
    SessionNotFound,
    TooLateToChange,
    TooLateToRegister,
    TooLateToUnregister,
)

SESSION = SessionRow(
    id=12,
    title="Webinaire mobilités",
    starts_at=datetime(2026, 12, 3, 13, 0, tzinfo=UTC),
    ends_at=datetime(2026, 12, 3, 15, 0, tzinfo=UTC),
    registration_deadline=datetime(2026, 12, 1, 22, 59, tzinfo=UTC),
)
TRANSLATORS = Translators(ZoneInfo("Europe/Paris"))

CASES: list[tuple[Callable[[], SessionError], str, str]] = [
    (
        lambda: SessionNotFound(404),
        "There is no session n° 404. Type /sessions to see the upcoming ones.",
        "Il n'y a pas de session n° 404. Tapez /sessions pour voir les prochaines.",
    ),
    (
        lambda: SessionCancelled(SESSION),
        "Session n° 12 “Webinaire mobilités” has been cancelled.",
        "La session n° 12 « Webinaire mobilités » a été annulée.",
    ),
    (
        lambda: SessionCancelled(number=7),
        "Session n° 7 “” has been cancelled.",
        "La session n° 7 «  » a été annulée.",
    ),
    (
        lambda: TooLateToRegister(SESSION),
        "Registrations for “Webinaire mobilités” (n° 12) are closed: the session has already started.",
        "Les inscriptions à « Webinaire mobilités » (n° 12) sont closes : la session a déjà commencé.",
    ),
    (
        lambda: RegistrationsClosed(SESSION),
        "Registrations for “Webinaire mobilités” (n° 12) closed Tuesday 1 December 2026 at 23:59.",
        "Les inscriptions à « Webinaire mobilités » (n° 12) sont closes depuis le mardi 1er décembre 2026 à 23h59.",
    ),
    (
        lambda: AlreadyConfirmed(SESSION),
        "You are already registered for “Webinaire mobilités” (n° 12). To free your seat: /unregister 12.",
        "Vous êtes déjà inscrit·e à « Webinaire mobilités » (n° 12). Pour libérer votre place : /desinscription 12.",
    ),
    (
        lambda: AlreadyWaitlisted(SESSION, position=3),
        "You are already on the waiting list for “Webinaire mobilités” (n° 12), in position 3.",
        "Vous êtes déjà sur la liste d'attente de « Webinaire mobilités » (n° 12), en position 3.",
    ),
    (
        lambda: NotRegistered(SESSION),
        "You are not registered for “Webinaire mobilités” (n° 12): there is nothing to cancel.",
        "Vous n'êtes pas inscrit·e à « Webinaire mobilités » (n° 12) : il n'y a rien à annuler.",
    ),
    (
        lambda: TooLateToUnregister(SESSION),
        "“Webinaire mobilités” (n° 12) has already started: registrations can no longer be cancelled.",
        "La session « Webinaire mobilités » (n° 12) a déjà commencé : les inscriptions ne peuvent plus être annulées.",
    ),
    (
        lambda: TooLateToChange(SESSION),
        "“Webinaire mobilités” (n° 12) has already started: it can no longer be changed or cancelled.",
        "La session « Webinaire mobilités » (n° 12) a déjà commencé : elle ne peut plus être modifiée ni annulée.",
    ),
    (
        lambda: CapacityBelowConfirmed(SESSION, confirmed=1),
        "1 member already has a seat for “Webinaire mobilités” (n° 12): the number of seats cannot go below that. Nothing was changed.",
        "1 membre a déjà une place pour « Webinaire mobilités » (n° 12) : le nombre de places ne peut pas descendre en dessous. Rien n'a été modifié.",
    ),
    (
        lambda: CapacityBelowConfirmed(SESSION, confirmed=5),
        "5 members already have a seat for “Webinaire mobilités” (n° 12): the number of seats cannot go below that. Nothing was changed.",
        "5 membres ont déjà une place pour « Webinaire mobilités » (n° 12) : le nombre de places ne peut pas descendre en dessous. Rien n'a été modifié.",
    ),
    (
        lambda: QuotasOverCapacity(SESSION, total=12, capacity=10),
        "The quotas of “Webinaire mobilités” (n° 12) would add up to 12 seats, more than its 10 seats. Lower a quota or raise --seats. Nothing was changed.",
        "Les quotas de « Webinaire mobilités » (n° 12) totaliseraient 12 places, plus que ses 10 places. Baissez un quota ou augmentez --places. Rien n'a été modifié.",
    ),
    (
        lambda: QuotaBelowConfirmed(SESSION, category="elu", confirmed=3),
        "3 members of the category “elected official” already have a seat for “Webinaire mobilités” (n° 12): its quota cannot go below that. Nothing was changed.",
        "3 membres de la catégorie « élu·e » ont déjà une place pour « Webinaire mobilités » (n° 12) : son quota ne peut pas descendre en dessous. Rien n'a été modifié.",
    ),
    (
        lambda: NotAttending(SESSION),
        "You are not on the list of confirmed participants of “Webinaire mobilités” (n° 12). A coordinator can record your presence with /attendance.",
        "Vous n'êtes pas sur la liste des participant·es confirmé·es de « Webinaire mobilités » (n° 12). La coordination peut enregistrer votre présence avec /presence.",
    ),
    (
        lambda: FeedbackNotAttended(SESSION),
        "Only the members who attended “Webinaire mobilités” (n° 12) are asked for their opinion.",
        "Seuls les membres qui ont participé à « Webinaire mobilités » (n° 12) sont invités à donner leur avis.",
    ),
    (
        lambda: CheckinClosed(SESSION),
        "Check-in for “Webinaire mobilités” (n° 12) is open only during the session (Thursday 3 December 2026 at 14:00 to 16:00).",
        "L'émargement de « Webinaire mobilités » (n° 12) n'est ouvert que pendant la session (jeudi 3 décembre 2026 à 14h00 (jusqu'à 16h00)).",
    ),
    (
        lambda: AttendanceTooEarly(SESSION),
        "“Webinaire mobilités” (n° 12) has not started yet: attendance can be recorded from Thursday 3 December 2026 at 14:00.",
        "La session « Webinaire mobilités » (n° 12) n'a pas encore commencé : les présences peuvent être enregistrées à partir du jeudi 3 décembre 2026 à 14h00.",
    ),
]


@pytest.mark.parametrize(("make", "english", "french"), CASES)
def test_each_reason_reads_as_before(
    make: Callable[[], SessionError], english: str, french: str
) -> None:
    error = make()
    assert error.message(TRANSLATORS.get("en")) == english
    assert error.message(TRANSLATORS.get("fr")) == french
    assert isinstance(error, SessionError)
    assert isinstance(error, TisserandError)
    if error.session is not None:
        assert error.number == SESSION.id


def test_every_reason_is_covered_and_carries_its_msgid() -> None:
    reasons = set(SessionError.__subclasses__())
    assert reasons == {type(make()) for make, _, _ in CASES}
    for reason in reasons:
        assert reason.msgid, reason


def test_a_reason_without_its_session_says_so() -> None:
    with pytest.raises(TypeError):
        SessionCancelled()
    with pytest.raises(TypeError):
        CheckinClosed(number=3).message(TRANSLATORS.get("en"))
    assert SessionNotFound(404).session is None
    assert AlreadyWaitlisted(SESSION, position=2).params == {"position": 2}
    assert CapacityBelowConfirmed(SESSION, confirmed=4).params == {"confirmed": 4}
    assert NotRegistered(SESSION).params == {}
