"""A Slack Web API stand-in for tests: an in-memory workspace and a real HTTP server.

slack_sdk's ``WebClient`` talks to it over HTTP on 127.0.0.1 exactly as it talks to slack.com,
so tests exercise the real client code: the Bearer token, a JSON body for ``chat.postMessage``
and form bodies for the other methods, cursor pagination, and the client's retry handlers.

Typical use::

    state = SlackState(clock=1_700_000_000)
    state.add_channel("releases")
    with SlackServer(state) as server:
        client = server.client()  # WebClient(token=server.token, base_url=server.url + "/api/")
        client.chat_postMessage(
            channel="#releases",
            text="Shipping today",
            metadata={"event_type": "rollout_announcement", "event_payload": {"issue": 42}},
        )
        [message] = server.messages("releases")
        assert server.count("chat.postMessage") == 1

Methods: ``auth.test``, ``chat.postMessage``, ``conversations.history``, ``conversations.list``
and ``conversations.info``, with Slack's JSON shapes: ``{"ok": true, ...}``, errors as
``{"ok": false, "error": "..."}`` with HTTP 200 (``missing_scope`` adds ``needed`` and
``provided``), and rate limits as HTTP 429 with ``Retry-After`` and ``"error": "ratelimited"``.
The token travels as ``Authorization: Bearer`` or as the ``token`` field of a form body (Slack
refuses it in a query string or a JSON body); none is ``not_authed``, a wrong one
``invalid_auth``. Its scopes decide what it may do, as for a bot token: ``chat:write`` to post
(``chat:write.public`` also in public channels the bot is not in), ``channels:history`` or
``groups:history`` to read a public or private channel, ``channels:read`` or ``groups:read`` to
list or look one up. Method answers carry ``X-OAuth-Scopes``, as Slack's do.

Slack behaviour kept because product code depends on it:

- ``metadata`` is a JSON string in a form body or an object in a JSON body (slack_sdk sends
  ``chat.postMessage`` as JSON). Without a non-empty string ``event_type`` and an object
  ``event_payload`` the post fails with ``invalid_metadata_format``. An ``event_type`` with
  characters other than letters, digits, ``_`` and ``-`` is posted but its metadata dropped,
  with an ``invalid_metadata_schema`` warning (docs.slack.dev/messaging/message-metadata).
- ``conversations.history`` answers newest first, with ``has_more`` and, while more remain,
  ``response_metadata.next_cursor``; ``oldest`` and ``latest`` are exclusive unless
  ``inclusive``; ``limit`` defaults to 100 and stops at 999; messages carry ``metadata`` only
  when ``include_all_metadata`` is true.
- A message posted with the bot token has ``user`` (the bot user), ``bot_id``, ``app_id`` and
  ``bot_profile`` and no subtype, as a modern app's messages do; only a bot without a user (set
  up with ``bot_id=``, like a legacy integration) gets ``"subtype": "bot_message"``.
- A private channel the bot is not in does not exist for it (``channel_not_found``); a public
  one answers ``not_in_channel``.
- ``ts`` values come from the state's clock (injectable), unique and increasing.

Faults (:meth:`SlackServer.inject`) cover what a client has to survive: 429, 5xx with an HTML or
empty body, an ``ok: false`` answer, a slow answer, and a connection closed with no answer,
either before anything happened or after the message was posted: the case where a client that
retries on connection errors (slack_sdk's ``WebClient`` does, by default) posts twice.

Simplifications (on purpose): one workspace and one token; channels only (no DMs, threads,
attachments, reactions, edits or deletes); no size limits (``msg_too_long``,
``metadata_too_large``) and no metadata schemas from an app manifest; ``latest`` defaults to no
bound rather than "now", so messages set up after a fixed clock stay visible; cursors are opaque
base64 that never expire; every method accepts a JSON body; an unknown method answers HTTP 404
with ``unknown_method``.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from local_server import LocalServer, QuietHandler

Json = dict[str, Any]
Clock = Callable[[], float]

DEFAULT_TOKEN = "xoxb-test-0123456789-rollout"
DEFAULT_SCOPES = (
    "chat:write",
    "channels:read",
    "groups:read",
    "channels:history",
    "groups:history",
)
# Two posts within the same clock reading get ts values this far apart.
TS_STEP_MICROS = 100
HISTORY_LIMIT = (100, 999)  # default, maximum
LIST_LIMIT = (100, 999)
READ_SCOPES = {"public_channel": "channels:read", "private_channel": "groups:read"}
HISTORY_SCOPES = {"public_channel": "channels:history", "private_channel": "groups:history"}
# Types conversations.list accepts; DMs are not modelled, so mpim and im list nothing.
LIST_TYPES = {**READ_SCOPES, "mpim": "mpim:read", "im": "im:read"}
# chat.postMessage arguments that change how a message is rendered, kept on the message.
RENDER_OPTIONS = ("mrkdwn", "unfurl_links", "unfurl_media", "link_names", "parse")
EVENT_TYPE = re.compile(r"[A-Za-z0-9_-]+")
FAULT_KINDS = ("ratelimited", "status", "error", "slow", "drop", "drop_before")
HTTP_REASONS = {
    200: "OK",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


# --------------------------------------------------------------------------------------------
# Mentions

# Control sequences Slack turns into a notification: <!here>, <!channel>, <!everyone> (and the
# legacy <!group>), <!subteam^S123> (a user group), <@U123> or <@W123> (a user), each with an
# optional |label. Case is ignored, to err on the side of reporting. <!date^...>, <#C123>
# (a channel link) and <https://...> notify nobody.
_LIVE_MENTION = re.compile(
    r"<(?:!(?:here|channel|everyone|group)|!subteam\^[A-Z0-9]+|@[UW][A-Z0-9]+)(?:\|[^<>]*)?>",
    re.IGNORECASE,
)


def live_mentions(text: str) -> list[str]:
    """The control sequences in ``text`` that would notify someone when Slack renders it.

    Only a literal ``<`` opens a control sequence, so text escaped the way Slack asks
    (``&lt;!here&gt;``) gives none. A bare ``@here`` is plain text unless the message is posted
    with ``link_names`` or ``parse=full``; check the request log for those. Blocks can be
    checked with ``live_mentions(json.dumps(blocks))``.
    """
    return _LIVE_MENTION.findall(text)


# --------------------------------------------------------------------------------------------
# Timestamps


def ts_micros(ts: str | float) -> int:
    """A Slack ``ts`` (``"1700000000.000100"``) or Unix time, in microseconds."""
    try:
        value = Decimal(str(ts).strip())
    except InvalidOperation:
        raise ValueError(f"not a Slack timestamp: {ts!r}") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"not a Slack timestamp: {ts!r}")
    return int(value * 1_000_000)


def format_ts(micros: int) -> str:
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


# --------------------------------------------------------------------------------------------
# State model


@dataclass(frozen=True)
class Bot:
    """The app the token belongs to: its bot user, bot and app ids."""

    name: str
    user_id: str
    bot_id: str
    app_id: str


DEFAULT_BOT = Bot("rollout", "U0ROLLOUT1", "B0ROLLOUT1", "A0ROLLOUT1")


@dataclass
class Message:
    channel: str  # the channel id
    ts: str
    text: str
    user: str | None = None
    bot_id: str | None = None
    app_id: str | None = None
    blocks: list[Any] | None = None
    metadata: Json | None = None
    options: Json = field(default_factory=dict)  # RENDER_OPTIONS as posted, e.g. mrkdwn

    @property
    def micros(self) -> int:
        return ts_micros(self.ts)


@dataclass
class Channel:
    id: str
    name: str
    created: int
    is_private: bool = False
    is_member: bool = True
    is_archived: bool = False
    messages: list[Message] = field(default_factory=list)  # oldest first

    @property
    def kind(self) -> str:
        return "private_channel" if self.is_private else "public_channel"


class SlackState:
    """Everything the fake Slack knows: one workspace, its channels and their messages.

    All methods are thread-safe (one re-entrant lock). Channel arguments accept a
    :class:`Channel`, its id, ``#name`` or ``name``. The clock gives Unix seconds: a number
    fixes it, a callable is read on every post; the default is the real clock.
    """

    def __init__(
        self,
        *,
        team: str = "Rollout Test",
        team_id: str = "T0ROLLOUT1",
        domain: str = "rollout-test",
        bot: Bot = DEFAULT_BOT,
        clock: Clock | float | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.team = team
        self.team_id = team_id
        self.domain = domain
        self.bot = bot
        self.channels: dict[str, Channel] = {}
        self._clock: Clock = time.time
        self._last_micros = 0
        if clock is not None:
            self.set_clock(clock)

    # -- clock --------------------------------------------------------------------------------

    def set_clock(self, clock: Clock | float) -> None:
        """Fix the clock to a Unix time, or give a callable returning the current one."""
        if callable(clock):
            self._clock = clock
        else:
            fixed = float(clock)
            self._clock = lambda: fixed

    def advance(self, seconds: float) -> float:
        """Move the clock forward from its current reading and fix it there."""
        moved = self._clock() + seconds
        self.set_clock(moved)
        return moved

    def _next_ts(self, channel: Channel) -> str:
        """Now, or just after the last ts handed out; never one the channel already holds."""
        micros = max(ts_micros(repr(self._clock())), self._last_micros + TS_STEP_MICROS)
        taken = {m.micros for m in channel.messages}
        while micros in taken:
            micros += TS_STEP_MICROS
        self._last_micros = micros
        return format_ts(micros)

    # -- channels -----------------------------------------------------------------------------

    def add_channel(
        self,
        name: str,
        *,
        id: str | None = None,
        is_private: bool = False,
        is_member: bool = True,
        is_archived: bool = False,
    ) -> Channel:
        with self.lock:
            name = name.removeprefix("#")
            if self.find(name) is not None:
                raise ValueError(f"channel #{name} already exists")
            if id is not None and id in self.channels:
                raise ValueError(f"channel id {id} already exists")
            channel_id, number = id, len(self.channels)
            while channel_id is None or channel_id in self.channels:
                number += 1
                channel_id = f"C{number:010d}"
            channel = Channel(
                channel_id,
                name,
                int(self._clock()),
                is_private=is_private,
                is_member=is_member,
                is_archived=is_archived,
            )
            self.channels[channel_id] = channel
            return channel

    def find(self, ref: Channel | str) -> Channel | None:
        """The channel with this id, ``#name`` or ``name``, or None."""
        with self.lock:
            if isinstance(ref, Channel):
                return ref
            if ref in self.channels:
                return self.channels[ref]
            name = ref.removeprefix("#").lower()
            return next((c for c in self.channels.values() if c.name.lower() == name), None)

    def channel(self, ref: Channel | str) -> Channel:
        found = self.find(ref)
        if found is None:
            raise KeyError(f"no channel {ref!r}")
        return found

    # -- messages -----------------------------------------------------------------------------

    def add_message(
        self,
        channel: Channel | str,
        text: str = "",
        *,
        ts: str | float | None = None,
        user: str | None = None,
        bot_id: str | None = None,
        blocks: list[Any] | None = None,
        metadata: Json | None = None,
        options: Json | None = None,
    ) -> Message:
        """Put a message in a channel, as if it had been posted.

        By default the bot posts it (as ``chat.postMessage`` with the token would); ``user``
        makes it a person's message, ``bot_id`` alone a legacy integration's. ``ts`` defaults
        to the clock; an explicit one must be free in the channel.
        """
        with self.lock:
            target = self.channel(channel)
            if ts is None:
                stamp = self._next_ts(target)
            else:
                stamp = format_ts(ts_micros(ts))
                if any(m.ts == stamp for m in target.messages):
                    raise ValueError(f"#{target.name} already has a message at {stamp}")
            if user is None and bot_id is None:
                user, bot_id, app_id = self.bot.user_id, self.bot.bot_id, self.bot.app_id
            else:
                app_id = None
            message = Message(
                target.id,
                stamp,
                text,
                user=user,
                bot_id=bot_id,
                app_id=app_id,
                blocks=blocks,
                metadata=metadata,
                options=dict(options or {}),
            )
            bisect.insort(target.messages, message, key=lambda m: m.micros)
            return message

    def messages(self, channel: Channel | str) -> list[Message]:
        """The channel's messages, oldest first (a copy)."""
        with self.lock:
            return list(self.channel(channel).messages)

    # -- JSON ---------------------------------------------------------------------------------

    def channel_json(self, channel: Channel) -> Json:
        return {
            "id": channel.id,
            "name": channel.name,
            "name_normalized": channel.name,
            "is_channel": True,
            "is_group": False,
            "is_im": False,
            "is_mpim": False,
            "is_private": channel.is_private,
            "is_archived": channel.is_archived,
            "is_general": False,
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "is_member": channel.is_member,
            "created": channel.created,
            "creator": "",
            "context_team_id": self.team_id,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
            "previous_names": [],
        }

    def message_json(self, message: Message, *, include_metadata: bool) -> Json:
        body: Json = {"type": "message"}
        if message.bot_id is not None and message.user is None:
            body["subtype"] = "bot_message"
        body["text"] = message.text
        if message.user is not None:
            body["user"] = message.user
        if message.bot_id is not None:
            body["bot_id"] = message.bot_id
        if message.app_id is not None:
            body["app_id"] = message.app_id
        body["ts"] = message.ts
        body["team"] = self.team_id
        if message.bot_id == self.bot.bot_id:
            body["bot_profile"] = {
                "id": self.bot.bot_id,
                "app_id": self.bot.app_id,
                "user_id": self.bot.user_id,
                "name": self.bot.name,
                "deleted": False,
                "team_id": self.team_id,
            }
        if message.blocks is not None:
            body["blocks"] = message.blocks
        if include_metadata and message.metadata is not None:
            body["metadata"] = message.metadata
        return body


