"""The payloads Discord and the adapter exchange, as ``TypedDict``s.

Shared by the adapter (the application commands it registers, the interactions and messages it
reads) and the fake Discord (``tests/fakes/discord``), which builds what discord.py receives.
Written from Discord's API reference (resources/message, resources/user, resources/guild,
interactions/receiving-and-responding, interactions/application-commands,
interactions/message-components); only the fields either side uses are listed. Ids are
snowflakes in their string form. Nothing here is checked at run time: the adapter still reads
what it receives defensively, so the fields it does without are ``NotRequired``.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypeAlias, TypedDict

Snowflake: TypeAlias = str
"""A Discord id, as JSON carries it."""
Localizations: TypeAlias = dict[str, str]
"""Locale (``fr``) -> text."""

# --- users, guilds -----------------------------------------------------------------------------


class User(TypedDict):
    id: Snowflake
    username: str
    discriminator: str
    global_name: str | None
    avatar: str | None
    public_flags: NotRequired[int]
    bot: NotRequired[bool]
    verified: NotRequired[bool]
    mfa_enabled: NotRequired[bool]
    flags: NotRequired[int]


class Member(TypedDict):
    """A guild member (without ``user`` where the event carries the user apart)."""

    user: NotRequired[User]
    nick: NotRequired[str | None]
    avatar: NotRequired[str | None]
    roles: list[Snowflake]
    joined_at: str
    premium_since: NotRequired[str | None]
    deaf: bool
    mute: bool
    flags: int
    pending: NotRequired[bool]
    communication_disabled_until: NotRequired[str | None]
    permissions: NotRequired[str]
    """In interactions: the member's permissions in the channel."""


class RoleColors(TypedDict):
    primary_color: int
    secondary_color: int | None
    tertiary_color: int | None


class Role(TypedDict):
    id: Snowflake
    name: str
    color: int
    colors: NotRequired[RoleColors]
    hoist: bool
    icon: str | None
    unicode_emoji: str | None
    position: int
    permissions: str
    managed: bool
    mentionable: bool
    flags: int


ChannelType: TypeAlias = int
"""0 guild text, 1 direct message (and more the bot does not use)."""


class Channel(TypedDict):
    id: Snowflake
    type: ChannelType
    guild_id: NotRequired[Snowflake]
    name: NotRequired[str]
    position: NotRequired[int]
    permission_overwrites: NotRequired[list[dict[str, Any]]]
    nsfw: NotRequired[bool]
    parent_id: NotRequired[Snowflake | None]
    topic: NotRequired[str | None]
    last_message_id: NotRequired[Snowflake | None]
    rate_limit_per_user: NotRequired[int]
    recipients: NotRequired[list[User]]
    """A direct message channel's other member."""
    flags: NotRequired[int]


# --- messages ----------------------------------------------------------------------------------


class PartialEmoji(TypedDict):
    id: Snowflake | None
    name: str | None
    animated: NotRequired[bool]


class Attachment(TypedDict):
    id: Snowflake
    filename: str
    size: int
    url: str
    proxy_url: str
    content_type: NotRequired[str]
    description: NotRequired[str]
    width: NotRequired[int | None]
    height: NotRequired[int | None]


class AllowedMentions(TypedDict, total=False):
    """Who a message may ping: ``parse`` kinds, or exactly these ``users`` / ``roles``."""

    parse: list[Literal["roles", "users", "everyone"]]
    users: list[Snowflake]
    roles: list[Snowflake]
    replied_user: bool


class InteractionMetadata(TypedDict):
    id: Snowflake
    type: int
    user: User
    authorizing_integration_owners: dict[str, Snowflake]


class Message(TypedDict):
    """A message (also as ``data.resolved.messages`` gives it to a message command)."""

    id: Snowflake
    channel_id: Snowflake
    author: NotRequired[User]
    content: NotRequired[str]
    """Empty without the Message Content intent, but in direct messages and mentions."""
    timestamp: NotRequired[str]
    edited_timestamp: NotRequired[str | None]
    tts: NotRequired[bool]
    mention_everyone: NotRequired[bool]
    mentions: NotRequired[list[User]]
    mention_roles: NotRequired[list[Snowflake]]
    attachments: NotRequired[list[Attachment]]
    embeds: NotRequired[list[dict[str, Any]]]
    pinned: NotRequired[bool]
    type: NotRequired[int]
    flags: NotRequired[int]
    components: NotRequired[list[ActionRow]]
    nonce: NotRequired[str | int]
    application_id: NotRequired[Snowflake]
    webhook_id: NotRequired[Snowflake]
    interaction_metadata: NotRequired[InteractionMetadata]
    guild_id: NotRequired[Snowflake]
    """Only in gateway events."""
    member: NotRequired[Member]
    """Only in gateway events (and in ``resolved``): the author as a member."""


