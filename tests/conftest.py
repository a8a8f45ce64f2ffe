"""Shared fixtures for the oracle's and the harness's own tests."""

pytest_plugins = ["pytester"]
