"""What a widget's frame asks of the server for its visitor, over HTTP: start or resume a
visit, read the conversation's history, send a message (docs/widget.md, "Visitors").

These endpoints answer the widget's frame only, which Parley serves from its own origin
(the host page cannot read the frame, its storage or its token): a request whose Origin
is not this server's own is refused, and so is one without. They never look at a
session cookie: a visitor is who their token says, so an agent signed in on the same
browser is a visitor here like anyone else. The token travels in the body of `session`
and in the `Authorization: Visitor <token>` header of the others, never in a URL.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db.models import Max
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from parley.api.v1.common import message_dicts
from parley.chat import errors as chat_errors
from parley.chat import events as ev
from parley.chat import selectors as chat_selectors
from parley.chat.models import Membership
from parley.chat.text import clean_line
from parley.common import ratelimit
from parley.common.errors import DomainError, InvalidInput, RateLimited
from parley.common.origins import origin_allowed
from parley.support import selectors, services, visitors
from parley.support.errors import (
    IdentityRequired,
    InvalidVisitorToken,
    NoConversation,
    OriginNotAllowed,
    PrechatRequired,
    WidgetNotFound,
)
from parley.support.models import SupportConversation, Widget
from parley.support.services.conversations import ATTRIBUTES_MAX
from parley.support.views import public_config

NAME_MAX_LENGTH = 80
URL_MAX_LENGTH = 500
USER_AGENT_MAX_LENGTH = 300
ATTRIBUTE_MAX_LENGTH = 200


def _error(exc: DomainError) -> JsonResponse:
    response = JsonResponse(exc.as_dict(), status=exc.status)
    if isinstance(exc, RateLimited):
        response["Retry-After"] = str(exc.retry_after)
    return response


def _own_origin(request: HttpRequest) -> str:
    return f"{request.scheme}://{request.get_host()}"


def _from_own_origin(request: HttpRequest) -> bool:
    """Whether the request comes from a page of this server (the frame). Browsers name
    the page's origin in `Origin` on every POST, but not on a same-origin GET: there
    `Sec-Fetch-Site: same-origin` says it (every current browser sends it; a page of
    another site cannot make its request say so)."""
    https_only = not settings.DEBUG
    origin = request.headers.get("Origin")
    if origin is None and request.method == "GET":
        same = request.headers.get("Sec-Fetch-Site") == "same-origin"
        return same and (request.is_secure() or not https_only)
    return origin_allowed(origin, [_own_origin(request)], https_only=https_only)


def visitor_endpoint(view: Callable[..., Any]) -> Callable[..., JsonResponse]:
    """The widget's frame only (this server's own Origin; https with DEBUG off), the
    widget by its public key, a JSON body, and DomainErrors as JSON answers."""

    @csrf_exempt  # no cookie authenticates these: the visitor token does, in the body or a header
    def wrapper(request: HttpRequest, key: str) -> JsonResponse:
        try:
            if not _from_own_origin(request):
                raise OriginNotAllowed()
            widget = selectors.widget_by_key(key)
            if widget is None:
                raise WidgetNotFound("No widget has this key.")
            answer = view(request, widget)
            body, status = answer if isinstance(answer, tuple) else (answer, 200)
            return JsonResponse(body, status=status)
        except DomainError as exc:
            return _error(exc)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


def _body(request: HttpRequest) -> dict[str, Any]:
    if request.method != "POST":
        return {}
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        raise InvalidInput("The body is not JSON.") from None
    if not isinstance(data, dict):
        raise InvalidInput("The body is a JSON object.")
    return data


def _text(data: dict[str, Any], field: str, limit: int) -> str:
    value = data.get(field, "")
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > limit:
        raise InvalidInput(f"“{field}” is text of at most {limit} characters.", **{field: [field]})
    return value.strip()


def _identity(request: HttpRequest, widget: Widget) -> visitors.VisitorIdentity:
    kind, _, token = request.headers.get("Authorization", "").partition(" ")
    if kind.lower() != "visitor":
        raise InvalidVisitorToken("Send the visitor token as `Authorization: Visitor`.")
    identity = visitors.read(token.strip(), widget)
    if widget.require_identity and not identity.verified:
        raise IdentityRequired()
    return identity


def _conversation(widget: Widget, visitor_id: uuid.UUID) -> SupportConversation | None:
    return SupportConversation.objects.filter(widget=widget, visitor_id=visitor_id).first()


def _membership(support: SupportConversation) -> Membership:
    return Membership.objects.select_related("visitor", "conversation").get(
        conversation_id=support.pk, visitor_id=support.visitor_id, left_at__isnull=True
    )


@require_http_methods(["POST"])
@visitor_endpoint
def session(request: HttpRequest, widget: Widget) -> dict[str, Any]:
    """`POST /widget/<key>/session` `{token?, identify?: {id, hash}}`: who this visitor is
    (a fresh anonymous visitor without a valid token), a token to keep (a new one when
    the old is over a day old or the identity changed), their conversation if they have
    written, and the widget's public settings."""
    data = _body(request)
    identity: visitors.VisitorIdentity | None = None
    if isinstance(data.get("token"), str):
        try:
            identity = visitors.read(data["token"], widget)
        except InvalidVisitorToken:
            identity = None  # a token of another widget, forged or too old: a new visit
    visitor_id, verified_id = (
        (identity.visitor_id, identity.verified_id) if identity else (None, "")
    )
    identify = data.get("identify")
    if identify is not None:
        if not isinstance(identify, dict):
            raise InvalidInput("`identify` is {id, hash}.")
        user_id = str(identify.get("id") or "")
        visitor_id = visitors.verify(widget, user_id, str(identify.get("hash") or ""))
        verified_id = user_id
    if widget.require_identity and not verified_id:
        raise IdentityRequired()
    if visitor_id is None:
        # New visitors cost a token, never a row; their number is limited per address.
        address = get_adapter(request).get_client_ip(request)
        ratelimit.take(f"ip:{address}", what="new visits", widget_visitors=1)
        visitor_id = visitors.new_anonymous()
    fresh = (
        identity is None or identity.visitor_id != visitor_id or visitors.needs_rotation(identity)
    )
    token = visitors.issue(widget, visitor_id, verified_id) if fresh else data["token"]
    support = _conversation(widget, visitor_id)
    return {
        "token": token,
        "visitor": {
            "id": str(visitor_id),
            "verified": bool(verified_id),
            # Whether to ask for an email when nobody answers (the address is not repeated).
            "email_given": bool(support and support.email),
        },
        "conversation": _conversation_state(support) if support else None,
        "widget": public_config(widget),
    }


