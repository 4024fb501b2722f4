"""The whole test suite, as `make test` runs it.

1. static checks: no missing migration, ruff;
2. the core suite on SQLite and the in-memory channel layer;
3. the services suite on a real PostgreSQL and Redis (tests/services/), with several
   real server processes, and nginx in front of them for the fault cases;
   tests/services/attacks/ is the attacks part of it (malformed
   frames, schemathesis, floods, guessing, slowloris through nginx: docs/reliability.md,
   "Attacks");
4. the browser suite in headless Chromium (tests/e2e/), in its own pytest run because
   Playwright's sync API and pytest-asyncio cannot share one; the XSS and unicode
   payloads of the attacks are there (tests/e2e/test_xss_corpus.py);
5. the web client's unit tests (tests/js/) with Node's built-in test runner.

The services suite spends most of its time waiting (servers starting, outages, restarts,
timeouts), so it runs beside the core suite, its output printed whole when it ends; the
browser suite, whose clicks and waits are the most sensitive to a busy machine, runs after
both, alone. PARLEY_TEST_SERIAL=1 runs the suites one at a time, each printed as it goes.

The attacks run scaled down to keep the suite's time; PARLEY_ATTACKS_FULL=1 in the
environment runs them at the issue's full sizes. A missing service is reported and its
suite skipped; with CI=true a missing service fails the run (nginx and schemathesis
included: their attack tests fail instead of skipping). The last line sums up every
suite: "tests: N passed, N failed, N skipped".
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

TEST_DATABASE_URL = os.environ.get(
    "PARLEY_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test"
)
TEST_REDIS_URL = os.environ.get("PARLEY_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
CHROMIUM = os.environ.get("PARLEY_CHROMIUM", "/usr/bin/chromium")
SERIAL = os.environ.get("PARLEY_TEST_SERIAL", "").lower() in ("1", "true", "yes")


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def postgres_ok() -> tuple[bool, str]:
    if not reachable("127.0.0.1", 5432):
        return False, "nothing listens on 127.0.0.1:5432"
    try:
        import psycopg

        url = TEST_DATABASE_URL.replace("postgres://", "postgresql://", 1)
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        return False, f"cannot log in: {exc}"
    return True, TEST_DATABASE_URL


def redis_ok() -> tuple[bool, str]:
    if not reachable("127.0.0.1", 6379):
        return False, "nothing listens on 127.0.0.1:6379"
    return True, TEST_REDIS_URL


def chromium_ok() -> tuple[bool, str]:
    path = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    if not path:
        return False, f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    return True, path


def node_ok() -> tuple[bool, str]:
    path = shutil.which("node")
    if not path:
        return False, "no node on PATH (apt-get install nodejs)"
    return True, path


def node_tests(node: str, results: list[Path]) -> int:
    """tests/js/*.test.mjs with `node --test`: a readable report, and JUnit XML to count."""
    junit = Path(tempfile.mkdtemp()) / "junit.xml"
    results.append(junit)
    print("\n=== web client unit tests (node --test) ===", flush=True)
    files = sorted(str(f) for f in (ROOT / "tests" / "js").glob("*.test.mjs"))
    cmd = [
        node,
        "--test",
        "--test-reporter=spec",
        "--test-reporter-destination=stdout",
        "--test-reporter=junit",
        f"--test-reporter-destination={junit}",
        *files,
    ]
    return subprocess.call(cmd, cwd=ROOT)


def nginx_ok() -> tuple[bool, str]:
    path = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else "")
    if not path:
        return False, "no nginx (apt-get install nginx): the fault cases are skipped"
    return True, path


def pytest(label: str, args: list[str], env: dict[str, str], results: list[Path]) -> int:
    junit = Path(tempfile.mkdtemp()) / "junit.xml"
    results.append(junit)
    print(f"\n=== {label} ===", flush=True)
    cmd = [PY, "-m", "pytest", f"--junitxml={junit}", *args]
    return subprocess.call(cmd, cwd=ROOT, env={**os.environ, **env})


class Beside:
    """A pytest run in the background, its output kept in a file and printed whole once
    it ends (`finish`), so that it does not interleave with the suites in the foreground."""

    def __init__(self, label: str, args: list[str], env: dict[str, str], results: list[Path]):
        self.label = label
        junit = Path(tempfile.mkdtemp()) / "junit.xml"
        results.append(junit)
        self.log = junit.with_name("output.txt")
        cmd = [PY, "-m", "pytest", f"--junitxml={junit}", *args]
        print(f"\n=== {label}: started beside the others, output when it ends ===", flush=True)
        self.status: int | None = None
        self.thread = threading.Thread(target=self._run, args=(cmd, env), daemon=True)
        self.thread.start()

    def _run(self, cmd: list[str], env: dict[str, str]) -> None:
        with self.log.open("w") as out:
            self.status = subprocess.call(
                cmd, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
            )

    def finish(self) -> int:
        self.thread.join()
        print(f"\n=== {self.label} ===", flush=True)
        sys.stdout.write(self.log.read_text(errors="replace"))
        sys.stdout.flush()
        return 1 if self.status is None else self.status


def count(results: list[Path]) -> tuple[int, int, int]:
    passed = failed = skipped = 0
    for junit in results:
        if not junit.exists():
            continue
        root = ET.parse(junit).getroot()
        suites = [s for s in root.iter("testsuite") if s.get("tests") is not None]
        if not suites:  # Node's JUnit report: bare testcases, no counts
            for case in root.iter("testcase"):
                if case.find("failure") is not None or case.find("error") is not None:
                    failed += 1
                elif case.find("skipped") is not None:
                    skipped += 1
                else:
                    passed += 1
            continue
        for suite in suites:
            tests = int(suite.get("tests", 0))
            fails = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
            skips = int(suite.get("skipped", 0))
            passed += tests - fails - skips
            failed += fails
            skipped += skips
    return passed, failed, skipped


def main() -> int:
    extra = sys.argv[1:]
    failures: list[str] = []
    # The core suite runs on SQLite and the in-memory layer whatever .env says.
    base_env = {
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{ROOT / 'db.sqlite3'}",
        "REDIS_URL": "",
        "PYTHONUNBUFFERED": "1",
    }

    print("=== static checks ===", flush=True)
    if subprocess.call([PY, "manage.py", "makemigrations", "--check", "--dry-run"], cwd=ROOT):
        failures.append("a model change has no migration")
    if subprocess.call([PY, "-m", "ruff", "check", "parley", "tests", "bench"], cwd=ROOT):
        failures.append("ruff found problems")

    services = {
        "PostgreSQL": postgres_ok(),
        "Redis": redis_ok(),
        "nginx": nginx_ok(),
        "Chromium": chromium_ok(),
        "Node": node_ok(),
    }
    print("\n=== services ===")
    for name, (ok, detail) in services.items():
        print(f"  {name:<10} {'found' if ok else 'MISSING'}: {detail}")
        if not ok and CI:
            failures.append(f"{name} is required under CI=true: {detail}")

    results: list[Path] = []
    services_run: Beside | None = None
    if services["PostgreSQL"][0] and services["Redis"][0]:
        label = "services suite (PostgreSQL, Redis, server processes)"
        args = ["-m", "services", "tests/services", *extra]
        env = base_env | {"DATABASE_URL": TEST_DATABASE_URL, "REDIS_URL": TEST_REDIS_URL}
        if SERIAL:
            if pytest(label, args, env, results):
                failures.append("services suite")
        else:
            services_run = Beside(label, args, env, results)
    else:
        print("\n=== services suite skipped: PostgreSQL or Redis is missing ===")

    if pytest(
        "core suite (SQLite, in-memory layer)",
        ["-m", "not services and not e2e", *extra],
        base_env,
        results,
    ):
        failures.append("core suite")

    if services_run is not None and services_run.finish():
        failures.append("services suite")

    if services["Chromium"][0] and (ROOT / "tests" / "e2e" / "conftest.py").exists():
        env = base_env | {"PARLEY_CHROMIUM": services["Chromium"][1]}
        if pytest(
            "browser suite (headless Chromium)",
            [
                "-m",
                "e2e",
                "-p",
                "no:asyncio",
                "-W",
                "ignore::pytest.PytestConfigWarning",
                "tests/e2e",
                *extra,
            ],
            env,
            results,
        ):
            failures.append("browser suite")
    elif not services["Chromium"][0]:
        print("\n=== browser suite skipped: Chromium is missing ===")

    if services["Node"][0]:
        if node_tests(services["Node"][1], results):
            failures.append("web client unit tests")
    else:
        print("\n=== web client unit tests skipped: Node is missing ===")

    passed, failed, skipped = count(results)
    print()
    for failure in failures:
        print(f"FAILED: {failure}")
    if failures and not failed:
        failed = len(failures)
    print(f"tests: {passed} passed, {failed} failed, {skipped} skipped", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
