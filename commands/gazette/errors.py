"""The gazette family's errors: one class per reason, whose text is a message id.

Each is a :class:`bot.core.UserError`, translated for the actor when it is raised (the
dispatcher answers with it); its parameters are attributes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from bot.core import UserError
from bot.i18n import N_, Translator


class GazetteError(UserError):
    """Something the user can fix about highlights, consent or the gazette."""

    msgid: ClassVar[str]

    def __init__(self, t: Translator, /, **params: Any) -> None:
        super().__init__(t.gettext(self.msgid, **params))


# --- highlights --------------------------------------------------------------------------------


class NoSuchHighlight(GazetteError):
    msgid = N_("There is no highlight {number}. Type /highlight list to see them.")

    def __init__(self, t: Translator, number: int) -> None:
        self.number = number
        super().__init__(t, number=t.ref(number))


class NoSuchSession(GazetteError):
    msgid = N_("There is no session {number}. Type /sessions to see them.")

    def __init__(self, t: Translator, number: int) -> None:
        self.number = number
        super().__init__(t, number=t.ref(number))


class MenuInPrivate(GazetteError):
    msgid = N_(
        "Highlights come from the network's channels: open this menu on a message "
        "in a channel, not in a private conversation."
    )


class CannotReadMessage(GazetteError):
    """The platform did not give the message's text; on Discord, the message menu does."""

    msgid = N_(
        "I cannot read that message (the platform did not give me its text). Record it by "
        'typing it: /highlight "the words" --author @name.'
    )
    discord_hint = N_(
        "On Discord, the message's own menu also works: right-click it (or press and hold), "
        "then Apps › Ajouter à la gazette."
    )

    def __init__(self, t: Translator, platform: str) -> None:
        self.platform = platform
        UserError.__init__(self, self.text(t, platform))

    @classmethod
    def text(cls, t: Translator, platform: str) -> str:
        text = t.gettext(cls.msgid)
        if platform == "discord":
            text += " " + t.gettext(cls.discord_hint)
        return text


class MessageAndText(GazetteError):
    msgid = N_(
        "Give either a message (--message) or a text, not both: the words and the "
        "author of a message are the message's own."
    )


class NotAMessageReference(GazetteError):
    msgid = N_("“{value}” is neither a message number nor a message link.")

    def __init__(self, t: Translator, value: str) -> None:
        self.value = value
        super().__init__(t, value=value)


class MessageNotRemembered(GazetteError):
    msgid = N_(
        "I cannot read message {message}: I only remember messages said in channels "
        "during the last {hours} hours. React to it with {emoji}, or type its words: "
        '/highlight "the words" --author @name.'
    )

    def __init__(self, t: Translator, message: str, hours: int, emoji: str) -> None:
        self.message_ref = message
        self.hours = hours
        self.emoji = emoji
        super().__init__(t, message=message, hours=hours, emoji=emoji)


class NothingToKeep(GazetteError):
    msgid = N_("Give the words to keep, or a message with --message.\nUsage: {usage}")

    def __init__(self, t: Translator, usage: str) -> None:
        super().__init__(t, usage=usage)


class QuoteTooLong(GazetteError):
    msgid = N_("The text is too long ({length} characters); keep it under {limit}.")

    def __init__(self, t: Translator, length: int, limit: int) -> None:
        self.length = length
        self.limit = limit
        super().__init__(t, length=length, limit=limit)


class AttributionReserved(GazetteError):
    msgid = N_(
        "Only coordinators may attribute words to someone else; record your own "
        "words without --auteur."
    )


class UnknownAuthor(GazetteError):
    msgid = N_("I do not know @{name}. They must have written in a channel I read.")

    def __init__(self, t: Translator, name: str) -> None:
        self.name = name
        super().__init__(t, name=name)


# --- consent -----------------------------------------------------------------------------------


class HighlightDeleted(GazetteError):
    msgid = N_("This highlight was deleted: there is nothing left to decide.")


class NotTheAuthor(GazetteError):
    msgid = N_("Only {name} can answer this question: it is about their own words.")

    def __init__(self, t: Translator, name: str) -> None:
        self.name = name
        super().__init__(t, name=name)


