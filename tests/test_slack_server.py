"""The fake Slack, exercised only the way rollout will use it: slack_sdk's ``WebClient`` over real
HTTP (plain ``requests`` where the client hides what we check, such as raw headers and bodies).

What these tests establish about slack_sdk (3.27+), read from its source and checked here:

- ``WebClient()`` installs one retry handler by default, ``ConnectionErrorRetryHandler`` with
  ``max_retry_count=1``: a request whose connection breaks before an answer arrives
  (``RemoteDisconnected``, ``ConnectionResetError``, ``URLError``) is sent again once, after
  0.5 s plus up to 1 s of jitter. A post whose answer was lost is therefore posted twice.
  A read timeout (``TimeoutError``) is not one of those errors: it is raised, not retried.
- A 429 is not retried by default: ``SlackApiError`` with ``response.status_code == 429``,
  ``response["error"] == "ratelimited"`` and the ``Retry-After`` header. With
  ``RateLimitErrorRetryHandler`` the client sleeps ``Retry-After`` plus up to 1 s, then resends.
- 5xx are not retried by default either; ``ServerErrorRetryHandler`` retries 500 and 503 (not
  502 or 504). A non-JSON body becomes ``"error": "Received a response in a non-JSON format:
  ..."`` in the ``SlackApiError``'s response.
- ``chat_postMessage`` sends a JSON body (``metadata`` stays an object, booleans stay booleans);
  the read methods (``conversations_history`` ...) send a form body with booleans as ``1``/``0``.
  The token always travels as ``Authorization: Bearer``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any

import pytest
import requests
import slack_sdk.http_retry.builtin_handlers
import slack_sdk.http_retry.handler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import (
    ConnectionErrorRetryHandler,
    FixedValueRetryIntervalCalculator,
    RateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler
from slack_sdk.models.metadata import Metadata
from slack_sdk.web import SlackResponse
from slack_server import (
    DEFAULT_SCOPES,
    Channel,
    SlackServer,
    SlackState,
    live_mentions,
    running_slack,
)

NOW = 1_700_000_000
PAYLOAD = {"issue": 42, "phase": "pre"}
METADATA = {"event_type": "rollout_announcement", "event_payload": PAYLOAD}


@pytest.fixture
def state() -> SlackState:
    state = SlackState(clock=NOW)
    state.add_channel("releases")
    state.add_channel("ops-private", is_private=True)
    state.add_channel("random", is_member=False)
    state.add_channel("hidden", is_private=True, is_member=False)
    state.add_channel("old-releases", is_archived=True)
    return state


@pytest.fixture
def server(state: SlackState) -> Iterator[SlackServer]:
    with SlackServer(state) as running:
        yield running


@pytest.fixture
def client(server: SlackServer) -> WebClient:
    return WebClient(token=server.token, base_url=server.url + "/api/")


@pytest.fixture
def retry_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits slack_sdk's retry handlers ask for, recorded instead of slept.

    Only the ``time`` module the two handler modules see is replaced; the client and its
    handlers run unchanged, so a test can check how long they would wait without waiting.
    """
    asked: list[float] = []
    recorder = SimpleNamespace(sleep=asked.append)
    monkeypatch.setattr(slack_sdk.http_retry.handler, "time", recorder)
    monkeypatch.setattr(slack_sdk.http_retry.builtin_handlers, "time", recorder)
    return asked


def error_of(call: Callable[[], object]) -> SlackResponse:
    """The response of the ``SlackApiError`` the call raises."""
    with pytest.raises(SlackApiError) as raised:
        call()
    response: SlackResponse = raised.value.response
    return response


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [message["text"] for message in messages]


