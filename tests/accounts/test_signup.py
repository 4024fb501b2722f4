"""Signup confirmed by an emailed one-time code, over the HTML forms and the JSON API."""

from __future__ import annotations

import time

import pytest
from allauth.account.models import EmailAddress
from django.core.cache import cache

from parley.accounts.models import User
from tests.accounts.conftest import last_code, sent

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-secret-99"
CONFIRM = "/accounts/confirm-email/"
SIGNUP_API = "/_allauth/browser/v1/auth/signup"
VERIFY_API = "/_allauth/browser/v1/auth/email/verify"
SESSION_KEY = "account_email_verification_code"


def signed_in_user_id(client) -> str | None:
    return client.session.get("_auth_user_id")


def html_signup(client, email="new@example.com", **extra):
    response = client.post("/accounts/signup/", {"email": email, "password1": PASSWORD, **extra})
    assert response.status_code == 302 and response["Location"] == CONFIRM
    return response


def api(client, path, data=None, method="post"):
    return getattr(client, method)(path, data or {}, content_type="application/json")


def age_pending_code(client, seconds: float) -> None:
    """Move the stored issue time of the pending code back (allauth keeps it in the session)."""
    session = client.session
    state = session[SESSION_KEY]
    state["at"] = time.time() - seconds
    session[SESSION_KEY] = state
    session.save()


# --- HTML forms ----------------------------------------------------------------------------


def test_html_signup_sends_a_code_and_the_right_code_verifies_and_signs_in(client):
    # given
    html_signup(client, username="newbie")
    assert signed_in_user_id(client) is None
    assert len(sent()) == 1 and sent()[0].to == ["new@example.com"]
    code = last_code("new@example.com")

    # when
    response = client.post(CONFIRM, {"code": code})

    # then
    user = User.objects.get(email="new@example.com")
    assert response.status_code == 302 and response["Location"] == "/"
    assert signed_in_user_id(client) == str(user.pk)
    assert user.username == "newbie"
    assert EmailAddress.objects.get(user=user).verified


def test_a_blank_username_is_derived_from_the_email(client):
    html_signup(client, email="Ada.Lovelace@example.com", username="")
    client.post(CONFIRM, {"code": last_code("ada.lovelace@example.com")})

    user = User.objects.get(email__iexact="ada.lovelace@example.com")
    assert user.username  # chosen by allauth from the address, editable on the profile
    assert "ada" in user.username.lower()


def test_the_code_page_does_not_sign_in_on_a_wrong_code(client):
    html_signup(client)

    response = client.post(CONFIRM, {"code": "BBBB-CCCC"})

    assert response.status_code == 200
    assert "Incorrect code" in response.content.decode()
    assert signed_in_user_id(client) is None


def test_five_wrong_codes_void_the_code(client):
    html_signup(client)
    code = last_code("new@example.com")
    for _ in range(4):
        assert client.post(CONFIRM, {"code": "BBBB-CCCC"}).status_code == 200

    fifth = client.post(CONFIRM, {"code": "BBBB-CCCC"})
    right_after = client.post(CONFIRM, {"code": code})

    assert fifth.status_code == 302 and fifth["Location"].startswith("/accounts/login/")
    assert right_after.status_code == 302 and right_after["Location"].startswith("/accounts/login/")
    assert signed_in_user_id(client) is None
    assert not EmailAddress.objects.filter(email="new@example.com", verified=True).exists()


def test_an_expired_code_is_refused(client):
    html_signup(client)
    code = last_code("new@example.com")
    age_pending_code(client, 10 * 60 + 1)

    response = client.post(CONFIRM, {"code": code})

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert signed_in_user_id(client) is None
    assert not EmailAddress.objects.filter(email="new@example.com", verified=True).exists()


def test_a_code_is_still_good_just_before_ten_minutes(client):
    html_signup(client)
    age_pending_code(client, 10 * 60 - 5)

    response = client.post(CONFIRM, {"code": last_code("new@example.com")})

    assert response.status_code == 302 and response["Location"] == "/"
    assert signed_in_user_id(client) is not None


def test_a_used_code_cannot_be_used_again(client, django_user_model):
    html_signup(client)
    code = last_code("new@example.com")
    assert client.post(CONFIRM, {"code": code})["Location"] == "/"
    client.post("/accounts/logout/")
    assert signed_in_user_id(client) is None

    again = client.post(CONFIRM, {"code": code})

    assert again.status_code == 302 and again["Location"].startswith("/accounts/login/")
    assert signed_in_user_id(client) is None


