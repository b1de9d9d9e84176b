"""The one thing pyproject.toml cannot say: find rollout's packages, and add rollout.templates,
which lives in templates/ (see [tool.setuptools.package-dir]) where no search would look."""

from setuptools import find_packages, setup

setup(packages=[*find_packages(include=["rollout", "rollout.*"]), "rollout.templates"])
