"""Activates the conformance run when these tests are collected (the plugin itself is
registered through the pytest11 entry point)."""

import pytest

from conformance.plugin import activate


def pytest_configure(config: pytest.Config) -> None:
    activate(config)