class ReactionAdd(TypedDict):
    """``MESSAGE_REACTION_ADD`` (and ``_REMOVE``, without ``member``)."""

    user_id: Snowflake
    channel_id: Snowflake
    message_id: Snowflake
    emoji: PartialEmoji
    message_author_id: NotRequired[Snowflake]
    burst: bool
    type: int
    guild_id: NotRequired[Snowflake]
    member: NotRequired[Member]


# --- components --------------------------------------------------------------------------------

ButtonStyle: TypeAlias = Literal[1, 2, 3, 4, 5, 6]
"""Primary, secondary, success, danger, link, premium."""


class Button(TypedDict):
    type: Literal[2]
    style: ButtonStyle
    label: NotRequired[str]
    emoji: NotRequired[PartialEmoji]
    custom_id: NotRequired[str]
    """``tis:<action>`` for the bot's choices."""
    url: NotRequired[str]
    disabled: NotRequired[bool]


class SelectOption(TypedDict):
    label: str
    value: str
    """The action, for the bot's choices."""
    description: NotRequired[str]
    emoji: NotRequired[PartialEmoji]
    default: NotRequired[bool]


class SelectMenu(TypedDict):
    type: Literal[3]
    custom_id: str
    """``tis|<n>`` for the bot's choices."""
    options: list[SelectOption]
    placeholder: NotRequired[str]
    min_values: NotRequired[int]
    max_values: NotRequired[int]
    disabled: NotRequired[bool]


class ActionRow(TypedDict):
    type: Literal[1]
    components: list[Button | SelectMenu]


# --- application commands ----------------------------------------------------------------------

