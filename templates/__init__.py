"""Jinja templates shipped with rollout; a team overrides them with [templates] dir."""