def eventually(condition: Callable[[], bool], timeout: float = 2.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


# -- auth and scopes ------------------------------------------------------------------------------


def test_auth_test_names_the_bot_and_the_token_travels_as_bearer(
    client: WebClient, server: SlackServer
) -> None:
    response = client.auth_test()

    assert response.data == {
        "ok": True,
        "url": "https://rollout-test.slack.com/",
        "team": "Rollout Test",
        "user": "rollout",
        "team_id": "T0ROLLOUT1",
        "user_id": "U0ROLLOUT1",
        "bot_id": "B0ROLLOUT1",
        "is_enterprise_install": False,
    }
    assert response.headers["X-OAuth-Scopes"] == ",".join(DEFAULT_SCOPES)
    (request,) = server.requests
    assert (request.method, request.http_method, request.auth, request.status) == (
        "auth.test",
        "POST",
        "Bearer",
        200,
    )
    assert server.token not in repr(server.requests)


@pytest.mark.parametrize(("token", "error"), [(None, "not_authed"), ("xoxb-wrong", "invalid_auth")])
def test_a_missing_or_wrong_token_is_refused_with_http_200(
    server: SlackServer, token: str | None, error: str
) -> None:
    client = WebClient(token=token, base_url=server.url + "/api/")

    response = error_of(client.auth_test)

    assert (response.status_code, response["error"]) == (200, error)


def test_the_token_is_taken_from_a_form_body_but_not_a_query_or_json_body(
    server: SlackServer,
) -> None:
    url = f"{server.url}/api/auth.test"
    form = requests.post(url, data={"token": server.token}, timeout=5)
    query = requests.post(url, params={"token": server.token}, timeout=5)
    json_body = requests.post(url, json={"token": server.token}, timeout=5)

    assert form.json()["ok"] is True
    assert query.json() == json_body.json() == {"ok": False, "error": "not_authed"}
    assert [r.auth for r in server.requests] == ["form", None, None]
    assert all(r.params == {} for r in server.requests)
    assert server.token not in repr(server.requests)


def test_missing_scope_names_what_was_needed_and_what_the_token_has(state: SlackState) -> None:
    scopes = ["channels:read", "channels:history"]
    with SlackServer(state, scopes=scopes) as server:
        client = server.client()
        private = state.channel("ops-private").id

        post = error_of(lambda: client.chat_postMessage(channel="releases", text="hi"))
        history = error_of(lambda: client.conversations_history(channel=private))
        listing = error_of(
            lambda: client.conversations_list(types="public_channel,private_channel")
        )
        info = error_of(lambda: client.conversations_info(channel=private))

    found = [(r["error"], r["needed"], r["provided"]) for r in (post, history, listing, info)]
    assert found == [
        ("missing_scope", "chat:write", "channels:read,channels:history"),
        ("missing_scope", "groups:history", "channels:read,channels:history"),
        ("missing_scope", "groups:read", "channels:read,channels:history"),
        ("missing_scope", "groups:read", "channels:read,channels:history"),
    ]
    assert state.messages("releases") == []


def test_without_any_history_scope_every_kind_is_named(state: SlackState) -> None:
    with SlackServer(state, scopes=["chat:write"]) as server:
        response = error_of(
            lambda: server.client().conversations_history(channel=state.channel("releases").id)
        )

    assert (response["needed"], response["provided"]) == (
        "channels:history,groups:history",
        "chat:write",
    )


# -- chat.postMessage -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "metadata", [METADATA, Metadata("rollout_announcement", PAYLOAD)], ids=["dict", "Metadata"]
)
def test_posted_metadata_is_read_back_only_with_include_all_metadata(
    client: WebClient, server: SlackServer, state: SlackState, metadata: Any
) -> None:
    posted = client.chat_postMessage(channel="#releases", text="Shipping", metadata=metadata)
    channel = state.channel("releases").id
    plain = client.conversations_history(channel=channel)["messages"]
    with_metadata = client.conversations_history(channel=channel, include_all_metadata=True)

    assert (posted["channel"], posted["ts"]) == (channel, "1700000000.000000")
    assert posted["message"]["metadata"] == METADATA
    # slack_sdk sends chat.postMessage as JSON: the metadata arrives as an object.
    assert (server.requests[0].encoding, server.requests[0].params["metadata"]) == (
        "json",
        METADATA,
    )
    assert "metadata" not in plain[0]
    assert with_metadata["messages"][0]["metadata"] == METADATA
    assert server.requests[2].params["include_all_metadata"] == "1"


