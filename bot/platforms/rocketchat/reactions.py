"""Reactions, and the choices members make with them.

A reply with choices is posted with an attachment of action buttons (``type: "button"``,
``msg_in_chat_window: true``, ``msg: "<prefix>choix <action>"``): a click makes the user post
that command, which the adapter turns into a :class:`~bot.core.ChoiceEvent` (its ``ref`` is
None: the clicked message is not known; a reaction's ``ref`` is the bot's message). Buttons are
stateless. For up to ten choices the text also lists them as ``:one:`` .. ``:keycap_ten:`` and
the bot adds those reactions, so members can vote with a click on a reaction too. Reaction
changes arrive as message updates carrying the whole message, attachments included: the action
of reaction *n* is read back from the *n*-th button of the message itself (``chat.getMessage``
when an update lacks them). No mapping is stored anywhere, so it survives restarts.
``customFields`` was not chosen: it is disabled unless a server administrator defines a schema
(``Message_CustomFields_Enabled``).

Reactions are diffed against the last state seen of each message (bounded memory). For a message
whose previous state is unknown (after a restart), every current reaction is reported once: at
least once, which the idempotent handlers (one vote per voter and poll) absorb.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from bot.core import Actor, ChoiceEvent, Event, MessageRef, Place, ReactionEvent
from bot.platforms.rocketchat.rest import RateLimited, RestError, Transport
from bot.platforms.rocketchat.rooms import RoomInfo
from bot.platforms.rocketchat.settings import PLATFORM
from bot.platforms.rocketchat.state import Bounded
from bot.platforms.rocketchat.types import Message, UserRef, ms
from bot.platforms.rocketchat.users import Users

CHOICE_KEYWORD = "choix"
"""``<prefix>choix <action>``: the command an action button posts."""
NUMBER_EMOJIS = (
    ":one:",
    ":two:",
    ":three:",
    ":four:",
    ":five:",
    ":six:",
    ":seven:",
    ":eight:",
    ":nine:",
    ":keycap_ten:",
)


class Reactions:
    """The last reactions seen on each message, and the events their changes make."""

    def __init__(
        self, transport: Transport, users: Users, dispatch: Callable[[Event], Awaitable[None]]
    ) -> None:
        self._transport = transport
        self._users = users
        self._dispatch = dispatch
        self._state = Bounded[dict[str, frozenset[str]]](5_000)

    def posted(self, msg_id: str) -> None:
        """The bot posts ``msg_id``: it has no reactions yet."""
        self._state.put(msg_id, {})

    async def changes(self, message: Message, room: RoomInfo) -> None:
        """Dispatch what changed in the reactions of ``message`` since it was last seen."""
        msg_id = str(message["_id"])
        new = reaction_state(message)
        old = self._state.get(msg_id) or {}
        self._state.put(msg_id, new)
        changes: list[tuple[str, str, bool]] = []
        for emoji, users in new.items():
            changes.extend(
                (emoji, user, True) for user in sorted(users - old.get(emoji, frozenset()))
            )
        for emoji, users in old.items():
            changes.extend(
                (emoji, user, False) for user in sorted(users - new.get(emoji, frozenset()))
            )
        if not changes:
            return
        author: UserRef | dict[str, str] = message.get("u") or {}
        own = author.get("_id") == self._transport.user_id
        choices: list[str] | None = None
        ts = ms(message.get("_updatedAt")) or ms(message.get("ts")) or 0
        at = datetime.fromtimestamp(ts / 1000, UTC)
        ref = MessageRef(PLATFORM, room.id, msg_id)
        for emoji, username, added in changes:
            if username == self._transport.username:
                continue
            user = await self._users.info(username=username)
            if user is None or user.is_bot:
                continue
            actor = self._users.actor_of(user)
            place = Place(
                PLATFORM, room.id, room.name or actor.display_name, is_direct=room.is_direct
            )
            if added and own and emoji in NUMBER_EMOJIS:
                if choices is None:
                    choices = await self._choices_of(message)
                index = NUMBER_EMOJIS.index(emoji)
                if index < len(choices):
                    await self._dispatch(
                        ChoiceEvent(actor=actor, place=place, at=at, action=choices[index], ref=ref)
                    )
                    continue
            author_actor = Actor(
                PLATFORM,
                str(author.get("_id", "")),
                str(author.get("name") or author.get("username") or ""),
            )
            await self._dispatch(
                ReactionEvent(
                    actor=actor,
                    place=place,
                    at=at,
                    ref=ref,
                    emoji=emoji,
                    added=added,
                    message_author=author_actor,
                    message_text=str(message.get("msg") or ""),
                )
            )

    async def _choices_of(self, message: Message) -> list[str]:
        actions = actions_in(message)
        if actions:
            return actions
        try:
            data = await self._transport.get_message(str(message["_id"]))
        except (RestError, RateLimited):
            return []
        stored = data.get("message")
        return actions_in(stored) if isinstance(stored, dict) else []


def actions_in(message: Message) -> list[str]:
    """The actions of the buttons of ``message``, in order."""
    actions: list[str] = []
    marker = f"{CHOICE_KEYWORD} "
    attachments: list[object] = [*(message.get("attachments") or [])]  # untrusted JSON
    for attachment in attachments:
        if not isinstance(attachment, dict):
            continue
        for action in attachment.get("actions") or []:
            text = action.get("msg") if isinstance(action, dict) else None
            if isinstance(text, str) and marker in text:
                actions.append(text.split(marker, 1)[1].strip())
    return actions


def reaction_state(message: Message) -> dict[str, frozenset[str]]:
    """Who reacted to ``message`` with each emoji."""
    reactions = message.get("reactions") or {}
    state: dict[str, frozenset[str]] = {}
    if isinstance(reactions, dict):
        for emoji, entry in reactions.items():
            users = entry.get("usernames") if isinstance(entry, dict) else None
            if isinstance(users, list) and users:
                state[str(emoji)] = frozenset(str(u) for u in users)
    return state
