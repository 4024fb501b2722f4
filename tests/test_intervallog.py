"""A failure that repeats while a service is down is logged once per interval, with a
count, and once when it is over (parley/common/intervallog.py)."""

from __future__ import annotations

import logging

from parley.common import intervallog
from parley.common.intervallog import IntervalLog


def test_a_thousand_failures_in_a_row_are_two_warnings_and_one_all_clear(caplog, monkeypatch):
    now = [100.0]
    monkeypatch.setattr(intervallog.time, "monotonic", lambda: now[0])
    outage = IntervalLog(logging.getLogger("parley.test"), "thing unavailable", interval=10)

    with caplog.at_level(logging.INFO, logger="parley.test"):
        for _ in range(500):
            outage.failed(ConnectionError("refused"))
            now[0] += 0.01  # 5 s
        now[0] += 6
        for _ in range(500):
            outage.failed(ConnectionError("refused"))
        outage.ok()
        outage.ok()

    lines = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert [level for level, _ in lines] == ["WARNING", "WARNING", "INFO"]
    assert "1 time(s)" in lines[0][1] and "ConnectionError: refused" in lines[0][1]
    assert "500 time(s)" in lines[1][1]  # 499 after the first, and the one that logged
    assert lines[2][1].startswith("thing unavailable: over after")