def test_a_new_code_voids_the_previous_one(client):
    html_signup(client)
    first = last_code("new@example.com")
    cache.clear()  # the resend limit (one code per 30 s per address) has its own test

    resend = client.post(CONFIRM, {"action": "resend"})
    second = last_code("new@example.com")
    old = client.post(CONFIRM, {"code": first})
    new = client.post(CONFIRM, {"code": second})

    assert resend.status_code == 302
    assert len(sent()) == 2 and first != second
    assert old.status_code == 200 and "Incorrect code" in old.content.decode()
    assert new.status_code == 302 and new["Location"] == "/"


def test_a_resend_right_away_is_refused_with_a_retry_time(client):
    html_signup(client)

    response = client.post(CONFIRM, {"action": "resend"})

    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 30
    assert f"Try again in {response['Retry-After']} s" in response.content.decode()
    assert len(sent()) == 1


def test_the_same_email_twice_does_not_reveal_the_account(client, alice):
    """Enumeration: the second signup looks the same and mails the owner instead."""
    response = client.post("/accounts/signup/", {"email": alice.email, "password1": PASSWORD})

    assert response.status_code == 302 and response["Location"] == CONFIRM
    assert [m.to for m in sent()] == [[alice.email]]
    assert "already" in sent()[0].body.lower()
    assert User.objects.filter(email=alice.email).count() == 1


# --- JSON (allauth headless) ---------------------------------------------------------------


def test_json_signup_then_code_signs_in(client):
    response = api(client, SIGNUP_API, {"email": "new@example.com", "password": PASSWORD})
    assert response.status_code == 401
    flows = {f["id"]: f for f in response.json()["data"]["flows"]}
    assert flows["verify_email"]["is_pending"] is True

    verified = api(client, VERIFY_API, {"key": last_code("new@example.com")})

    assert verified.status_code == 200
    assert verified.json()["meta"]["is_authenticated"] is True
    me = client.get("/api/v1/me")
    assert me.status_code == 200 and me.json()["email"] == "new@example.com"


def test_json_five_wrong_codes_void_the_code(client):
    api(client, SIGNUP_API, {"email": "new@example.com", "password": PASSWORD})
    code = last_code("new@example.com")
    wrong = [api(client, VERIFY_API, {"key": "BBBB-CCCC"}) for _ in range(5)]

    after = api(client, VERIFY_API, {"key": code})

    assert [r.status_code for r in wrong] == [400] * 5
    assert wrong[0].json()["errors"][0]["code"] == "incorrect_code"
    assert after.status_code == 409  # no pending verification any more
    assert client.get("/api/v1/me").status_code == 401


def test_json_expired_code_is_refused(client):
    api(client, SIGNUP_API, {"email": "new@example.com", "password": PASSWORD})
    code = last_code("new@example.com")
    age_pending_code(client, 10 * 60 + 1)

    response = api(client, VERIFY_API, {"key": code})

    assert response.status_code == 409
    assert client.get("/api/v1/me").status_code == 401


def test_json_used_code_is_refused(client):
    api(client, SIGNUP_API, {"email": "new@example.com", "password": PASSWORD})
    code = last_code("new@example.com")
    assert api(client, VERIFY_API, {"key": code}).status_code == 200
    client.delete("/_allauth/browser/v1/auth/session")

    response = api(client, VERIFY_API, {"key": code})

    assert response.status_code == 409
    assert client.get("/api/v1/me").status_code == 401


def test_app_client_signs_up_with_a_session_token(client):
    """The "app" client (mobile, scripts) carries X-Session-Token instead of a cookie."""
    response = api(
        client, "/_allauth/app/v1/auth/signup", {"email": "app@example.com", "password": PASSWORD}
    )
    token = response.json()["meta"]["session_token"]
    client.cookies.clear()

    verified = client.post(
        "/_allauth/app/v1/auth/email/verify",
        {"key": last_code("app@example.com")},
        content_type="application/json",
        headers={"X-Session-Token": token},
    )
    assert verified.status_code == 200
    token = verified.json()["meta"]["session_token"]  # a new one once signed in
    session = client.get("/_allauth/app/v1/auth/session", headers={"X-Session-Token": token})

    assert session.status_code == 200
    assert session.json()["data"]["user"]["email"] == "app@example.com"