def _conversation_state(support: SupportConversation) -> dict[str, Any]:
    """What the frame shows of its conversation beside the messages: where it stands
    (`last_seq`, the position to resume from), its status, how far the team has received
    and read it (the furthest of its members: receipts are ephemeral events, so a
    reloaded frame reads them here), how far the visitor has read it (the launcher's
    unread badge after a reload), and whether they wait for a person (the handoff)."""
    team = Membership.objects.filter(
        conversation_id=support.pk, user__isnull=False, left_at__isnull=True
    ).aggregate(delivered=Max("last_delivered_seq"), read=Max("last_read_seq"))
    mine = (
        Membership.objects.filter(
            conversation_id=support.pk, visitor_id=support.visitor_id, left_at__isnull=True
        )
        .values_list("last_read_seq", flat=True)
        .first()
    )
    return {
        "id": support.pk,
        "last_seq": support.conversation.last_seq,
        "status": support.status,
        "delivered_seq": team["delivered"] or 0,
        "read_seq": team["read"] or 0,
        "visitor_read_seq": mine or 0,
        "waiting": selectors.waiting_for_agent(support),
    }


@require_http_methods(["GET", "POST"])
@visitor_endpoint
def messages(request: HttpRequest, widget: Widget) -> Any:
    """`GET /widget/<key>/messages?before=&after=&limit=`: the visitor's history, as the
    REST API's history pages (empty before the first message). `POST` `{client_id, body,
    name?, email?, page_url?, referrer?, attributes?}`: send one; the first makes the
    conversation (docs/widget.md)."""
    identity = _identity(request, widget)
    if request.method == "GET":
        return _history(request, widget, identity)
    return _send(request, widget, identity)


def _number(request: HttpRequest, name: str) -> int | None:
    value = request.GET.get(name)
    if value is None:
        return None
    if not value.isdigit() or len(value) > 18:
        raise InvalidInput(f"`{name}` is a whole number.", **{name: [value[:20]]})
    return int(value)


def _history(
    request: HttpRequest, widget: Widget, identity: visitors.VisitorIdentity
) -> dict[str, Any]:
    support = _conversation(widget, identity.visitor_id)
    if support is None:
        return {"results": [], "has_more": False}
    membership = _membership(support)
    limit = _number(request, "limit") or 50
    rows, has_more = chat_selectors.message_rows_window(
        membership,
        before=_number(request, "before"),
        after=_number(request, "after"),
        limit=min(limit, 100),
    )
    return {"results": message_dicts(support.pk, rows), "has_more": has_more}