# --------------------------------------------------------------------------------------------
# HTTP server


@dataclass
class RecordedRequest:
    """One request the server received. The token is never kept: ``auth`` only says how it
    came (``Bearer``, ``form`` or None) and ``params`` never holds it.

    ``status`` is the HTTP status answered (for a ``drop`` fault, the one that would have been);
    ``error`` the Slack error code of an ``ok: false`` answer; ``at`` is ``time.monotonic()``
    when the request arrived, to measure how long a client waited between attempts.
    """

    method: str  # the API method, e.g. chat.postMessage
    http_method: str
    encoding: str  # of the body: json | form | none
    params: Json
    auth: str | None
    at: float
    status: int | None = None
    error: str | None = None
    fault: str | None = None


@dataclass
class Fault:
    kind: str
    method: str | None
    times: int
    retry_after: int
    status: int
    body: str
    error: str
    seconds: float


class SlackError(Exception):
    """An ``ok: false`` answer: ``error`` plus extra fields (``needed``, ``provided``)."""

    def __init__(self, error: str, **fields: str) -> None:
        super().__init__(error)
        self.error = error
        self.fields = fields


@dataclass
class _Answer:
    status: int
    body: Json | bytes
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def error(self) -> str | None:
        if isinstance(self.body, dict) and not self.body.get("ok"):
            return str(self.body.get("error"))
        return None


