"""Slack: messages in ``[slack] channel``, each carrying metadata that names what it is.

The only module that imports slack_sdk. The bot token comes only from ``SLACK_BOT_TOKEN``,
the API's base URL from ``SLACK_API_URL`` (default Slack's own). The channel's history, read
with its metadata, is the ledger (PRODUCT.md §8): it is read once a run, back to the oldest
day any of the run's announcements could have been posted, and read again after an attempt
that failed, so that a post whose answer was lost (a dropped connection, a 5xx) is never
made twice. Only the bot's own messages count (``auth.test`` says who it is, once a run):
anyone in the channel can post a message with the same metadata. slack_sdk's ``WebClient``
resends a request whose connection dropped by default; rollout builds it without retry
handlers and retries through the history check itself.
``ratelimited`` answers are retried after their ``Retry-After``.
"""

from __future__ import annotations

import http.client
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any
from urllib.error import URLError
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web import SlackResponse

from rollout.announce import Announcement
from rollout.config import Config
from rollout.delivery import Target
from rollout.due import LEDGER_DAYS, DueAnnouncement, Held
from rollout.errors import DeliveryError
from rollout.retry_after import retry_after_seconds
from rollout.safety import secret_variable

TOKEN_VARIABLE = "SLACK_BOT_TOKEN"
URL_VARIABLE = "SLACK_API_URL"
DEFAULT_URL = "https://slack.com/api/"
ANNOUNCEMENT_EVENT = "rollout_announcement"
DIGEST_EVENT = "rollout_digest"
ATTEMPTS = 4  # of each request, in all
LONGEST_WAIT = 120.0  # seconds: a longer Retry-After is a failure, not a wait
PAGES = 100  # of history or of the channel list, at most
TIMEOUT = 30  # seconds per request
# ok: false answers that say Slack had trouble, not that the request was wrong; the work may
# have been done (fatal_error), so a post is looked for again before it is retried.
TROUBLE = frozenset(("internal_error", "fatal_error", "service_unavailable", "request_timeout"))
TOKEN_TROUBLE = frozenset(
    ("invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired")
)
# Errors about one message only: the channel still takes the others.
MESSAGE_TROUBLE = frozenset(
    ("msg_too_long", "no_text", "invalid_blocks", "invalid_metadata_format", "metadata_too_large")
)
CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{6,}")
ERROR_CODE = re.compile(r"[a-z_]{1,60}")

# slack_sdk logs every failed request as an error; rollout reports failures itself, once.
_sdk_log = logging.getLogger("rollout.slack_sdk")
_sdk_log.addHandler(logging.NullHandler())
_sdk_log.propagate = False
log = logging.getLogger("rollout.slack")


class SlackFailure(DeliveryError):
    def __init__(
        self,
        message: str,
        *,
        transient: bool = False,
        retry_after: float | None = None,
        channel_wide: bool = True,
        settle: float = 0.0,
    ) -> None:
        super().__init__(message, transient=transient)
        self.retry_after = retry_after
        self.channel_wide = channel_wide  # every later post would fail the same way
        # Seconds a request that got no answer in time may still take to be carried out: a
        # post is looked for in the history only after them.
        self.settle = settle


@dataclass(frozen=True)
class Message:
    ts: str
    metadata: Mapping[str, Any] | None
    user: str | None = None
    bot_id: str | None = None


@dataclass(frozen=True)
class Identity:
    """Who the token posts as, by ``auth.test``: the bot user and, for a bot token, the bot."""

    user_id: str | None
    bot_id: str | None

    def wrote(self, message: Message) -> bool:
        return bool(
            (self.bot_id and message.bot_id == self.bot_id)
            or (self.user_id and message.user == self.user_id)
        )


@dataclass(frozen=True)
class Posted:
    posted: bool  # False: it was there already
    ts: str


Finder = Callable[[Sequence[Message]], Message | None]


def api_url(environ: Mapping[str, str]) -> str:
    """SLACK_API_URL as slack_sdk wants it: ending in /api/."""
    url = (environ.get(URL_VARIABLE) or DEFAULT_URL).strip().rstrip("/")
    split = urlsplit(url)
    if split.scheme not in ("http", "https") or not split.hostname:
        raise DeliveryError(
            f"{URL_VARIABLE} is not an http(s) URL; set it to the Slack Web API's base URL, "
            "e.g. https://slack.com/api/, or leave it unset"
        )
    if not url.endswith("/api"):
        url += "/api"
    return url + "/"