def _context(request: HttpRequest, data: dict[str, Any]) -> services.VisitorContext:
    name = clean_line(_text(data, "name", NAME_MAX_LENGTH))
    email = _text(data, "email", 254)
    page_url = _text(data, "page_url", URL_MAX_LENGTH)
    referrer = _text(data, "referrer", URL_MAX_LENGTH)
    problems: dict[str, list[str]] = {}
    if email:
        try:
            EmailValidator()(email)
        except ValidationError:
            problems["email"] = ["Not an email address."]
    for field, value in (("page_url", page_url), ("referrer", referrer)):
        if value:
            try:
                URLValidator(schemes=["http", "https"])(value)
            except ValidationError:
                problems[field] = ["Not an http(s) URL."]
    attributes = data.get("attributes") or {}
    if not isinstance(attributes, dict) or len(attributes) > ATTRIBUTES_MAX:
        problems["attributes"] = [f"At most {ATTRIBUTES_MAX} keys with text values."]
        attributes = {}
    cleaned_attributes = {}
    for key, value in attributes.items():
        text = str(value) if isinstance(value, str | int | float | bool) else None
        if text is None or len(str(key)) > 40 or len(text) > ATTRIBUTE_MAX_LENGTH:
            problems["attributes"] = [
                f"Keys of at most 40 characters, values text of at most {ATTRIBUTE_MAX_LENGTH}."
            ]
            break
        cleaned_attributes[clean_line(str(key))] = clean_line(text)
    if problems:
        raise InvalidInput("The visitor's details were not accepted.", **problems)
    return services.VisitorContext(
        name=name,
        email=email,
        page_url=page_url,
        referrer=referrer,
        user_agent=request.headers.get("User-Agent", "")[:USER_AGENT_MAX_LENGTH],
        attributes=cleaned_attributes,
    )


def _send(
    request: HttpRequest, widget: Widget, identity: visitors.VisitorIdentity
) -> tuple[dict[str, Any], int]:
    data = _body(request)
    client_id, body = data.get("client_id"), data.get("body")
    if not isinstance(client_id, str) or not 1 <= len(client_id) <= 64:
        raise InvalidInput("`client_id` is 1 to 64 characters.", client_id=["required"])
    if not isinstance(body, str):
        raise InvalidInput("`body` is the message's text.", body=["required"])
    context = _context(request, data)
    if _conversation(widget, identity.visitor_id) is None:
        missing = [
            field
            for field, asked, given in (
                ("name", widget.ask_name, context.name),
                ("email", widget.ask_email, context.email),
            )
            if asked == Widget.Field.REQUIRED and not given
        ]
        if missing:
            raise PrechatRequired(**{field: ["Required."] for field in missing})
    ratelimit.take(f"visitor:{identity.visitor_id}", what="messages", widget_messages=1)
    try:
        message, created = services.visitor_message_send(
            widget=widget,
            visitor_id=identity.visitor_id,
            body=body,
            client_id=client_id,
            context=context,
            verified_id=identity.verified_id,
        )
    except chat_errors.ConversationNotFound:
        raise InvalidVisitorToken() from None
    # Before the answer, also for a retry: a server that died before the bot answered
    # never answered this request either, and the retry gets the bot's answer.
    services.bot_answer_or_log(conversation_id=message.conversation_id, seq=message.seq)
    # 201 stored now, 200 this client_id was stored before: the same message.
    return ev.message_out(message).model_dump(mode="json"), 201 if created else 200


@require_http_methods(["POST"])
@visitor_endpoint
def details(request: HttpRequest, widget: Widget) -> dict[str, Any]:
    """`POST /widget/<key>/visitor` `{name?, email?, attributes?}`: what the site says about
    its visitor (the embed's `identify` and `setAttributes`), shown to the team in the
    inbox. `stored` is false before the visitor's first message: the frame sends the
    details with it."""
    identity = _identity(request, widget)
    context = _context(request, _body(request))
    stored = services.visitor_details_update(
        widget=widget, visitor_id=identity.visitor_id, context=context
    )
    return {"stored": stored}


@require_http_methods(["POST"])
@visitor_endpoint
def rating(request: HttpRequest, widget: Widget) -> dict[str, Any]:
    """`POST /widget/<key>/rating` `{score, comment?}`: the visitor rates their resolved
    conversation (widgets with `ratings` on); rating again replaces it."""
    identity = _identity(request, widget)
    support = _conversation(widget, identity.visitor_id)
    if support is None:
        raise NoConversation()
    data = _body(request)
    saved = services.rating_set(
        support=support, score=data.get("score"), comment=data.get("comment", "")
    )
    return {"conversation": support.pk, "score": saved.score, "comment": saved.comment}


@require_http_methods(["POST"])
@visitor_endpoint
def handoff(request: HttpRequest, widget: Widget) -> dict[str, Any]:
    """`POST /widget/<key>/handoff`: the visitor asks for a person ("talk to a human").
    Their conversation waits for an agent, and the bot stops answering its rules."""
    identity = _identity(request, widget)
    support = _conversation(widget, identity.visitor_id)
    if support is None:
        raise NoConversation()
    support = services.handoff_request(support=support)
    return {"conversation": support.pk, "waiting": True}
