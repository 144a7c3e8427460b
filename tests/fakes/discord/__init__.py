"""A fake Discord (REST API v10 and gateway) for end-to-end tests with the real discord.py.

Written from Discord's public API documentation (developers/events/gateway,
developers/events/gateway-events, developers/interactions/receiving-and-responding,
developers/interactions/application-commands, developers/resources/message,
developers/topics/rate-limits, developers/topics/opcodes-and-status-codes, developers/reference).
It serves, on 127.0.0.1 and one random port:

- ``/api/v10/...``: the REST routes a bot uses (users, gateway discovery, channels and messages
  with JSON or ``multipart/form-data`` bodies, direct-message channels, application commands,
  interaction callbacks and their webhook follow-ups), with Discord's error bodies
  (``{"code": ..., "message": ...}``), rate-limit headers on every answer and injectable 429s;
- ``/gateway`` (and ``/gateway-resume``, the ``resume_gateway_url``): the websocket gateway with
  HELLO (op 10), heartbeats (op 1 / ACK op 11), IDENTIFY (op 2) -> READY then GUILD_CREATE,
  RESUME (op 6) -> replay of the missed dispatches then RESUMED, RECONNECT (op 7),
  INVALID_SESSION (op 9), close codes 4004 / 4014, sequence numbers, intents, and the
  ``zlib-stream`` transport compression discord.py asks for;
- ``/attachments/...``: the "CDN" for uploaded files.

Behaviours reproduced because the adapter depends on them:

- ``enforce_nonce``: "If another message was created by the same author with the same nonce,
  that message will be returned and no new message will be created" (developers/resources/
  message, Create Message). The duplicate answer is ``200`` with the *first* message and no
  MESSAGE_CREATE is dispatched.
- An interaction must get its initial callback within 3 seconds (``response_deadline``), else
  the token is invalid (``10062 Unknown interaction``); a second callback is
  ``40060 Interaction has already been acknowledged``; a follow-up right after a
  DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE (type 5) edits the loading message (the documented,
  deprecated, backwards-compatible behaviour) and keeps its ephemeral state.
- 429 answers carry ``Retry-After``, ``X-RateLimit-*`` (with ``Scope``, and ``Global`` when
  global) and ``Via`` (Discord's answers go through Google's front end: discord.py treats a 429
  without ``Via`` as a Cloudflare ban) and the JSON body ``{"message", "retry_after", "global"}``.
- Messages to a user whose direct messages are closed: ``403 {"code": 50007,
  "message": "Cannot send messages to this user"}`` (the DM channel itself can be created),
  the JSON error body of developers/topics/opcodes-and-status-codes#json.
- ``allowed_mentions``: ``parse`` holds only ``roles``, ``users``, ``everyone``; ``users`` (at
  most 100) and ``"users"`` in ``parse`` are mutually exclusive (400 otherwise).
- Application commands: ``CHAT_INPUT`` names are lowercase; ``USER`` and ``MESSAGE`` (context
  menu) names may hold capitals and spaces, and take no description (Discord stores ``""``).
  A message command's interaction carries ``target_id`` and the message in
  ``data.resolved.messages``, content included whatever the intents.

Everything the bot did is recorded (``requests``, ``messages``, ``interactions``, gateway
``sessions``) for the tests to assert on; :meth:`FakeDiscord.wait_for` waits on a predicate
without sleeping. The payloads it serves are typed with the adapter's own payload types
(:mod:`bot.platforms.discord.types`).

The package's modules, one concern each, every server class adding one to the one below it:
``protocol`` (opcodes, intents, flags, limits), ``model`` (the world's objects, errors, recorded
requests), ``bodies`` (request bodies, components, command objects), ``state`` (the world, what
tests observe, faults), ``gateway`` (dispatches, the websocket protocol, payloads), ``messages``
and ``interactions`` (their REST endpoints), ``rest`` (routing, rate limits, the other endpoints,
the CDN) and ``server`` (:class:`FakeDiscord`: life cycle and simulated users).
"""