class SlackChannel:
    """One channel through slack_sdk's WebClient: its ledger, and posting at most once."""

    def __init__(self, client: WebClient, channel: str, url: str) -> None:
        self.client = client
        self.channel = channel.removeprefix("#")
        self.name = self.channel if CHANNEL_ID.fullmatch(self.channel) else f"#{self.channel}"
        split = urlsplit(url)
        self.host = split.hostname or "?"  # never the whole URL: it may carry credentials
        if split.port:
            self.host += f":{split.port}"
        self._id: str | None = None
        self._identity: Identity | None = None
        self._history: list[Message] | None = None
        self._since: datetime | None = None
        self._broken: SlackFailure | None = None

    @classmethod
    def connect(cls, channel: str, environ: Mapping[str, str] | None = None) -> SlackChannel:
        environ = os.environ if environ is None else environ
        try:
            token = secret_variable(TOKEN_VARIABLE, environ)
        except ValueError as error:
            raise DeliveryError(str(error)) from None
        if not token:
            raise DeliveryError(
                f"no Slack token: set {TOKEN_VARIABLE} to the bot token (xoxb-...) of the app "
                "that posts to the channel"
            )
        url = api_url(environ)
        # No retry handlers: the default one resends a post whose connection dropped.
        client = WebClient(
            token=token, base_url=url, timeout=TIMEOUT, retry_handlers=[], logger=_sdk_log
        )
        return cls(client, channel, url)

    # ------------------------------------------------------------------ reading

    def channel_id(self) -> str:
        """The channel's id: as configured, or looked up once by name (public channels)."""
        if self._id is not None:
            return self._id
        if CHANNEL_ID.fullmatch(self.channel):
            self._id = self.channel
            return self._id
        for answer in self._pages(
            f"looking up {self.name}",
            self.client.conversations_list,
            types="public_channel",
            exclude_archived=True,
        ):
            for found in answer.get("channels") or []:
                if str(found.get("name", "")).casefold() == self.channel.casefold():
                    self._id = str(found["id"])
                    return self._id
        raise SlackFailure(
            f"Slack channel {self.name} not found among the public channels the bot can see; "
            "check [slack] channel (a private channel is named by its id, and the bot invited)"
        )

    def identity(self) -> Identity:
        """Who the token posts as, asked once."""
        if self._identity is not None:
            return self._identity
        answer = self._read("finding out who the bot is", self.client.auth_test)
        data = answer.data if isinstance(answer.data, dict) else {}
        identity = Identity(_string_field(data, "user_id"), _string_field(data, "bot_id"))
        if identity.user_id is None and identity.bot_id is None:
            raise SlackFailure(
                f"Slack at {self.host} did not say whose token {TOKEN_VARIABLE} is (auth.test); "
                "try again later"
            )
        self._identity = identity
        return self._identity

    def ledger(self, since: datetime) -> list[Message]:
        """The bot's own messages since ``since``: the only ones whose metadata is trusted."""
        identity = self.identity()
        return [message for message in self.history(since) if identity.wrote(message)]

    def history(self, since: datetime) -> list[Message]:
        """The messages since ``since``, with their metadata: read once, and again only when
        an older one is asked for or a post failed."""
        if self._history is not None and self._since is not None and self._since <= since:
            return self._history
        channel = self.channel_id()
        messages = [
            _message(m)
            for answer in self._pages(
                f"reading the history of {self.name}",
                self.client.conversations_history,
                channel=channel,
                oldest=f"{since.timestamp():.6f}",
                include_all_metadata=True,
            )
            for m in answer.get("messages") or []
            if isinstance(m, dict)
        ]
        self._history, self._since = messages, since
        return messages

    # ------------------------------------------------------------------ posting

    def post_once(
        self, text: str, metadata: Mapping[str, Any], since: datetime, already_there: Finder
    ) -> Posted:
        """Post ``text`` with ``metadata`` unless ``already_there`` finds it in the ledger.

        A failed attempt may still have posted (a dropped connection, a 5xx): the history is
        read again before the next one, up to ATTEMPTS in all.
        """
        if self._broken is not None:
            raise self._broken
        last_error: SlackFailure | None = None
        for attempt in range(ATTEMPTS):
            if last_error is not None:
                self._wait(last_error, attempt)
            try:
                found = already_there(self.ledger(since))
            except SlackFailure as error:
                self._broken = error
                raise
            if found is not None:
                # Found after a failed attempt: that attempt did post it.
                return Posted(posted=last_error is not None, ts=found.ts)
            try:
                answer = self._request(
                    f"posting in {self.name}",
                    lambda: self.client.chat_postMessage(
                        channel=self.channel_id(),
                        text=text,
                        metadata=dict(metadata),
                        unfurl_links=False,
                        unfurl_media=False,
                    ),
                )
            except SlackFailure as error:
                if not error.transient:
                    if error.channel_wide:
                        self._broken = error
                    raise
                last_error = error
                self._history = None  # it may have gone through: read again first
                continue
            ts = str(answer.get("ts", ""))
            if self._history is not None:
                identity = self.identity()
                self._history.append(Message(ts, dict(metadata), identity.user_id, identity.bot_id))
            return Posted(posted=True, ts=ts)
        assert last_error is not None
        self._broken = last_error
        raise last_error

    # ------------------------------------------------------------------ requests

    def _pages(
        self, what: str, method: Callable[..., SlackResponse], **params: Any
    ) -> Iterator[SlackResponse]:
        """The answers of a paged read, cursor by cursor, PAGES at most."""
        cursor = ""
        for _ in range(PAGES):
            answer = self._read(what, partial(method, limit=999, cursor=cursor or None, **params))
            yield answer
            cursor = str((answer.get("response_metadata") or {}).get("next_cursor") or "")
            if not cursor:
                return
        raise SlackFailure(f"Slack kept answering with more pages while {what}; try again later")

    def _read(self, what: str, call: Callable[[], SlackResponse]) -> SlackResponse:
        """A read, retried (it changes nothing) after transient failures."""
        for attempt in range(ATTEMPTS):
            try:
                return self._request(what, call)
            except SlackFailure as error:
                if not error.transient or attempt == ATTEMPTS - 1:
                    raise
                self._wait(error, attempt + 1)
        raise AssertionError("unreachable")

    def _request(self, what: str, call: Callable[[], SlackResponse]) -> SlackResponse:
        log.debug("Slack: %s", what)
        try:
            return call()
        except SlackApiError as error:
            raise self._explain(error.response, what) from None
        except (URLError, OSError, http.client.HTTPException) as error:
            timed_out = isinstance(getattr(error, "reason", error), TimeoutError)
            raise SlackFailure(
                f"cannot reach Slack at {self.host} while {what}: {_network_reason(error)}",
                transient=True,
                settle=TIMEOUT if timed_out else 0.0,
            ) from None
        except (SlackClientError, ValueError, TypeError, AttributeError):
            # an answer slack_sdk could not make sense of (JSON that is not an object, ...)
            raise SlackFailure(
                f"Slack at {self.host} sent an answer rollout cannot read while {what}; "
                "try again later",
                transient=True,
            ) from None

    def _wait(self, error: SlackFailure, attempt: int) -> None:
        seconds = error.retry_after if error.retry_after is not None else 0.25 * 2 ** (attempt - 1)
        seconds = max(seconds, error.settle)
        if seconds > LONGEST_WAIT:
            raise SlackFailure(f"{error}; Slack asks to wait {seconds:g} s: try again later")
        time.sleep(seconds)

    def _explain(self, response: SlackResponse, what: str) -> SlackFailure:
        status = response.status_code
        data = response.data if isinstance(response.data, dict) else {}
        code = str(data.get("error") or "")
        if status == 429 or code == "ratelimited":
            return SlackFailure(
                f"Slack kept rate limiting (ratelimited) while {what}; try again later",
                transient=True,
                retry_after=_retry_after(response.headers),
            )
        if status >= 500:
            return SlackFailure(
                f"Slack answered HTTP {status} while {what}; try again later", transient=True
            )
        if not ERROR_CODE.fullmatch(code):
            return SlackFailure(
                f"Slack sent an answer that is not JSON while {what}; try again later",
                transient=True,
            )
        if code in TOKEN_TROUBLE:
            return SlackFailure(
                f"Slack rejected the token ({code}) while {what}; check {TOKEN_VARIABLE}"
            )
        if code == "missing_scope":
            needed = str(data.get("needed") or "?")
            return SlackFailure(
                f"the Slack token lacks the {needed} scope (needed for {what}); add it under "
                "OAuth & Permissions and reinstall the app"
            )
        if code == "channel_not_found":
            return SlackFailure(
                f"Slack channel {self.name} not found while {what}; check [slack] channel "
                "(for a private channel, invite the bot first)"
            )
        if code == "not_in_channel":
            return SlackFailure(
                f"the bot is not in {self.name} ({what}); invite it there with /invite"
            )
        if code in TROUBLE:
            return SlackFailure(
                f"Slack failed ({code}) while {what}; try again later", transient=True
            )
        return SlackFailure(
            f"Slack refused this ({code}) while {what}", channel_wide=code not in MESSAGE_TROUBLE
        )