def test_metadata_in_a_form_body_is_a_json_string(
    client: WebClient, server: SlackServer, state: SlackState
) -> None:
    client.api_call(
        "chat.postMessage",
        data={"channel": "releases", "text": "Shipping", "metadata": json.dumps(METADATA)},
    )

    (request,) = server.requests
    assert (request.encoding, request.params["metadata"]) == ("form", json.dumps(METADATA))
    assert state.messages("releases")[0].metadata == METADATA


@pytest.mark.parametrize(
    "metadata",
    [
        {"event_payload": {"issue": 42}},
        {"event_type": "", "event_payload": {}},
        {"event_type": 42, "event_payload": {}},
        {"event_type": "rollout_announcement"},
        {"event_type": "rollout_announcement", "event_payload": "issue 42"},
        "not json",
        "[1, 2]",
    ],
)
def test_malformed_metadata_refuses_the_post(
    client: WebClient, state: SlackState, metadata: dict[str, Any] | str
) -> None:
    if isinstance(metadata, str):  # as a form body carries it
        data = {"channel": "releases", "text": "x", "metadata": metadata}
        response = error_of(lambda: client.api_call("chat.postMessage", data=data))
    else:
        response = error_of(
            lambda: client.chat_postMessage(channel="releases", text="x", metadata=metadata)
        )

    assert response["error"] == "invalid_metadata_format"
    assert state.messages("releases") == []


def test_an_event_type_with_punctuation_is_posted_without_its_metadata(
    client: WebClient, state: SlackState
) -> None:
    bad = {"event_type": "rollout.announcement", "event_payload": {"issue": 42}}

    response = client.chat_postMessage(channel="releases", text="Shipping", metadata=bad)
    history = client.conversations_history(
        channel=state.channel("releases").id, include_all_metadata=True
    )

    assert response["ok"] is True
    assert response["warning"] == "invalid_metadata_schema"
    assert response["response_metadata"] == {"warnings": ["invalid_metadata_schema"]}
    assert "metadata" not in response["message"]
    assert "metadata" not in history["messages"][0]


def test_a_post_by_channel_name_or_id_answers_the_id_and_slacks_message_shape(
    client: WebClient, server: SlackServer, state: SlackState
) -> None:
    channel = state.channel("releases")
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Shipping*"}}]

    answers = [
        client.chat_postMessage(channel=ref, text=f"via {ref}")
        for ref in ("#releases", "releases", channel.id)
    ]
    with_blocks = client.chat_postMessage(
        channel=channel.id, text="Shipping", blocks=blocks, mrkdwn=False, unfurl_links=False
    )

    assert [a["channel"] for a in answers] == [channel.id] * 3
    assert [m.text for m in server.messages("releases")] == [
        "via #releases",
        "via releases",
        f"via {channel.id}",
        "Shipping",
    ]
    assert with_blocks["message"] == {
        "type": "message",
        "text": "Shipping",
        "user": "U0ROLLOUT1",
        "bot_id": "B0ROLLOUT1",
        "app_id": "A0ROLLOUT1",
        "ts": "1700000000.000300",
        "team": "T0ROLLOUT1",
        "bot_profile": {
            "id": "B0ROLLOUT1",
            "app_id": "A0ROLLOUT1",
            "user_id": "U0ROLLOUT1",
            "name": "rollout",
            "deleted": False,
            "team_id": "T0ROLLOUT1",
        },
        "blocks": blocks,
    }
    assert server.messages("releases")[-1].options == {"mrkdwn": False, "unfurl_links": False}