class SlackServer(LocalServer["RecordedRequest", "Fault"]):
    """A Slack Web API server on 127.0.0.1 (a free port), serving ``state`` from a daemon
    thread, with methods under ``/api/``.

    Use as a context manager, or call :meth:`start` and :meth:`stop`. ``scopes`` are the
    token's, in the order ``provided`` lists them. ``latency`` seconds pass before every
    answer, as a network round trip would add (requests are served concurrently, so concurrent
    requests wait it out together).
    """

    thread_name = "fake-slack"

    def __init__(
        self,
        state: SlackState | None = None,
        *,
        token: str = DEFAULT_TOKEN,
        scopes: Iterable[str] = DEFAULT_SCOPES,
        latency: float = 0.0,
    ) -> None:
        self.state = state or SlackState()
        self.token = token
        self.scopes = tuple(scopes)
        self.latency = latency
        super().__init__()

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    def client(self, **kwargs: Any) -> Any:
        """A ``slack_sdk.WebClient`` for this server with the token (kwargs passed through)."""
        from slack_sdk import WebClient

        kwargs.setdefault("token", self.token)
        return WebClient(base_url=self.url + "/api/", **kwargs)

    def messages(self, channel: Channel | str) -> list[Message]:
        """The channel's messages, oldest first: what was set up and what was posted."""
        return self.state.messages(channel)

    # -- request log --------------------------------------------------------------------------

    def count(self, method: str | None = None) -> int:
        """How many requests called this API method (all requests when None)."""
        return sum(1 for r in self.requests if method is None or r.method == method)

    # -- faults -------------------------------------------------------------------------------

    def inject(
        self,
        kind: str,
        *,
        method: str | None = None,
        times: int = 1,
        retry_after: int = 1,
        status: int = 503,
        body: str = "html",
        error: str = "fatal_error",
        seconds: float = 1.0,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (any method when None) fail.

        - ``ratelimited``: HTTP 429, ``Retry-After: retry_after``, ``"error": "ratelimited"``.
        - ``status``: HTTP ``status`` (5xx) with an HTML page (``body="html"``) or nothing
          (``body="empty"``), as a load balancer in front of Slack answers.
        - ``error``: HTTP 200 ``{"ok": false, "error": error}``; nothing is done.
        - ``slow``: sleep ``seconds``, then do the work and answer; the work is done even when
          the client has given up waiting.
        - ``drop``: do the work (the message IS posted), then close the connection without
          answering.
        - ``drop_before``: close the connection without doing anything.

        Each call consumes one use of the first matching fault, in the order they were
        injected, and is recorded with ``fault`` set to the kind.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"fault kind must be one of {', '.join(FAULT_KINDS)}, not {kind!r}")
        if kind == "status" and not 500 <= status <= 599:
            raise ValueError(f"status faults are 5xx, not {status}")
        if body not in ("html", "empty"):
            raise ValueError(f"body must be 'html' or 'empty', not {body!r}")
        self._add_fault(Fault(kind, method, times, retry_after, status, body, error, seconds))

    def _take_fault(self, method: str) -> Fault | None:
        return self._take_first_fault(lambda fault: fault.method in (None, method))

    # -- request handling ---------------------------------------------------------------------

    def _answer(self, method: str, params: Json, token: str | None) -> _Answer:
        headers = {"X-OAuth-Scopes": ",".join(self.scopes)}
        handler = _METHODS.get(method)
        if handler is None:
            return _Answer(404, {"ok": False, "error": "unknown_method", "req_method": method})
        try:
            if token is None:
                raise SlackError("not_authed")
            if token != self.token:
                raise SlackError("invalid_auth")
            call = _Call(self.state, self.scopes, params)
            return _Answer(200, {"ok": True, **handler(call)}, headers)
        except SlackError as failure:
            return _Answer(200, {"ok": False, "error": failure.error, **failure.fields}, headers)


