"""allauth's headless phone endpoint, which schemathesis found answering 500.

Parley has no phone numbers, but allauth serves `/_allauth/{browser|app}/v1/account/phone`
all the same, and its view answered any method but GET and POST from someone signed out
with a 500 and a traceback in the log (tests/services/attacks/test_schemathesis.py found
it with `TRACE`).
"""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("client_kind", ["app", "browser"])
@pytest.mark.parametrize("method", ["TRACE", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_a_method_the_phone_endpoint_does_not_serve_is_405_not_500(client_kind, method):
    response = Client().generic(method, f"/_allauth/{client_kind}/v1/account/phone")

    assert response.status_code == 405


@pytest.mark.parametrize("client_kind", ["app", "browser"])
def test_the_phone_endpoint_still_answers_get_as_allauth_does(client_kind):
    response = Client().get(f"/_allauth/{client_kind}/v1/account/phone")

    assert response.status_code == 401  # signed out: allauth's authentication answer