@pytest.mark.parametrize(
    ("channel", "error"),
    [
        ("#nowhere", "channel_not_found"),
        ("hidden", "channel_not_found"),  # private and the bot is not in it: invisible
        ("random", "not_in_channel"),
        ("old-releases", "is_archived"),
    ],
)
def test_post_errors(client: WebClient, state: SlackState, channel: str, error: str) -> None:
    response = error_of(lambda: client.chat_postMessage(channel=channel, text="x"))

    assert (response.status_code, response["error"]) == (200, error)
    assert all(not c.messages for c in state.channels.values())


def test_a_post_without_text_or_blocks_is_no_text(client: WebClient) -> None:
    with pytest.warns(UserWarning, match="`text` argument is missing"):
        response = error_of(lambda: client.chat_postMessage(channel="releases"))

    assert response["error"] == "no_text"


def test_chat_write_public_posts_in_public_channels_the_bot_is_not_in(state: SlackState) -> None:
    with SlackServer(state, scopes=[*DEFAULT_SCOPES, "chat:write.public"]) as server:
        response = server.client().chat_postMessage(channel="random", text="hello")

    assert response["channel"] == state.channel("random").id


def test_ts_comes_from_the_clock_and_is_unique_and_increasing(
    client: WebClient, state: SlackState
) -> None:
    first = client.chat_postMessage(channel="releases", text="1")["ts"]
    second = client.chat_postMessage(channel="releases", text="2")["ts"]
    state.advance(5)
    third = client.chat_postMessage(channel="releases", text="3")["ts"]

    assert [first, second, third] == ["1700000000.000000", "1700000000.000100", "1700000005.000000"]


