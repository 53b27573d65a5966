"""Shared pytest configuration: the real-cluster harness is loaded as a plugin."""

pytest_plugins = ["tests.harness.plugin"]
