"""Password reset by emailed code (HTML and JSON), password change, email change."""

from __future__ import annotations

import logging

import pytest
from allauth.account.models import EmailAddress
from django.core.cache import cache

from parley.accounts.models import ApiToken, User
from parley.accounts.tokens import token_create
from tests.accounts.conftest import last_code, sent

pytestmark = pytest.mark.django_db

OLD = "pw-correct-horse"
NEW = "a-new-secret-77"


def can_log_in(client, email: str, password: str) -> bool:
    client.cookies.clear()
    response = client.post("/accounts/login/", {"login": email, "password": password})
    client.cookies.clear()
    return response.status_code == 302


def test_html_password_reset_end_to_end(client, alice):
    # asking: a code goes to the address
    asked = client.post("/accounts/password/reset/", {"email": "ALICE@example.com"})
    assert asked.status_code == 302
    confirm_url = asked["Location"]
    code = last_code(alice.email)

    # a wrong code is refused, the right one leads to the new-password form
    wrong = client.post(confirm_url, {"code": "BBBB-CCCC"})
    right = client.post(confirm_url, {"code": code})
    assert wrong.status_code == 200 and "Incorrect code" in wrong.content.decode()
    assert right.status_code == 302
    done = client.post(right["Location"], {"password1": NEW, "password2": NEW})

    assert done.status_code == 302
    cache.clear()
    assert can_log_in(client, alice.email, NEW)
    assert not can_log_in(client, alice.email, OLD)


def test_html_reset_code_is_single_use(client, alice):
    asked = client.post("/accounts/password/reset/", {"email": alice.email})
    code = last_code(alice.email)
    right = client.post(asked["Location"], {"code": code})
    client.post(right["Location"], {"password1": NEW, "password2": NEW})

    again = client.post(asked["Location"], {"code": code})
    form = client.get(right["Location"])

    assert again.status_code == 302 and again["Location"] != right["Location"]
    assert form.status_code == 302  # no pending reset any more


def test_json_password_reset_end_to_end(client, alice):
    asked = client.post(
        "/_allauth/browser/v1/auth/password/request",
        {"email": alice.email},
        content_type="application/json",
    )
    code = last_code(alice.email)
    wrong = client.post(
        "/_allauth/browser/v1/auth/password/reset",
        {"key": "BBBB-CCCC", "password": NEW},
        content_type="application/json",
    )
    right = client.post(
        "/_allauth/browser/v1/auth/password/reset",
        {"key": code, "password": NEW},
        content_type="application/json",
    )

    assert asked.status_code == 401  # the reset flow is pending; nobody is signed in
    assert wrong.status_code == 400
    assert right.status_code in (200, 401)
    cache.clear()
    assert can_log_in(client, alice.email, NEW)


def test_a_reset_for_an_unknown_address_looks_the_same(client):
    """No enumeration: the same answer, and a mail to that address saying there is no
    account there (it reaches only whoever owns the address)."""
    response = client.post("/accounts/password/reset/", {"email": "nobody@example.com"})

    assert response.status_code == 302
    assert [m.to for m in sent()] == [["nobody@example.com"]]
    assert "Unknown Account" in sent()[0].subject


def test_change_password_keeps_me_signed_in_and_tells_the_address(client, alice):
    client.post("/accounts/login/", {"login": alice.email, "password": OLD})

    response = client.post(
        "/accounts/password/change/", {"oldpassword": OLD, "password1": NEW, "password2": NEW}
    )

    alice.refresh_from_db()
    assert response.status_code == 302
    assert alice.check_password(NEW)
    assert client.get("/api/v1/me").status_code == 200
    assert any("password" in m.subject.lower() for m in sent())


def test_a_password_change_revokes_api_tokens(client, alice):

    token_create(user=alice)
    client.post("/accounts/login/", {"login": alice.email, "password": OLD})

    client.post(
        "/accounts/password/change/", {"oldpassword": OLD, "password1": NEW, "password2": NEW}
    )

    assert not ApiToken.objects.filter(user=alice).exists()


def test_change_email_is_confirmed_by_a_code_sent_to_the_new_address(client, alice):
    client.post("/accounts/login/", {"login": alice.email, "password": OLD})
    sent().clear()

    added = client.post("/accounts/email/", {"action_add": "", "email": "alice@new.example"})
    code = last_code("alice@new.example")
    alice.refresh_from_db()
    still_old = alice.email
    confirmed = client.post("/accounts/confirm-email/", {"code": code})

    alice.refresh_from_db()
    assert added.status_code == 302
    assert still_old == "alice@example.com"
    assert confirmed.status_code == 302
    assert alice.email == "alice@new.example"
    assert EmailAddress.objects.get(user=alice, primary=True).email == "alice@new.example"
    assert not EmailAddress.objects.filter(email="alice@example.com").exists()
    cache.clear()
    assert can_log_in(client, "alice@new.example", OLD)


def test_change_email_by_json(client, alice):
    client.force_login(alice)

    added = client.post(
        "/_allauth/browser/v1/account/email",
        {"email": "alice@new.example"},
        content_type="application/json",
    )
    verified = client.post(
        "/_allauth/browser/v1/auth/email/verify",
        {"key": last_code("alice@new.example")},
        content_type="application/json",
    )

    assert added.status_code == 200
    assert verified.status_code == 200
    assert User.objects.get(pk=alice.pk).email == "alice@new.example"


def test_in_development_the_code_is_printed_in_the_log(client, settings, caplog):
    settings.DEBUG = True
    with caplog.at_level(logging.INFO, logger="parley.accounts"):
        client.post("/accounts/signup/", {"email": "new@example.com", "password1": NEW})

    code = last_code("new@example.com")
    assert f"one-time code for new@example.com (email_confirmation_signup): {code}" in caplog.text


def test_in_production_the_code_is_not_logged(client, settings, caplog):
    settings.DEBUG = False
    with caplog.at_level(logging.INFO, logger="parley.accounts"):
        client.post("/accounts/signup/", {"email": "new@example.com", "password1": NEW})

    assert last_code("new@example.com") not in caplog.text


def test_after_a_reset_the_done_page_leads_back_in(client, alice):
    asked = client.post("/accounts/password/reset/", {"email": alice.email})
    right = client.post(asked["Location"], {"code": last_code(alice.email)})
    done = client.post(right["Location"], {"password1": NEW, "password2": NEW}, follow=True)

    page = done.content.decode()
    assert "Your password is now changed" in page
    assert 'href="/accounts/login/"' in page