def test_concurrent_posts_all_land_with_distinct_ts(server: SlackServer, state: SlackState) -> None:
    def post(n: int) -> str:
        return str(server.client().chat_postMessage(channel="releases", text=f"post {n}")["ts"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        stamps = list(pool.map(post, range(20)))

    assert len(set(stamps)) == 20
    assert sorted(m.text for m in state.messages("releases")) == sorted(
        f"post {n}" for n in range(20)
    )


# -- conversations.history ------------------------------------------------------------------------


@pytest.fixture
def busy(state: SlackState) -> Channel:
    channel = state.channel("releases")
    for n in range(250):
        state.add_message(channel, f"message {n}", ts=NOW + n)
    return channel


def test_history_pages_through_250_messages_100_at_a_time_newest_first(
    client: WebClient, server: SlackServer, busy: Channel
) -> None:
    # Iterating a SlackResponse follows response_metadata.next_cursor; each step reuses the
    # same object, so what a page holds is read during the iteration.
    pages = [
        (texts(page["messages"]), page["has_more"], page.get("response_metadata"))
        for page in client.conversations_history(channel=busy.id, limit=100)
    ]

    assert [len(found) for found, _, _ in pages] == [100, 100, 50]
    assert [text for found, _, _ in pages for text in found] == [
        f"message {n}" for n in reversed(range(250))
    ]
    assert [has_more for _, has_more, _ in pages] == [True, True, False]
    assert pages[-1][2] is None  # no next_cursor on the last page
    assert server.count("conversations.history") == 3
    cursors = [r.params.get("cursor") for r in server.requests]
    assert cursors[0] is None
    assert cursors[1:] == [pages[0][2]["next_cursor"], pages[1][2]["next_cursor"]]


def test_history_limit_defaults_to_100_and_stops_at_999(
    client: WebClient, state: SlackState, busy: Channel
) -> None:
    for n in range(250, 1200):
        state.add_message(busy, f"message {n}", ts=NOW + n)

    assert len(client.conversations_history(channel=busy.id)["messages"]) == 100
    assert len(client.conversations_history(channel=busy.id, limit=5000)["messages"]) == 999


def test_history_oldest_and_latest_are_exclusive_unless_inclusive(
    client: WebClient, state: SlackState
) -> None:
    channel = state.channel("releases")
    for n in range(10):
        state.add_message(channel, f"m{n}", ts=NOW + n)

    def history(**bounds: Any) -> list[str]:
        return texts(client.conversations_history(channel=channel.id, **bounds)["messages"])

    assert history(oldest=str(NOW + 2), latest=str(NOW + 5)) == ["m4", "m3"]
    assert history(oldest=str(NOW + 2), latest=str(NOW + 5), inclusive=True) == [
        "m5",
        "m4",
        "m3",
        "m2",
    ]
    assert history(oldest=f"{NOW + 7}.000000") == ["m9", "m8"]
    assert history(latest=f"{NOW + 1}.000000", inclusive=True) == ["m1", "m0"]
    assert error_of(lambda: history(oldest="yesterday"))["error"] == "invalid_ts_oldest"
    assert error_of(lambda: history(latest="soon"))["error"] == "invalid_ts_latest"


def test_history_refusals(client: WebClient, state: SlackState) -> None:
    def refusal(channel: str, **args: Any) -> str:
        return str(error_of(lambda: client.conversations_history(channel=channel, **args))["error"])

    assert refusal(state.channel("random").id) == "not_in_channel"
    assert refusal(state.channel("hidden").id) == "channel_not_found"
    assert refusal("releases") == "channel_not_found"  # history takes ids, not names
    assert refusal(state.channel("releases").id, cursor="not-a-cursor") == "invalid_cursor"


def test_message_shapes_of_a_person_and_of_a_legacy_bot(
    client: WebClient, state: SlackState
) -> None:
    channel = state.channel("releases")
    state.add_message(channel, "from a person", user="U0ALICE001", metadata=METADATA)
    state.add_message(channel, "from a webhook", bot_id="B0HOOK0001")

    webhook, person = client.conversations_history(channel=channel.id)["messages"]

    assert person == {
        "type": "message",
        "text": "from a person",
        "user": "U0ALICE001",
        "ts": "1700000000.000000",
        "team": "T0ROLLOUT1",
    }
    assert webhook == {
        "type": "message",
        "subtype": "bot_message",
        "text": "from a webhook",
        "bot_id": "B0HOOK0001",
        "ts": "1700000000.000100",
        "team": "T0ROLLOUT1",
    }


# -- conversations.list and conversations.info ----------------------------------------------------


def test_a_channel_name_resolves_to_its_id(client: WebClient, state: SlackState) -> None:
    pages = [
        ([c["name"] for c in page["channels"]], page["response_metadata"]["next_cursor"])
        for page in client.conversations_list(types="public_channel,private_channel", limit=2)
    ]
    ids = {
        c["name"]: c["id"]
        for page in client.conversations_list(types="public_channel,private_channel")
        for c in page["channels"]
    }
    info = client.conversations_info(channel=ids["releases"])["channel"]

    assert [names for names, _ in pages] == [
        ["releases", "ops-private"],
        ["random", "old-releases"],
    ]
    assert pages[0][1] != "" and pages[1][1] == ""
    assert ids["releases"] == state.channel("releases").id
    assert (info["id"], info["name"], info["is_private"], info["is_member"]) == (
        ids["releases"],
        "releases",
        False,
        True,
    )


def test_list_filters(client: WebClient) -> None:
    def names(**args: Any) -> list[str]:
        return [c["name"] for c in client.conversations_list(**args)["channels"]]

    assert names() == ["releases", "random", "old-releases"]  # public channels by default
    assert names(exclude_archived=True) == ["releases", "random"]
    assert names(types="private_channel") == ["ops-private"]  # only those the bot is in
    assert error_of(lambda: names(types="public_channel,shared"))["error"] == "invalid_types"


@pytest.mark.parametrize("channel", ["releases", "#releases", "hidden"])
def test_info_knows_only_ids_of_channels_the_bot_can_see(
    client: WebClient, state: SlackState, channel: str
) -> None:
    ref = state.channel(channel).id if channel == "hidden" else channel

    assert error_of(lambda: client.conversations_info(channel=ref))["error"] == "channel_not_found"


# -- faults ---------------------------------------------------------------------------------------


def test_a_default_web_client_retries_connection_errors_only() -> None:
    handlers = WebClient().retry_handlers

    assert [type(h) for h in handlers] == [ConnectionErrorRetryHandler]
    assert handlers[0].max_retry_count == 1


def test_429_is_not_retried_by_a_default_client(
    client: WebClient, server: SlackServer, state: SlackState
) -> None:
    server.inject("ratelimited", method="chat.postMessage", retry_after=7)

    response = error_of(lambda: client.chat_postMessage(channel="releases", text="x"))

    assert (response.status_code, response["error"]) == (429, "ratelimited")
    assert response.headers["Retry-After"] == "7"
    assert [(r.status, r.error, r.fault) for r in server.requests] == [
        (429, "ratelimited", "ratelimited")
    ]
    assert state.messages("releases") == []


def test_429_raw(server: SlackServer) -> None:
    server.inject("ratelimited", retry_after=0)

    raw = requests.post(f"{server.url}/api/auth.test", timeout=5)

    assert (raw.status_code, raw.headers["Retry-After"], raw.json()) == (
        429,
        "0",
        {"ok": False, "error": "ratelimited"},
    )


def test_429_is_retried_after_retry_after_by_the_rate_limit_handler(
    server: SlackServer, state: SlackState, retry_sleeps: list[float]
) -> None:
    client = server.client(retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)])
    server.inject("ratelimited", retry_after=1, times=2)

    response = client.chat_postMessage(channel="releases", text="Shipping")

    assert response["ok"] is True
    assert [(r.status, r.error) for r in server.requests] == [
        (429, "ratelimited"),
        (429, "ratelimited"),
        (200, None),
    ]
    assert len(retry_sleeps) == 2
    assert all(1 <= wait < 2 for wait in retry_sleeps)  # Retry-After plus up to 1 s of jitter
    assert [m.text for m in state.messages("releases")] == ["Shipping"]


