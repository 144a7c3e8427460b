"""Sessions: registration with capacity and waitlist, reminders, calendars, attendance, feedback.

Commands (French name / English alias):

- ``/session creer "Titre" --quand ... --duree 2h --type ... --lieu ... | --lien URL --places 30
  --inscriptions-jusqu-au ... --description ... --quotas "elu=10,agent=5"`` (coordinators):
  creates the session and posts its announcement in the channel through the outbox (key
  ``session:<id>:announce``) with the choices *S'inscrire* / *Se désinscrire* and the .ics file.
- ``/session N`` (``/session voir N``; ``/session`` alone lists like ``/sessions``): details.
- ``/session modifier N ... [--quotas elu=8,...|aucun]`` and ``/session annuler N [--raison ...]`` (coordinators).
- ``/sessions``: upcoming sessions with the seats left.
- ``/inscription N`` (``/register``), ``/desinscription N`` (``/unregister``), or the choices.
- ``/participants N [--csv]`` and ``/presence N @a @b`` (``/attendance``), coordinators.
- ``/categorie elu|agent|association|partenaire|aucune`` (``/category``): the member's category,
  used by quotas (``/profil`` belongs to another module, so the setting lives here).

Decisions (also in docs/design.md, "Sessions"):

- **Never overbook.** A seat is taken by one conditional UPDATE (``confirmed = confirmed + 1
  WHERE confirmed < capacity``) that also hands out the session's next ``arrival`` number; a
  full session hands the number out with a second UPDATE of the same row. Either statement
  locks the session row until commit, so everything that follows (the registration INSERT, the
  waitlist position, quota counters, promotions) is serialised per session, in the order the
  database granted the lock: that order *is* the arrival order. The check constraint
  ``confirmed <= capacity`` and the unique (session, member) constraint back this up; a duplicate
  registration raced by the same member fails on the unique constraint inside a savepoint,
  which also gives the seat back.
- **Group commit.** The commands register and unregister through
  :class:`~commands.sessions.registrar.Registrar` (a ``Host`` service): one worker thread handles
  everything pending in one transaction per session, which locks the row once. The functions
  of :mod:`~commands.sessions.service` stay the reference and the path of anything else
  (another process, scripts): the registrar applies the same rules in the same order and writes
  the same rows and messages, and the tests compare the two.
  :func:`~commands.sessions.service.unregister` locks the session row first, like every change
  of seats, so there is one lock order.
- **Waitlist.** Ordered by ``arrival``; the position shown is the rank among waitlisted
  registrations. A cancelled confirmed registration gives its seat back and promotes, in the same
  transaction, the first waitlisted registrations that fit (quotas may skip someone whose
  category is full, who keeps their place). Raising the capacity promotes too.
- **Quotas** are ceilings per member category (at most 10 elected officials...), counted with the
  same conditional UPDATE on ``session_quotas``; members without a category, or whose category
  has no quota, are limited by the capacity only. The category counted is the one the member
  had when registering.
- **Live announcements**: the announcement is edited (throttled) as seats, the waiting list,
  quotas and the status change; see :mod:`~commands.sessions.live`. Quotas are shown wherever
  seats are; ``--quotas`` on ``modifier`` replaces them (``aucun`` removes them), counted again
  from the confirmed registrations, and any change of capacity or quotas promotes in order.
- **Reminders** (24 h and 1 h before by default; ``[sessions] reminder_hours`` when the
  configuration has it) are *due work derived from registrations*, not rows written at
  registration: when ``start - h`` is reached, the ``sessions`` provider
  (:func:`~commands.sessions.work.remind_due`) locks the session row and writes, in one
  statement, the outbox rows ``session:<id>:reminder:<member>:<h>h`` (``due_at = start - h``) of
  the members confirmed at that moment (confirmed by a request made before it:
  ``registrations.updated_at < start - h``), and records ``sessions.reminded_through`` in the
  same transaction, so a restart neither loses nor repeats them (and the unique key means never
  twice anyway). A member confirmed after a reminder's moment does not get that one (too late)
  but gets the later ones; a request made before the moment but handled just after the provider
  wrote it gets it from the registration's own transaction
  (:func:`~commands.sessions.notify.late_reminders`). Unregistering or cancelling marks pending
  rows ``skipped`` (``withdrawn``); registering again before the moment gets it again (a skipped
  row is revived). A change of time moves the reminders: pending ones are withdrawn, and those
  whose new moment is ahead are written again (revived) then. A reminder whose moment passed
  while the bot was down is still written if the session has not started; when several of a
  session's reminders are late at once, only the last (the nearest to the start) is written.
- **Calendars**: see :mod:`~commands.sessions.ics` (UTC times, stable UID, SEQUENCE raised by every
  change registrants are told about, PUBLISH, CANCEL when cancelled).
- **Check-in and feedback** come from a due-work provider (``sessions``): at the start it posts
  a check-in choice in the session's channel (outbox ``session:<id>:checkin``), open until the
  end; at the end it edits that message to close it; one hour later it sends attendees a
  feedback question by direct message (*Utile / Moyen / Peu utile*, handled here and summed up
  for coordinators in ``/session N``). Not a poll: ``commands.polls.create_poll`` posts in a
  channel, where anyone could answer; feedback must come from attendees only. A session whose
  whole time passed while the bot was down gets no check-in; feedback is not sent more than 7
  days late.
- ``--depuis-sondage N`` (``--from-poll``) takes the start from
  ``commands.polls.best_date_slot``. ``/session N`` and ``/sessions`` answer privately: they show
  the actor's own registration.
- Confirmations go by direct message with the .ics (outbox, ``DirectTarget``); waitlisted
  members get their position in the command's answer, and a direct message when promoted.
- Registrations close at the start (or at the registration deadline); unregistering is possible
  until the start. A started session can no longer be changed or cancelled. ``/presence`` works
  once the session has started; members not registered are recorded as ``walk_in``.

Layout: :mod:`~commands.sessions.service` (the domain operations), :mod:`~commands.sessions.store`
(queries, seat and quota counters), :mod:`~commands.sessions.registrar` and
:mod:`~commands.sessions.batch` (group commit), :mod:`~commands.sessions.notify` (what members and
channels are told, through the outbox), :mod:`~commands.sessions.messages` (how a session reads),
:mod:`~commands.sessions.ics` (the .ics writer), :mod:`~commands.sessions.work` (the ``sessions``
due work and :func:`~commands.sessions.work.setup`), :mod:`~commands.sessions.parsing` (what
people type), :mod:`~commands.sessions.member_handlers` and
:mod:`~commands.sessions.coordinator_handlers` (the commands), :mod:`~commands.sessions.errors`,
:mod:`~commands.sessions.gazette` (the sessions held, for the gazette).
"""