class NotYourHighlight(GazetteError):
    msgid = N_("You have no highlight {number}. Type /profile consents to see yours.")

    def __init__(self, t: Translator, number: int) -> None:
        self.number = number
        super().__init__(t, number=t.ref(number))


# --- the gazette -------------------------------------------------------------------------------


class NoDraft(GazetteError):
    msgid = N_("There is no gazette draft. Start one with /gazette brouillon.")


class NoSuchItem(GazetteError):
    """An item number outside the draft list (the text depends on how many items it has)."""

    def __init__(self, t: Translator, number: int, count: int) -> None:
        self.number = number
        self.count = count
        UserError.__init__(
            self,
            t.ngettext(
                "There is no item {number} in the draft: it has {n} item. Type /gazette to see "
                "the list.",
                "There is no item {number} in the draft: it has {n} items. Type /gazette to see "
                "the list.",
                count,
                number=number,
            ),
        )


class PeriodAndSession(GazetteError):
    msgid = N_("Give either --depuis or --session, not both.")


class NotInThePast(GazetteError):
    msgid = N_("{date} is not in the past: the gazette tells what happened.")

    def __init__(self, t: Translator, date: datetime) -> None:
        self.date = date
        super().__init__(t, date=t.datetime(date))


class EditorialMissing(GazetteError):
    msgid = N_('Give the editorial between quotes: /gazette edito "...".')


class EditorialTooLong(GazetteError):
    msgid = N_("The editorial is too long ({length} characters); keep it under {limit}.")

    def __init__(self, t: Translator, length: int, limit: int) -> None:
        self.length = length
        self.limit = limit
        super().__init__(t, length=length, limit=limit)


class WhereToMove(GazetteError):
    msgid = N_("Say where to put it: --avant M or --apres M.")


class AcrossSections(GazetteError):
    msgid = N_("Items {a} and {b} are in different sections; items move within their section.")

    def __init__(self, t: Translator, item: int, anchor: int) -> None:
        self.item = item
        self.anchor = anchor
        super().__init__(t, a=item, b=anchor)


class ChannelMissing(GazetteError):
    msgid = N_("Say in which channel to publish it: /gazette publier --canal #general.")


class EmptyGazette(GazetteError):
    msgid = N_(
        "The gazette is empty: no consented highlight, session, poll, reading or "
        "newcomer is left in it. Nothing was published; see /gazette."
    )


class NoSuchGazette(GazetteError):
    msgid = N_("There is no published gazette {number}. Type /gazettes to see the archive.")

    def __init__(self, t: Translator, number: int) -> None:
        self.number = number
        super().__init__(t, number=t.ref(number))


class SessionNotEnded(GazetteError):
    msgid = N_(
        "Session {number} has not ended yet (it ends {date}): its gazette can be compiled once "
        "it is over."
    )

    def __init__(self, t: Translator, number: int, ends_at: datetime) -> None:
        self.number = number
        self.ends_at = ends_at
        super().__init__(t, number=t.ref(number), date=t.datetime(ends_at))


class SessionCancelled(GazetteError):
    msgid = N_("Session {number} was cancelled: it has no gazette.")

    def __init__(self, t: Translator, number: int) -> None:
        self.number = number
        super().__init__(t, number=t.ref(number))


class NotASelection(GazetteError):
    msgid = N_(
        "I do not understand “{word}”: give item numbers (3 5 7), a range (3-7) or a "
        "section ({sections})."
    )

    def __init__(self, t: Translator, word: str, sections: str) -> None:
        self.word = word
        super().__init__(t, word=word, sections=sections)


class NothingSelected(GazetteError):
    msgid = N_("Give the numbers of the items, for example /gazette retirer 3 5-7.")


class MoveItself(GazetteError):
    msgid = N_("Item {number} cannot be placed before or after itself.")

    def __init__(self, t: Translator, number: int) -> None:
        self.number = number
        super().__init__(t, number=number)


class NotForMembers(GazetteError):
    msgid = N_(
        "Only the network's coordinators compile and publish the gazette. Published gazettes "
        "are listed by /gazettes."
    )