def test_429_past_the_handlers_retries_raises(
    server: SlackServer, retry_sleeps: list[float]
) -> None:
    client = server.client(retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)])
    server.inject("ratelimited", times=2)

    assert error_of(client.auth_test)["error"] == "ratelimited"
    assert server.count("auth.test") == 2


@pytest.mark.parametrize(("status", "body"), [(503, "html"), (502, "html"), (500, "empty")])
def test_5xx_raise_with_the_status_and_are_not_retried_by_default(
    client: WebClient, server: SlackServer, status: int, body: str
) -> None:
    server.inject("status", status=status, body=body)

    response = error_of(client.auth_test)

    assert response.status_code == status
    assert response["error"].startswith("Received a response in a non-JSON format: ")
    assert (body == "html") == ("<html>" in response["error"])
    assert server.count() == 1


def test_5xx_raw_bodies(server: SlackServer) -> None:
    server.inject("status", status=503)
    server.inject("status", status=500, body="empty")

    html = requests.post(f"{server.url}/api/auth.test", timeout=5)
    empty = requests.post(f"{server.url}/api/auth.test", timeout=5)

    assert (html.status_code, html.headers["Content-Type"]) == (503, "text/html; charset=utf-8")
    assert html.text.startswith("<html>")
    assert (empty.status_code, empty.content) == (500, b"")


def test_the_server_error_handler_retries_500_and_503_but_not_502(server: SlackServer) -> None:
    handler = ServerErrorRetryHandler(interval_calculator=FixedValueRetryIntervalCalculator(0))
    client = server.client(retry_handlers=[handler])
    server.inject("status", status=503)
    assert client.auth_test()["ok"] is True
    server.inject("status", status=500)
    assert client.auth_test()["ok"] is True
    server.inject("status", status=502)

    assert error_of(client.auth_test).status_code == 502
    assert [r.status for r in server.requests] == [503, 200, 500, 200, 502]


