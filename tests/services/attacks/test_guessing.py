"""Password and code guessing from rotating addresses, through every way in.

A real server process behind a trusted proxy (`BEHIND_PROXY=true`, so the client is the
last `X-Forwarded-For` entry and every guess can come from an address of its own): the
per-address limits never trigger, which is the point. What must hold is the per-account
lock (5 failures in 5 minutes, on all doors together: docs/accounts.md, "One set of
checks for every way in") and allauth's 5 attempts per emailed code.

The doors: the login page, the admin (which sends people to the login page), allauth's
headless login for browsers and for apps, and the token endpoint.
"""

from __future__ import annotations

import collections
import http.cookiejar
import itertools
import json
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from parley.accounts.models import ApiToken, User
from tests.services.attacks import report, size

ROOT = Path(__file__).resolve().parents[3]

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-correct-horse"  # tests/conftest.py's make_user  # noqa: S105
_addresses = (f"198.51.{n // 250}.{n % 250 + 1}" for n in itertools.count())


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Visitor:
    """A client with its own cookies, each request from a new address."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirects()
        )

    def request(
        self,
        method: str,
        path: str,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], str]:
        all_headers = {"X-Forwarded-For": next(_addresses), **(headers or {})}
        request = urllib.request.Request(
            self.server.http + path, data=data, method=method, headers=all_headers
        )
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, _lower(response.headers), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, _lower(error.headers), error.read().decode()

    def json(self, path: str, body: dict, **headers: str) -> tuple[int, dict]:
        status, _, text = self.request(
            "POST", path, json.dumps(body).encode(), {"Content-Type": "application/json", **headers}
        )
        try:
            return status, json.loads(text)
        except ValueError:
            return status, {}

    def cookie(self, name: str) -> str:
        return next((c.value for c in self.jar if c.name == name), "")


def _lower(headers: Any) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


# --- the doors: each returns True when the password got the guesser in -----------------


def login_page(server: Any, email: str, password: str, next_url: str = "/") -> bool:
    visitor = Visitor(server)
    status, _, html = visitor.request("GET", f"/accounts/login/?next={next_url}")
    assert status == 200, status
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert csrf, html[:500]
    form = urllib.parse.urlencode(
        {
            "login": email,
            "password": password,
            "csrfmiddlewaretoken": csrf.group(1),
            "next": next_url,
        }
    ).encode()
    status, headers, _ = visitor.request(
        "POST",
        "/accounts/login/",
        form,
        {"Content-Type": "application/x-www-form-urlencoded", "Referer": server.http + "/"},
    )
    assert status in (200, 302, 429), status
    return status == 302 and bool(visitor.cookie("sessionid"))


def admin(server: Any, email: str, password: str) -> bool:
    status, headers, _ = Visitor(server).request("GET", "/admin/login/?next=/admin/")
    assert status == 302 and headers["location"].startswith("/accounts/login/"), (status, headers)
    return login_page(server, email, password, "/admin/")


def headless_browser(server: Any, email: str, password: str) -> bool:
    visitor = Visitor(server)
    visitor.request("GET", "/accounts/login/")  # the CSRF cookie
    status, _ = visitor.json(
        "/_allauth/browser/v1/auth/login",
        {"email": email, "password": password},
        **{"X-CSRFToken": visitor.cookie("csrftoken"), "Referer": server.http + "/"},
    )
    assert status in (200, 400, 401, 429), status
    return status == 200


def headless_app(server: Any, email: str, password: str) -> bool:
    status, body = Visitor(server).json(
        "/_allauth/app/v1/auth/login", {"email": email, "password": password}
    )
    assert status in (200, 400, 401, 429), (status, body)
    return status == 200


def token_endpoint(server: Any, email: str, password: str) -> bool:
    status, body = Visitor(server).json(
        "/api/v1/auth/token", {"email": email, "password": password}
    )
    assert status in (200, 201, 400, 429), (status, body)
    return status in (200, 201)


# DEBUG on: the pages need no collectstatic manifest, and cookies are not Secure-only
# over this plain-HTTP loopback; the limits and locks are the same either way.
BEHIND_NGINX = {"BEHIND_PROXY": "true", "DEBUG": "true"}

DOORS = {
    "login page": login_page,
    "admin": admin,
    "headless browser": headless_browser,
    "headless app": headless_app,
    "token endpoint": token_endpoint,
}


def server_user(make_user: Any, name: str) -> User:
    """A staff user whose password the server process can check: the suite hashes with
    MD5 (parley/settings.py, under pytest), the server with the production hashers."""
    user = make_user(name, is_staff=True)
    hasher = PBKDF2PasswordHasher()
    User.objects.filter(pk=user.pk).update(password=hasher.encode(PASSWORD, hasher.salt()))
    return user


def test_password_guessing_from_rotating_addresses_locks_the_account_on_every_door(
    servers, make_user
):
    (server,) = servers(1, **BEHIND_NGINX)
    victim = server_user(make_user, "victim")
    guesses = size(100, 1_000)
    doors = itertools.cycle(DOORS.items())

    # every door lets in someone with the right password (else a refusal proves nothing)
    control = server_user(make_user, "control")
    assert [name for name, door in DOORS.items() if door(server, control.email, PASSWORD)] == list(
        DOORS
    )

    # 5 wrong guesses, one per door, each from an address of its own
    for _ in range(5):
        name, door = next(doors)
        assert not door(server, victim.email, f"wrong-{name}"), name

    # the attack goes on, the right password among the guesses: every one is refused
    accepted: collections.Counter[str] = collections.Counter()
    tried: collections.Counter[str] = collections.Counter()
    for n in range(guesses):
        name, door = next(doors)
        password = PASSWORD if n % 10 == 0 else f"guess-{n}"
        tried[name] += 1
        accepted[name] += door(server, victim.email, password)

    # and the owner, with the right password, on every door
    refused_owner = [
        name for name, door in DOORS.items() if not door(server, victim.email, PASSWORD)
    ]

    assert sum(accepted.values()) == 0, accepted
    assert refused_owner == list(DOORS)
    assert not ApiToken.objects.filter(user=victim).exists()
    assert server.problems() == [], server.log()[-3000:]
    report(
        "password guessing",
        guesses=5 + guesses + len(DOORS),
        addresses=5 + guesses + len(DOORS),
        doors=", ".join(DOORS),
        right_password_among_them=guesses // 10 + len(DOORS),
        accepted_after_lock=0,
    )


def emailed_code(server: Any, email: str) -> str:
    """The code in the last email to `email`: a job worker run on the servers' settings
    sends the queued mail, and the console backend prints it."""
    worker = subprocess.run(
        [sys.executable, "manage.py", "parley_worker", "--batch"],
        cwd=ROOT,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    mails = worker.stdout.split(f"To: {email}")
    assert len(mails) > 1, f"no mail to {email}"
    codes = re.findall(r"^\s*([A-Z0-9-]{4,12})\s*$", mails[-1], re.M)
    assert codes, mails[-1][:2000]
    return codes[0]


def test_guessing_an_emailed_code_stops_after_five_attempts(servers, make_user):
    (server,) = servers(1, **BEHIND_NGINX)
    figures: dict[str, object] = {}

    # email verification: a signup over the app API, then guesses at its code
    email = "newcomer@example.com"
    status, body = Visitor(server).json(
        "/_allauth/app/v1/auth/signup", {"email": email, "password": "a-long-secret-99"}
    )
    assert status == 401, body  # pending: the emailed code is asked for
    session = {"X-Session-Token": body["meta"]["session_token"]}
    code = emailed_code(server, email)
    answers = [
        Visitor(server).json("/_allauth/app/v1/auth/email/verify", {"key": f"WRONG{n}"}, **session)[
            0
        ]
        for n in range(5)
    ]
    right, _ = Visitor(server).json("/_allauth/app/v1/auth/email/verify", {"key": code}, **session)
    assert set(answers) == {400}, answers
    assert right != 200, right
    assert not EmailAddress.objects.get(email=email).verified
    figures["email verification"] = f"5 wrong codes, then the right one refused ({right})"

    # password reset by code: the same for the reset's code
    victim = make_user("victim")
    before = victim.password
    status, body = Visitor(server).json(
        "/_allauth/app/v1/auth/password/request", {"email": victim.email}
    )
    assert status == 401, body
    session = {"X-Session-Token": body["meta"]["session_token"]}
    code = emailed_code(server, victim.email)
    new = "an-attackers-password-1"
    answers = [
        Visitor(server).json(
            "/_allauth/app/v1/auth/password/reset", {"key": f"WRONG{n}", "password": new}, **session
        )[0]
        for n in range(5)
    ]
    right, _ = Visitor(server).json(
        "/_allauth/app/v1/auth/password/reset", {"key": code, "password": new}, **session
    )
    assert set(answers) <= {400, 409}, answers
    assert right != 200, right
    victim.refresh_from_db()
    assert victim.password == before  # unchanged
    figures["password reset"] = f"5 wrong codes, then the right one refused ({right})"

    assert server.problems() == [], server.log()[-3000:]
    report("code guessing", **figures, accepted=0)
