"""Why a questionnaire request is refused: one class per reason, each with its message id."""

from __future__ import annotations

from bot.i18n import N_, Refusal, Translator


class QuestionnaireError(Refusal):
    """A questionnaire request refused, worded in ``t``'s language."""


class _About(QuestionnaireError):
    """A refusal about questionnaire ``number`` (``{ref}``: ``n° 3``; ``{n}``: ``3``)."""

    def __init__(self, t: Translator, number: int, /, **params: object) -> None:
        self.number = number
        super().__init__(t, ref=t.ref(number), n=number, **params)


class QuestionnaireNotFound(_About):
    msgid = N_("There is no questionnaire {ref}.")


class TitleMissing(QuestionnaireError):
    msgid = N_('Give the questionnaire a title, for example: /survey create "Our year together".')


class TextTooLong(QuestionnaireError):
    msgid = N_("This text has at most {limit} characters and yours has {length}: shorten it.")


class NotADraft(_About):
    msgid = N_(
        "Questionnaire {ref} is already launched: its questions can no longer change (answers "
        "would not match). Create another one with /survey create."
    )


class NoQuestions(_About):
    msgid = N_(
        "Questionnaire {ref} has no question yet. Add one with /survey question {n} scale "
        '"How useful was this year?", then launch it.'
    )


class AlreadyLaunched(_About):
    msgid = N_("Questionnaire {ref} was already launched on {date}: it is not sent twice.")


class NotLaunched(_About):
    msgid = N_("Questionnaire {ref} is not launched yet: launch it with /survey launch {n}.")


class QuestionnaireClosed(_About):
    msgid = N_("Questionnaire {ref} is closed: answers are no longer recorded.")


class DeadlinePassed(_About):
    msgid = N_(
        "The deadline of questionnaire {ref} has passed ({date}): answers are no longer recorded."
    )


class DeadlineInPast(QuestionnaireError):
    msgid = N_("The deadline {date} is already past: give a later one.")


class NotARecipient(_About):
    msgid = N_(
        "Questionnaire {ref} was not sent to you, so your answer cannot be recorded. Ask a "
        "coordinator if you think it should have been."
    )


class AlreadyFinished(_About):
    msgid = N_("You have already answered questionnaire {ref} in full. Thank you!")


class AlreadyAnswered(_About):
    msgid = N_(
        "This question of questionnaire {ref} is already answered. Continue with "
        "/survey answer {n}."
    )


class UnknownKind(QuestionnaireError):
    msgid = N_("“{text}” is not a kind of question. Choose one of: {kinds}.")


class ChoicesNeeded(QuestionnaireError):
    msgid = N_(
        "A choice question needs 2 to {limit} options, each between double quotes, for "
        'example: /survey question {n} choice "Which format?" "Webinar" "Visit".'
    )


class ScaleLabels(QuestionnaireError):
    msgid = N_(
        "A labelled scale has 2 to 7 steps, each between double quotes; without labels the "
        "scale goes from 1 to 5."
    )


class NoChoicesForText(QuestionnaireError):
    msgid = N_("A free-text question takes no options: remove them.")


class TooManyQuestions(_About):
    msgid = N_("Questionnaire {ref} already has {limit} questions, the most it can hold.")


class ChoiceTooLong(QuestionnaireError):
    msgid = N_("An option has at most {limit} characters: “{text}” is too long.")


class OutOfScale(QuestionnaireError):
    msgid = N_("Answer with a number from 1 to {size}, or one of: {labels}.")


class NotAChoice(QuestionnaireError):
    msgid = N_("Answer with option numbers from 1 to {size} (for example 2, or 1 3 for several).")


class OneChoiceOnly(QuestionnaireError):
    msgid = N_("This question takes one option only: give one number from 1 to {size}.")


class EmptyAnswer(QuestionnaireError):
    msgid = N_("Write your answer after the command, or skip the question with its button.")


class AudienceNeeded(QuestionnaireError):
    msgid = N_(
        "Say whom to send it to: --channel #name (announced there), --session N (its "
        "attendees) or --everyone."
    )


class OneAudienceOnly(QuestionnaireError):
    msgid = N_("Choose one audience only: --channel, --session or --everyone.")


class NoRecipients(QuestionnaireError):
    msgid = N_("Nobody to send it to: {why} Nothing was sent.")


class NoReminderLeft(_About):
    msgid = N_(
        "Questionnaire {ref} had its {limit} reminders already: members are not reminded more."
    )


class NothingToRemind(_About):
    msgid = N_("Everyone who received questionnaire {ref} has finished it: nobody to remind.")


class AlreadyClosed(_About):
    msgid = N_("Questionnaire {ref} is already closed.")


class RemindersRange(QuestionnaireError):
    msgid = N_("The number of reminders goes from 0 to {limit}.")
