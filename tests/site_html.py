"""Reading the release site's pages as a browser's parser would (html.parser): their
structure, links, dates and anything that would break a strict Content-Security-Policy."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from posixpath import dirname, normpath
from urllib.parse import urldefrag

LANDMARKS = ("header", "nav", "main", "footer")
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
VOID = {"meta", "link", "img", "input", "br", "hr", "source", "wbr"}


@dataclass
class Page:
    path: str
    lang: str | None = None
    title: str = ""
    tags: list[str] = field(default_factory=list)
    headings: list[tuple[int, str]] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    hrefs: list[str] = field(default_factory=list)
    srcs: list[str] = field(default_factory=list)
    times: list[str | None] = field(default_factory=list)
    dates_outside_time: list[str] = field(default_factory=list)
    inline_script: list[str] = field(default_factory=list)
    forbidden: list[str] = field(default_factory=list)  # style attributes, on* handlers, <style>
    text: str = ""
    links: list[tuple[str, str]] = field(default_factory=list)  # (href, link text)


class _Reader(HTMLParser):
    def __init__(self, page: Page) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.stack: list[str] = []
        self.heading: list[str] | None = None
        self.link: list[str] | None = None
        self.link_href = ""
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        page = self.page
        values = dict(attrs)
        page.tags.append(tag)
        if tag == "html":
            page.lang = values.get("lang")
        for name, value in attrs:
            if name == "style" or name.startswith("on"):
                page.forbidden.append(f"<{tag} {name}={value!r}>")
            if name == "id" and value:
                page.ids.add(value)
        if tag == "style":
            page.forbidden.append("<style>")
        if tag == "a" and values.get("href") is not None:
            page.hrefs.append(values["href"] or "")
            self.link, self.link_href = [], values["href"] or ""
        if tag == "link" and values.get("href"):
            page.hrefs.append(values["href"] or "")
        if tag in ("img", "script", "iframe", "source", "audio", "video") and values.get("src"):
            page.srcs.append(values["src"] or "")
        if tag == "time":
            page.times.append(values.get("datetime"))
        if re.fullmatch(r"h[1-6]", tag):
            self.heading = []
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        while self.stack:
            if self.stack.pop() == tag:
                break
        if re.fullmatch(r"h[1-6]", tag) and self.heading is not None:
            self.page.headings.append((int(tag[1]), " ".join("".join(self.heading).split())))
            self.heading = None
        if tag == "a" and self.link is not None:
            self.page.links.append((self.link_href, " ".join("".join(self.link).split())))
            self.link = None

    def handle_data(self, data: str) -> None:
        if "title" in self.stack:
            self.page.title += data
            return
        if "script" in self.stack:
            if data.strip():
                self.page.inline_script.append(data)
            return
        if self.heading is not None:
            self.heading.append(data)
        if self.link is not None:
            self.link.append(data)
        if "time" not in self.stack:
            self.page.dates_outside_time += ISO_DATE.findall(data)
        self.texts.append(data)


def read_page(path: str, html: str) -> Page:
    page = Page(path)
    reader = _Reader(page)
    reader.feed(html)
    reader.close()
    page.text = " ".join("".join(reader.texts).split())
    return page


def resolve(page_path: str, href: str) -> tuple[str, str]:
    """A relative link's target file (from the site's root) and fragment."""
    target, fragment = urldefrag(href)
    if not target:
        return page_path, fragment
    return normpath(f"{dirname(page_path)}/{target}".lstrip("/")), fragment


def is_external(href: str) -> bool:
    return bool(re.match(r"^[a-z][a-z0-9+.-]*:", href, re.I)) or href.startswith("//")


def valid_day(text: str | None) -> bool:
    if text is None or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True
