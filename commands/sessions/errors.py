"""Why a session operation was refused, and how a member reads it: one class per reason, each
with its message id (``msgid``, the catalogs' English text) and its parameters as attributes."""

from __future__ import annotations

from typing import Any, ClassVar

from bot.core import InvalidCall, TisserandError, UserError
from bot.dates import FIRST_YEAR, LAST_YEAR
from bot.i18n import N_, N_plural, Translator
from bot.storage.sessions import SessionRow
from commands.sessions.messages import category_label, when_text


class SessionError(TisserandError):
    """A session operation refused; the class says why, :meth:`message` says it to a member.

    ``session`` is the session as it was loaded when the operation was refused: None when there
    is none, or when a race left only its number; ``number`` is always the session's number.
    The message's parameters are ``ref`` (``n° 12``), ``n`` (12), ``title`` (empty without the
    session) and those of the reason (:attr:`params`).
    """

    msgid: ClassVar[str]

    def __init__(self, session: SessionRow | None = None, *, number: int | None = None) -> None:
        if session is not None:
            number = session.id
        if number is None:
            raise InvalidCall(f"{type(self).__name__} needs the session or its number")
        super().__init__(f"session {number}: {type(self).__name__}")
        self.session = session
        self.number: int = number

    @property
    def params(self) -> dict[str, Any]:
        """The parameters of this reason beyond the session's (none unless the class has some)."""
        return {}

    def message(self, t: Translator) -> str:
        """The sentence a member reads, in ``t``'s language."""
        return t.gettext(self.msgid, **self._fields(t))

    def _fields(self, t: Translator) -> dict[str, Any]:
        session = self.session
        return {
            "ref": t.ref(self.number),
            "n": self.number,
            "title": session.title if session is not None else "",
            **self.params,
        }

    def _loaded(self) -> SessionRow:
        """The session, for the reasons whose message shows its moments."""
        if self.session is None:
            raise InvalidCall(f"{type(self).__name__} needs the session, not only its number")
        return self.session


class SessionNotFound(SessionError):
    msgid = N_("There is no session {ref}. Type /sessions to see the upcoming ones.")

    def __init__(self, number: int) -> None:
        super().__init__(number=number)


class SessionCancelled(SessionError):
    msgid = N_("Session {ref} “{title}” has been cancelled.")


class TooLateToRegister(SessionError):
    """Registration after the start."""

    msgid = N_("Registrations for “{title}” ({ref}) are closed: the session has already started.")


class RegistrationsClosed(SessionError):
    """Registration after the registration deadline."""

    msgid = N_("Registrations for “{title}” ({ref}) closed {date}.")

    def _fields(self, t: Translator) -> dict[str, Any]:
        deadline = self._loaded().registration_deadline
        assert deadline is not None
        return {**super()._fields(t), "date": t.datetime(deadline)}


class AlreadyConfirmed(SessionError):
    msgid = N_(
        "You are already registered for “{title}” ({ref}). To free your seat: /unregister {n}."
    )


class AlreadyWaitlisted(SessionError):
    msgid = N_("You are already on the waiting list for “{title}” ({ref}), in position {position}.")

    def __init__(self, session: SessionRow | None = None, *, position: int) -> None:
        super().__init__(session)
        self.position = position
        """Rank on the waiting list (1 = next)."""

    @property
    def params(self) -> dict[str, Any]:
        return {"position": self.position}


class NotRegistered(SessionError):
    msgid = N_("You are not registered for “{title}” ({ref}): there is nothing to cancel.")


class TooLateToUnregister(SessionError):
    msgid = N_("“{title}” ({ref}) has already started: registrations can no longer be cancelled.")


class TooLateToChange(SessionError):
    """A change or a cancellation after the start."""

    msgid = N_("“{title}” ({ref}) has already started: it can no longer be changed or cancelled.")


class CapacityBelowConfirmed(SessionError):
    """Fewer seats than members who already have one."""

    msgid, msgid_plural = N_plural(
        "{n} member already has a seat for “{title}” ({ref}): the number of seats cannot "
        "go below that. Nothing was changed.",
        "{n} members already have a seat for “{title}” ({ref}): the number of seats "
        "cannot go below that. Nothing was changed.",
    )

    def __init__(self, session: SessionRow | None = None, *, confirmed: int) -> None:
        super().__init__(session)
        self.confirmed = confirmed
        """The seats taken (``n`` of the message)."""

    @property
    def params(self) -> dict[str, Any]:
        return {"confirmed": self.confirmed}

    def message(self, t: Translator) -> str:
        fields = self._fields(t)
        return t.ngettext(
            self.msgid, self.msgid_plural, self.confirmed, ref=fields["ref"], title=fields["title"]
        )


class QuotasOverCapacity(SessionError):
    """Quotas whose sum is larger than the seats."""

    msgid = N_(
        "The quotas of “{title}” ({ref}) would add up to {total} seats, more than its {capacity} "
        "seats. Lower a quota or raise --seats. Nothing was changed."
    )

    def __init__(self, session: SessionRow | None = None, *, total: int, capacity: int) -> None:
        super().__init__(session)
        self.total = total
        self.capacity = capacity

    @property
    def params(self) -> dict[str, Any]:
        return {"total": self.total, "capacity": self.capacity}


class QuotaBelowConfirmed(SessionError):
    """A quota lower than the seats its category already holds."""

    msgid = N_(
        "{confirmed} members of the category “{category}” already have a seat for “{title}” "
        "({ref}): its quota cannot go below that. Nothing was changed."
    )

    def __init__(self, session: SessionRow | None = None, *, category: str, confirmed: int) -> None:
        super().__init__(session)
        self.category = category
        self.confirmed = confirmed

    def _fields(self, t: Translator) -> dict[str, Any]:
        return {
            **super()._fields(t),
            "category": category_label(t, self.category),
            "confirmed": self.confirmed,
        }


class NotAttending(SessionError):
    """A check-in or a feedback from someone who is not a confirmed participant."""

    msgid = N_(
        "You are not on the list of confirmed participants of “{title}” ({ref}). A "
        "coordinator can record your presence with /attendance."
    )


class FeedbackNotAttended(SessionError):
    msgid = N_("Only the members who attended “{title}” ({ref}) are asked for their opinion.")


class CheckinClosed(SessionError):
    msgid = N_("Check-in for “{title}” ({ref}) is open only during the session ({when}).")

    def _fields(self, t: Translator) -> dict[str, Any]:
        return {**super()._fields(t), "when": when_text(t, self._loaded())}


class AttendanceTooEarly(SessionError):
    msgid = N_("“{title}” ({ref}) has not started yet: attendance can be recorded from {date}.")

    def _fields(self, t: Translator) -> dict[str, Any]:
        return {**super()._fields(t), "date": t.datetime(self._loaded().starts_at)}


class RegistrarClosed(TisserandError):
    """The registrar stopped (the bot is stopping) before handling the request: nothing done."""

    def __init__(self) -> None:
        super().__init__("the sessions registrar is stopped; the request was not handled")


class SessionYearOutOfRange(UserError):
    """``/sessions --passees --annee`` with a year no listing can cover."""

    msgid = N_(
        "Give a year between {first} and {last}, for example /sessions --past --year {year}."
    )

    def __init__(self, t: Translator, year: int, example: int) -> None:
        self.year = year
        super().__init__(t.gettext(self.msgid, first=FIRST_YEAR, last=LAST_YEAR, year=example))
