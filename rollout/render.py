"""Jinja templates: the shipped defaults, a team's overrides, and strict rendering.

Templates get data; issue text is passed in as values and never compiled, so a title
like ``{{ config }}`` prints as written.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from rollout.errors import TemplateError

PACKAGE = "rollout.templates"


def _load_shipped(name: str) -> tuple[str, str, Any] | None:
    resource = resources.files(PACKAGE).joinpath(name)
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
        )

    def _template(self, name: str) -> jinja2.Template:
        try:
            return self.environment.get_template(name)
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

    def render_block(self, name: str, block: str, context: Mapping[str, Any]) -> str:
        """One ``{% block %}`` of a template, e.g. an event's summary, stripped of edge space."""
        template = self._template(name)
        if block not in template.blocks:
            raise TemplateError(f"template {name}: has no block {block!r}")
        with _reported_as(name):
            rendered = "".join(template.blocks[block](template.new_context(dict(context))))
        return rendered.strip()


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
