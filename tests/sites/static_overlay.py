"""Parley's settings, with the static files of PARLEY_TEST_STATIC_OVERLAY found before the
apps' own: a "next version" whose files differ, for tests/test_static_versions.py."""

import os

from parley.settings import *  # noqa: F403

STATICFILES_DIRS = [os.environ["PARLEY_TEST_STATIC_OVERLAY"]]
