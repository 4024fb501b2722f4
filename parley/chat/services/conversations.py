"""Creating conversations and changing who is in them."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from parley.accounts.models import User
from parley.chat import errors
from parley.chat import events as ev
from parley.chat.models import (
    Bot,
    Conversation,
    ConversationEvent,
    Membership,
    Visitor,
    new_invite_secret,
)
from parley.chat.services._streams import (
    record_conversation_event,
    record_user_event,
    take_conversation_seq,
)
from parley.chat.text import clean_line
from parley.events.outgoing import JOINED, LEFT, Outgoing
from parley.events.sink import publish_on_commit

PUBLIC_CHAT_SLUG = "public-chat"


def _user_by_login(login: str) -> User:
    login = login.strip()
    user = (
        User.objects.verified()
        .filter(Q(email__iexact=login) | Q(username__iexact=login))
        .order_by("pk")
        .first()
    )
    if user is None:
        raise errors.UserNotFound(login=login[:254])
    return user


def _title(value: str) -> str:
    title = clean_line(value)
    if not 1 <= len(title) <= 120:
        raise errors.InvalidTitle()
    return title


def title_for(conversation: Conversation, viewer: User | None) -> str:
    """What a member sees as the title: for a direct chat, the other person's name."""
    if conversation.kind != Conversation.Kind.DIRECT or viewer is None:
        return conversation.title
    other = next(
        (m.user for m in conversation.members.all() if m.user_id and m.user_id != viewer.pk), None
    )
    return other.name if other else conversation.title


def _joined_event(membership: Membership, title: str) -> Outgoing:
    """Record on the member's own stream that they joined; the gateway subscribes them."""
    conversation = membership.conversation
    summary = ev.summary(conversation, membership).model_copy(update={"title": title})
    user_event = record_user_event(
        membership.user_id, "conversation.joined", {"conversation": summary.model_dump()}
    )
    return ev.user_event_out(
        membership.user_id,
        "conversation.joined",
        user_event.seq,
        user_event.payload,
        conversation=conversation.pk,
        seq=conversation.last_seq,
        control=JOINED,
    )


