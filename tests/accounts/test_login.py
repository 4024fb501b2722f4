"""Login with email and password, "remember me", logout, and what needs a login."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from tests.accounts.conftest import last_code, sent

pytestmark = pytest.mark.django_db

PASSWORD = "pw-correct-horse"  # tests/conftest.py make_user
TWO_WEEKS = 14 * 24 * 3600
LOGIN_API = "/_allauth/browser/v1/auth/login"


def html_login(client, email, password=PASSWORD, **extra):
    return client.post("/accounts/login/", {"login": email, "password": password, **extra})


def test_login_with_remember_me_keeps_the_session_two_weeks(client, alice):
    response = html_login(client, alice.email, remember="on")

    cookie = response.cookies["sessionid"]
    assert response.status_code == 302
    assert int(cookie["max-age"]) == TWO_WEEKS
    assert cookie["expires"]
    assert client.session.get_expiry_age() == TWO_WEEKS


def test_login_without_remember_me_ends_with_the_browser(client, alice):
    response = html_login(client, alice.email)

    cookie = response.cookies["sessionid"]
    assert response.status_code == 302
    assert cookie["max-age"] == "" and cookie["expires"] == ""  # a browser-session cookie
    assert client.session.get_expire_at_browser_close()


def test_the_login_page_offers_remember_me(client):
    page = client.get("/accounts/login/").content.decode()

    assert 'name="remember"' in page and 'for="id_remember"' in page


def test_email_is_case_insensitive_and_a_wrong_password_is_refused(client, alice):
    wrong = html_login(client, alice.email, "not-the-password")
    right = html_login(client, "ALICE@example.com")

    assert wrong.status_code == 200
    assert "not correct" in wrong.content.decode()
    assert right.status_code == 302
    assert client.session["_auth_user_id"] == str(alice.pk)


def test_login_redirects_to_next(client, alice):
    response = html_login(client, alice.email, next="/c/7/")

    assert response["Location"] == "/c/7/"


def test_pages_that_need_a_login_redirect_with_next(client):
    chat = client.get("/")
    profile = client.get("/accounts/profile/")
    old_login = client.get("/login/?next=/c/3/")

    assert chat.status_code == 302 and chat["Location"] == "/accounts/login/?next=/"
    assert profile["Location"] == "/accounts/login/?next=/accounts/profile/"
    assert old_login["Location"] == "/accounts/login/?next=/c/3/"


def test_api_calls_without_auth_get_401_json(client):
    me = client.get("/api/v1/me")
    session = client.get("/_allauth/browser/v1/auth/session")

    assert me.status_code == 401 and me.json()["code"] == "not_authenticated"
    assert session.status_code == 401 and session.json()["meta"]["is_authenticated"] is False


def test_json_login_and_logout(client, alice):
    wrong = client.post(
        LOGIN_API, {"email": alice.email, "password": "nope"}, content_type="application/json"
    )
    right = client.post(
        LOGIN_API, {"email": alice.email, "password": PASSWORD}, content_type="application/json"
    )
    me = client.get("/api/v1/me")
    out = client.delete("/_allauth/browser/v1/auth/session")

    assert wrong.status_code == 400
    assert right.status_code == 200 and right.json()["data"]["user"]["id"] == alice.pk
    assert me.status_code == 200 and me.json()["username"] == "alice"
    assert out.status_code == 401
    assert client.get("/api/v1/me").status_code == 401


def json_login(client, email, password=PASSWORD, path=LOGIN_API, **extra):
    return client.post(
        path, {"email": email, "password": password, **extra}, content_type="application/json"
    )


def test_json_login_with_remember_keeps_the_session_two_weeks(client, alice):
    response = json_login(client, alice.email, remember=True)

    cookie = response.cookies["sessionid"]
    assert response.status_code == 200
    assert int(cookie["max-age"]) == TWO_WEEKS
    assert cookie["expires"]
    assert client.get("/api/v1/me").status_code == 200


@pytest.mark.parametrize("choice", [{}, {"remember": False}], ids=["unset", "false"])
def test_json_login_without_remember_ends_with_the_browser(client, alice, choice):
    response = json_login(client, alice.email, **choice)

    cookie = response.cookies["sessionid"]
    assert response.status_code == 200
    assert cookie["max-age"] == "" and cookie["expires"] == ""  # a browser-session cookie
    assert client.get("/api/v1/me").status_code == 200


@pytest.mark.parametrize("remember", [True, False])
def test_json_login_remember_survives_the_email_code_step(client, remember):
    """An account that never entered its signup code is asked for one at login: the
    session it is signed into once the code is right keeps the login's choice."""
    client.post(
        "/_allauth/browser/v1/auth/signup",
        {"email": "late@example.com", "password": "a-long-secret-99"},
        content_type="application/json",
    )
    client.cookies.clear()
    cache.clear()  # the per-address send limit

    pending = json_login(client, "late@example.com", "a-long-secret-99", remember=remember)
    code = last_code("late@example.com")
    verified = client.post(
        "/_allauth/browser/v1/auth/email/verify", {"key": code}, content_type="application/json"
    )

    assert pending.status_code == 401
    assert verified.status_code == 200 and verified.json()["meta"]["is_authenticated"]
    cookie = verified.cookies["sessionid"]
    assert cookie["max-age"] == (TWO_WEEKS if remember else "")


def test_app_login_without_remember_keeps_a_working_session_token(client, alice):
    """The app client has no cookie: its token lives as long as the server-side session
    (SESSION_COOKIE_AGE), remembered or not."""
    response = json_login(client, alice.email, path="/_allauth/app/v1/auth/login")
    token = response.json()["meta"]["session_token"]
    client.cookies.clear()

    session = client.get("/_allauth/app/v1/auth/session", headers={"X-Session-Token": token})

    assert response.status_code == 200
    assert session.status_code == 200 and session.json()["data"]["user"]["id"] == alice.pk


def test_html_logout_ends_the_session(client, alice):
    html_login(client, alice.email)

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302


def test_an_unverified_account_gets_a_code_at_login(client):
    """Signed up, never entered the code: logging in asks for one (sent anew)."""
    client.post("/accounts/signup/", {"email": "late@example.com", "password1": "a-long-secret-99"})
    client.post("/accounts/logout/")
    client.cookies.clear()
    sent().clear()
    cache.clear()  # the per-address send limit

    response = client.post(
        "/accounts/login/", {"login": "late@example.com", "password": "a-long-secret-99"}
    )

    assert response.status_code == 302 and response["Location"] == "/accounts/confirm-email/"
    assert [m.to for m in sent()] == [["late@example.com"]]
    assert "_auth_user_id" not in client.session


def test_the_json_api_documents_itself_next_to_parleys_schema(client):
    spec = client.get("/_allauth/openapi.json")
    page = client.get("/_allauth/openapi.html")
    parley = client.get("/api/schema/", {"format": "json"})

    assert spec.status_code == 200
    assert "/_allauth/{client}/v1/auth/signup" in spec.json()["paths"]
    assert page.status_code == 200
    assert "/_allauth/openapi.html" in parley.json()["info"]["description"]
    assert "/api/v1/me" in parley.json()["paths"]
