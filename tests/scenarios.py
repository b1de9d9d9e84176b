"""Scenario stories: readable text that seeds a :class:`~gitlab_server.GitLabState`.

Example::

    project gitlab-com/gl-security/corp/cust-support-ops/issue-tracker
    user alice "Alice Requester"
    milestone "CustSuppOps Deployment 2027-02-01" start 2027-01-01 due 2027-02-01
    feature 12 "Add a refund macro" by alice, C2, customers Support-EMEA Support-AMER, assignee bob:
      2027-01-03 triage by bob
      2027-01-05 development; 2027-01-10 validation
      2027-01-12 received
      2027-01-13 14:30 implementation add Priority::2
    bug 13 "Fix the SLA trigger" by carol, C3: 2027-01-04 triage; 2027-01-06 development
    link 13 blocked by 12
    note 12 by bob on 2027-01-20: "Ships on the 1st"
    close 12 on 2027-02-02 by bob

Grammar, one statement a line (``#`` starts a comment; words are case-insensitive, names are not)::

    project PATH [id N]           the project the following lines talk about (created)
    tier free | tier premium      free: scoped labels are not exclusive (default premium)
    now DATETIME                  fix the server clock (what notes posted over HTTP get)
    ops USER                      default actor of stage moves, closes and notes (default: ops)
    prefix FAMILY "PREFIX"        rename a label family: stage validation request_type criticality
                                  deployment customer priority (e.g. prefix stage "Flow::")
    user USER ["Full Name"]       declare a user (others are created on first mention)
    milestone "TITLE" [start DATE] [due DATE] [closed] [description "TEXT"] [created DATETIME]
    KIND IID "TITLE" [by USER] [, OPTION]... [: EVENTS]
        KIND    feature | bug | admin | incident
                -> RequestType::Feature|Bug|Administrative|Incident; issue -> no request type
        OPTION  C1..C4 | criticality C2 | priority 1..4 | customers NAME... | customer NAME... |
                deployment NAME | due DATE | milestone "TITLE" | assignee(s) USER... |
                labels LABEL... | description "TEXT" | created DATETIME | confidential
        Indented lines that follow hold more EVENTS for this issue; a line ending with ','
        goes on with more OPTIONs on the next indented line.
    events IID: [EVENTS]          more events for an issue declared earlier (indented lines too)
    link IID blocks IID | link IID blocked by IID | link IID relates to IID  [on DATETIME]
    note IID [by USER] [on DATETIME]: "TEXT"
    close IID on DATETIME [by USER]      reopen IID on DATETIME [by USER]

    EVENTS    EVENT [; EVENT]...
    EVENT     DATETIME ACTION... [by USER]   -- one edit: its label changes share one timestamp
    ACTION    triage | planning | scheduling | queued | development | validation | implementation |
              completed | blocked | backlogged               -> add Stage::<Word>
              received | rejected | awaiting | skipped | requested  -> add Validation::<Word>
              add LABEL | remove LABEL | close | reopen | note "TEXT"
    DATETIME  YYYY-MM-DD [HH:MM], UTC; 09:00 when the time is left out

Names with spaces are quoted (``customers "Support EMEA"``); quoted text understands ``\\"``,
``\\\\`` and ``\\n``. Semantics:

- An issue is created at its ``created`` time, else one hour before the earliest dated line about
  it; its initial labels (kind, criticality, customers, ...) get ``add`` events then, by its author.
- ``by`` defaults to the issue's author for an event with a validation word, else to the ops user.
- Stage and validation words only *add* a label; the server's scoped-label rule removes the old one
  in the same edit. In a ``tier free`` story both stay unless the story says ``remove ...``.
- Outside ``tier free``, asking for two labels of one scope at once (``customers A B`` with the
  scoped ``Customer::`` prefix) is an error: GitLab would keep only the last one.
- Everything dated is applied in time order (story order breaks ties), so ids grow with time as in
  GitLab. Two separate events at the same minute are two edits with the same timestamp.
- Milestones and users exist before anything dated; a milestone is created at ``created``, else at
  its start date, else its due date, else with the project.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from gitlab_server import GitLabState, NotFound, label_scope

STAGES = (
    "triage",
    "planning",
    "scheduling",
    "queued",
    "development",
    "validation",
    "implementation",
    "completed",
    "blocked",
    "backlogged",
)
VALIDATIONS = ("received", "rejected", "awaiting", "skipped", "requested")
KINDS = {
    "feature": "Feature",
    "bug": "Bug",
    "admin": "Administrative",
    "administrative": "Administrative",
    "incident": "Incident",
    "issue": None,
}
EVENT_WORDS = (*STAGES, *VALIDATIONS, "add", "remove", "close", "reopen", "note", "by")
DEFAULT_TIME = (9, 0)
CREATED_BEFORE_FIRST_EVENT = timedelta(hours=1)
DEFAULT_OPS_USER = "ops"


@dataclass(frozen=True)
class LabelNames:
    """The label prefixes a story writes (PRODUCT.md §5 ``[labels]``)."""

    stage: str = "Stage::"
    validation: str = "Validation::"
    request_type: str = "RequestType::"
    criticality: str = "Criticality::"
    deployment: str = "Deployment::"
    customer: str = "Customer::"
    priority: str = "Priority::"


class StoryError(ValueError):
    """A line of a story that cannot be understood; says which line and why."""

    def __init__(self, line_no: int, line: str, problem: str) -> None:
        super().__init__(f"story line {line_no}: {problem}\n    {line.strip()}")
        self.line_no = line_no
        self.problem = problem


def load_story(
    text: str, state: GitLabState | None = None, labels: LabelNames | None = None
) -> GitLabState:
    """Seed ``state`` (a new one when None) from a story and return it."""
    story = _Story(state or GitLabState(), labels or LabelNames())
    for line_no, line, continuation in _logical_lines(text):
        story.read(line_no, line, continuation)
    story.apply()
    return story.state


# --------------------------------------------------------------------------------------------
# Tokens

_TOKEN = re.compile(
    r'\s*(?:(?P<string>"(?:[^"\\]|\\.)*")'
    r"|(?P<sep>[,;]|:(?=\s|$))"
    # a word may hold ':' when more follows (Stage::Triage, 09:30) but not end with it
    r'|(?P<word>(?:[^\s,;:"]|:(?=[^\s,;]))+))'
)


@dataclass
class _Token:
    kind: str  # word | string | sep
    value: str


class _Line:
    """The tokens of one story line, read left to right."""

    def __init__(self, line_no: int, text: str) -> None:
        self.line_no = line_no
        self.text = text
        self.tokens = self._tokenize(text)
        self.pos = 0

    def _tokenize(self, text: str) -> list[_Token]:
        tokens: list[_Token] = []
        pos = 0
        while pos < len(text):
            if not text[pos:].strip():
                break
            found = _TOKEN.match(text, pos)
            if found is None or found.end() == pos:
                raise self.error(f"cannot read {text[pos:].strip()[:20]!r} (unbalanced quote?)")
            kind = found.lastgroup or "word"
            value = found.group(kind)
            if kind == "string":
                value = _unquote(value[1:-1])
            tokens.append(_Token(kind, value))
            pos = found.end()
        return tokens

    def error(self, problem: str) -> StoryError:
        return StoryError(self.line_no, self.text, problem)

    def at_end(self) -> bool:
        return self.pos >= len(self.tokens)

    def peek(self) -> _Token | None:
        return None if self.at_end() else self.tokens[self.pos]

    def peek_word(self) -> str | None:
        token = self.peek()
        return token.value.lower() if token and token.kind == "word" else None

    def next(self, what: str) -> _Token:
        token = self.peek()
        if token is None:
            raise self.error(f"expected {what} at the end of the line")
        self.pos += 1
        return token

    def name(self, what: str) -> str:
        """A bare word or a quoted string."""
        token = self.next(what)
        if token.kind == "sep":
            raise self.error(f"expected {what}, found {token.value!r}")
        return token.value

    def string(self, what: str) -> str:
        token = self.next(what)
        if token.kind != "string":
            raise self.error(f"expected {what} in double quotes, found {token.value!r}")
        return token.value

    def keyword(self, *words: str) -> str:
        token = self.next(" or ".join(words))
        if token.kind != "word" or token.value.lower() not in words:
            raise self.error(f"expected {' or '.join(words)}, found {token.value!r}")
        return token.value.lower()

    def accept(self, *words: str) -> str | None:
        word = self.peek_word()
        if word in words:
            self.pos += 1
            return word
        return None

    def accept_sep(self, sep: str) -> bool:
        token = self.peek()
        if token and token.kind == "sep" and token.value == sep:
            self.pos += 1
            return True
        return False

    def integer(self, what: str) -> int:
        token = self.next(what)
        if token.kind != "word" or not token.value.isdigit():
            raise self.error(f"expected {what} (a number), found {token.value!r}")
        return int(token.value)

    def names_until_sep(self, what: str) -> list[str]:
        names = []
        while (token := self.peek()) is not None and token.kind != "sep":
            names.append(self.name(what))
        if not names:
            raise self.error(f"expected at least one {what}")
        return names

    def date(self) -> date:
        token = self.next("a date (YYYY-MM-DD)")
        try:
            return date.fromisoformat(token.value)
        except ValueError:
            raise self.error(f"expected a date (YYYY-MM-DD), found {token.value!r}") from None

    def datetime(self) -> datetime:
        day = self.date()
        hour, minute = DEFAULT_TIME
        word = self.peek_word()
        if word and re.fullmatch(r"\d{1,2}:\d{2}", word):
            self.pos += 1
            hour, minute = (int(part) for part in word.split(":"))
            if hour > 23 or minute > 59:
                raise self.error(f"{word!r} is not a time of day")
        return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)

    def starts_with_date(self) -> bool:
        word = self.peek_word()
        return word is not None and re.fullmatch(r"\d{4}-\d{2}-\d{2}", word) is not None

    def done(self) -> None:
        token = self.peek()
        if token is not None:
            raise self.error(f"unexpected {token.value!r}")


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), text)


def _logical_lines(text: str) -> list[tuple[int, str, bool]]:
    """(line number, text without comment, whether it is indented), blank lines left out."""
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = _strip_comment(raw)
        if stripped.strip():
            lines.append((number, stripped, raw[:1] in (" ", "\t")))
    return lines


def _strip_comment(line: str) -> str:
    in_string = False
    escaped = False
    for index, char in enumerate(line):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            in_string = not in_string
        elif char == "#" and not in_string and (index == 0 or line[index - 1].isspace()):
            return line[:index].rstrip()
    return line.rstrip()


# --------------------------------------------------------------------------------------------
# Statements


@dataclass
class _Event:
    at: datetime
    add: list[str] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)
    state: str | None = None  # close | reopen
    notes: list[str] = field(default_factory=list)
    by: str | None = None
    validation: bool = False


@dataclass
class _IssueSpec:
    project: str
    iid: int
    title: str
    kind: str | None
    line_no: int
    text: str
    author: str | None = None
    labels: list[str] = field(default_factory=list)
    milestone: str | None = None
    due_date: date | None = None
    assignees: list[str] = field(default_factory=list)
    description: str | None = None
    created: datetime | None = None
    confidential: bool = False


@dataclass
class _Dated:
    """A dated change to one or two issues; ``at`` None means "just after both exist" (links)."""

    line_no: int
    text: str
    issues: list[tuple[str, int]]
    at: datetime | None
    run: Callable[[datetime], object]


class _Story:
    def __init__(self, state: GitLabState, labels: LabelNames) -> None:
        self.state = state
        self.labels = labels
        self.ops_user = DEFAULT_OPS_USER
        self.project: str | None = None
        self.issues: dict[tuple[str, int], _IssueSpec] = {}
        self.current: _IssueSpec | None = None
        # An issue line ending with ',' continues with more options on the next (indented) line.
        self.open_header: _IssueSpec | None = None
        self.dated: list[_Dated] = []
        self.milestones: list[tuple[_Line, str, str, dict[str, Any]]] = []

    # -- reading --------------------------------------------------------------------------------

    def read(self, line_no: int, text: str, continuation: bool) -> None:
        line = _Line(line_no, text)
        if continuation:
            if self.open_header is not None:
                self._issue_options(line, self.open_header)
            elif self.current is None:
                raise line.error("an indented line must follow an issue or an 'events' line")
            else:
                self._events(line, self.current)
            return
        if self.open_header is not None:
            raise line.error("the issue line above ends with ',': indent its remaining options")
        self.current = None
        word = line.peek_word()
        readers: dict[str, Callable[[_Line], None]] = {
            "project": self._project,
            "tier": self._tier,
            "now": self._now,
            "ops": self._ops,
            "prefix": self._prefix,
            "user": self._user,
            "milestone": self._milestone,
            "events": self._more_events,
            "link": self._link,
            "note": self._note,
            "close": self._state_change,
            "reopen": self._state_change,
        }
        if word in KINDS:
            self._issue(line)
        elif word in readers:
            readers[word](line)
        else:
            found = line.peek()
            raise line.error(
                f"unknown statement {found.value if found else ''!r}; expected one "
                f"of {', '.join([*readers, *KINDS])}"
            )

    def _project(self, line: _Line) -> None:
        line.keyword("project")
        path = line.name("a project path")
        project_id = line.integer("a project id") if line.accept("id") else None
        line.done()
        try:
            self.state.project(path)
        except NotFound:
            self.state.add_project(path, id=project_id)
        self.project = path

    def _tier(self, line: _Line) -> None:
        line.keyword("tier")
        tier = line.keyword("free", "premium", "ultimate")
        line.done()
        self.state.scoped_labels_exclusive = tier != "free"

    def _now(self, line: _Line) -> None:
        line.keyword("now")
        moment = line.datetime()
        line.done()
        self.state.set_clock(moment)

    def _ops(self, line: _Line) -> None:
        line.keyword("ops")
        self.ops_user = line.name("a username")
        line.done()

    def _prefix(self, line: _Line) -> None:
        line.keyword("prefix")
        family = line.name("a label family").lower()
        families = [f.name for f in fields(LabelNames)]
        if family not in families:
            raise line.error(
                f"unknown label family {family!r}; expected one of {', '.join(families)}"
            )
        self.labels = replace(self.labels, **{family: line.name("a prefix")})
        line.done()

    def _user(self, line: _Line) -> None:
        line.keyword("user")
        username = line.name("a username")
        name = line.string("a full name") if not line.at_end() else None
        line.done()
        self.state.add_user(username, name)

    def _milestone(self, line: _Line) -> None:
        line.keyword("milestone")
        project = self._require_project(line)
        title = line.name("a milestone title")
        options: dict[str, Any] = {}
        while not line.at_end():
            word = line.keyword("start", "due", "closed", "active", "description", "created")
            if word == "start":
                options["start_date"] = line.date()
            elif word == "due":
                options["due_date"] = line.date()
            elif word in ("closed", "active"):
                options["state"] = word
            elif word == "description":
                options["description"] = line.string("a description")
            else:
                options["created_at"] = line.datetime()
        self.milestones.append((line, project, title, options))

    def _issue(self, line: _Line) -> None:
        kind = KINDS[line.keyword(*KINDS)]
        project = self._require_project(line)
        iid = line.integer("an issue number")
        title = line.string("a title")
        if (project, iid) in self.issues:
            raise line.error(
                f"issue {iid} is already in the story; add to it with 'events {iid}: ...'"
            )
        spec = _IssueSpec(project, iid, title, kind, line.line_no, line.text)
        self.issues[(project, iid)] = spec
        self.current = spec
        self._issue_options(line, spec)

    def _issue_options(self, line: _Line, spec: _IssueSpec) -> None:
        """Options up to ':' (then events follow) or the end of the line."""
        self.open_header = None
        while not line.at_end():
            if line.accept_sep(":"):
                self._events(line, spec)
                return
            if line.accept_sep(","):
                if line.at_end():
                    self.open_header = spec
                continue
            self._issue_option(line, spec)

    def _issue_option(self, line: _Line, spec: _IssueSpec) -> None:
        token = line.next("an option")
        word = token.value.lower()
        names = self.labels
        if token.kind != "word":
            raise line.error(f"expected an option, found {token.value!r}")
        if re.fullmatch(r"c[1-4]", word):
            spec.labels.append(f"{names.criticality}{word.upper()}")
        elif word == "criticality":
            spec.labels.append(f"{names.criticality}{line.name('a criticality').upper()}")
        elif word == "priority":
            spec.labels.append(f"{names.priority}{line.name('a priority')}")
        elif word in ("customer", "customers"):
            spec.labels += [f"{names.customer}{n}" for n in line.names_until_sep("customer")]
        elif word == "deployment":
            spec.labels.append(f"{names.deployment}{line.name('a deployment type')}")
        elif word in ("label", "labels"):
            spec.labels += line.names_until_sep("label")
        elif word in ("assignee", "assignees"):
            spec.assignees += line.names_until_sep("username")
        elif word == "by":
            spec.author = line.name("a username")
        elif word == "due":
            spec.due_date = line.date()
        elif word == "milestone":
            spec.milestone = line.name("a milestone title")
        elif word == "description":
            spec.description = line.string("a description")
        elif word == "created":
            spec.created = line.datetime()
        elif word == "confidential":
            spec.confidential = True
        else:
            raise line.error(
                f"unknown issue option {token.value!r}; expected C1..C4, criticality, priority, "
                "customers, deployment, labels, assignee, by, due, milestone, description, "
                "created or confidential"
            )

    def _more_events(self, line: _Line) -> None:
        line.keyword("events")
        spec = self._known_issue(line, line.integer("an issue number"))
        line.accept_sep(":")
        self.current = spec
        self._events(line, spec)

    def _events(self, line: _Line, spec: _IssueSpec) -> None:
        while not line.at_end():
            if not line.accept_sep(";"):
                event = self._event(line)
                self.dated.append(
                    _Dated(
                        line.line_no,
                        line.text,
                        [(spec.project, spec.iid)],
                        event.at,
                        self._event_runner(spec, event),
                    )
                )

    def _event(self, line: _Line) -> _Event:
        if not line.starts_with_date():
            token = line.peek()
            found = token.value if token else "nothing"
            raise line.error(f"an event starts with a date (YYYY-MM-DD), found {found!r}")
        event = _Event(line.datetime())
        names = self.labels
        while (token := line.peek()) is not None and (token.kind, token.value) != ("sep", ";"):
            word = token.value.lower()
            if token.kind != "word" or word not in EVENT_WORDS:
                raise line.error(
                    f"unknown event word {token.value!r}; expected a stage ({', '.join(STAGES)}), "
                    f"a validation word ({', '.join(VALIDATIONS)}), add LABEL, remove LABEL, "
                    'close, reopen, note "TEXT" or by USER'
                )
            line.pos += 1
            if word in STAGES:
                event.add.append(f"{names.stage}{word.capitalize()}")
            elif word in VALIDATIONS:
                event.add.append(f"{names.validation}{word.capitalize()}")
                event.validation = True
            elif word == "add":
                event.add.append(line.name("a label"))
            elif word == "remove":
                event.remove.append(line.name("a label"))
            elif word in ("close", "reopen"):
                event.state = word
            elif word == "note":
                event.notes.append(line.string("the note's text"))
            else:
                event.by = line.name("a username")
        if not (event.add or event.remove or event.state or event.notes):
            raise line.error("an event needs an action, e.g. '2027-01-05 development'")
        return event

    def _event_runner(self, spec: _IssueSpec, event: _Event) -> Callable[[datetime], object]:
        def run(at: datetime) -> None:
            author = spec.author or self.ops_user
            actor = event.by or (author if event.validation else self.ops_user)
            self._check_scopes(event.add)
            if event.add or event.remove:
                self.state.change_labels(
                    spec.project, spec.iid, add=event.add, remove=event.remove, at=at, by=actor
                )
            if event.state == "close":
                self.state.close_issue(spec.project, spec.iid, at, actor)
            elif event.state == "reopen":
                self.state.reopen_issue(spec.project, spec.iid, at, actor)
            for body in event.notes:
                self.state.add_note(spec.project, spec.iid, body, actor, at)

        return run

    def _link(self, line: _Line) -> None:
        line.keyword("link")
        project = self._require_project(line)
        iid = line.integer("an issue number")
        relation = line.keyword("blocks", "blocked", "is", "relates")
        if relation == "is":
            relation = line.keyword("blocked")
        if relation == "blocked":
            line.keyword("by")
            link_type = "is_blocked_by"
        elif relation == "relates":
            line.accept("to")
            link_type = "relates_to"
        else:
            link_type = "blocks"
        other = line.integer("an issue number")
        at = line.datetime() if line.accept("on") else None
        line.done()
        self.dated.append(
            _Dated(
                line.line_no,
                line.text,
                [(project, iid), (project, other)],
                at,
                lambda t: self.state.add_link(project, iid, other, link_type, t),
            )
        )

    def _note(self, line: _Line) -> None:
        line.keyword("note")
        project = self._require_project(line)
        iid = line.integer("an issue number")
        by, at = self._by_and_on(line)
        line.accept_sep(":")
        body = line.string("the note's text")
        line.done()
        if at is None:
            raise line.error(f'a note needs a date: note {iid} on 2027-01-20: "text"')
        self.dated.append(
            _Dated(
                line.line_no,
                line.text,
                [(project, iid)],
                at,
                lambda t: self.state.add_note(project, iid, body, by or self.ops_user, t),
            )
        )

    def _state_change(self, line: _Line) -> None:
        action = line.keyword("close", "reopen")
        project = self._require_project(line)
        iid = line.integer("an issue number")
        by, at = self._by_and_on(line)
        line.done()
        if at is None:
            raise line.error(f"{action} needs a date: {action} {iid} on 2027-02-02")
        change = self.state.close_issue if action == "close" else self.state.reopen_issue
        self.dated.append(
            _Dated(
                line.line_no,
                line.text,
                [(project, iid)],
                at,
                lambda t: change(project, iid, t, by or self.ops_user),
            )
        )

    def _by_and_on(self, line: _Line) -> tuple[str | None, datetime | None]:
        by: str | None = None
        at: datetime | None = None
        while (word := line.accept("by", "on")) is not None:
            if word == "by":
                by = line.name("a username")
            else:
                at = line.datetime()
        return by, at

    def _require_project(self, line: _Line) -> str:
        if self.project is None:
            raise line.error("no project yet: start the story with 'project GROUP/PROJECT'")
        return self.project

    def _known_issue(self, line: _Line, iid: int) -> _IssueSpec:
        spec = self.issues.get((self._require_project(line), iid))
        if spec is None:
            raise line.error(f"issue {iid} is not in the story (declare it first)")
        return spec

    # -- applying -------------------------------------------------------------------------------

    def apply(self) -> None:
        if self.open_header is not None:
            spec = self.open_header
            raise StoryError(spec.line_no, spec.text, "the story ends after a ',': options missing")
        for line, project, title, options in self.milestones:
            created = (
                options.pop("created_at", None)
                or options.get("start_date")
                or options.get("due_date")
                or self.state.project(project).created_at
            )
            with _blame(line.line_no, line.text):
                self.state.add_milestone(project, title, created_at=created, **options)
        created = self._creation_times()
        # (time, creations first, story order): ids then grow with time, as in GitLab.
        ops: list[tuple[datetime, int, int, int, str, Callable[[datetime], object]]] = []
        for key, spec in self.issues.items():
            ops.append(
                (created[key], 0, spec.line_no, spec.line_no, spec.text, self._creator(spec))
            )
        for order, item in enumerate(self.dated):
            at = item.at
            if at is None:
                for key in item.issues:
                    if key not in self.issues:
                        raise StoryError(
                            item.line_no, item.text, f"issue {key[1]} is not in the story"
                        )
                at = max(created[key] for key in item.issues) + timedelta(minutes=1)
            ops.append((at, 1, order, item.line_no, item.text, item.run))
        for at, _, _, line_no, text, run in sorted(ops, key=lambda op: op[:3]):
            with _blame(line_no, text):
                run(at)

    def _creation_times(self) -> dict[tuple[str, int], datetime]:
        mentions: dict[tuple[str, int], list[datetime]] = {key: [] for key in self.issues}
        for item in self.dated:
            for key in item.issues:
                if key not in self.issues:
                    raise StoryError(item.line_no, item.text, f"issue {key[1]} is not in the story")
                if item.at is not None:
                    mentions[key].append(item.at)
        created = {}
        for key, spec in self.issues.items():
            if spec.created is not None:
                created[key] = spec.created
            elif mentions[key]:
                created[key] = min(mentions[key]) - CREATED_BEFORE_FIRST_EVENT
            else:
                raise StoryError(
                    spec.line_no,
                    spec.text,
                    f"issue {spec.iid} needs a 'created DATE' option or at least one dated event",
                )
        return created

    def _creator(self, spec: _IssueSpec) -> Callable[[datetime], object]:
        def create(at: datetime) -> None:
            kind = [f"{self.labels.request_type}{spec.kind}"] if spec.kind else []
            self._check_scopes(kind + spec.labels)
            self.state.add_issue(
                spec.project,
                spec.iid,
                spec.title,
                spec.author or self.ops_user,
                at,
                description=spec.description,
                labels=kind + spec.labels,
                milestone=spec.milestone,
                due_date=spec.due_date,
                assignees=spec.assignees,
                confidential=spec.confidential,
            )

        return create

    def _check_scopes(self, labels: list[str]) -> None:
        """Refuse what GitLab Premium could not hold, rather than drop a label silently."""
        if not self.state.scoped_labels_exclusive:
            return
        seen: dict[str, str] = {}
        for name in labels:
            scope = label_scope(name)
            if scope is not None and scope in seen and seen[scope] != name:
                raise ValueError(
                    f"{seen[scope]} and {name} share the scope {scope}::, and GitLab keeps one "
                    "label per scope (use 'tier free', or a prefix without '::')"
                )
            if scope is not None:
                seen[scope] = name


@contextmanager
def _blame(line_no: int, text: str) -> Iterator[None]:
    """Turn the state's complaints (unknown milestone, duplicate link, ...) into story errors."""
    try:
        yield
    except (NotFound, ValueError) as problem:
        raise StoryError(line_no, text, str(problem)) from None
