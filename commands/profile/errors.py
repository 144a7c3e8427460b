"""Why a profile change was refused: one class per reason, each with its message id.

Each is a :class:`~bot.core.UserError` whose message is its ``msgid`` translated into the
language of the translator it is given, so the dispatcher answers it privately and rolls the
transaction back: nothing stored changes.
"""

from __future__ import annotations

from bot.i18n import N_, Refusal


class ProfileError(Refusal):
    """A profile change refused, worded in ``t``'s language."""


class FieldTooLong(ProfileError):
    msgid = N_(
        "That is {length} characters; the {field} may have at most {limit}. Shorten it and try "
        "again: nothing was changed."
    )


class MassMention(ProfileError):
    msgid = N_(
        "Your {field} may not hold a mention of a whole group (@all, @here, @everyone). Remove it "
        "and try again: nothing was changed."
    )


class UnknownTheme(ProfileError):
    msgid = N_(
        "“{theme}” is not one of the network's themes. Did you mean “{nearest}”? The themes are: "
        "{themes}."
    )


class UnknownThemeNoSuggestion(ProfileError):
    msgid = N_("“{theme}” is not one of the network's themes. The themes are: {themes}.")


class TooManyInterests(ProfileError):
    msgid = N_("At most {limit} interests, please: you gave {count}. Nothing was changed.")


class UnknownVisibility(ProfileError):
    msgid = N_(
        "Unknown visibility “{text}”. Use membres (every member sees your profile in the "
        "directory) or coordination (only the coordinators see it)."
    )


class ConfirmationStale(ProfileError):
    msgid = N_("This confirmation is no longer valid. Type /profile erase again if you wish.")
