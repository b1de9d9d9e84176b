"""Jinja templates: the shipped defaults, a team's overrides, and strict rendering.

Templates get data; issue text is passed in as values and never compiled, so a title
like ``{{ config }}`` prints as written.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from rollout.dates import strftime
from rollout.errors import TemplateError

PACKAGE = "rollout.templates"


def _load_shipped(name: str) -> tuple[str, str, Any] | None:
    resource = resources.files(PACKAGE).joinpath(*name.split("/"))
    if not resource.is_file():
        return None
    source = resource.read_text(encoding="utf-8")
    # The shipped templates never change while rollout runs.
    return source, f"{PACKAGE}/{name}", lambda: True


def _autoescape(name: str | None) -> bool:
    return bool(name) and str(name).endswith((".html.j2", ".html"))


class Templates:
    """Renders templates by name, a team's directory first, rollout's own second."""

    def __init__(self, override_dir: Path | None = None) -> None:
        loaders: list[jinja2.BaseLoader] = []
        if override_dir is not None:
            loaders.append(jinja2.FileSystemLoader(override_dir))
        loaders.append(jinja2.FunctionLoader(_load_shipped))
        self.environment = jinja2.Environment(
            loader=jinja2.ChoiceLoader(loaders),
            undefined=jinja2.StrictUndefined,
            autoescape=_autoescape,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
            # Templates do not change while rollout runs: no stat of the file on every use.
            auto_reload=False,
        )
        # {{ day | strftime("%A %Y-%m-%d") }}: day.strftime with four-digit years (0500).
        self.environment.filters["strftime"] = strftime
        self.environment.filters["toml_string"] = toml_string
        self._loaded: dict[str, jinja2.Template] = {}

    def _template(self, name: str) -> jinja2.Template:
        loaded = self._loaded.get(name)
        if loaded is not None:
            return loaded
        try:
            loaded = self._loaded[name] = self.environment.get_template(name)
            return loaded
        except jinja2.TemplateNotFound:
            raise TemplateError(f"template {name}: not found") from None
        except jinja2.TemplateSyntaxError as error:
            raise TemplateError(f"template {name}: line {error.lineno}: {error.message}") from None
        except (UnicodeDecodeError, OSError) as error:
            raise TemplateError(f"template {name}: cannot read it ({error})") from None

    def render(self, name: str, context: Mapping[str, Any]) -> str:
        template = self._template(name)
        with _reported_as(name):
            return template.render(context)

    def source(self, name: str) -> str:
        """A file's text as it is, not rendered (a stylesheet, a script): the team's
        directory first, rollout's own second."""
        loader = self.environment.loader
        assert loader is not None
        try:
            text, _, _ = loader.get_source(self.environment, name)
        except jinja2.TemplateNotFound:
            raise TemplateError(f"template {name}: not found") from None
        return text

    def render_block(self, name: str, block: str, context: Mapping[str, Any]) -> str:
        """One ``{% block %}`` of a template, e.g. an event's summary, stripped of edge space."""
        return self.render_blocks(name, (block,), context)[0]

    def render_blocks(
        self, name: str, blocks: Sequence[str], context: Mapping[str, Any]
    ) -> tuple[str, ...]:
        """Several blocks of one template from one context (an event's summary and
        description), each stripped of edge space: one context for all of them, which is
        most of the cost of a small block."""
        template = self._template(name)
        for block in blocks:
            if block not in template.blocks:
                raise TemplateError(f"template {name}: has no block {block!r}")
        with _reported_as(name):
            variables = template.new_context(dict(context))
            return tuple("".join(template.blocks[block](variables)).strip() for block in blocks)


@contextmanager
def _reported_as(name: str) -> Iterator[None]:
    """Turn Jinja's errors while rendering ``name`` into one-line TemplateErrors."""
    try:
        yield
    except jinja2.UndefinedError as error:
        raise TemplateError(f"template {name}: {error.message}") from None
    except jinja2.TemplateError as error:
        raise TemplateError(f"template {name}: {error}") from None
    except RecursionError:
        raise TemplateError(f"template {name}: it calls itself without end") from None
    except Exception as error:  # {{ 1/0 }}, {{ "%d" % "x" }}: the template's own mistake
        raise TemplateError(f"template {name}: {type(error).__name__}: {error}") from None


def toml_string(value: str) -> str:
    """``value`` as a TOML basic string. Not tojson: JSON writes a character beyond the
    Basic Multilingual Plane as two surrogate escapes, which TOML refuses."""
    text = json.dumps(str(value), ensure_ascii=False)
    return text.replace("\x7f", "\\u007f")  # DEL, which TOML wants escaped and JSON does not