from __future__ import annotations

from bot.family import Family, GazetteSection, ReportSection
from commands.sessions import coordinator_handlers, member_handlers
from commands.sessions.errors import (
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
    RegistrarClosed,
    RegistrationsClosed,
    SessionCancelled,
    SessionError,
    SessionNotFound,
    TooLateToChange,
    TooLateToRegister,
    TooLateToUnregister,
)
from commands.sessions.gazette import gazette_sessions_held
from commands.sessions.messages import category_label
from commands.sessions.notify import REMINDER_HOURS, Notifier, configured_reminder_hours
from commands.sessions.registrar import REGISTRAR_SERVICE, Registrar
from commands.sessions.report import report_sessions
from commands.sessions.service import (
    RegisterResult,
    SessionChanges,
    SessionDraft,
    UnregisterResult,
    UpdateResult,
    cancel_session,
    create_session,
    export_calendar,
    register,
    register_and_notify,
    unregister,
    unregister_and_notify,
    update_session,
)
from commands.sessions.work import FEEDBACK_DELAY, remind_due, setup

__all__ = [
    "FAMILY",
    "FEEDBACK_DELAY",
    "REGISTRAR_SERVICE",
    "REMINDER_HOURS",
    "AlreadyConfirmed",
    "AlreadyWaitlisted",
    "AttendanceTooEarly",
    "CapacityBelowConfirmed",
    "CheckinClosed",
    "FeedbackNotAttended",
    "NotAttending",
    "NotRegistered",
    "Notifier",
    "QuotaBelowConfirmed",
    "QuotasOverCapacity",
    "RegisterResult",
    "Registrar",
    "RegistrarClosed",
    "RegistrationsClosed",
    "SessionCancelled",
    "SessionChanges",
    "SessionDraft",
    "SessionError",
    "SessionNotFound",
    "TooLateToChange",
    "TooLateToRegister",
    "TooLateToUnregister",
    "UnregisterResult",
    "UpdateResult",
    "cancel_session",
    "category_label",
    "configured_reminder_hours",
    "create_session",
    "export_calendar",
    "gazette_sessions_held",
    "register",
    "register_and_notify",
    "remind_due",
    "unregister",
    "unregister_and_notify",
    "update_session",
]

FAMILY = Family(
    name="sessions",
    handlers=(coordinator_handlers, member_handlers),
    setup=setup,
    outbox_topics=("session",),
    gazette=(GazetteSection("session", gazette_sessions_held),),
    report=(ReportSection("sessions", report_sessions),),
)