def _message(data: Mapping[str, Any]) -> Message:
    return Message(
        str(data.get("ts", "")),
        data.get("metadata"),
        _string_field(data, "user"),
        _string_field(data, "bot_id"),
    )


def _string_field(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and value else None


def _retry_after(headers: Mapping[str, Any]) -> float:
    for name, value in headers.items():
        if name.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) and value else value
            wait = retry_after_seconds(str(raw))
            return 1.0 if wait is None else wait
    return 1.0


def _network_reason(error: BaseException) -> str:
    reason = getattr(error, "reason", None)
    if isinstance(reason, BaseException):
        error = reason
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, TimeoutError):
        return f"no answer within {TIMEOUT} s"
    if isinstance(error, ConnectionError | http.client.HTTPException):
        return "the connection was closed before the answer"
    return type(error).__name__


def midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=zone)


# --------------------------------------------------------------------------- announcements


def announcement_metadata(project: str, due: DueAnnouncement) -> dict[str, Any]:
    """What a Slack announcement carries, naming it (PRODUCT.md §8)."""
    return {
        "event_type": ANNOUNCEMENT_EVENT,
        "event_payload": {
            "project": project,
            "iid": due.iid,
            "phase": due.phase,
            "deploy": due.deploy_date.isoformat(),
            "day": due.as_of.isoformat(),
        },
    }