def test_an_error_fault_answers_ok_false_and_does_nothing(
    client: WebClient, server: SlackServer, state: SlackState
) -> None:
    server.inject("error", method="chat.postMessage", error="fatal_error")

    response = error_of(lambda: client.chat_postMessage(channel="releases", text="x"))

    assert (response.status_code, response.data) == (200, {"ok": False, "error": "fatal_error"})
    assert state.messages("releases") == []


def test_a_drop_after_posting_loses_only_the_answer(server: SlackServer, state: SlackState) -> None:
    client = server.client(retry_handlers=[])
    server.inject("drop", method="chat.postMessage")

    with pytest.raises(ConnectionError):  # http.client.RemoteDisconnected
        client.chat_postMessage(channel="releases", text="posted, but nobody heard")

    assert [m.text for m in state.messages("releases")] == ["posted, but nobody heard"]
    assert [(r.fault, r.status) for r in server.requests] == [("drop", 200)]


def test_the_default_client_reposts_after_a_drop_and_duplicates_the_message(
    server: SlackServer, state: SlackState, retry_sleeps: list[float]
) -> None:
    # The hazard product code must avoid: WebClient() retries connection errors by default,
    # and a post whose answer was lost has already happened.
    client = server.client()
    server.inject("drop", method="chat.postMessage")

    response = client.chat_postMessage(channel="releases", text="Deploying today")

    messages = state.messages("releases")
    assert response["ok"] is True  # the caller sees one success...
    assert [m.text for m in messages] == ["Deploying today", "Deploying today"]  # ...Slack has two
    assert response["ts"] == messages[1].ts
    assert [(r.fault, r.status) for r in server.requests] == [("drop", 200), (None, 200)]
    assert len(retry_sleeps) == 1 and 0.5 <= retry_sleeps[0] < 1.5


def test_a_connection_error_retry_handler_reposts_on_every_drop(
    server: SlackServer, state: SlackState, retry_sleeps: list[float]
) -> None:
    client = server.client(retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=3)])
    server.inject("drop", times=3)

    client.chat_postMessage(channel="releases", text="Deploying today")

    assert [m.text for m in state.messages("releases")] == ["Deploying today"] * 4
    assert len(retry_sleeps) == 3


def test_a_drop_before_anything_happened_is_safe_to_retry(
    server: SlackServer, state: SlackState, retry_sleeps: list[float]
) -> None:
    server.inject("drop_before")

    server.client().chat_postMessage(channel="releases", text="Deploying today")

    assert [m.text for m in state.messages("releases")] == ["Deploying today"]
    assert [(r.fault, r.status) for r in server.requests] == [("drop_before", None), (None, 200)]


def test_a_slow_answer_times_out_is_not_retried_and_still_posts(
    server: SlackServer, state: SlackState
) -> None:
    client = server.client(timeout=0.05)  # default retry handlers
    server.inject("slow", seconds=0.2)

    with pytest.raises(TimeoutError):
        client.chat_postMessage(channel="releases", text="late")

    assert eventually(lambda: len(state.messages("releases")) == 1)
    assert [(r.fault, r.status) for r in server.requests] == [("slow", 200)]


def test_inject_refuses_what_it_cannot_do(server: SlackServer) -> None:
    with pytest.raises(ValueError, match="fault kind"):
        server.inject("explode")
    with pytest.raises(ValueError, match="5xx"):
        server.inject("status", status=404)
    with pytest.raises(ValueError, match="body"):
        server.inject("status", body="xml")


def test_faults_match_the_method_and_are_used_up_in_order(
    client: WebClient, server: SlackServer
) -> None:
    server.inject("error", method="chat.postMessage", error="first")
    server.inject("error", error="second")

    assert error_of(client.auth_test)["error"] == "second"  # the first is for posts only
    assert error_of(lambda: client.chat_postMessage(channel="releases", text="x"))["error"] == (
        "first"
    )
    assert client.auth_test()["ok"] is True
    server.inject("error", times=2)
    server.clear_faults()
    assert client.auth_test()["ok"] is True


