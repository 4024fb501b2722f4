"""Parley with one more view, which fails: the settings of a server that
tests/test_error_tracking.py starts to see where its error goes."""

from parley.settings import *  # noqa: F403

ROOT_URLCONF = "tests.sites.failing_view_urls"
