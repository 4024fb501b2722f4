"""Presence policy: who hears that someone came online or went offline, and when.

presence.py counts sockets (per process, mirrored in Redis); this module decides what a
change of those counts means to other people. Someone's first socket anywhere announces
them online, their last socket offline with `last_seen` (unless they hide it): always in
a direct or support chat, to a group's sockets that have the group open, never in a
public room. A process killed without closing its sockets is buried by a survivor, which
announces its people offline the same way (`participants_gone`, presence.py's
`bury_dead`).

A group's presence reaches only its viewers (`conversation.open`), as online counts do:
every connect would otherwise send a frame to each online member of each of the
person's groups, so a connect storm (a deploy, a network blip) would cost the square of
a group's size in frames, for member lists nobody is looking at.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.utils import timezone

from parley.accounts.models import User
from parley.chat.models import Conversation, Membership
from parley.common.outage import refusal
from parley.events import protocol as p
from parley.events.outgoing import VIEWERS, Outgoing, conversation_group, outgoing
from parley.realtime.connecting import get_seen_stamper
from parley.realtime.db import database_sync_to_async
from parley.realtime.online import get_online_counts
from parley.realtime.publish import publish

# (conversation id, conversation kind) of each conversation of the person
Conversations = Iterable[tuple[int, str]]


def presence_events(
    user: User, online: bool, last_seen: datetime | None, conversations: Conversations
) -> list[Outgoing]:
    """`presence` for the people `user` shares a conversation with (see above)."""
    shown = last_seen.isoformat() if (last_seen and user.show_last_seen) else None
    event = p.PresenceEvent(user=str(user.pk), online=online, last_seen=shown)
    events = []
    for cid, kind in conversations:
        if kind == Conversation.Kind.PUBLIC:
            continue
        if kind == Conversation.Kind.GROUP:
            events.append(
                outgoing(conversation_group(cid), event, conversation=cid, control=VIEWERS)
            )
        else:
            events.append(outgoing(conversation_group(cid), event))
    return events


async def came_online(user: User, conversations: Conversations) -> None:
    """`user`'s first socket on any live process opened."""
    await publish(presence_events(user, True, None, conversations))


async def went_offline(user: User, conversations: Conversations) -> None:
    """`user`'s last socket on any live process closed: stamp `last_seen` and say so."""
    try:
        last_seen = await get_seen_stamper().stamp(user.pk)
    except Exception as exc:
        if refusal(exc, refused=False) is None:
            raise
        last_seen = None  # offline all the same; the time is not known
    await publish(presence_events(user, False, last_seen, conversations))


def _stamp_gone(user_ids: list[int]) -> list[tuple[User, Any, list[tuple[int, str]]]]:
    """Stamp last_seen for people who went offline; their conversations (id, kind)."""
    now = timezone.now()
    User.objects.filter(pk__in=user_ids).update(last_seen=now)
    conversations: dict[int, list[tuple[int, str]]] = {}
    for uid, cid, kind in Membership.objects.filter(
        user_id__in=user_ids, left_at__isnull=True
    ).values_list("user_id", "conversation_id", "conversation__kind"):
        conversations.setdefault(uid, []).append((cid, kind))
    return [(u, now, conversations.get(u.pk, [])) for u in User.objects.filter(pk__in=user_ids)]


def visitor_presence_events(
    visitor_id: object, online: bool, conversation_ids: Iterable[int]
) -> list[Outgoing]:
    """`presence` of a support visitor (`user` is their UUID, their sender id in messages)
    for the team in their conversation: the inbox shows whether they are here now. No
    last-seen time: a visitor has no profile to show it on."""
    event = p.PresenceEvent(user=str(visitor_id), online=online)
    return [outgoing(conversation_group(cid), event) for cid in conversation_ids]


async def visitor_came(visitor_id: object, conversation_ids: Iterable[int]) -> None:
    """A visitor's first socket on any live process opened."""
    await publish(visitor_presence_events(visitor_id, True, conversation_ids))


async def visitor_left(visitor_id: object, conversation_ids: Iterable[int]) -> None:
    """A visitor's last socket on any live process closed."""
    await publish(visitor_presence_events(visitor_id, False, conversation_ids))


def _visitors_conversations(visitor_ids: list[str]) -> list[tuple[str, int]]:
    return [
        (str(v), c)
        for v, c in Membership.objects.filter(
            visitor_id__in=visitor_ids, left_at__isnull=True
        ).values_list("visitor_id", "conversation_id")
    ]


async def _visitors_gone(keys: set[str]) -> None:
    visitor_ids = []
    for key in keys:
        if key.startswith("v"):
            with contextlib.suppress(ValueError):
                visitor_ids.append(str(uuid.UUID(key[1:])))
    if visitor_ids:
        rows = await database_sync_to_async(_visitors_conversations)(visitor_ids)
        events = []
        for visitor_id, cid in rows:
            events += visitor_presence_events(visitor_id, False, [cid])
        await publish(events)


async def participants_gone(keys: set[str]) -> None:
    """Announce people and visitors offline whose sockets died with another server
    process."""
    await _visitors_gone(keys)
    user_ids = [int(k[1:]) for k in keys if k.startswith("u") and k[1:].isdigit()]
    if not user_ids:
        return
    rows = await database_sync_to_async(_stamp_gone)(user_ids)
    events = []
    cids: set[int] = set()
    for user, last_seen, conversations in rows:
        events += presence_events(user, False, last_seen, conversations)
        cids.update(cid for cid, _ in conversations)
    await publish(events)
    get_online_counts().changed(cids)
