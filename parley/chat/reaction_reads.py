"""Reading reactions: one emoji's totals on a message (for its event), and every
reaction of a page of messages in one query (for a history page).

Who reacted is named by the first PARLEY["REACTION_NAMES"] people in the order they
reacted; the count says how many did. The callers read the reactors' names with the
senders of the page they already read (`selectors.senders_by_id`), so a page costs one
query more than it did without reactions, however many messages, emoji and people.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Case, Count, F, IntegerField, Max, Min, Value, When, Window
from django.db.models.functions import RowNumber

from parley.chat import events as ev
from parley.chat.models import Reaction
from parley.events import protocol as p


def names_shown() -> int:
    return max(1, int(settings.PARLEY["REACTION_NAMES"]))


def emoji_totals(message_id: int, emoji: str) -> tuple[int, list[p.Sender]]:
    """How many people put `emoji` on the message, and the first of them (one query: the
    count is a window over all of them; called by the service that changed them, inside
    its transaction)."""
    first = list(
        Reaction.objects.filter(message_id=message_id, emoji=emoji)
        .select_related("membership__user", "membership__visitor", "membership__bot")
        .annotate(total=Window(Count("pk")))
        .order_by("created_at", "pk")[: names_shown()]
    )
    count = first[0].total if first else 0  # type: ignore[attr-defined]
    return count, [ev.short_sender(ev.member_sender(r.membership)) for r in first]


@dataclass
class PageReaction:
    """One emoji on one message of a page: its count, first reactors (membership ids),
    whether the reader is among them all, and when it was first added (for the order)."""

    emoji: str
    count: int
    mine: bool
    first_at: object
    reactors: list[int] = field(default_factory=list)


def page_reactions(
    conversation_id: int, seqs: Iterable[int], reader_id: int | None
) -> dict[int, list[PageReaction]]:
    """The reactions of the messages `seqs` of a conversation, by message seq, each
    message's emoji most added first (then the first added first): one query. Only the
    first `names_shown()` reactors of each emoji are read; the count and whether the
    reader (a membership id) reacted come from window functions over all of them."""
    seqs = list(seqs)
    if not seqs:
        return {}
    part = [F("message_id"), F("emoji")]
    rows = (
        Reaction.objects.filter(message__conversation_id=conversation_id, message__seq__in=seqs)
        .annotate(
            message_seq=F("message__seq"),
            rank=Window(RowNumber(), partition_by=part, order_by=[F("created_at"), F("pk")]),
            total=Window(Count("pk"), partition_by=part),
            first_at=Window(Min("created_at"), partition_by=part),
            mine=Window(
                Max(
                    Case(
                        When(membership_id=reader_id, then=Value(1)),
                        default=Value(0),
                        output_field=IntegerField(),
                    )
                ),
                partition_by=part,
            ),
        )
        .filter(rank__lte=names_shown())
        .order_by("message_seq", "emoji", "rank")
        .values_list("message_seq", "emoji", "membership_id", "total", "first_at", "mine")
    )
    out: dict[int, dict[str, PageReaction]] = {}
    for seq, emoji, membership_id, total, first_at, mine in rows:
        by_emoji = out.setdefault(seq, {})
        reaction = by_emoji.get(emoji)
        if reaction is None:
            reaction = by_emoji[emoji] = PageReaction(emoji, total, bool(mine), first_at)
        reaction.reactors.append(membership_id)
    return {
        seq: sorted(by_emoji.values(), key=lambda r: (-r.count, r.first_at, r.emoji))  # type: ignore[arg-type,return-value]
        for seq, by_emoji in out.items()
    }


def _short(sender: dict[str, object]) -> dict[str, object]:
    """A sender as JSON, as `events.short_sender` leaves it."""
    return {
        "kind": sender["kind"],
        "id": sender["id"],
        "name": sender["name"],
        "username": None,
        "avatar": None,
    }


def summaries_by_seq(
    page: dict[int, list[PageReaction]], senders: dict[int, dict[str, object]]
) -> dict[int, list[dict[str, object]]]:
    """`page_reactions` as the JSON of `ReactionSummary`, given each reactor's sender as
    JSON by membership id (only kind, id and name are kept)."""
    return {
        seq: [
            {
                "emoji": r.emoji,
                "count": r.count,
                "users": [_short(senders[m]) for m in r.reactors],
                "mine": r.mine,
            }
            for r in reactions
        ]
        for seq, reactions in page.items()
    }
