"""Package discovery: every ``assessor`` package is found, none is listed by hand.

``checks/`` and ``templates/`` stay at the top of the repository, where a reader looks for them,
and are installed inside the package as ``assessor.checks`` and ``assessor.templates`` (their
directories are mapped in ``pyproject.toml``: ``[tool.setuptools.package-dir]``). Everything else
about the project is in ``pyproject.toml``.
"""

from setuptools import find_packages, setup

setup(packages=[*find_packages(include=["assessor", "assessor.*"]), "assessor.checks", "assessor.templates"])