def test_latency_delays_every_answer_and_concurrent_requests_wait_together(
    state: SlackState,
) -> None:
    with running_slack(state, latency=0.1) as slow:
        started = time.perf_counter()
        slow.client().auth_test()
        one = time.perf_counter() - started
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=4) as pool:
            answers = list(pool.map(lambda _: slow.client().auth_test(), range(4)))
        four = time.perf_counter() - started

    assert one >= 0.1
    assert all(answer["ok"] for answer in answers)
    assert four < 4 * 0.1  # not one after another


# -- the request log and raw HTTP -----------------------------------------------------------------


def test_the_request_log_keeps_methods_params_and_arrival_times(
    client: WebClient, server: SlackServer
) -> None:
    client.auth_test()
    client.chat_postMessage(channel="#releases", text="hello", mrkdwn=False)
    client.conversations_list(types="public_channel", exclude_archived=True)

    auth, post, listing = server.requests
    assert server.count() == 3
    assert server.count("chat.postMessage") == 1
    assert (auth.encoding, auth.params) == ("none", {})
    assert (post.encoding, post.params) == (
        "json",
        {"channel": "#releases", "text": "hello", "mrkdwn": False},
    )
    assert (listing.encoding, listing.params) == (
        "form",
        {"types": "public_channel", "exclude_archived": "1"},
    )
    assert auth.at <= post.at <= listing.at
    server.reset_requests()
    assert server.requests == []


def test_unknown_methods_paths_and_bodies(server: SlackServer, client: WebClient) -> None:
    headers = {"Authorization": f"Bearer {server.token}"}
    unknown = error_of(lambda: client.api_call("chat.explode"))
    not_api = requests.get(f"{server.url}/robots.txt", timeout=5)
    bad_json = requests.post(
        f"{server.url}/api/chat.postMessage",
        data=b"{not json",
        headers={**headers, "Content-Type": "application/json"},
        timeout=5,
    )
    by_get = requests.get(
        f"{server.url}/api/conversations.info",
        params={"channel": "C0000000001"},
        headers=headers,
        timeout=5,
    )

    assert (unknown.status_code, unknown.data) == (
        404,
        {"ok": False, "error": "unknown_method", "req_method": "chat.explode"},
    )
    assert not_api.status_code == 404
    assert bad_json.json() == {"ok": False, "error": "invalid_json"}
    assert by_get.json()["channel"]["name"] == "releases"


# -- live mentions --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "mentions"),
    [
        ("<!channel> and <!here>", ["<!channel>", "<!here>"]),
        ("<!everyone|everyone> <!HERE>", ["<!everyone|everyone>", "<!HERE>"]),
        (
            "<!subteam^S0123ABC|@support> <@U0123ABC> <@W0123ABC|alice>",
            ["<!subteam^S0123ABC|@support>", "<@U0123ABC>", "<@W0123ABC|alice>"],
        ),
        # Code spans are not relied on to disarm a control sequence.
        ("`<!here>`", ["<!here>"]),
        ("&lt;!channel&gt; &lt;@U0123ABC&gt; &lt;!subteam^S042|@support&gt;", []),
        ("@here @channel @everyone `@alice`", []),
        ("<!date^1700000000^{date}|Nov 14> <#C0123ABC> <https://example.com|a link>", []),
        ("<!subteam^> <@> <@alice> <!heres>", []),
    ],
)
def test_live_mentions(text: str, mentions: list[str]) -> None:
    assert live_mentions(text) == mentions


def test_live_mentions_of_what_was_posted(client: WebClient, state: SlackState) -> None:
    client.chat_postMessage(channel="releases", text="&lt;!channel&gt; ships <!here>")

    [message] = state.messages("releases")
    assert live_mentions(message.text) == ["<!here>"]
