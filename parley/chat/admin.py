"""The chat domain in the Django admin: look at everything, change it only through services.

Conversations, memberships and messages are listed with filters and search. Writes go
through parley.chat.services like every other client's, so they are validated, take the
same locks and announce themselves to connected sockets:

* "Add conversation" creates a group (`conversation_create_group`, with its owner and
  members) or a public room (`public_room_create`);
* a group's title and history setting are changed with `conversation_update`, people are
  added with
  `group_add_members`, its invite secret is made or replaced with `group_rotate_secret`;
* memberships: remove from a group, make admin or member (`group_remove_member`,
  `group_set_role`); messages: delete for everyone (`message_delete_for_everyone`).

Rows are never deleted here: messages point at memberships, and seqs must stay gapless.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from parley.accounts.models import User
from parley.chat import services
from parley.chat.models import Conversation, Membership, Message
from parley.chat.text import clean_line
from parley.common.errors import DomainError


def _users(text: str) -> list[User]:
    """Active users named by email or username, one per line or comma; ValidationError
    naming the ones not found."""
    names = [n.strip() for n in text.replace(",", "\n").splitlines() if n.strip()]
    found, missing = [], []
    for name in dict.fromkeys(names):
        user = (
            User.objects.filter(Q(email__iexact=name) | Q(username__iexact=name), is_active=True)
            .order_by("pk")
            .first()
        )
        (found.append(user) if user else missing.append(name))
    if missing:
        raise forms.ValidationError(f"No active user: {', '.join(missing)}")
    return found


def _title(value: str) -> str:
    title = clean_line(value or "")
    if not 1 <= len(title) <= 120:
        raise forms.ValidationError("A title is 1 to 120 characters.")
    return title


class ConversationAddForm(forms.ModelForm):
    kind = forms.ChoiceField(
        choices=[(Conversation.Kind.GROUP, "Group"), (Conversation.Kind.PUBLIC, "Public room")],
        initial=Conversation.Kind.GROUP,
    )
    owner = forms.CharField(
        required=False,
        help_text="Group owner's email or username. Empty: you.",
    )
    members = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Emails or usernames, one per line or comma-separated.",
    )

    class Meta:
        model = Conversation
        fields = ("title", "slug", "about", "history_visible_to_new_members")
        help_texts = {"slug": "Public rooms only: the room's address, e.g. <code>help</code>."}

    def clean_title(self) -> str:
        return _title(self.cleaned_data.get("title", ""))

    def clean_owner(self) -> User | None:
        value = self.cleaned_data.get("owner", "").strip()
        return _users(value)[0] if value else None

    def clean_members(self) -> list[User]:
        return _users(self.cleaned_data.get("members", ""))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("kind") == Conversation.Kind.PUBLIC and not data.get("slug"):
            self.add_error("slug", "A public room needs a slug.")
        if data.get("kind") == Conversation.Kind.GROUP:
            data["slug"] = None
        return data


class ConversationChangeForm(forms.ModelForm):
    add_members = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Groups: emails or usernames to add, one per line or comma-separated.",
    )

    class Meta:
        model = Conversation
        fields = ("title", "about", "history_visible_to_new_members", "edits_allowed")

    def clean_title(self) -> str:
        if self.instance.kind == Conversation.Kind.DIRECT:
            return self.instance.title
        return _title(self.cleaned_data.get("title", ""))

    def clean_add_members(self) -> list[User]:
        users = _users(self.cleaned_data.get("add_members", ""))
        if users and self.instance.kind != Conversation.Kind.GROUP:
            raise forms.ValidationError("Members are added to groups only.")
        return users


class MembershipInline(admin.TabularInline):
    model = Membership
    fields = (
        "participant",
        "role",
        "joined_at",
        "left_at",
        "last_delivered_seq",
        "last_read_seq",
        "cleared_through_seq",
    )
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True
    ordering = ("left_at", "pk")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Membership]:
        return super().get_queryset(request).select_related("user", "visitor", "bot")

    @admin.display(description="Participant")
    def participant(self, obj: Membership) -> str:
        if obj.user_id:
            return f"{obj.user.name} ({obj.user.email})"
        return obj.participant_name


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "name",
        "kind",
        "slug",
        "member_count",
        "last_seq",
        "last_message_at",
        "created_at",
    )
    list_display_links = ("id", "name")
    list_filter = ("kind", "created_at", "last_message_at")
    search_fields = (
        "=id",
        "title",
        "slug",
        "members__user__email",
        "members__user__username",
        "members__user__display_name",
    )
    date_hierarchy = "created_at"
    ordering = ("-last_message_at", "-pk")
    actions = ("rotate_invite_secret",)
    change_readonly = (
        "kind",
        "slug",
        "invite_link",
        "direct_key",
        "last_seq",
        "last_message_at",
        "created_by",
        "created_at",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Conversation]:
        return (
            super()
            .get_queryset(request)
            .annotate(active_members=Count("members", filter=Q(members__left_at__isnull=True)))
        )

    @admin.display(description="Title", ordering="title")
    def name(self, obj: Conversation) -> str:
        return str(obj)

    @admin.display(description="Members", ordering="active_members")
    def member_count(self, obj: Conversation) -> int:
        return getattr(obj, "active_members", 0)

    @admin.display(description="Invite link")
    def invite_link(self, obj: Conversation) -> str:
        if obj.kind != Conversation.Kind.GROUP:
            return "—"
        if not obj.invite_secret:
            return "None yet: use the action “Generate or rotate the invite secret”."
        try:
            path = reverse("join", args=[obj.invite_secret])
        except NoReverseMatch:
            path = obj.invite_secret
        return format_html("<code>{}</code>", path)

    # -- forms --------------------------------------------------------------------------------

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kw: Any):
        kw["form"] = ConversationAddForm if obj is None else ConversationChangeForm
        return super().get_form(request, obj, change=change, **kw)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None):
        if obj is None:
            return [
                (
                    None,
                    {
                        "fields": (
                            "kind",
                            "title",
                            "slug",
                            "about",
                            "history_visible_to_new_members",
                            "owner",
                            "members",
                        )
                    },
                )
            ]
        editable = (
            ["title", "about", "history_visible_to_new_members", "edits_allowed"]
            if obj.kind != Conversation.Kind.DIRECT
            else []
        )
        if obj.kind == Conversation.Kind.GROUP:
            editable.append("add_members")
        return [(None, {"fields": (*editable, *self.change_readonly)})]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None):
        if obj is None:
            return ()
        if obj.kind == Conversation.Kind.DIRECT:
            return (
                "title",
                "about",
                "history_visible_to_new_members",
                "edits_allowed",
                *self.change_readonly,
            )
        return self.change_readonly

    def get_inlines(self, request: HttpRequest, obj: Any):
        return [MembershipInline] if obj is not None else []

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = form.cleaned_data
        if not change:
            if data["kind"] == Conversation.Kind.PUBLIC:
                created = services.public_room_create(
                    title=data["title"],
                    slug=data["slug"],
                    about=data.get("about", ""),
                    creator=request.user,  # type: ignore[arg-type]
                )
            else:
                created = services.conversation_create_group(
                    creator=data["owner"] or request.user,
                    title=data["title"],
                    members=data["members"],
                    about=data.get("about", ""),
                    history_visible_to_new_members=data["history_visible_to_new_members"],
                )
            # The admin goes on with `obj` (to log and redirect): make it the created row.
            for field in Conversation._meta.concrete_fields:
                setattr(obj, field.attname, getattr(created, field.attname))
            obj._state.adding = False
            obj._state.db = created._state.db
            return
        current = Conversation.objects.get(pk=obj.pk)
        try:
            # A group's or room's description goes through the service like its other
            # settings (members see conversation.updated); a support conversation's is
            # the team's note and announces nothing.
            has_settings = obj.kind in (Conversation.Kind.GROUP, Conversation.Kind.PUBLIC)
            about_changed = "about" in form.changed_data
            changed = {"title", "history_visible_to_new_members", "edits_allowed"} & set(
                form.changed_data
            )
            if (
                changed or (about_changed and has_settings)
            ) and obj.kind != Conversation.Kind.DIRECT:
                services.conversation_update(
                    actor=request.user,  # type: ignore[arg-type]
                    conversation=current,
                    title=data["title"] if "title" in changed else None,
                    about=data["about"] if about_changed and has_settings else None,
                    history_visible_to_new_members=(
                        data["history_visible_to_new_members"]
                        if "history_visible_to_new_members" in changed
                        else None
                    ),
                    edits_allowed=data["edits_allowed"] if "edits_allowed" in changed else None,
                )
            if about_changed and obj.kind == Conversation.Kind.SUPPORT:
                current.about = clean_line(data["about"])[:280]
                current.save(update_fields=["about"])
            if data.get("add_members"):
                added = services.group_add_members(
                    actor=request.user,  # type: ignore[arg-type]
                    conversation=current,
                    users=data["add_members"],
                )
                messages.info(request, f"{added} member(s) added.")
        except DomainError as exc:
            messages.error(request, exc.message)

    # -- actions -------------------------------------------------------------------------------

    @admin.action(description="Generate or rotate the invite secret (old links stop working)")
    def rotate_invite_secret(self, request: HttpRequest, queryset: QuerySet[Conversation]):
        done = 0
        for conversation in queryset:
            if conversation.kind != Conversation.Kind.GROUP:
                messages.warning(request, f"“{conversation}” is not a group: skipped.")
                continue
            services.group_rotate_secret(actor=request.user, conversation=conversation)  # type: ignore[arg-type]
            done += 1
        if done:
            messages.success(request, f"New invite secret for {done} group(s).")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "conversation",
        "participant",
        "role",
        "is_active",
        "last_delivered_seq",
        "last_read_seq",
        "joined_at",
        "left_at",
    )
    list_filter = ("role", "conversation__kind", ("left_at", admin.EmptyFieldListFilter))
    search_fields = (
        "user__email",
        "user__username",
        "user__display_name",
        "visitor__display_name",
        "conversation__title",
        "=conversation__id",
    )
    list_select_related = ("conversation", "user", "visitor", "bot")
    ordering = ("-pk",)
    actions = ("make_admin", "make_member", "remove_from_group")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None):
        return [f.name for f in Membership._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Participant", ordering="user__username")
    def participant(self, obj: Membership) -> str:
        return obj.participant_name

    @admin.display(description="Active", boolean=True, ordering="left_at")
    def is_active(self, obj: Membership) -> bool:
        return obj.left_at is None

    def _each(self, request: HttpRequest, queryset: QuerySet[Membership], call: Any) -> None:
        done = 0
        for membership in queryset.select_related("conversation", "user"):
            if membership.user_id is None:
                messages.warning(request, f"{membership}: a visitor or a bot, skipped.")
                continue
            try:
                call(membership)
                done += 1
            except DomainError as exc:
                messages.error(request, f"{membership}: {exc.message}")
        if done:
            messages.success(request, f"{done} membership(s) changed.")

    @admin.action(description="Make admin of the group")
    def make_admin(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        self._each(
            request,
            queryset,
            lambda m: services.group_set_role(
                actor=request.user, conversation=m.conversation, user=m.user, role="admin"
            ),
        )

    @admin.action(description="Make a plain member of the group")
    def make_member(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        self._each(
            request,
            queryset,
            lambda m: services.group_set_role(
                actor=request.user, conversation=m.conversation, user=m.user, role="member"
            ),
        )

    @admin.action(description="Remove from the group")
    def remove_from_group(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        def remove(m: Membership) -> None:
            if m.conversation.kind != Conversation.Kind.GROUP:
                raise DomainError("Only group members are removed here.")
            services.group_remove_member(
                actor=request.user,  # type: ignore[arg-type]
                conversation=m.conversation,
                user=m.user,  # type: ignore[arg-type]
            )

        self._each(request, queryset, remove)


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("conversation", "seq", "sender_name", "excerpt", "created_at", "deleted")
    list_filter = (
        "conversation__kind",
        ("deleted_at", admin.EmptyFieldListFilter),
        "created_at",
    )
    search_fields = (
        "body",
        "sender__user__username",
        "sender__user__email",
        "sender__user__display_name",
        "conversation__title",
        "=conversation__id",
    )
    list_select_related = ("conversation", "sender__user", "sender__visitor", "sender__bot")
    ordering = ("-created_at",)
    show_full_result_count = False  # no COUNT(*) over the biggest table on every page
    date_hierarchy = "created_at"
    actions = ("delete_for_everyone",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None):
        return [f.name for f in Message._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Sender", ordering="sender__user__username")
    def sender_name(self, obj: Message) -> str:
        return obj.sender.participant_name

    @admin.display(description="Text")
    def excerpt(self, obj: Message) -> str:
        return Truncator(obj.body).chars(80) if not obj.deleted_at else "(deleted)"

    @admin.display(description="Deleted", boolean=True, ordering="deleted_at")
    def deleted(self, obj: Message) -> bool:
        return obj.deleted_at is not None

    @admin.action(description="Delete for everyone (the text is erased)")
    def delete_for_everyone(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        done = 0
        for message in queryset.select_related("sender__conversation"):
            try:
                # Staff act with the sender's own right to delete their message.
                services.message_delete_for_everyone(membership=message.sender, seq=message.seq)
                done += 1
            except DomainError as exc:
                messages.error(request, f"#{message.seq} in {message.conversation_id}: {exc}")
        if done:
            messages.success(request, f"{done} message(s) deleted for everyone.")
