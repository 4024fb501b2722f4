"""Every change to webhook endpoints, and the deliveries an event makes.

The owner of a widget manages its endpoints; anyone manages their own owner-level
endpoints (every widget they own). `webhooks_emit` is told of every event of a visitor's
conversation (parley/support/reactions.py) and makes one delivery per endpoint that
wants it, enqueued as a job in the same transaction as the event when there is one: the
delivery exists exactly when the event does, and the chat never waits for a receiver.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from parley.accounts.models import User
from parley.chat.models import Message
from parley.common.errors import InvalidInput
from parley.support import errors as support_errors
from parley.support.models import SupportConversation, Widget
from parley.support.reactions import EVENTS
from parley.webhooks import errors
from parley.webhooks.models import WebhookDelivery, WebhookEndpoint, new_webhook_secret
from parley.webhooks.targets import TargetRefused, clean_url

# Limits (docs/webhooks.md).
ENDPOINTS_PER_WIDGET = 10
ENDPOINTS_PER_OWNER = 10  # owner-level ones, beside those of each widget
DESCRIPTION_MAX_LENGTH = 200
TEST_EVENT = "webhook.test"


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    problems: dict[str, list[str]] = {}
    for field, value in fields.items():
        if field == "url":
            try:
                cleaned["url"] = clean_url(value)
            except TargetRefused as exc:
                problems["url"] = [str(exc)]
        elif field == "events":
            if (
                not isinstance(value, list)
                or not value
                or not all(isinstance(v, str) and v in EVENTS for v in value)
            ):
                problems["events"] = [f"A non-empty list of: {', '.join(EVENTS)}."]
            else:
                cleaned["events"] = [e for e in EVENTS if e in value]
        elif field == "description":
            text = str(value).strip()
            if len(text) > DESCRIPTION_MAX_LENGTH:
                problems["description"] = [f"At most {DESCRIPTION_MAX_LENGTH} characters."]
            cleaned["description"] = text
        elif field == "active":
            if type(value) is not bool:
                problems["active"] = ["true or false."]
            cleaned["active"] = value
        else:
            problems[field] = ["Unknown field."]
    if problems:
        raise InvalidInput("The webhook endpoint was not saved.", **problems)
    return cleaned


def endpoint_create(*, actor: User, widget: Widget | None = None, **fields: Any) -> WebhookEndpoint:
    """A new endpoint for `widget` (its owner only), or for all of `actor`'s widgets.
    Every event by default. Raises OwnerOnly, InvalidInput, TooMany."""
    if widget is not None and widget.owner_id != actor.pk:
        raise support_errors.OwnerOnly()
    cleaned = _clean({"url": fields.pop("url", None), "events": list(EVENTS), **fields})
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=actor.pk).first()  # orders the count
        if widget is not None:
            limit, taken = ENDPOINTS_PER_WIDGET, WebhookEndpoint.objects.filter(widget=widget)
        else:
            limit = ENDPOINTS_PER_OWNER
            taken = WebhookEndpoint.objects.filter(owner=actor, widget__isnull=True)
        if taken.count() >= limit:
            raise support_errors.TooMany(f"At most {limit} webhook endpoints here.")
        return WebhookEndpoint.objects.create(owner=actor, widget=widget, **cleaned)


def endpoint_for(user: User, endpoint_id: int) -> WebhookEndpoint:
    """One of `user`'s endpoints, or WebhookNotFound."""
    if not 0 < endpoint_id <= 2**62:
        raise errors.WebhookNotFound()
    found = (
        WebhookEndpoint.objects.select_related("widget").filter(pk=endpoint_id, owner=user).first()
    )
    if found is None:
        raise errors.WebhookNotFound()
    return found


def endpoint_update(*, endpoint: WebhookEndpoint, **fields: Any) -> WebhookEndpoint:
    cleaned = _clean(fields)
    for field, value in cleaned.items():
        setattr(endpoint, field, value)
    if cleaned:
        endpoint.save(update_fields=[*cleaned, "updated_at"])
    return endpoint


def endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Delete it with its deliveries; a delivery's job that runs later finds nothing."""
    endpoint.delete()


def endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> str:
    """A new signing secret, used from the next attempt on (retries of older deliveries
    too)."""
    endpoint.secret = new_webhook_secret()
    endpoint.save(update_fields=["secret", "updated_at"])
    return endpoint.secret


# --- events ----------------------------------------------------------------------------------


def _time(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _person(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "username": user.username, "name": user.name}


def conversation_data(support: SupportConversation) -> dict[str, Any]:
    widget = support.widget
    return {
        "id": support.pk,
        "widget": {"id": widget.pk, "name": widget.name, "public_key": widget.public_key},
        "status": support.status,
        "assignee": _person(support.assignee),
        "visitor": {
            "id": str(support.visitor_id),
            "name": support.visitor.display_name,
            "email": support.email or None,
            "verified_id": support.verified_id or None,
            "page_url": support.page_url or None,
        },
        "created_at": _time(support.created_at),
    }


def message_data(message: Message) -> dict[str, Any]:
    sender = message.sender
    if sender.visitor_id is not None:
        who = {"kind": "visitor", "id": str(sender.visitor_id), "name": sender.visitor.display_name}
    elif sender.user_id is not None:
        who = {"kind": "user", "id": str(sender.user_id), "name": sender.user.name}
    else:
        who = {"kind": "other", "id": None, "name": ""}
    return {
        "seq": message.seq,
        "body": "" if message.deleted_at else message.body,
        "sender": who,
        "created_at": _time(message.created_at),
    }


def body_of(type_: str, data: dict[str, Any]) -> str:
    """The JSON body, as Standard Webhooks suggests: type, timestamp, data."""
    document = {"type": type_, "timestamp": _time(timezone.now()), "data": data}
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def webhooks_emit(*, type_: str, conversation_id: int, message_id: int | None = None) -> int:
    """One delivery per active endpoint of the conversation's widget (or its owner) that
    wants `type_`, enqueued. Returns how many. The body is made now: it says what was
    true when the event happened, whenever it is delivered."""
    support = (
        SupportConversation.objects.select_related("widget", "visitor", "assignee")
        .filter(pk=conversation_id)
        .first()
    )
    if support is None:
        return 0
    endpoints = [
        e
        for e in WebhookEndpoint.objects.filter(
            Q(widget_id=support.widget_id)
            | Q(widget__isnull=True, owner_id=support.widget.owner_id),
            active=True,
        )
        if type_ in e.events
    ]
    if not endpoints:
        return 0
    data: dict[str, Any] = {"conversation": conversation_data(support)}
    if message_id is not None:
        message = (
            Message.objects.select_related("sender__user", "sender__visitor")
            .filter(pk=message_id)
            .first()
        )
        if message is None:
            return 0
        data["message"] = message_data(message)
    return _deliver_to(endpoints, type_, body_of(type_, data))


def endpoint_send_test(*, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A `webhook.test` event to this endpoint only (active or not), delivered and retried
    like the others."""
    data = {"endpoint": {"id": endpoint.pk, "url": endpoint.url}}
    (delivery,) = _make([endpoint], TEST_EVENT, body_of(TEST_EVENT, data))
    return delivery


def _deliver_to(endpoints: list[WebhookEndpoint], type_: str, body: str) -> int:
    return len(_make(endpoints, type_, body))


def _make(endpoints: list[WebhookEndpoint], type_: str, body: str) -> list[WebhookDelivery]:
    from parley.webhooks.delivery import deliver_webhook

    made = []
    with transaction.atomic():
        for endpoint in endpoints:
            delivery = WebhookDelivery.objects.create(
                endpoint=endpoint, event_type=type_, body=body
            )
            deliver_webhook.enqueue(delivery.pk)
            made.append(delivery)
    return made
