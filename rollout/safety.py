"""Text from issues is data: making it harmless wherever it lands.

Titles, descriptions, names and customer labels come from anyone who can open an issue.
They are never compiled as templates; here they are cleaned (control and direction
characters out, one line where one line is expected, bounded length), kept from
notifying anyone (mentions made inert, Slack control sequences escaped, GitLab quick
actions and rollout's own markers disarmed) and escaped for the format they land in.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

# C0/C1 controls (ANSI escapes start with one), bidi embeddings and isolates that
# reorder what is shown, and invisible characters that can hide a mention ("@\u200ball").
# The zero-width joiner stays: emoji sequences need it.
_INVISIBLE = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u200c\u200e\u200f\u202a-\u202e"
    r"\u2060-\u2064\u2066-\u2069\ufeff]"
)
# GitLab's own rule (User.reference_pattern): "@" not preceded by a word character -- Ruby's
# \w, ASCII letters, digits and "_" only, so "é@all", "(@all", "`@all" and "@@all" all
# notify -- then a user or group path (Gitlab::PathRegex). This one matches a little more.
_MENTION = re.compile(r"(?<![A-Za-z0-9_])@[A-Za-z0-9_.\-/]*[A-Za-z0-9_\-]")
_LONG_BACKTICKS = re.compile(r"`{17,}")
# A line that opens or closes a fenced code block (CommonMark: up to 3 spaces, then 3 or
# more backticks or tildes; a backtick fence's info string has no backtick).
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
# A "]" that would close a link's text before "(destination)" or a "[label]: definition",
# unless a backslash already escapes it.
_LINK_CLOSER = re.compile(r"(?<!\\)((?:\\\\)*)\](?=[(:])")
# "&" opening an HTML entity ("&#64;" is "@" once Markdown or HTML reads it).
_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
# "<" opening a Slack control sequence (<!channel>, <!here>, <@U123>, <#C123>,
# <!subteam^ID>), a Slack link (<https://...|text>) or an HTML tag.
_ANGLE_OPENER = re.compile(r"<(?=[A-Za-z/!?@#])")
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
    # A mention's code span is fenced with one backtick more than the longest run: bounded.
    text = _LONG_BACKTICKS.sub("`" * 16, text)
    # Issue text must never carry a marker of rollout's own (it would fake an announcement).
    text = text.replace("<!-- rollout:", "<!-- rollout :")
    if multiline:
        text = "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")
    else:
        text = " ".join(text.split())
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def safe_url(url: str) -> str:
    """An http(s) URL with nothing that could end a Markdown or Slack link or an HTML
    attribute, or "" (an issue's web_url comes from the tracker, or from a snapshot file
    anyone wrote)."""
    if not re.match(r"^https?://[^\s<>\"'()\\|`]+$", url):
        return ""
    return url


def terminal_text(text: str, limit: int = 200) -> str:
    """One line, safe to print on a terminal (no control sequences, bounded length) and to
    paste into chat from there, like plain text (rollout.safety's "text" format)."""
    return _plain(text, multiline=False, limit=limit)


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
    """Remember a credential, so that redact() takes it out of any text: as it is, and
    without the white space around it (an error may show it escaped, ``token\\n``)."""
    if value:
        _SECRETS.update(form for form in (value, value.strip()) if form)


def secret_variable(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The credential in the environment variable ``name``, kept secret and without the
    line break a file or a CI variable often leaves around it; None when unset or blank.

    Raises ValueError when white space or control characters remain inside it: no HTTP
    header can carry them."""
    raw = (os.environ if environ is None else environ).get(name)
    keep_secret(raw)
    value = (raw or "").strip()
    if any(character.isspace() or not character.isprintable() for character in value):
        raise ValueError(
            f"{name} has white space or control characters inside it; set it to the token alone"
        )
    return value or None


def without_kept_secrets(text: str) -> str:
    """``text`` without the credentials this process uses: one pasted into an issue is
    never repeated in rollout's output. (Cheap: a substring search per credential.)"""
    for secret in _SECRETS:
        if len(secret) >= 4 and secret in text:
            text = text.replace(secret, REDACTED)
    return text


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` without credentials: a URL's user:password@, query parameters named like
    tokens (private_token=, access_token=, job_token=, ...), the ``secrets`` and those kept
    with keep_secret()."""
    known = {*secrets, *_SECRETS}
    for secret in sorted({s for s in known if len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    text = _USERINFO.sub(f"{REDACTED}@", text)
    return _SECRET_PARAMETER.sub(lambda match: match.group(1) + REDACTED, text)


# service_desk_address: the project's incoming e-mail address, which holds a token.
_SECRET_KEY = re.compile(r"token|secret|passw|credential|service_desk_address", re.IGNORECASE)


def without_secrets(data: Any) -> Any:
    """JSON without credentials, to keep in a file: no key named like one (a project's
    ``runners_token``), and no credentials in the URLs of the strings left (redact)."""
    if isinstance(data, dict):
        return {
            key: without_secrets(value)
            for key, value in data.items()
            if not _SECRET_KEY.search(str(key))
        }
    if isinstance(data, list):
        return [without_secrets(item) for item in data]
    if isinstance(data, str):
        return redact(data)
    return data


def _code_mentions(text: str) -> str:
    """Every mention in a code span, where neither GitLab nor Slack notifies anyone.

    The span's fence is one backtick longer than any backtick run in ``text``, so no
    backtick of the text can close it or pair with it; a backtick or backslash just before
    or after it is kept apart by a space, so that it cannot merge with the fence or escape
    it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)

    def wrap(match: re.Match[str]) -> str:
        before = text[match.start() - 1] if match.start() > 0 else ""
        after = text[match.end()] if match.end() < len(text) else ""
        left = " " if before in ("`", "\\") else ""
        right = " " if after == "`" else ""
        return f"{left}{fence}{match.group(0)}{fence}{right}"

    return _MENTION.sub(wrap, text)


def _html_mentions(escaped: str) -> str:
    return _MENTION.sub(lambda match: f"<code>{match.group(0)}</code>", escaped)


def code_lines(text: str) -> Iterator[tuple[str, bool]]:
    """Each line of ``text`` and whether it belongs to a fenced code block (its fences
    included); see _fence_step."""
    opened: str | None = None
    for line in text.split("\n"):
        opened, in_code = _fence_step(line, opened)
        yield line, in_code


def _fence_step(line: str, opened: str | None) -> tuple[str | None, bool]:
    """The fence open after ``line``, given the one open before it, and whether the line is
    code (a fence included), by CommonMark's rules: a fence is three or more backticks or
    tildes indented three spaces at most, a backtick fence's info string holds no backtick,
    and a block is closed by a bare fence of the same kind at least as long."""
    found = _FENCE.match(line)
    if found is not None:
        run, rest = found.groups()
        if opened is None and not (run[0] == "`" and "`" in rest):
            return run, True
        if opened and run[0] == opened[0] and len(run) >= len(opened) and not rest.strip():
            return None, True
    return opened, opened is not None


def _close_fences(text: str) -> str:
    """``text`` with a fence closing a code block it leaves open, so that the block cannot
    swallow what follows it (the rest of a note, and its marker)."""
    opened: str | None = None
    for line in text.split("\n"):
        opened, _ = _fence_step(line, opened)
    return text if opened is None else f"{text}\n{opened}"


def _disarm_links(text: str) -> str:
    """No link or image made from issue text: a "]" before "(" or ":" is escaped, so
    "[https://good.example](https://evil.example)" shows both addresses as written (GitLab
    then links the real one), and no "[label]: address" definition exists for a reference
    link to use. Fenced code blocks are left as they are."""
    return "\n".join(
        line if in_code else _LINK_CLOSER.sub(r"\1\\]", line) for line, in_code in code_lines(text)
    )


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
    return _code_mentions(text)


def _markdown_block(text: str) -> str:
    text = clean(text, multiline=True, limit=20_000)
    # "&#64;all" is "@all" to GitLab: no entity either.
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _QUICK_ACTION.sub(r"\1\\/", text)
    return _close_fences(_code_mentions(_disarm_links(text)))


def _slack(text: str, *, multiline: bool) -> str:
    text = clean(text, multiline=multiline, limit=None if multiline else TITLE_LIMIT)
    # Slack's own escaping: with <, > and & escaped no <!channel>, <!here>, <@U123> or
    # <!subteam^...> survives as a control sequence.
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _code_mentions(text)
    return _close_fences(text) if multiline else text


def _plain(text: str, *, multiline: bool, limit: int = TITLE_LIMIT) -> str:
    """Plain text, which gets pasted into chat: no live mention, no Slack control sequence
    or link (a "<" that would open one becomes a look-alike, as does an entity's "&"), no
    code block left open."""
    text = clean(text, multiline=multiline, limit=None if multiline else limit)
    text = _ENTITY.sub("\uff06", _ANGLE_OPENER.sub("\u2039", text))
    text = _code_mentions(text)
    return _close_fences(text) if multiline else text


def _html(text: str, *, multiline: bool) -> Markup:
    text = clean(text, multiline=multiline, limit=None if multiline else TITLE_LIMIT)
    return Markup(_html_mentions(str(escape(text))))


FORMATS = {
    "md": Format("md", _markdown_inline, _markdown_block),
    "slack": Format(
        "slack", lambda t: _slack(t, multiline=False), lambda t: _slack(t, multiline=True)
    ),
    "text": Format(
        "text", lambda t: _plain(t, multiline=False), lambda t: _plain(t, multiline=True)
    ),
    "html": Format("html", lambda t: _html(t, multiline=False), lambda t: _html(t, multiline=True)),
    # iCal escapes its own syntax; some calendar apps render descriptions as HTML, and plain
    # text's look-alike "<" keeps a tag from being markup there.
    "ics": Format("ics", lambda t: _plain(t, multiline=False), lambda t: _plain(t, multiline=True)),
}