@contextmanager
def running_slack(state: SlackState | None = None, **server_kwargs: Any) -> Iterator[SlackServer]:
    """``with running_slack(state) as server:`` — a started :class:`SlackServer`."""
    with SlackServer(state, **server_kwargs) as server:
        yield server


# --------------------------------------------------------------------------------------------
# API methods


class _Call:
    """One API call: the arguments and the token's scopes, against the state."""

    def __init__(self, state: SlackState, scopes: tuple[str, ...], params: Json) -> None:
        self.state = state
        self.scopes = scopes
        self.params = params

    def need(self, *scopes: str) -> None:
        """Answer ``missing_scope`` unless the token has one of ``scopes``."""
        if not any(scope in self.scopes for scope in scopes):
            raise SlackError("missing_scope", needed=",".join(scopes), provided=self.provided)

    @property
    def provided(self) -> str:
        return ",".join(self.scopes)

    def visible_channel(self, ref: Any, *, by_name: bool) -> Channel:
        """The channel named by ``ref`` (an id, or also a name when ``by_name``), as the bot
        sees it: a private channel it is not in does not exist."""
        channel = self.state.channels.get(ref) if isinstance(ref, str) else None
        if channel is None and by_name and isinstance(ref, str) and ref:
            channel = self.state.find(ref)
        if channel is None or (channel.is_private and not channel.is_member):
            raise SlackError("channel_not_found")
        return channel

    def limit(self, bounds: tuple[int, int]) -> int:
        default, maximum = bounds
        value = self.params.get("limit")
        if value in (None, ""):
            return default
        try:
            wanted = int(value)
        except (TypeError, ValueError):
            raise SlackError("invalid_limit") from None
        return default if wanted <= 0 else min(wanted, maximum)

    def flag(self, key: str) -> bool:
        return _bool(self.params.get(key))

    def json_arg(self, key: str, error: str) -> Any:
        """An argument that is JSON: a string in a form body, a value in a JSON body."""
        value = self.params.get(key)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise SlackError(error) from None
        return value


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true")
    return bool(value)


