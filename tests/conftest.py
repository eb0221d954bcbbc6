"""Shared pytest configuration for the edcs test suite."""

pytest_plugins = ["tests.fixtures.postgres", "tests.fixtures.stack", "tests.fixtures.broker",
                  "tests.fixtures.prometheus", "tests.fixtures.webapp",
                  "tests.fixtures.browser"]
