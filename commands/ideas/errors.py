"""Why an ideas-box request is refused: one class per reason, each with its message id."""

from __future__ import annotations

from bot.i18n import N_, Refusal, Translator


class IdeaError(Refusal):
    """An ideas-box request refused, worded in ``t``'s language."""


class _AboutIdea(IdeaError):
    def __init__(self, t: Translator, idea_id: int, /, **params: object) -> None:
        self.idea_id = idea_id
        super().__init__(t, ref=t.ref(idea_id), number=idea_id, **params)


class IdeaEmpty(IdeaError):
    msgid = N_('Write your idea after the command, for example: /idea "A workshop on water".')


class IdeaTooLong(IdeaError):
    msgid = N_("An idea has at most {limit} characters and yours has {length}: shorten it.")


class IdeaInPrivate(IdeaError):
    msgid = N_("Propose your idea in a channel, so that the other members can see and support it.")


class IdeaNotFound(_AboutIdea):
    msgid = N_("There is no idea {ref}. Type /ideas to see them.")


class AlreadySupported(_AboutIdea):
    msgid = N_("You already support idea {ref}: a member supports an idea once.")


class NotSupported(_AboutIdea):
    msgid = N_("You do not support idea {ref}: there is nothing to withdraw.")


class UnknownStatus(IdeaError):
    msgid = N_("“{text}” is not a status. Choose one of: {statuses}.")


class ResponseTooLong(IdeaError):
    msgid = N_("An answer has at most {limit} characters and yours has {length}: shorten it.")


class UnknownIdeaTheme(IdeaError):
    msgid = N_(
        "“{theme}” is not one of the network's themes. Did you mean “{nearest}”? The themes are: "
        "{themes}."
    )


class UnknownIdeaThemeNoSuggestion(IdeaError):
    msgid = N_("“{theme}” is not one of the network's themes. The themes are: {themes}.")
