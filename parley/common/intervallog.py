"""A log for a failure that repeats while a service is down: one WARNING when it starts,
at most one more per interval with how many times it happened meanwhile, and one INFO
when it clears. A Redis outage used to write an ERROR with a traceback for every failed
publish (2,740 lines in 30 s under load); the database outage has its own such log
(parley/common/outage.py)."""

from __future__ import annotations

import logging
import threading
import time

INTERVAL = 10.0  # seconds between two warnings of one outage


class IntervalLog:
    def __init__(self, logger: logging.Logger, what: str, interval: float = INTERVAL) -> None:
        self.logger = logger
        self.what = what  # e.g. "cache unavailable"
        self.interval = interval
        self._lock = threading.Lock()
        self._since: float | None = None
        self._logged_at = 0.0
        self._count = 0

    def failed(self, exc: BaseException, consequence: str = "") -> None:
        now = time.monotonic()
        with self._lock:
            if self._since is None:
                self._since = now
            self._count += 1
            if now - self._logged_at < self.interval:
                return
            count, self._count, self._logged_at = self._count, 0, now
        detail = f" {consequence}" if consequence else ""
        self.logger.warning(
            "%s (%s: %s)%s; %d time(s) since the last warning",
            self.what,
            type(exc).__name__,
            str(exc)[:200],
            detail,
            count,
        )

    def ok(self) -> None:
        if self._since is None:
            return
        with self._lock:
            since, self._since, self._count, self._logged_at = self._since, None, 0, 0.0
        if since is not None:
            self.logger.info("%s: over after %.0f s", self.what, time.monotonic() - since)
