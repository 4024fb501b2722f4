"""Regular expressions of the widgets' bots, matched in a child process with a deadline.

An owner's pattern is code that runs on every visitor message, and Python's `re`
backtracks: `(a+)+$` against forty `a`s and a `b` runs for minutes, holding the GIL, and
no timer can interrupt it inside the interpreter. So the server never runs an owner's
pattern itself: one small child process per server process (`python -I -S`, stdlib `re`
only) does, one request at a time, and the server waits for its answer at most
`PARLEY["BOT_REGEX_TIMEOUT"]` seconds. A child that overruns is killed; the next request
starts a new one (a few tens of milliseconds). The worst a pathological pattern costs is
that deadline per message, and its rule simply does not match (docs/widget.md, "The
bot"). Patterns are validated when they are saved (`compile_error`), and the text is a
message, at most 4,000 characters.
"""

from __future__ import annotations

import json
import logging
import os
import re
import select
import subprocess
import sys
import threading
import time
from typing import IO

from django.conf import settings

from parley.common.intervallog import IntervalLog

log = logging.getLogger(__name__)
_overruns = IntervalLog(log, "bot patterns ran past their time limit (the child was restarted)")

PATTERN_MAX_LENGTH = 200
STARTUP_TIMEOUT = 10.0  # seconds for a new child to start (an interpreter, stdlib only)

# The child: reads one JSON request per line ({"p": [patterns], "t": text}) and answers
# the index of the first pattern that matches ({"i": n}, or null). It says "ready" once
# started, so that its start-up is not counted in the first request's time limit.
_CHILD = r"""
import json, re, sys
cache = {}
sys.stdout.write("ready\n")
sys.stdout.flush()
for line in sys.stdin:
    request = json.loads(line)
    found = None
    for i, pattern in enumerate(request["p"]):
        compiled = cache.get(pattern)
        if compiled is None:
            if len(cache) > 1000:
                cache.clear()
            try:
                compiled = cache[pattern] = re.compile(pattern, re.IGNORECASE)
            except re.error:
                continue
        if compiled.search(request["t"]):
            found = i
            break
    sys.stdout.write(json.dumps({"i": found}) + "\n")
    sys.stdout.flush()
"""


class MatchTimeout(Exception):
    """The patterns did not finish within the time limit."""


def compile_error(pattern: str) -> str | None:
    """Why `pattern` cannot be a bot rule's pattern, or None. Compiling is linear in the
    pattern's length (repeats are opcodes, not copies), so it is done here."""
    if not pattern:
        return "Required."
    if len(pattern) > PATTERN_MAX_LENGTH:
        return f"At most {PATTERN_MAX_LENGTH} characters."
    if any(ord(c) < 32 or ord(c) == 127 for c in pattern):
        # Stored as JSON, where PostgreSQL refuses NUL; write \n, \t, \x00 instead.
        return "No control characters (write them as escapes, e.g. \\n)."
    try:
        re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        return f"Not a regular expression: {exc}."
    except (OverflowError, RecursionError):
        return "Not a regular expression this server can use."
    return None


class _Sandbox:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._child: subprocess.Popen[bytes] | None = None
        self._pid = 0  # the process that started the child (a fork starts its own)

    def _process(self) -> subprocess.Popen[bytes]:
        if self._child is None or self._pid != os.getpid() or self._child.poll() is not None:
            self._child = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed code
                [sys.executable, "-I", "-S", "-c", _CHILD],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                bufsize=0,
            )
            self._pid = os.getpid()
            assert self._child.stdout is not None
            if (
                self._read_line(self._child.stdout, time.monotonic() + STARTUP_TIMEOUT)
                != b"ready\n"
            ):
                self._kill()
                raise MatchTimeout()
        return self._child

    @staticmethod
    def _read_line(stream: IO[bytes], deadline: float) -> bytes:
        """One line from the child, or what came of it by `deadline` (or till it died)."""
        line = b""
        while not line.endswith(b"\n"):
            ready, _, _ = select.select([stream], [], [], max(deadline - time.monotonic(), 0))
            if not ready:
                break
            chunk = os.read(stream.fileno(), 4096)
            if not chunk:
                break
            line += chunk
        return line

    def _kill(self) -> None:
        if self._child is not None:
            self._child.kill()
            self._child.wait()
            self._child = None

    def first_match(self, patterns: list[str], text: str, timeout: float) -> int | None:
        if not self._lock.acquire(timeout=timeout):
            raise MatchTimeout()
        try:
            child = self._process()
            assert child.stdin is not None and child.stdout is not None
            request = json.dumps({"p": patterns, "t": text}).encode() + b"\n"
            deadline = time.monotonic() + timeout  # the child's start is not counted
            try:
                child.stdin.write(request)
                answer = self._read_line(child.stdout, deadline)
                if not answer.endswith(b"\n"):
                    raise MatchTimeout()  # too slow, or the child died
            except (MatchTimeout, OSError):
                self._kill()
                _overruns.failed(MatchTimeout(f"over {timeout} s"))
                raise MatchTimeout() from None
            found = json.loads(answer)["i"]
            return found if isinstance(found, int) else None
        finally:
            self._lock.release()


_sandbox = _Sandbox()


def first_match(patterns: list[str], text: str) -> int | None:
    """The index of the first of `patterns` found in `text` (case-insensitive), or None.
    Raises MatchTimeout when they take longer than the time limit."""
    if not patterns:
        return None
    return _sandbox.first_match(patterns, text, settings.PARLEY["BOT_REGEX_TIMEOUT"])
