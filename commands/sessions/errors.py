"""Why a session operation was refused, and how a member reads it."""

from __future__ import annotations

from typing import Any

from bot.core import TisserandError, UserError
from bot.i18n import Translator
from bot.storage.sessions import SessionRow
from commands.sessions.messages import when_text


class SessionError(TisserandError):
    """A session operation refused; ``code`` says why, ``params`` give the details.

    Codes: ``not_found``, ``cancelled``, ``started`` (registration after the start),
    ``closed`` (after the registration deadline), ``already_confirmed``, ``already_waitlisted``
    (``position``), ``not_registered``, ``unregister_started``, ``edit_started``,
    ``capacity_below_confirmed`` (``confirmed``), ``not_attending`` (check-in or feedback by
    someone not confirmed), ``feedback_not_attended``, ``checkin_closed``,
    ``attendance_too_early``.
    """

    def __init__(self, code: str, session: SessionRow | None = None, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.session = session
        self.params = params


class RegistrarClosed(TisserandError):
    """The registrar stopped (the bot is stopping) before handling the request: nothing done."""

    def __init__(self) -> None:
        super().__init__("the sessions registrar is stopped; the request was not handled")


def explain(t: Translator, error: SessionError) -> str:
    """The sentence a member reads for ``error``."""
    session = error.session
    number = session.id if session is not None else int(error.params.get("number", 0))
    params: dict[str, Any] = {
        "ref": t.ref(number),
        "n": number,
        "title": session.title if session is not None else "",
    }
    code = error.code
    if code == "not_found":
        return t.gettext(
            "There is no session {ref}. Type /sessions to see the upcoming ones.", **params
        )
    if code == "cancelled":
        return t.gettext("Session {ref} “{title}” has been cancelled.", **params)
    if code == "started":
        return t.gettext(
            "Registrations for “{title}” ({ref}) are closed: the session has already started.",
            **params,
        )
    if code == "closed":
        assert session is not None and session.registration_deadline is not None
        return t.gettext(
            "Registrations for “{title}” ({ref}) closed {date}.",
            date=t.datetime(session.registration_deadline),
            **params,
        )
    if code == "already_confirmed":
        return t.gettext(
            "You are already registered for “{title}” ({ref}). To free your seat: /unregister {n}.",
            **params,
        )
    if code == "already_waitlisted":
        return t.gettext(
            "You are already on the waiting list for “{title}” ({ref}), in position {position}.",
            position=error.params["position"],
            **params,
        )
    if code == "not_registered":
        return t.gettext(
            "You are not registered for “{title}” ({ref}): there is nothing to cancel.", **params
        )
    if code == "unregister_started":
        return t.gettext(
            "“{title}” ({ref}) has already started: registrations can no longer be cancelled.",
            **params,
        )
    if code == "edit_started":
        return t.gettext(
            "“{title}” ({ref}) has already started: it can no longer be changed or cancelled.",
            **params,
        )
    if code == "capacity_below_confirmed":
        return t.ngettext(
            "{n} member already has a seat for “{title}” ({ref}): the number of seats cannot "
            "go below that. Nothing was changed.",
            "{n} members already have a seat for “{title}” ({ref}): the number of seats "
            "cannot go below that. Nothing was changed.",
            int(error.params["confirmed"]),
            ref=params["ref"],
            title=params["title"],
        )
    if code == "not_attending":
        return t.gettext(
            "You are not on the list of confirmed participants of “{title}” ({ref}). A "
            "coordinator can record your presence with /attendance.",
            **params,
        )
    if code == "feedback_not_attended":
        return t.gettext(
            "Only the members who attended “{title}” ({ref}) are asked for their opinion.",
            **params,
        )
    if code == "checkin_closed":
        assert session is not None
        return t.gettext(
            "Check-in for “{title}” ({ref}) is open only during the session ({when}).",
            when=when_text(t, session),
            **params,
        )
    if code == "attendance_too_early":
        assert session is not None
        return t.gettext(
            "“{title}” ({ref}) has not started yet: attendance can be recorded from {date}.",
            date=t.datetime(session.starts_at),
            **params,
        )
    raise AssertionError(code)  # pragma: no cover


def user_error(t: Translator, error: SessionError) -> UserError:
    """``error`` as the dispatcher answers it: privately, in the reader's language."""
    return UserError(explain(t, error))
