"""Text from issues is data: making it harmless wherever it lands.

Titles, descriptions, names and customer labels come from anyone who can open an issue.
They are never compiled as templates; here they are cleaned (control and direction
characters out, one line where one line is expected, bounded length), kept from
notifying anyone (mentions made inert, Slack control sequences escaped, GitLab quick
actions and rollout's own markers disarmed) and escaped for the format they land in.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from markupsafe import Markup, escape

# C0/C1 controls (ANSI escapes start with one), bidi embeddings and isolates that
# reorder what is shown, and invisible characters that can hide a mention ("@\u200ball").
# The zero-width joiner stays: emoji sequences need it.
_INVISIBLE = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u200c\u200e\u200f\u202a-\u202e"
    r"\u2060-\u2064\u2066-\u2069\ufeff]"
)
# @all, @here, @channel, @everyone, @username, @group/subgroup, @first.last
_MENTION = re.compile(
    r"(?<![\w`@])@[A-Za-z0-9_][A-Za-z0-9_.\-/]*[A-Za-z0-9_]|(?<![\w`@])@[A-Za-z0-9_]"
)
# A line GitLab would run as a quick action when the note is posted (/close, /assign ...).
_QUICK_ACTION = re.compile(r"^(\s*)/(?=[A-Za-z])", re.M)
TITLE_LIMIT = 300


def clean(text: str, *, multiline: bool = False, limit: int | None = None) -> str:
    """Normalised text without invisible or control characters.

    One line unless ``multiline`` (then CRLF and CR become LF); cut to ``limit`` characters.
    """
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _INVISIBLE.sub("", text)
    # Issue text must never carry a marker of rollout's own (it would fake an announcement).
    text = text.replace("<!-- rollout:", "<!-- rollout :")
    if multiline:
        text = "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")
    else:
        text = " ".join(text.split())
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def terminal_text(text: str, limit: int = 200) -> str:
    """One line, safe to print on a terminal: no control sequences, bounded length."""
    return clean(text, limit=limit)


# Credentials in URLs and in text that quotes them (an exception's message): the user:password@
# of a URL, and the value of any query parameter named like a credential.
_USERINFO = re.compile(r"(?<=://)[^/\s@'\"<>]+@")
_SECRET_PARAMETER = re.compile(
    r"(?i)((?:^|[?&;\s])[\w.\-]*(?:token|secret|passw|key|auth|sig|session|credential)"
    r"[\w.\-]*=)[^&;#\s'\"<>]+"
)
REDACTED = "***"
# The tokens this process uses, whatever their source (kept by whoever reads them).
_SECRETS: set[str] = set()


def keep_secret(value: str | None) -> None:
    """Remember a credential, so that redact() takes it out of any text."""
    if value:
        _SECRETS.add(value)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` without credentials: a URL's user:password@, query parameters named like
    tokens (private_token=, access_token=, job_token=, ...), the ``secrets`` and those kept
    with keep_secret()."""
    known = {*secrets, *_SECRETS}
    for secret in sorted({s for s in known if len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    text = _USERINFO.sub(f"{REDACTED}@", text)
    return _SECRET_PARAMETER.sub(lambda match: match.group(1) + REDACTED, text)


def _inert_mentions(text: str, wrap: Callable[[str], str]) -> str:
    return _MENTION.sub(lambda match: wrap(match.group(0)), text)


@dataclass(frozen=True)
class Format:
    """How untrusted text is made safe in one output format."""

    name: str
    inline: Callable[[str], str]  # a title or a name: one line
    block: Callable[[str], str]  # a description section: several lines


def _markdown_inline(text: str) -> str:
    text = clean(text, limit=TITLE_LIMIT)
    # HTML in Markdown: no <script>, no "<!--" that could fake rollout's marker.
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # Characters that would start Markdown formatting or a link in a title.
    text = re.sub(r"([\\`*_\[\]|])", r"\\\1", text)
    return _inert_mentions(text, lambda mention: f"`{mention}`")


def _markdown_block(text: str) -> str:
    text = clean(text, multiline=True, limit=20_000)
    text = text.replace("<", "&lt;").replace(">", "&gt;")
    text = _QUICK_ACTION.sub(r"\1\\/", text)
    return _inert_mentions(text, lambda mention: f"`{mention}`")


def _slack(text: str, *, multiline: bool) -> str:
    text = clean(text, multiline=multiline, limit=None if multiline else TITLE_LIMIT)
    # Slack's own escaping: with <, > and & escaped no <!channel>, <!here>, <@U123> or
    # <!subteam^...> survives as a control sequence.
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _inert_mentions(text, lambda mention: f"`{mention}`")


def _plain(text: str, *, multiline: bool) -> str:
    text = clean(text, multiline=multiline, limit=None if multiline else TITLE_LIMIT)
    return _inert_mentions(text, lambda mention: f"`{mention}`")


def _calendar(text: str, *, multiline: bool) -> str:
    """Plain text for iCal (which escapes its own syntax); some calendar apps render
    descriptions as HTML, so a tag-like "<" becomes a look-alike that is not markup."""
    text = _plain(text, multiline=multiline)
    return re.sub(r"<(?=[A-Za-z/!?])", "\u2039", text)


def _html(text: str, *, multiline: bool) -> Markup:
    text = clean(text, multiline=multiline, limit=None if multiline else TITLE_LIMIT)
    escaped = str(escape(text))
    return Markup(_inert_mentions(escaped, lambda mention: f"<code>{mention}</code>"))


FORMATS = {
    "md": Format("md", _markdown_inline, _markdown_block),
    "slack": Format(
        "slack", lambda t: _slack(t, multiline=False), lambda t: _slack(t, multiline=True)
    ),
    "text": Format(
        "text", lambda t: _plain(t, multiline=False), lambda t: _plain(t, multiline=True)
    ),
    "html": Format("html", lambda t: _html(t, multiline=False), lambda t: _html(t, multiline=True)),
    "ics": Format(
        "ics", lambda t: _calendar(t, multiline=False), lambda t: _calendar(t, multiline=True)
    ),
}