def held_in_channel(messages: Iterable[Message], project: str) -> list[Held]:
    """The announcements of ``project`` the messages' metadata names (the caller passes only
    the bot's own, SlackChannel.ledger); anything else, or metadata that does not parse, is
    ignored."""
    held = []
    for message in messages:
        payload = _payload(message, ANNOUNCEMENT_EVENT)
        if payload is None or payload.get("project") != project:
            continue
        try:
            iid = payload["iid"]
            if not isinstance(iid, int) or isinstance(iid, bool):
                continue
            deploy = date.fromisoformat(str(payload["deploy"]))
            day = date.fromisoformat(str(payload["day"]))
        except (KeyError, ValueError):
            continue
        held.append(Held(iid, str(payload.get("phase")), deploy, day))
    return held


def _payload(message: Message, event_type: str) -> Mapping[str, Any] | None:
    metadata = message.metadata
    if not isinstance(metadata, Mapping) or metadata.get("event_type") != event_type:
        return None
    payload = metadata.get("event_payload")
    return payload if isinstance(payload, Mapping) else None


class SlackTarget(Target):
    """A message in [slack] channel, rendered from the Slack template, with metadata naming
    the announcement; the channel's history is the ledger."""

    name = "slack"
    format = "slack"

    def __init__(self, channel: SlackChannel, project: str, zone: ZoneInfo) -> None:
        self.channel = channel
        self.project = project
        self.zone = zone

    @classmethod
    def connect(cls, config: Config, project: str) -> SlackTarget:
        assert config.slack.channel is not None  # the config requires one with this target
        return cls(SlackChannel.connect(config.slack.channel), project, config.schedule.zone)

    def missing(self, dues: Sequence[DueAnnouncement]) -> list[DueAnnouncement]:
        if not dues:
            return []
        since = midnight(min(due.look_back for due in dues), self.zone)
        held = held_in_channel(self.channel.ledger(since), self.project)
        return [due for due in dues if not due.held_in(held)]

    def deliver(self, due: DueAnnouncement, announcement: Announcement) -> str:
        def already_there(messages: Sequence[Message]) -> Message | None:
            return next(
                (m for m in messages if due.held_in(held_in_channel([m], self.project))), None
            )

        outcome = self.channel.post_once(
            announcement.text,
            announcement_metadata(self.project, due),
            midnight(due.look_back, self.zone),
            already_there,
        )
        what = f"the {due.phase} announcement of #{due.iid} for {due.deploy_date}"
        if outcome.posted:
            return f"posted {what} in {self.channel.name} (ts {outcome.ts})"
        return f"{what} is already in {self.channel.name} (ts {outcome.ts}); nothing posted"


# --------------------------------------------------------------------------- the digest


def digest_metadata(project: str, week: date) -> dict[str, Any]:
    return {"event_type": DIGEST_EVENT, "event_payload": {"project": project, "week": str(week)}}


def digest_channel(config: Config) -> SlackChannel:
    """The channel the digest goes to; an error before anything is read when there is none
    or no token."""
    if config.slack.channel is None:
        raise DeliveryError('no Slack channel: set [slack] channel = "..." in rollout.toml')
    return SlackChannel.connect(config.slack.channel)


def post_digest(channel: SlackChannel, project: str, week: date, text: str, zone: ZoneInfo) -> str:
    """Post the Support Week in Review of ``week`` (its Sunday) once: not when a message
    with its metadata is in the channel already. Says what was done."""

    def already_there(messages: Sequence[Message]) -> Message | None:
        for message in messages:
            payload = _payload(message, DIGEST_EVENT)
            if payload and payload.get("project") == project and payload.get("week") == str(week):
                return message
        return None

    since = midnight(week - timedelta(days=LEDGER_DAYS), zone)
    outcome = channel.post_once(text, digest_metadata(project, week), since, already_there)
    if outcome.posted:
        return f"posted the Support Week in Review of {week} in {channel.name} (ts {outcome.ts})"
    return (
        f"the Support Week in Review of {week} is already in {channel.name} "
        f"(ts {outcome.ts}); nothing posted"
    )
