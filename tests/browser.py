"""A real browser for the release site's tests: Debian's chromium driven by selenium through
the system chromedriver, and a static file server on 127.0.0.1 that serves a built site
under a sub-path with a strict Content-Security-Policy.

Nothing here downloads a browser or a driver: without /usr/bin/chromium and
/usr/bin/chromedriver the tests that need them fail (in CI) or skip (elsewhere), saying
how to install them.
"""

from __future__ import annotations

import base64
import functools
import http.server
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
INSTALL = "run scripts/install-browser (apt-get install chromium chromium-driver)"
SUB_PATH = "/team/releases/"  # the site is served under a sub-path, as GitLab Pages does
CSP = "default-src 'self'"


def missing() -> str | None:
    """Why the browser cannot run here, or None."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (os.path.exists(path) or shutil.which(Path(path).name)):
            return f"{path} is missing: {INSTALL}"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is missing: pip install -e '.[test]'"
    return None


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the site's directory under SUB_PATH, with the CSP the pages must live under."""

    def translate_path(self, path: str) -> str:
        path = path.split("?", 1)[0].split("#", 1)[0]
        if not path.startswith(SUB_PATH):
            return str(Path(self.directory) / "__outside__")  # a 404
        return super().translate_path("/" + path[len(SUB_PATH) :])

    def end_headers(self) -> None:
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serving(directory: Path) -> Iterator[str]:
    """The URL of ``directory`` served on 127.0.0.1 under SUB_PATH."""
    handler = functools.partial(_Handler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{SUB_PATH}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless chromium with a fresh profile; its console is read with get_log("browser")."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="rollout-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = (
        CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium") or ""
    )
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver_path = CHROMEDRIVER if os.path.exists(CHROMEDRIVER) else shutil.which("chromedriver")
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def viewport(driver: Any, width: int, height: int = 900, dark: bool = False) -> None:
    """Emulate a screen ``width`` CSS pixels wide, and a light or dark colour scheme."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
    )
    scheme = "dark" if dark else "light"
    driver.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": scheme}]},
    )


def screenshot(driver: Any, path: Path, full_page: bool = True, max_height: int = 0) -> Path:
    """A PNG of the page: the whole page, or its top ``max_height`` pixels."""
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = metrics["cssContentSize"]
    width = metrics["cssLayoutViewport"]["clientWidth"]
    height = size["height"] if full_page else metrics["cssLayoutViewport"]["clientHeight"]
    if max_height:
        height = min(height, max_height)
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
        },
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(shot["data"]))
    return path
