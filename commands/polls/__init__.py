"""/sondage (/poll), /sondages (/polls), /voter (/vote): polls, from a quick choice to a date hunt.

Commands
    ``/sondage "Question ?" "A" "B" ...`` creates a poll (2 to 20 options) in the channel:
    ``--multiple [--max K]``, ``--jugement`` (majority judgment), ``--dates`` (the options are
    slots), ``--anonyme``, ``--fin 2j`` / ``--fin "vendredi 18h"``, ``--resultats-caches``.
    ``/sondage resultats N``, ``/sondage clore N``, ``/sondage rouvrir N [--fin ...]``,
    ``/sondage export N`` (coordinators, CSV), ``/sondages`` (open polls of the channel) and
    ``/voter N ...`` (voting by text). English aliases: ``/poll``, ``results``, ``close``,
    ``reopen``, ``export``, ``/polls``, ``/vote``, and ``--multiple --max --judgment --dates
    --anonymous --end --hidden-results``.

Who may do what
    Creating: coordinators, or everyone when ``[polls] creators = "everyone"``. Closing and
    reopening: the poll's creator or a coordinator. Exporting: coordinators. Voting and seeing
    results: everyone. Polls are created in channels, not in private conversations.

The poll message
    Posted through the outbox (key ``poll:<id>:message``) in the network's language, so its
    platform reference is recorded and it can be edited. It carries one button per option
    (single/multiple: a vote; majority judgment and dates: a private prompt with the grades, or
    yes / if need be / no, chained to the next option not yet answered) and "Withdraw my vote".
    The command itself answers with a short private receipt.

The package
    :mod:`~commands.polls.service` (create, vote, close, reopen, best date),
    :mod:`~commands.polls.store` (queries, the vote's statements),
    :mod:`~commands.polls.ballots` (ballot contents and changes, counting stored ballots),
    :mod:`~commands.polls.tally` (majority judgment, dates: pure counting),
    :mod:`~commands.polls.secret` (anonymity), :mod:`~commands.polls.parsing` (what people type),
    :mod:`~commands.polls.render` (how a poll looks), :mod:`~commands.polls.errors`,
    :mod:`~commands.polls.member_handlers`, :mod:`~commands.polls.coordinator_handlers`,
    :mod:`~commands.polls.work` (deadlines, throttled edits), :mod:`~commands.polls.export`
    (CSV), :mod:`~commands.polls.gazette` (closed polls in the gazette).

Services for other command families: :func:`create_poll`, :func:`best_date_slot`,
:func:`poll_results`, :func:`close_poll`.
"""

from __future__ import annotations

from bot.family import Family, GazetteSection, ReportSection
from commands.polls import coordinator_handlers, data, member_handlers
from commands.polls.ballots import (
    BallotChange,
    SetChoices,
    SetMarks,
    ToggleChoice,
    Withdraw,
    tally_contents,
)
from commands.polls.errors import PollError
from commands.polls.export import export_csv
from commands.polls.gazette import gazette_closed_polls
from commands.polls.render import poll_message
from commands.polls.report import report_polls
from commands.polls.secret import server_secret, voter_key
from commands.polls.service import (
    EDIT_THROTTLE,
    VoteOutcome,
    accepts_votes,
    best_date_slot,
    cast_vote,
    close_poll,
    create_poll,
    reopen_poll,
)
from commands.polls.store import get_poll, poll_results
from commands.polls.work import PollWork, setup

__all__ = [
    "EDIT_THROTTLE",
    "FAMILY",
    "BallotChange",
    "PollError",
    "PollWork",
    "SetChoices",
    "SetMarks",
    "ToggleChoice",
    "VoteOutcome",
    "Withdraw",
    "accepts_votes",
    "best_date_slot",
    "cast_vote",
    "close_poll",
    "create_poll",
    "export_csv",
    "get_poll",
    "poll_message",
    "poll_results",
    "reopen_poll",
    "server_secret",
    "setup",
    "tally_contents",
    "voter_key",
]

FAMILY = Family(
    name="polls",
    handlers=(member_handlers, coordinator_handlers),
    setup=setup,
    outbox_topics=("poll",),
    gazette=(GazetteSection("poll", gazette_closed_polls),),
    report=(ReportSection("polls", report_polls),),
    member_data=data.MEMBER_DATA,
)
