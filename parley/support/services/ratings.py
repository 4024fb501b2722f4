"""The visitor's satisfaction rating of a resolved conversation (docs/widget.md,
"Satisfaction rating"): optional per widget, 1 to 5 and a comment, shown in the inbox
as it comes (support.rated, a durable event of the conversation)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from parley.chat import services as chat
from parley.chat.text import clean_text
from parley.common.errors import InvalidInput
from parley.support import errors
from parley.support.models import SupportConversation, SupportRating

COMMENT_MAX_LENGTH = 1000


def rating_set(*, support: SupportConversation, score: Any, comment: Any = "") -> SupportRating:
    """The visitor rates their conversation. Raises RatingsOff (the widget does not ask
    for ratings), NotResolved, InvalidInput (a score that is not a whole number from 1 to
    5, a comment over 1,000 characters). Rating again replaces the rating; each rating
    that changes something is announced (support.rated: the team's inbox shows it live,
    the visitor's other tabs thank them)."""
    problems: dict[str, list[str]] = {}
    if type(score) is not int or not 1 <= score <= 5:
        problems["score"] = ["A whole number from 1 to 5."]
    text = clean_text(comment).strip() if isinstance(comment, str) else None
    if text is None and comment is not None:
        problems["comment"] = ["Text."]
    elif text and len(text) > COMMENT_MAX_LENGTH:
        problems["comment"] = [f"At most {COMMENT_MAX_LENGTH} characters."]
    if not support.widget.ratings:
        raise errors.RatingsOff()
    if problems:
        raise InvalidInput("The rating was not saved.", **problems)
    with transaction.atomic():
        locked = SupportConversation.objects.select_for_update().get(pk=support.pk)
        if locked.status != SupportConversation.Status.RESOLVED:
            raise errors.NotResolved()
        before = (
            SupportRating.objects.filter(support=locked).values_list("score", "comment").first()
        )
        rating, _ = SupportRating.objects.update_or_create(
            support=locked,
            defaults={"score": score, "comment": text or "", "rated_at": timezone.now()},
        )
        if before != (rating.score, rating.comment):
            chat.conversation_event_add(
                conversation_id=locked.pk,
                type_="support.rated",
                payload={
                    "score": rating.score,
                    "comment": rating.comment,
                    "rated_at": rating.rated_at.isoformat(),
                },
            )
    return rating
