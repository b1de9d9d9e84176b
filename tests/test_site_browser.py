"""The release site in a real browser: Debian's chromium, driven by selenium through the
system chromedriver (tests/browser.py), loading the example site from a local server under a
sub-path with a strict Content-Security-Policy.

Every page at 1280 and 390 CSS pixels: no horizontal overflow, no console message (no CSP
violation, no failed request), every link answered; on the front page the next deployment's
date and its ready changes visible; keyboard focus visible; the dark scheme applied. The
screenshots are kept under pytest's temporary directory (their path is printed);
ROLLOUT_SCREENSHOTS=DIR writes the README's two there as well.
"""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from browser import chromium, missing, screenshot, serving, viewport

from rollout.config import load_config
from rollout.site import build_site, publish_site
from rollout.trackers.snapshot import SnapshotTracker

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parent.parent
WIDTHS = (1280, 390)
PAGES = (
    "index.html",
    "calendar.html",
    "board.html",
    "notes/index.html",
    "notes/2027-02-01.html",
    "notes/2027-01-01.html",
)
BASE = "https://support-ops.gitlab.io/releases"  # as GitLab Pages would publish it


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    reason = missing()
    if reason is not None:  # the README's set-up installs it (scripts/install-browser)
        pytest.fail(f"the browser tests need chromium: {reason}")
    with chromium() as driver:
        yield driver


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    config = load_config(ROOT / "rollout.toml")
    tracker = SnapshotTracker.load(ROOT / "examples" / "snapshot.json")
    now = datetime(2027, 1, 20, 6, 0, tzinfo=UTC)
    files = build_site(
        config, datetime(2027, 1, 20).date(), tracker=tracker, now=now, base_url=BASE
    )
    out = tmp_path_factory.mktemp("site") / "public"
    publish_site(files, out)
    return out


@pytest.fixture(scope="module")
def url(site: Path) -> Iterator[str]:
    with serving(site) as address:
        yield address


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("screenshots")
    print(f"\nscreenshots in {directory}")
    return directory


def load(driver: Any, address: str, width: int, dark: bool = False) -> None:
    viewport(driver, width, dark=dark)
    driver.get_log("browser")  # forget what earlier pages said
    driver.get(address)
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 10).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )


def console(driver: Any) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser")]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("page", PAGES)
def test_every_page_fits_loads_cleanly_and_its_links_answer(
    browser: Any, url: str, shots: Path, page: str, width: int
) -> None:
    load(browser, url + page, width)
    overflow = browser.execute_script(
        "const e = document.documentElement;"
        "return [e.scrollWidth, e.clientWidth, document.body.scrollWidth];"
    )
    assert overflow[0] <= overflow[1] and overflow[2] <= overflow[1], (page, width, overflow)
    # the stylesheet and the script arrived and apply (a CSP violation would block them)
    assert browser.execute_script("return document.styleSheets[0].cssRules.length") > 50
    assert (
        browser.execute_script(
            "return getComputedStyle(document.querySelector('.masthead')).borderBottomStyle"
        )
        == "solid"
    )
    links = browser.execute_script(
        "return [...document.querySelectorAll('a[href], link[href], script[src], img[src]')]"
        ".map(e => e.href || e.src)"
    )
    for link in {link.split("#")[0] for link in links if link.startswith(url.rstrip("/"))}:
        with urllib.request.urlopen(link) as answer:
            assert answer.status == 200, link
    name = page.replace("/", "-").removesuffix(".html")
    screenshot(browser, shots / f"{name}-{width}.png")
    assert console(browser) == [], (page, width)


def test_the_next_deployment_and_its_ready_changes_are_visible(browser: Any, url: str) -> None:
    for width in WIDTHS:
        load(browser, url + "index.html", width)
        heading = browser.find_element("css selector", "h1")
        assert heading.is_displayed() and "Monday 1 February 2027" in heading.text
        assert (
            browser.find_element("css selector", "h1 time").get_attribute("datetime")
            == "2027-02-01"
        )
        ready = browser.find_elements(
            "css selector", "#ready-heading + .hint + .changes .issue-title"
        )
        assert [link.text for link in ready] == [
            "Add a macro for refund requests",
            "Ticket form drops the attachment field",
            "Broken link in the form footer",
        ]
        assert all(link.is_displayed() for link in ready)
        top = browser.execute_script("return arguments[0].getBoundingClientRect().top", heading)
        assert top < 400  # at the top of the page, not below the fold


def test_keyboard_focus_is_visible(browser: Any, url: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    for page in ("index.html", "calendar.html"):
        load(browser, url + page, 1280)
        focused = []
        for _ in range(4):
            ActionChains(browser).send_keys(Keys.TAB).perform()
            focused.append(
                browser.execute_script(
                    "const e = document.activeElement, s = getComputedStyle(e);"
                    "return [e.tagName, e.textContent.trim(), s.outlineStyle, s.outlineWidth, s.boxShadow,"
                    " e.getBoundingClientRect().top >= 0];"
                )
            )
        assert focused[0][:2] == ["A", "Skip to the content"]  # the first stop skips the header
        for tag, text, style, width, shadow, on_screen in focused:
            assert tag == "A" and on_screen, text
            assert (style != "none" and float(width.removesuffix("px")) >= 2) or shadow != "none", (
                text
            )


def test_the_dark_scheme_applies(browser: Any, url: str, shots: Path) -> None:
    colours = {}
    for dark in (False, True):
        load(browser, url + "index.html", 1280, dark=dark)
        colours[dark] = browser.execute_script(
            "const b = getComputedStyle(document.body), h = getComputedStyle(document.querySelector('.card'));"
            "return [b.backgroundColor, b.color, h.backgroundColor,"
            " matchMedia('(prefers-color-scheme: dark)').matches];"
        )
        screenshot(browser, shots / f"index-1280-{'dark' if dark else 'light'}.png")
    assert colours[False][:3] == ["rgb(244, 245, 248)", "rgb(25, 28, 34)", "rgb(255, 255, 255)"]
    assert colours[True][:3] == ["rgb(14, 17, 22)", "rgb(231, 234, 240)", "rgb(22, 26, 33)"]
    assert colours[True][3] and not colours[False][3]


def test_the_copy_button_is_added_by_the_script(browser: Any, url: str) -> None:
    load(browser, url + "index.html", 1280)
    buttons = browser.find_elements("css selector", "button.copy-button")
    assert len(buttons) == 3 and all(button.is_displayed() for button in buttons)
    buttons[0].click()
    assert (
        browser.find_element("css selector", "#address-1").get_attribute("value")
        == f"{BASE}/deployments.ics"
    )
    assert console(browser) == []


def test_readme_screenshots(browser: Any, url: str, shots: Path) -> None:
    """The README's two pictures: the front page on a desktop, the calendar on a phone."""
    load(browser, url + "index.html", 1280)
    desktop = screenshot(browser, shots / "index-desktop.png")
    load(browser, url + "calendar.html", 390, dark=False)
    phone = screenshot(browser, shots / "calendar-phone.png", max_height=1500)
    target = os.environ.get("ROLLOUT_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        for shot in (desktop, phone):
            (Path(target) / shot.name).write_bytes(shot.read_bytes())
    assert desktop.stat().st_size > 10_000 and phone.stat().st_size > 10_000
