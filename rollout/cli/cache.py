"""rollout cache: the local history cache (PRODUCT.md §9)."""

from __future__ import annotations

import click

from rollout.cli.options import App, pass_app, say


@click.group()
def cache() -> None:
    """Look at or clear the local history cache: the label events, links and notes of
    issues kept between runs, so that a run asks GitLab only for the issues that changed.

    It is one SQLite file per GitLab host and project, in the user cache directory or at
    [cache] path. --no-cache (or [cache] enabled = false) turns it off.

    \b
    Examples:
      rollout cache info
      rollout cache clear
    """


@cache.command()
@pass_app
def info(app: App) -> None:
    """Show where the cache is, how big, and how much of the last run it answered.

    \b
    Examples:
      rollout cache info
    """
    from rollout.trackers.cache import cache_info, describe, history_cache_path

    config = app.config
    found = cache_info(history_cache_path(config))
    click.echo(describe(found, enabled=config.cache.enabled and not app.no_cache), nl=False)


@cache.command()
@pass_app
def clear(app: App) -> None:
    """Delete the cache file; the next run reads every history from GitLab again.

    \b
    Examples:
      rollout cache clear
    """
    from rollout.trackers.cache import history_cache_path, remove_cache

    path = history_cache_path(app.config)
    if remove_cache(path):
        say(f"removed {path}")
    else:
        say(f"no cache at {path}")
