"""The OpenAPI schema documents every endpoint of the contract and generates cleanly."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from parley.api.v1.common import MessageSerializer, SenderSerializer
from parley.events import protocol as p

pytestmark = pytest.mark.django_db

CONTRACT = {
    "/api/v1/auth/token": {"post"},
    "/api/v1/conversations": {"get"},
    "/api/v1/search": {"get"},
    "/api/v1/conversations/{conversation_id}/exports": {"post"},
    "/api/v1/exports": {"get"},
    "/api/v1/exports/{export_id}": {"get"},
    "/api/v1/exports/{export_id}/download": {"get"},
    "/api/v1/conversations/{conversation_id}": {"get", "patch"},
    "/api/v1/conversations/direct": {"post"},
    "/api/v1/conversations/groups": {"post"},
    "/api/v1/groups/join": {"post"},
    "/api/v1/conversations/{conversation_id}/invite": {"post"},
    "/api/v1/conversations/{conversation_id}/members": {"post"},
    "/api/v1/conversations/{conversation_id}/members/{user_id}": {"patch", "delete"},
    "/api/v1/conversations/{conversation_id}/leave": {"post"},
    "/api/v1/rooms": {"get"},
    "/api/v1/rooms/{slug}/open": {"post"},
    "/api/v1/conversations/{conversation_id}/messages": {"get", "post"},
    "/api/v1/conversations/{conversation_id}/messages/{seq}": {"delete"},
    "/api/v1/conversations/{conversation_id}/clear": {"post"},
    "/api/v1/conversations/{conversation_id}/read": {"post"},
    # the support widget's frame and embedding pages (docs/widget.md)
    "/widget/{key}/config": {"get"},
    "/widget/{key}/session": {"post"},
    "/widget/{key}/messages": {"get", "post"},
    "/widget/{key}/visitor": {"post"},
    "/widget/{key}/rating": {"post"},
    "/widget/{key}/handoff": {"post"},
}


def test_the_schema_has_every_endpoint_with_its_error_responses():
    response = APIClient().get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    missing = {
        (path, method)
        for path, methods in CONTRACT.items()
        for method in methods
        if method not in paths.get(path, {})
    }
    assert missing == set()
    for path, methods in CONTRACT.items():
        for method in methods:
            operation = paths[path][method]
            assert operation["operationId"] and operation["summary"]
            errors = {s for s in operation["responses"] if s.startswith(("4", "5"))}
            assert errors, (path, method)
            for status in errors:
                ref = operation["responses"][status]["content"]["application/json"]["schema"]
                assert ref == {"$ref": "#/components/schemas/Error"}, (path, method, status)
            assert "unavailable" in operation["responses"]["503"]["description"]
            if "conversation_id" in path:
                assert "conversation_not_found" in operation["responses"]["404"]["description"]
    schemes = schema["components"]["securitySchemes"]
    assert schemes["tokenAuth"] == {"type": "http", "scheme": "bearer"}
    assert schemes["cookieAuth"]["in"] == "cookie"


def test_spectacular_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))

    assert (tmp_path / "s.yml").read_text().startswith("openapi: 3")


def test_the_message_schema_is_the_websocket_message():
    assert list(MessageSerializer().fields) == list(p.MessageOut.model_fields)
    assert list(SenderSerializer().fields) == list(p.Sender.model_fields)


def test_every_unread_field_says_it_stops_at_the_cap():
    schemas = APIClient().get("/api/schema/", {"format": "json"}).json()["components"]["schemas"]

    described = {
        name: props["unread"].get("description", "")
        for name, schema in schemas.items()
        if "unread" in (props := schema.get("properties", {}))
    }
    assert set(described) >= {"Conversation", "ConversationDetail", "Read"}
    for name, description in described.items():
        assert "UNREAD_CAP" in description and "or more" in description, name


def test_every_json_body_documents_invalid_json():
    paths = APIClient().get("/api/schema/", {"format": "json"}).json()["paths"]
    taking_json = [
        (path, method, operation)
        for path, operations in paths.items()
        for method, operation in operations.items()
        if "application/json" in (operation.get("requestBody") or {}).get("content", {})
    ]

    assert len(taking_json) >= 10
    for path, method, operation in taking_json:
        assert "`invalid_json`" in operation["responses"]["400"]["description"], (path, method)


def test_the_widget_endpoints_say_their_own_errors_and_no_account_error():
    paths = APIClient().get("/api/schema/", {"format": "json"}).json()["paths"]

    def codes(path, method, status):
        return paths[path][method]["responses"][status]["description"]

    for path, methods in CONTRACT.items():
        if not path.startswith("/widget/"):
            continue
        for method in methods:
            assert "widget_not_found" in codes(path, method, "404")
            if path.endswith(("/messages", "/visitor", "/rating", "/handoff")):
                assert "invalid_visitor_token" in codes(path, method, "401")
            else:
                assert "401" not in paths[path][method]["responses"]  # no account here
            if not path.endswith("/config"):
                assert "origin_not_allowed" in codes(path, method, "403")
    assert "prechat_required" in codes("/widget/{key}/messages", "post", "400")
    assert "rate_limited" in codes("/widget/{key}/session", "post", "429")
