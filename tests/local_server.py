"""What the GitLab and Slack test servers share: an HTTP server on 127.0.0.1 in a thread of
its own, the log of the requests it received, and the faults waiting to be injected."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Generic, Protocol, Self, TypeVar


class _Fault(Protocol):
    times: int  # uses left


Recorded = TypeVar("Recorded")
FaultT = TypeVar("FaultT", bound=_Fault)


class LocalServer(Generic[Recorded, FaultT]):
    """A test server's lifecycle (``with Server(...) as server:``), request log and faults.

    A subclass names its request handler (``handler``); the handler reaches the server as
    ``self.server.owner``."""

    thread_name = "test-server"

    def __init__(self) -> None:
        # Unexpected exceptions in handlers (answered with 500), for debugging tests.
        self.errors: list[BaseException] = []
        self._requests: list[Recorded] = []
        self._faults: list[FaultT] = []
        self._log_lock = threading.Lock()
        self._httpd: QuietHTTPServer | None = None

    def handler(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> Self:
        httpd = QuietHTTPServer(("127.0.0.1", 0), self.handler())
        httpd.owner = self
        self._httpd = httpd
        # A short poll interval keeps stop() (and so each test's teardown) quick.
        threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.02},
            name=self.thread_name,
            daemon=True,
        ).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("server is not running")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- request log --------------------------------------------------------------------------

    @property
    def requests(self) -> list[Recorded]:
        """A copy of the requests received so far, oldest first."""
        with self._log_lock:
            return list(self._requests)

    def reset_requests(self) -> None:
        with self._log_lock:
            self._requests.clear()

    def _record(self, request: Recorded) -> None:
        with self._log_lock:
            self._requests.append(request)

    # -- faults -------------------------------------------------------------------------------

    def clear_faults(self) -> None:
        with self._log_lock:
            self._faults.clear()

    def _add_fault(self, fault: FaultT) -> None:
        with self._log_lock:
            self._faults.append(fault)

    def _take_first_fault(self, matches: Callable[[FaultT], bool]) -> FaultT | None:
        """The first injected fault that ``matches`` the request, one of its uses taken."""
        with self._log_lock:
            for fault in self._faults:
                if matches(fault):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
            return None


class QuietHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog of 5 drops connections when a benchmark opens more at
    # once, and the client only tries again a second later.
    request_queue_size = 128
    owner: Any  # the LocalServer serving

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # quiet: clients that hang up (timeouts, drops) are expected in resilience tests


class QuietHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive, as the real services answer, and no log on stderr."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without TCP_NODELAY each keep-alive request
    # waits ~40 ms for a delayed ACK.
    disable_nagle_algorithm = True
    timeout = 60  # idle keep-alive connections end eventually
    server: QuietHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        pass