def conversation_get_or_create_direct(*, user: User, other: str) -> tuple[Conversation, bool]:
    """The one direct conversation of `user` and the user with email or username `other`.

    Raises UserNotFound, CannotChatWithSelf. Publishes conversation.joined to both users
    when it is created. Safe under concurrent calls from both sides: the unique
    `direct_key` makes the losing insert fail, and it then returns the winner's row.
    """
    other_user = _user_by_login(other)
    if other_user.pk == user.pk:
        raise errors.CannotChatWithSelf()
    low, high = sorted((user.pk, other_user.pk))
    key = f"{low}:{high}"
    existing = Conversation.objects.filter(direct_key=key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            conversation = Conversation.objects.create(
                kind=Conversation.Kind.DIRECT, direct_key=key, created_by=user
            )
            members = [
                Membership.objects.create(
                    conversation=conversation, user=u, role=Membership.Role.MEMBER
                )
                for u in sorted((user, other_user), key=lambda u: u.pk)
            ]
            outs = [
                _joined_event(m, (other_user if m.user_id == user.pk else user).name)
                for m in members
            ]
            publish_on_commit(*outs)
    except IntegrityError:
        return Conversation.objects.get(direct_key=key), False
    return conversation, True


def conversation_create_group(
    *,
    creator: User,
    title: str,
    members: Iterable[User] = (),
    about: str = "",
    history_visible_to_new_members: bool = False,
) -> Conversation:
    """A new group owned by `creator`, with `members` in it and an invite secret.

    Raises InvalidTitle. Publishes conversation.joined to every member.
    """
    clean = _title(title)
    with transaction.atomic():
        conversation = Conversation.objects.create(
            kind=Conversation.Kind.GROUP,
            title=clean,
            about=clean_line(about)[:280],
            created_by=creator,
            invite_secret=new_invite_secret(),
            history_visible_to_new_members=history_visible_to_new_members,
        )
        people = {creator.pk: creator}
        people.update({u.pk: u for u in members})
        outs = []
        for pk in sorted(people):
            role = Membership.Role.OWNER if pk == creator.pk else Membership.Role.MEMBER
            membership = Membership.objects.create(
                conversation=conversation, user=people[pk], role=role
            )
            outs.append(_joined_event(membership, clean))
        publish_on_commit(*outs)
    return conversation


def public_room_create(
    *, title: str, slug: str, about: str = "", creator: User | None = None
) -> Conversation:
    return Conversation.objects.create(
        kind=Conversation.Kind.PUBLIC,
        title=_title(title),
        slug=slug,
        about=clean_line(about)[:280],
        created_by=creator,
        history_visible_to_new_members=True,  # anyone may open it: its history is public
    )


def _add_member(
    conversation: Conversation, user: User, *, role: str = Membership.Role.MEMBER
) -> tuple[Membership, bool]:
    """Add or re-activate a member inside the caller's transaction and announce it.

    Locks the conversation row (through its seq) before the user's row. A first join and a
    rejoin follow one rule: unless the conversation shows new members its history, the
    member's history floor rises to their member.joined event, so they see nothing said
    before it (for a rejoin: also nothing said while they were out). The floor never
    drops: what they cleared before leaving stays cleared.
    """
    membership = Membership.objects.filter(conversation=conversation, user=user).first()
    if membership is not None and membership.left_at is None:
        return membership, False
    event = record_conversation_event(
        conversation.pk,
        "member.joined",
        {"member": ev.user_sender(user).model_dump(), "role": role},
    )
    conversation.last_seq = event.seq
    # Read under the conversation's lock (just taken with the seq), which a change of the
    # setting takes too: the floor follows the setting in force at this event's seq.
    shows_history = (
        Conversation.objects.filter(pk=conversation.pk)
        .values_list("history_visible_to_new_members", flat=True)
        .get()
    )
    conversation.history_visible_to_new_members = shows_history
    floor = 0 if shows_history else event.seq
    if membership is None:
        membership = Membership.objects.create(
            conversation=conversation,
            user=user,
            role=role,
            joined_seq=event.seq,
            last_delivered_seq=event.seq,
            last_read_seq=event.seq,
            cleared_through_seq=floor,
        )
    else:
        membership.left_at = None
        membership.role = role
        membership.joined_seq = event.seq
        membership.last_read_seq = max(membership.last_read_seq, event.seq)
        membership.last_delivered_seq = max(membership.last_delivered_seq, event.seq)
        membership.cleared_through_seq = max(membership.cleared_through_seq, floor)
        membership.save(
            update_fields=[
                "left_at",
                "role",
                "joined_seq",
                "last_read_seq",
                "last_delivered_seq",
                "cleared_through_seq",
            ]
        )
    membership.conversation = conversation
    publish_on_commit(
        ev.conversation_event_out(event),
        _joined_event(membership, title_for(conversation, user)),
    )
    return membership, True


def _require_admin(conversation: Conversation, actor: User) -> Membership:
    membership = Membership.objects.filter(
        conversation=conversation, user=actor, left_at__isnull=True
    ).first()
    if membership is None:
        raise errors.ConversationNotFound()
    if not membership.is_admin and not actor.is_staff:
        raise errors.NotAllowed("Only the group's owner or an admin may do that.")
    return membership


def group_join_by_secret(*, user: User, secret: str) -> tuple[Conversation, bool]:
    """Join the group whose current invite secret is `secret`. Raises InvalidSecret."""
    if not secret or len(secret) > 64:
        raise errors.InvalidSecret()
    conversation = Conversation.objects.filter(
        kind=Conversation.Kind.GROUP, invite_secret=secret
    ).first()
    if conversation is None:
        raise errors.InvalidSecret()
    with transaction.atomic():
        _, joined = _add_member(conversation, user)
    return conversation, joined


def group_add_members(*, actor: User, conversation: Conversation, users: Iterable[User]) -> int:
    """Add people to a group (owner, admins, staff). Returns how many were new."""
    if conversation.kind != Conversation.Kind.GROUP:
        raise errors.NotAllowed("Members are added to groups only.")
    if not actor.is_staff:
        _require_admin(conversation, actor)
    with transaction.atomic():
        return sum(_add_member(conversation, u)[1] for u in sorted(users, key=lambda u: u.pk))


def group_rotate_secret(*, actor: User, conversation: Conversation) -> str:
    """Replace the invite secret: the old link stops working. Owner, admins or staff."""
    if conversation.kind != Conversation.Kind.GROUP:
        raise errors.NotAllowed("Only groups have invite links.")
    if not actor.is_staff:
        _require_admin(conversation, actor)
    conversation.invite_secret = new_invite_secret()
    conversation.save(update_fields=["invite_secret"])
    return conversation.invite_secret


def group_rename(*, actor: User, conversation: Conversation, title: str) -> Conversation:
    """Retitle a group or public room (owner, admins, staff). Raises InvalidTitle, NotAllowed."""
    return conversation_update(actor=actor, conversation=conversation, title=title)


def _about(value: str) -> str:
    about = clean_line(value)
    if len(about) > 280:
        raise errors.InvalidAbout()
    return about


def conversation_update(
    *,
    actor: User,
    conversation: Conversation,
    title: str | None = None,
    about: str | None = None,
    history_visible_to_new_members: bool | None = None,
    edits_allowed: bool | None = None,
) -> Conversation:
    """Change a group's or public room's title, description (`about`), whether people
    who join from now on see its earlier history, and/or whether members may edit their
    messages (owner, admins, staff). One durable conversation.updated event carries the
    settings as they are afterwards, who changed them and which. Raises InvalidTitle,
    InvalidAbout, NotAllowed."""
    clean = _title(title) if title is not None else None
    clean_about = _about(about) if about is not None else None
    if conversation.kind not in (Conversation.Kind.GROUP, Conversation.Kind.PUBLIC):
        raise errors.NotAllowed("Direct chats have no settings of their own.")
    with transaction.atomic():
        if not actor.is_staff:
            _require_admin(conversation, actor)
        seq = take_conversation_seq(conversation.pk)  # the lock, before reading the values
        current = Conversation.objects.only(
            "title", "about", "history_visible_to_new_members", "edits_allowed"
        ).get(pk=conversation.pk)
        conversation.title = clean if clean is not None else current.title
        conversation.about = clean_about if clean_about is not None else current.about
        conversation.history_visible_to_new_members = (
            history_visible_to_new_members
            if history_visible_to_new_members is not None
            else current.history_visible_to_new_members
        )
        conversation.edits_allowed = (
            edits_allowed if edits_allowed is not None else current.edits_allowed
        )
        changed = [
            name
            for name, before in (
                ("title", current.title),
                ("about", current.about),
                ("history_visible_to_new_members", current.history_visible_to_new_members),
                ("edits_allowed", current.edits_allowed),
            )
            if getattr(conversation, name) != before
        ]
        conversation.save(
            update_fields=["title", "about", "history_visible_to_new_members", "edits_allowed"]
        )
        event = ConversationEvent.objects.create(
            conversation_id=conversation.pk,
            seq=seq,
            type="conversation.updated",
            payload={
                "title": conversation.title,
                "history_visible_to_new_members": conversation.history_visible_to_new_members,
                "edits_allowed": conversation.edits_allowed,
                "about": conversation.about,
                "by": ev.user_sender(actor).model_dump(),
                "changed": changed,
            },
        )
        publish_on_commit(ev.conversation_event_out(event))
    return conversation


def _remove(conversation: Conversation, membership: Membership, by: User | None) -> None:
    payload: dict[str, object] = {"member": ev.member_sender(membership).model_dump()}
    if by is not None and by.pk != membership.user_id:
        payload["removed_by"] = ev.user_sender(by).model_dump()
    event = record_conversation_event(conversation.pk, "member.left", payload)
    membership.left_at = timezone.now()
    membership.save(update_fields=["left_at"])
    outs = [ev.conversation_event_out(event)]
    if membership.user_id is not None:
        user_event = record_user_event(
            membership.user_id, "conversation.left", {"conversation": conversation.pk}
        )
        outs.append(
            ev.user_event_out(
                membership.user_id,
                "conversation.left",
                user_event.seq,
                user_event.payload,
                conversation=conversation.pk,
                control=LEFT,
            )
        )
    publish_on_commit(*outs)


def conversation_leave(*, user: User, conversation: Conversation) -> None:
    """Leave a group or public room. An owner who leaves hands ownership to the oldest admin
    or member. Raises ConversationNotFound, NotAllowed (a direct chat cannot be left)."""
    if conversation.kind == Conversation.Kind.DIRECT:
        raise errors.NotAllowed("A direct chat cannot be left; clear its history instead.")
    with transaction.atomic():
        membership = Membership.objects.filter(
            conversation=conversation, user=user, left_at__isnull=True
        ).first()
        if membership is None:
            raise errors.ConversationNotFound()
        _remove(conversation, membership, None)
        if membership.role == Membership.Role.OWNER:
            heir = (
                Membership.objects.filter(
                    conversation=conversation, left_at__isnull=True, user__isnull=False
                )
                .order_by("role", "joined_at", "pk")  # "admin" sorts before "member"
                .first()
            )
            if heir is not None:
                _change_role(conversation, heir, Membership.Role.OWNER)


def group_remove_member(*, actor: User, conversation: Conversation, user: User) -> None:
    """An owner or admin removes someone (an admin cannot remove the owner)."""
    with transaction.atomic():
        actor_membership = (
            _require_admin(conversation, actor)
            if not actor.is_staff
            else Membership.objects.filter(conversation=conversation, user=actor).first()
        )
        target = Membership.objects.filter(
            conversation=conversation, user=user, left_at__isnull=True
        ).first()
        if target is None:
            raise errors.UserNotFound("That person is not in this group.")
        if target.role == Membership.Role.OWNER and not actor.is_staff:
            raise errors.NotAllowed("The owner cannot be removed.")
        if (
            actor_membership is not None
            and actor_membership.role == Membership.Role.ADMIN
            and target.role == Membership.Role.ADMIN
        ):
            raise errors.NotAllowed("An admin cannot remove another admin.")
        _remove(conversation, target, actor)


def group_set_role(*, actor: User, conversation: Conversation, user: User, role: str) -> Membership:
    """The owner (or staff) makes a member an admin or an admin a member."""
    if role not in (Membership.Role.ADMIN, Membership.Role.MEMBER):
        raise errors.NotAllowed("The role is admin or member.")
    actor_membership = Membership.objects.filter(
        conversation=conversation, user=actor, left_at__isnull=True
    ).first()
    if not actor.is_staff and (
        actor_membership is None or actor_membership.role != Membership.Role.OWNER
    ):
        raise errors.NotAllowed("Only the owner may change roles.")
    target = Membership.objects.filter(
        conversation=conversation, user=user, left_at__isnull=True
    ).first()
    if target is None or target.role == Membership.Role.OWNER:
        raise errors.UserNotFound("That person is not a member whose role can change.")
    if target.role != role:
        with transaction.atomic():
            _change_role(conversation, target, role)
    return target


def _change_role(conversation: Conversation, membership: Membership, role: str) -> None:
    """Set a role and announce it as a durable member.updated event (caller's transaction)."""
    event = record_conversation_event(
        conversation.pk,
        "member.updated",
        {"member": ev.member_sender(membership).model_dump(), "role": role},
    )
    membership.role = role
    membership.save(update_fields=["role"])
    publish_on_commit(ev.conversation_event_out(event))


def public_room_join(*, user: User, conversation: Conversation) -> Membership:
    """Opening a public room joins it (idempotent)."""
    if conversation.kind != Conversation.Kind.PUBLIC:
        raise errors.ConversationNotFound()
    with transaction.atomic():
        membership, _ = _add_member(conversation, user)
    return membership


def support_conversation_create(
    *, title: str, visitor: Visitor, owner: User, agents: Iterable[User] = ()
) -> tuple[Conversation, Membership]:
    """A support conversation: the visitor, and the widget's team (its owner as owner,
    its agents as admins, so any of them may delete a message for everyone). Returns the
    conversation and the visitor's membership. Publishes conversation.joined to every
    team member: the conversation appears in their lists at once. The caller's
    transaction holds the support row that goes with it (parley/support/services.py)."""
    clean = clean_line(title)[:120] or "Visitor"
    # An agent who joins the team later reads the whole conversation: it is the team's.
    conversation = Conversation.objects.create(
        kind=Conversation.Kind.SUPPORT, title=clean, history_visible_to_new_members=True
    )
    mine = Membership.objects.create(
        conversation=conversation, visitor=visitor, role=Membership.Role.MEMBER
    )
    team = {owner.pk: (owner, Membership.Role.OWNER)}
    team.update({u.pk: (u, Membership.Role.ADMIN) for u in agents if u.pk != owner.pk})
    outs = []
    for pk in sorted(team):
        user, role = team[pk]
        membership = Membership.objects.create(conversation=conversation, user=user, role=role)
        outs.append(_joined_event(membership, clean))
    publish_on_commit(*outs)
    return conversation, mine


def support_conversation_retitle(*, conversation_id: int, title: str) -> bool:
    """A support conversation's title follows its visitor's name (the team's lists show
    it). Records and publishes conversation.updated, as a group's rename does, so open
    lists and resumes see it. False, and nothing recorded, when the title is unchanged.
    The caller holds the support row's lock (parley/support/services/conversations.py)."""
    clean = clean_line(title)[:120] or "Visitor"
    with transaction.atomic():
        current = Conversation.objects.only("kind", "title", "history_visible_to_new_members").get(
            pk=conversation_id
        )
        if current.kind != Conversation.Kind.SUPPORT:
            raise errors.NotAllowed("Only a support conversation follows its visitor's name.")
        if current.title == clean:
            return False
        Conversation.objects.filter(pk=conversation_id).update(title=clean)
        event = record_conversation_event(
            conversation_id,
            "conversation.updated",
            {
                "title": clean,
                "history_visible_to_new_members": current.history_visible_to_new_members,
            },
        )
        publish_on_commit(ev.conversation_event_out(event))
    return True


def support_team_join(*, conversation: Conversation, user: User) -> bool:
    """A new agent joins a support conversation (a durable member.joined). False when
    they were in it already."""
    if conversation.kind != Conversation.Kind.SUPPORT:
        raise errors.NotAllowed("Only support conversations have a team.")
    with transaction.atomic():
        return _add_member(conversation, user, role=Membership.Role.ADMIN)[1]


def support_team_leave(*, conversation: Conversation, user: User) -> None:
    """An agent taken off a widget's team leaves its conversations."""
    with transaction.atomic():
        membership = Membership.objects.filter(
            conversation=conversation, user=user, left_at__isnull=True
        ).first()
        if membership is not None:
            _remove(conversation, membership, None)


def support_bot_membership(*, conversation: Conversation, bot: Bot) -> Membership:
    """The bot's membership of a support conversation, made the first time it writes
    there. No member.joined: each of its messages names its sender (kind `bot`), and a
    bot is nobody's contact. Safe under concurrent calls (one row per conversation and
    bot, `membership_one_per_bot`)."""
    if conversation.kind != Conversation.Kind.SUPPORT:
        raise errors.NotAllowed("Only support conversations have a bot.")
    membership, _ = Membership.objects.get_or_create(
        conversation=conversation,
        bot=bot,
        defaults={"role": Membership.Role.MEMBER, "joined_seq": conversation.last_seq},
    )
    membership.bot = bot
    membership.conversation = conversation
    return membership


def conversation_event_add(*, conversation_id: int, type_: str, payload: dict[str, object]) -> int:
    """Record a durable event of another domain in a conversation's stream (it takes the
    next seq, so a resume replays it in order) and publish it after commit. Returns its
    seq. `type_` must be a server event of the protocol (parley/events/protocol.py)."""
    event = record_conversation_event(conversation_id, type_, payload)
    publish_on_commit(ev.conversation_event_out(event))
    return event.seq