def _cursor(prefix: str, value: str) -> str:
    return base64.b64encode(f"{prefix}:{value}".encode()).decode()


def _read_cursor(cursor: Any, prefix: str) -> str | None:
    if cursor in (None, ""):
        return None
    try:
        decoded = base64.b64decode(str(cursor), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise SlackError("invalid_cursor") from None
    found, _, value = decoded.partition(":")
    if found != prefix or not value:
        raise SlackError("invalid_cursor")
    return value


def _metadata(raw: Any) -> tuple[Json | None, str | None]:
    """The metadata to keep and the warning to give, or ``invalid_metadata_format``."""
    if raw is None or raw == "":
        return None, None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise SlackError("invalid_metadata_format") from None
    if not isinstance(raw, dict):
        raise SlackError("invalid_metadata_format")
    event_type, payload = raw.get("event_type"), raw.get("event_payload")
    if not isinstance(event_type, str) or not event_type or not isinstance(payload, dict):
        raise SlackError("invalid_metadata_format")
    if not EVENT_TYPE.fullmatch(event_type):
        return None, "invalid_metadata_schema"
    return {"event_type": event_type, "event_payload": payload}, None


def _auth_test(call: _Call) -> Json:
    state = call.state
    return {
        "url": f"https://{state.domain}.slack.com/",
        "team": state.team,
        "user": state.bot.name,
        "team_id": state.team_id,
        "user_id": state.bot.user_id,
        "bot_id": state.bot.bot_id,
        "is_enterprise_install": False,
    }


def _chat_post_message(call: _Call) -> Json:
    call.need("chat:write")
    with call.state.lock:
        channel = call.visible_channel(call.params.get("channel"), by_name=True)
        if channel.is_archived:
            raise SlackError("is_archived")
        if not channel.is_member and "chat:write.public" not in call.scopes:
            raise SlackError("not_in_channel")
        text = str(call.params.get("text") or "")
        blocks = call.json_arg("blocks", "invalid_blocks_format")
        if blocks is not None and not isinstance(blocks, list):
            raise SlackError("invalid_blocks_format")
        if not text and not blocks:
            raise SlackError("no_text")
        metadata, warning = _metadata(call.params.get("metadata"))
        options = {
            key: call.params[key] if key == "parse" else _bool(call.params[key])
            for key in RENDER_OPTIONS
            if key in call.params
        }
        message = call.state.add_message(
            channel, text, blocks=blocks, metadata=metadata, options=options
        )
        answer: Json = {
            "channel": channel.id,
            "ts": message.ts,
            "message": call.state.message_json(message, include_metadata=True),
        }
    if warning is not None:
        answer["warning"] = warning
        answer["response_metadata"] = {"warnings": [warning]}
    return answer


def _conversations_history(call: _Call) -> Json:
    call.need(*HISTORY_SCOPES.values())
    oldest = _ts_param(call.params, "oldest", "invalid_ts_oldest")
    latest = _ts_param(call.params, "latest", "invalid_ts_latest")
    inclusive = call.flag("inclusive")
    limit = call.limit(HISTORY_LIMIT)
    start = _read_cursor(call.params.get("cursor"), "next_ts")
    if start is not None and not start.isdigit():
        raise SlackError("invalid_cursor")

    def in_range(message: Message) -> bool:
        micros = message.micros
        if oldest is not None and (micros < oldest or (micros == oldest and not inclusive)):
            return False
        if latest is not None and (micros > latest or (micros == latest and not inclusive)):
            return False
        return start is None or micros <= int(start)

    with call.state.lock:
        channel = call.visible_channel(call.params.get("channel"), by_name=False)
        call.need(HISTORY_SCOPES[channel.kind])
        if not channel.is_member:
            raise SlackError("not_in_channel")
        selected = [m for m in reversed(channel.messages) if in_range(m)]
        page, rest = selected[:limit], selected[limit:]
        include_metadata = call.flag("include_all_metadata")
        answer: Json = {
            "messages": [
                call.state.message_json(m, include_metadata=include_metadata) for m in page
            ],
            "has_more": bool(rest),
            "pin_count": 0,
        }
    if rest:
        answer["response_metadata"] = {"next_cursor": _cursor("next_ts", str(rest[0].micros))}
    return answer


def _ts_param(params: Json, key: str, error: str) -> int | None:
    value = params.get(key)
    if value in (None, ""):
        return None
    try:
        return ts_micros(value)
    except ValueError:
        raise SlackError(error) from None


def _conversations_list(call: _Call) -> Json:
    types = [t.strip() for t in str(call.params.get("types") or "public_channel").split(",")]
    if any(t not in LIST_TYPES for t in types):
        raise SlackError("invalid_types")
    missing = [LIST_TYPES[t] for t in types if LIST_TYPES[t] not in call.scopes]
    if missing:
        raise SlackError("missing_scope", needed=",".join(missing), provided=call.provided)
    limit = call.limit(LIST_LIMIT)
    start = _read_cursor(call.params.get("cursor"), "channel")
    exclude_archived = call.flag("exclude_archived")
    with call.state.lock:
        listed = [
            channel
            for _, channel in sorted(call.state.channels.items())
            if channel.kind in types
            and (channel.is_member or not channel.is_private)
            and not (exclude_archived and channel.is_archived)
            and (start is None or channel.id >= start)
        ]
        page, rest = listed[:limit], listed[limit:]
        return {
            "channels": [call.state.channel_json(channel) for channel in page],
            "response_metadata": {"next_cursor": _cursor("channel", rest[0].id) if rest else ""},
        }


def _conversations_info(call: _Call) -> Json:
    call.need(*READ_SCOPES.values())
    with call.state.lock:
        channel = call.visible_channel(call.params.get("channel"), by_name=False)
        call.need(READ_SCOPES[channel.kind])
        return {"channel": call.state.channel_json(channel)}


_METHODS: dict[str, Callable[[_Call], Json]] = {
    "auth.test": _auth_test,
    "chat.postMessage": _chat_post_message,
    "conversations.history": _conversations_history,
    "conversations.list": _conversations_list,
    "conversations.info": _conversations_info,
}


# --------------------------------------------------------------------------------------------
# HTTP plumbing


class _Handler(QuietHandler):
    def version_string(self) -> str:
        return "envoy"

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _handle(self, http_method: str) -> None:
        slack: SlackServer = self.server.owner
        arrived = time.monotonic()
        split = urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        method = split.path.removeprefix("/api/") if split.path.startswith("/api/") else ""
        if not method:
            self._send(None, _Answer(404, b""))
            return
        params, encoding, form_token, bad_json = _parse(
            split.query, raw, self.headers.get("Content-Type", "")
        )
        token = _bearer(self.headers.get("Authorization"))
        auth = None if token is None else "Bearer"
        if token is None and form_token is not None:
            token, auth = form_token, "form"
        record = RecordedRequest(method, http_method, encoding, params, auth, arrived)
        slack._record(record)
        if slack.latency:
            time.sleep(slack.latency)
        fault = slack._take_fault(method)
        if fault is not None:
            record.fault = fault.kind
            if fault.kind == "drop_before":
                self.close_connection = True
                return
            if fault.kind in ("ratelimited", "status", "error"):
                self._send(record, _fault_answer(fault))
                return
            if fault.kind == "slow":
                time.sleep(fault.seconds)
        if bad_json:
            answer = _Answer(200, {"ok": False, "error": "invalid_json"})
        else:
            try:
                answer = slack._answer(method, params, token)
            except Exception as error:  # a bug in the fake must not kill the thread
                slack.errors.append(error)
                answer = _Answer(500, {"ok": False, "error": "internal_error"})
        if fault is not None and fault.kind == "drop":  # done, but no answer
            record.status, record.error = answer.status, answer.error
            self.close_connection = True
            return
        self._send(record, answer)

    def _send(self, record: RecordedRequest | None, answer: _Answer) -> None:
        if isinstance(answer.body, dict):
            payload = json.dumps(answer.body).encode()
            content_type = "application/json; charset=utf-8"
        else:
            payload = answer.body
            content_type = "text/html; charset=utf-8"
        if record is not None:
            record.status, record.error = answer.status, answer.error
        try:
            self.send_response(answer.status, HTTP_REASONS.get(answer.status))
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


def _parse(query: str, raw: bytes, content_type: str) -> tuple[Json, str, str | None, bool]:
    """Arguments from the query string overlaid by the body, how the body was encoded, the
    token of a form body, and whether a JSON body failed to parse. A token is dropped from the
    arguments wherever it was: Slack takes it only from a header or a form body."""
    params: Json = dict(parse_qsl(query, keep_blank_values=True))
    params.pop("token", None)
    if not raw:
        return params, "none", None, False
    if "json" in content_type:
        try:
            parsed = json.loads(raw)
        except ValueError:
            return params, "json", None, True
        if not isinstance(parsed, dict):
            return params, "json", None, True
        parsed.pop("token", None)
        return {**params, **parsed}, "json", None, False
    form = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    token = form.pop("token", None)
    return {**params, **form}, "form", token or None, False


def _bearer(authorization: str | None) -> str | None:
    if authorization is None:
        return None
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def _fault_answer(fault: Fault) -> _Answer:
    if fault.kind == "ratelimited":
        return _Answer(
            429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(fault.retry_after)}
        )
    if fault.kind == "error":
        return _Answer(200, {"ok": False, "error": fault.error})
    if fault.body == "empty":
        return _Answer(fault.status, b"")
    title = f"{fault.status} {HTTP_REASONS.get(fault.status, 'Server Error')}"
    page = f"<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>"
    return _Answer(fault.status, page.encode())
