"""Why a members request was refused: one class per reason, each with its message id.

Each is a :class:`~bot.core.UserError` whose message is its ``msgid`` translated into the
language of the translator it is given; the dispatcher answers it privately and rolls the
transaction back, so nothing stored changes.
"""

from __future__ import annotations

from bot.i18n import N_, Refusal


class MembersError(Refusal):
    """A members request refused, worded in ``t``'s language."""


class PageOutOfRange(MembersError):
    msgid = N_("There is no page {page}: this search has pages 1 to {pages}.")


class AlreadyJoined(MembersError):
    msgid = N_("You already take part in the meetings. /meet shows when the next round is.")


class NotJoined(MembersError):
    msgid = N_("You do not take part in the meetings. Join with /meet join.")


class UnreadableInterval(MembersError):
    msgid = N_(
        "I cannot read the interval “{text}”. Give a number of weeks, for example 1sem, 2sem or "
        "3 semaines."
    )


class IntervalOutOfRange(MembersError):
    msgid = N_("Rounds are held every 1 to 12 weeks, not every {weeks}.")


class NotEnoughMembers(MembersError):
    msgid = N_(
        "A round needs at least two members available; {n} is. Invite members to join with "
        "/meet join."
    )


class MomentInThePast(MembersError):
    msgid = N_("“{text}” is already past. Give a moment to come, for example “lundi 10h”.")


class UnknownMember(MembersError):
    msgid = N_("I do not know the member “{name}”. Check the name, or ask them to write once.")


class UnknownReferentTheme(MembersError):
    msgid = N_(
        "“{theme}” is not one of the network's themes. Did you mean “{nearest}”? The themes are: "
        "{themes}."
    )


class UnknownReferentThemeNoSuggestion(MembersError):
    msgid = N_("“{theme}” is not one of the network's themes. The themes are: {themes}.")


class AlreadyReferent(MembersError):
    msgid = N_("{name} is already referent for “{theme}”.")


class NotReferent(MembersError):
    msgid = N_("{name} is not referent for “{theme}”.")
