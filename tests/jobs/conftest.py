from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.smtp import SmtpSink


@pytest.fixture
def smtp(settings) -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.use_in(settings)
    yield sink
    sink.stop()
