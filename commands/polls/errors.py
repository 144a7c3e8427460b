"""Why a poll request is refused, in the asker's language."""

from __future__ import annotations

from bot.core import UserError
from bot.dates import (
    DATE_EXAMPLES_EN,
    DATE_EXAMPLES_FR,
    DURATION_EXAMPLES_EN,
    DURATION_EXAMPLES_FR,
)
from bot.i18n import Translator
from bot.storage.polls import AnyPoll
from commands.polls.render import quote


def date_examples(t: Translator) -> str:
    examples = DATE_EXAMPLES_FR if t.locale == "fr" else DATE_EXAMPLES_EN
    return ", ".join(quote(t, example) for example in examples)


def deadline_examples(t: Translator) -> str:
    durations = DURATION_EXAMPLES_FR if t.locale == "fr" else DURATION_EXAMPLES_EN
    dates = DATE_EXAMPLES_FR if t.locale == "fr" else DATE_EXAMPLES_EN
    return ", ".join(quote(t, example) for example in (*durations[:2], *dates[3:5]))


def closed_error(t: Translator, poll: AnyPoll) -> UserError:
    return UserError(
        t.gettext("Poll {ref} is closed: votes are no longer accepted.", ref=t.ref(poll.id))
    )


def not_an_option(t: Translator, poll: AnyPoll, value: str) -> str:
    return t.gettext(
        "Option {value} is not in poll {ref}: give a number from 1 to {count}.",
        value=quote(t, value),
        ref=t.ref(poll.id),
        count=poll.n_options,
    )


def too_many(t: Translator, poll: AnyPoll) -> UserError:
    limit = poll.max_choices or poll.n_options
    return UserError(
        t.ngettext(
            "You can choose at most {n} option in poll {ref}. Click a chosen option again to "
            "remove it first.",
            "You can choose at most {n} options in poll {ref}. Click a chosen option again to "
            "remove it first.",
            limit,
            ref=t.ref(poll.id),
        )
    )


def sealed_text(t: Translator, poll: AnyPoll) -> str:
    return t.gettext(
        "Your vote on poll {ref} was sealed when the poll closed and still counts; it can no "
        "longer be changed.",
        ref=t.ref(poll.id),
    )