CommandType: TypeAlias = Literal[1, 2, 3]
"""Chat input (a slash command), user (context menu), message (context menu)."""
OptionType: TypeAlias = Literal[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
"""Subcommand, subcommand group, string, integer, boolean, user, channel, role, mentionable,
number, attachment."""


class OptionChoice(TypedDict):
    name: str
    name_localizations: NotRequired[Localizations | None]
    value: str | int | float


class CommandOption(TypedDict):
    """An option of a command, or a subcommand (which has options of its own)."""

    type: OptionType
    name: str
    name_localizations: NotRequired[Localizations | None]
    description: str
    description_localizations: NotRequired[Localizations | None]
    required: NotRequired[bool]
    choices: NotRequired[list[OptionChoice]]
    options: NotRequired[list[CommandOption]]
    channel_types: NotRequired[list[ChannelType]]
    min_value: NotRequired[int | float]
    max_value: NotRequired[int | float]
    min_length: NotRequired[int]
    max_length: NotRequired[int]
    autocomplete: NotRequired[bool]


class ApplicationCommand(TypedDict):
    """What the bot registers (``PUT /applications/{id}/commands``) and what Discord then shows,
    with ``id``, ``application_id`` and ``version`` added."""

    type: CommandType
    name: str
    name_localizations: NotRequired[Localizations | None]
    description: NotRequired[str]
    """Required for slash commands; Discord refuses one on a message command (and shows ``""``)."""
    description_localizations: NotRequired[Localizations | None]
    options: NotRequired[list[CommandOption]]
    default_member_permissions: NotRequired[str | None]
    """``"0"``: hidden from members until a server admin allows it."""
    nsfw: NotRequired[bool]
    contexts: NotRequired[list[int] | None]
    integration_types: NotRequired[list[int]]
    dm_permission: NotRequired[bool]
    id: NotRequired[Snowflake]
    application_id: NotRequired[Snowflake]
    version: NotRequired[Snowflake]
    guild_id: NotRequired[Snowflake]


# --- interactions ------------------------------------------------------------------------------

InteractionType: TypeAlias = Literal[1, 2, 3, 4, 5]
"""Ping, application command, message component, autocomplete, modal submit."""


class CommandDataOption(TypedDict):
    """An option as an interaction gives it: a value, or a subcommand's options."""

    name: str
    type: OptionType
    value: NotRequired[str | int | float | bool]
    options: NotRequired[list[CommandDataOption]]
    focused: NotRequired[bool]
    """Autocomplete: the option being typed."""


class ResolvedData(TypedDict, total=False):
    messages: dict[Snowflake, Message]
    users: dict[Snowflake, User]
    members: dict[Snowflake, Member]
    channels: dict[Snowflake, Channel]
    roles: dict[Snowflake, Role]
    attachments: dict[Snowflake, Attachment]


class CommandData(TypedDict):
    """``data`` of an application-command or autocomplete interaction."""

    id: Snowflake
    name: str
    type: CommandType
    options: NotRequired[list[CommandDataOption]]
    target_id: NotRequired[Snowflake]
    """A message command: the message it was opened on (in ``resolved.messages``)."""
    resolved: NotRequired[ResolvedData]
    guild_id: NotRequired[Snowflake]


class ComponentData(TypedDict):
    """``data`` of a click on a button or a choice in a select menu."""

    custom_id: str
    component_type: Literal[2, 3]
    values: NotRequired[list[str]]


class PartialGuild(TypedDict):
    id: Snowflake
    locale: str
    features: list[str]


class Interaction(TypedDict):
    """``INTERACTION_CREATE``."""

    id: Snowflake
    application_id: Snowflake
    type: InteractionType
    data: NotRequired[CommandData | ComponentData]
    channel_id: Snowflake
    channel: NotRequired[Channel]
    token: str
    version: Literal[1]
    app_permissions: str
    locale: str
    entitlements: list[dict[str, Any]]
    attachment_size_limit: int
    authorizing_integration_owners: NotRequired[dict[str, Snowflake]]
    context: NotRequired[int]
    """0 in a server, 1 in a direct message with the bot."""
    guild_id: NotRequired[Snowflake]
    guild: NotRequired[PartialGuild]
    guild_locale: NotRequired[str]
    member: NotRequired[Member]
    """In a server: who interacted."""
    user: NotRequired[User]
    """In a direct message: who interacted."""
    message: NotRequired[Message]
    """A component's message."""


CallbackType: TypeAlias = Literal[1, 4, 5, 6, 7, 8, 9]
"""Pong, channel message, deferred channel message ("thinking"), deferred update, update
message, autocomplete result, modal."""


class CallbackData(TypedDict, total=False):
    content: str
    flags: int
    components: list[ActionRow]
    allowed_mentions: AllowedMentions
    attachments: list[dict[str, Any]]
    embeds: list[dict[str, Any]]
    tts: bool
    choices: list[OptionChoice]
    """An autocomplete result."""


class InteractionCallback(TypedDict):
    type: CallbackType
    data: NotRequired[CallbackData]


# --- REST and gateway --------------------------------------------------------------------------


class ErrorBody(TypedDict):
    """Discord's JSON error: ``{"code": 50007, "message": "Cannot send messages to this user"}``."""

    code: int
    message: str
    errors: NotRequired[dict[str, Any]]


RateLimitBody = TypedDict("RateLimitBody", {"message": str, "retry_after": float, "global": bool})
"""The body of a 429."""


class Application(TypedDict):
    """``GET /oauth2/applications/@me``: the online check reads ``id`` and ``flags``."""

    id: Snowflake
    name: str
    icon: str | None
    description: str
    bot_public: bool
    bot_require_code_grant: bool
    owner: NotRequired[User]
    verify_key: str
    flags: NotRequired[int]
    """``GATEWAY_MESSAGE_CONTENT`` (1 << 18) or ``..._LIMITED`` (1 << 19) when the Message
    Content intent is enabled."""
    team: dict[str, Any] | None
    summary: NotRequired[str]
    bot: NotRequired[User]


class SessionStartLimit(TypedDict):
    total: int
    remaining: int
    reset_after: int
    max_concurrency: int


class GatewayBot(TypedDict):
    """``GET /gateway/bot``."""

    url: str
    shards: int
    session_start_limit: SessionStartLimit


class GatewayPayload(TypedDict):
    """One gateway frame (HELLO, HEARTBEAT_ACK, RECONNECT, INVALID_SESSION...)."""

    op: int
    d: NotRequired[Any]
    s: NotRequired[int | None]
    t: NotRequired[str | None]


class Dispatch(TypedDict):
    """A gateway event (``op`` 0) named ``t``, with the session's sequence number ``s``."""

    op: Literal[0]
    t: str
    s: int
    d: Any