from tests.fakes.discord.model import (
    DiscordHTTPError,
    FakeChannel,
    FakeGuild,
    FakeInteraction,
    FakeMessage,
    FakeRole,
    FakeUser,
    GatewaySession,
    RecordedRequest,
)
from tests.fakes.discord.protocol import (
    API_PREFIX,
    ATTACHMENT_SIZE_LIMIT,
    CALLBACK_AUTOCOMPLETE_RESULT,
    CALLBACK_CHANNEL_MESSAGE,
    CALLBACK_DEFERRED_CHANNEL_MESSAGE,
    CALLBACK_DEFERRED_UPDATE_MESSAGE,
    CALLBACK_MODAL,
    CALLBACK_UPDATE_MESSAGE,
    CHANNEL_DM,
    CHANNEL_GUILD_TEXT,
    COMMAND_CHAT_INPUT,
    COMMAND_MESSAGE,
    COMMAND_USER,
    DISCORD_EPOCH_MS,
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    INTENT_DIRECT_MESSAGE_REACTIONS,
    INTENT_DIRECT_MESSAGES,
    INTENT_GUILD_MEMBERS,
    INTENT_GUILD_MESSAGE_REACTIONS,
    INTENT_GUILD_MESSAGES,
    INTENT_GUILD_PRESENCES,
    INTENT_GUILDS,
    INTENT_MESSAGE_CONTENT,
    INTERACTION_APPLICATION_COMMAND,
    INTERACTION_AUTOCOMPLETE,
    INTERACTION_MESSAGE_COMPONENT,
    INTERACTION_TOKEN_LIFETIME,
    MAX_BUTTON_LABEL,
    MAX_CONTENT,
    MAX_CUSTOM_ID,
    MAX_NONCE,
    MAX_SELECT_OPTIONS,
    MESSAGE_CHAT_INPUT_COMMAND,
    MESSAGE_DEFAULT,
    OP_DISPATCH,
    OP_HEARTBEAT,
    OP_HEARTBEAT_ACK,
    OP_HELLO,
    OP_IDENTIFY,
    OP_INVALID_SESSION,
    OP_PRESENCE_UPDATE,
    OP_RECONNECT,
    OP_REQUEST_GUILD_MEMBERS,
    OP_RESUME,
    OP_VOICE_STATE_UPDATE,
    OPTION_BOOLEAN,
    OPTION_INTEGER,
    OPTION_NUMBER,
    OPTION_STRING,
    OPTION_SUB_COMMAND,
    OPTION_SUB_COMMAND_GROUP,
    PRIVILEGED_INTENTS,
)
from tests.fakes.discord.server import FakeDiscord

__all__ = [
    "API_PREFIX",
    "ATTACHMENT_SIZE_LIMIT",
    "CALLBACK_AUTOCOMPLETE_RESULT",
    "CALLBACK_CHANNEL_MESSAGE",
    "CALLBACK_DEFERRED_CHANNEL_MESSAGE",
    "CALLBACK_DEFERRED_UPDATE_MESSAGE",
    "CALLBACK_MODAL",
    "CALLBACK_UPDATE_MESSAGE",
    "CHANNEL_DM",
    "CHANNEL_GUILD_TEXT",
    "COMMAND_CHAT_INPUT",
    "COMMAND_MESSAGE",
    "COMMAND_USER",
    "DISCORD_EPOCH_MS",
    "FLAG_EPHEMERAL",
    "FLAG_LOADING",
    "INTENT_DIRECT_MESSAGES",
    "INTENT_DIRECT_MESSAGE_REACTIONS",
    "INTENT_GUILDS",
    "INTENT_GUILD_MEMBERS",
    "INTENT_GUILD_MESSAGES",
    "INTENT_GUILD_MESSAGE_REACTIONS",
    "INTENT_GUILD_PRESENCES",
    "INTENT_MESSAGE_CONTENT",
    "INTERACTION_APPLICATION_COMMAND",
    "INTERACTION_AUTOCOMPLETE",
    "INTERACTION_MESSAGE_COMPONENT",
    "INTERACTION_TOKEN_LIFETIME",
    "MAX_BUTTON_LABEL",
    "MAX_CONTENT",
    "MAX_CUSTOM_ID",
    "MAX_NONCE",
    "MAX_SELECT_OPTIONS",
    "MESSAGE_CHAT_INPUT_COMMAND",
    "MESSAGE_DEFAULT",
    "OPTION_BOOLEAN",
    "OPTION_INTEGER",
    "OPTION_NUMBER",
    "OPTION_STRING",
    "OPTION_SUB_COMMAND",
    "OPTION_SUB_COMMAND_GROUP",
    "OP_DISPATCH",
    "OP_HEARTBEAT",
    "OP_HEARTBEAT_ACK",
    "OP_HELLO",
    "OP_IDENTIFY",
    "OP_INVALID_SESSION",
    "OP_PRESENCE_UPDATE",
    "OP_RECONNECT",
    "OP_REQUEST_GUILD_MEMBERS",
    "OP_RESUME",
    "OP_VOICE_STATE_UPDATE",
    "PRIVILEGED_INTENTS",
    "DiscordHTTPError",
    "FakeChannel",
    "FakeDiscord",
    "FakeGuild",
    "FakeInteraction",
    "FakeMessage",
    "FakeRole",
    "FakeUser",
    "GatewaySession",
    "RecordedRequest",
]
