"""Errors of the webhooks, each with its stable code (docs/webhooks.md)."""

from parley.common.errors import NotFound


class WebhookNotFound(NotFound):
    """Also what anyone but the endpoint's owner gets: whether it exists is not said."""

    code = "webhook_not_found"
    default_message = "No such webhook endpoint, or it is not yours."
