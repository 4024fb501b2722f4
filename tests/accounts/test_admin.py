"""The admin: users, conversations, memberships, messages; writes go through services."""

from __future__ import annotations

import pytest

from parley.accounts.models import ApiToken
from parley.accounts.tokens import token_create
from parley.chat import services
from parley.chat.models import Conversation, ConversationEvent, Membership, UserEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, make_user):
    boss = make_user("boss", is_staff=True, is_superuser=True)
    client.force_login(boss)
    return boss


@pytest.fixture
def group(alice, bob):
    return services.conversation_create_group(creator=alice, title="Team", members=[bob])


def test_the_user_list_searches_and_filters(client, staff, alice, bob):
    found = client.get("/admin/accounts/user/", {"q": "alice"})
    staff_only = client.get("/admin/accounts/user/", {"is_staff__exact": "1"})

    assert found.status_code == 200
    assert "alice@example.com" in found.content.decode()
    assert "bob@example.com" not in found.content.decode()
    assert "boss@example.com" in staff_only.content.decode()
    assert "alice@example.com" not in staff_only.content.decode()


def test_a_user_added_by_staff_can_log_in_without_a_code(client, staff):
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "email": "dora@example.com",
            "username": "dora",
            "usable_password": "true",
            "password1": "a-long-secret-99",
            "password2": "a-long-secret-99",
        },
    )
    client.logout()

    login = client.post(
        "/accounts/login/", {"login": "dora@example.com", "password": "a-long-secret-99"}
    )

    assert response.status_code == 302
    assert login.status_code == 302 and login["Location"] == "/"


def test_a_profile_change_in_the_admin_goes_through_the_service(client, staff, alice, bob):
    services.conversation_get_or_create_direct(user=alice, other="bob")

    response = client.post(
        f"/admin/accounts/user/{alice.pk}/change/",
        {
            "email": alice.email,
            "username": "alice",
            "display_name": "A. Renamed",
            "about": "",
            "show_last_seen": "on",
            "is_active": "on",
        },
    )

    alice.refresh_from_db()
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert alice.display_name == "A. Renamed"


def test_staff_edits_are_not_counted_against_the_profile_change_limit(
    client, staff, alice, settings
):
    settings.PARLEY = {
        **settings.PARLEY,
        "RATE_LIMITS": {**settings.PARLEY["RATE_LIMITS"], "profile_edits": "1/10m"},
    }
    form = {"email": alice.email, "username": "alice", "about": "", "is_active": "on"}

    for name in ("One", "Two", "Three"):
        client.post(f"/admin/accounts/user/{alice.pk}/change/", {**form, "display_name": name})
    client.force_login(alice)
    own = client.patch("/api/v1/me", {"about": "mine"}, content_type="application/json")

    alice.refresh_from_db()
    assert alice.display_name == "Three"
    assert own.status_code == 200


def test_an_email_changed_by_staff_is_the_login(client, staff, alice):
    client.post(
        f"/admin/accounts/user/{alice.pk}/change/",
        {"email": "ALICE@new.example", "username": "alice", "is_active": "on"},
    )
    client.logout()

    login = client.post(
        "/accounts/login/", {"login": "alice@new.example", "password": "pw-correct-horse"}
    )

    assert login.status_code == 302 and login["Location"] == "/"


def test_a_password_set_in_the_admin_revokes_api_tokens(client, staff, alice):
    token_create(user=alice)

    response = client.post(
        f"/admin/accounts/user/{alice.pk}/password/",
        {"password1": "a-new-secret-77", "password2": "a-new-secret-77", "usable_password": "true"},
    )

    alice.refresh_from_db()
    assert response.status_code == 302
    assert alice.check_password("a-new-secret-77")
    assert not ApiToken.objects.filter(user=alice).exists()


def test_staff_create_a_group_with_members(client, staff, alice, bob, carol):
    response = client.post(
        "/admin/chat/conversation/add/",
        {
            "kind": "group",
            "title": "Book club",
            "slug": "",
            "about": "Monthly",
            "owner": "alice",
            "members": "bob\ncarol@example.com",
        },
    )

    group = Conversation.objects.get(title="Book club")
    roles = dict(
        Membership.objects.filter(conversation=group).values_list("user__username", "role")
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/chat/conversation/"
    assert roles == {"alice": "owner", "bob": "member", "carol": "member"}
    assert group.kind == "group" and group.invite_secret and group.created_by == alice
    # the service announced it on each member's stream
    assert UserEvent.objects.filter(type="conversation.joined", user=carol).exists()


def test_staff_are_the_owner_when_none_is_named(client, staff, bob):
    client.post(
        "/admin/chat/conversation/add/",
        {"kind": "group", "title": "Ops", "slug": "", "about": "", "owner": "", "members": "bob"},
    )

    group = Conversation.objects.get(title="Ops")
    assert Membership.objects.get(conversation=group, role="owner").user == staff


def test_an_unknown_member_is_a_form_error_and_nothing_is_created(client, staff, alice):
    response = client.post(
        "/admin/chat/conversation/add/",
        {"kind": "group", "title": "X", "slug": "", "about": "", "owner": "", "members": "ghost"},
    )

    assert response.status_code == 200
    assert "No active user: ghost" in response.content.decode()
    assert not Conversation.objects.filter(title="X").exists()


def test_staff_create_a_public_room(client, staff):
    response = client.post(
        "/admin/chat/conversation/add/",
        {
            "kind": "public",
            "title": "Help",
            "slug": "help",
            "about": "",
            "owner": "",
            "members": "",
        },
    )

    room = Conversation.objects.get(slug="help")
    assert response.status_code == 302
    assert room.kind == "public" and room.title == "Help"


def test_the_rotate_action_replaces_the_invite_secret(client, staff, group):
    before = group.invite_secret

    response = client.post(
        "/admin/chat/conversation/",
        {"action": "rotate_invite_secret", "_selected_action": [group.pk]},
    )

    group.refresh_from_db()
    assert response.status_code == 302
    assert group.invite_secret and group.invite_secret != before


def test_renaming_and_adding_members_on_the_change_page(client, staff, group, carol):
    response = client.post(
        f"/admin/chat/conversation/{group.pk}/change/",
        {
            "title": "Team A",
            "about": "",
            "add_members": "carol",
            "members-TOTAL_FORMS": "0",
            "members-INITIAL_FORMS": "2",
            "members-MIN_NUM_FORMS": "0",
            "members-MAX_NUM_FORMS": "0",
        },
    )

    group.refresh_from_db()
    assert response.status_code == 302
    assert group.title == "Team A"
    assert ConversationEvent.objects.filter(conversation=group, type="conversation.updated")
    assert Membership.objects.filter(conversation=group, user=carol, left_at=None).exists()


def test_a_new_description_on_the_change_page_is_announced_to_the_members(client, staff, group):
    response = client.post(
        f"/admin/chat/conversation/{group.pk}/change/",
        {
            "title": group.title,
            "about": "Fridays at ten",
            "edits_allowed": "on",  # as the page shows it: only the description changes
            "members-TOTAL_FORMS": "0",
            "members-INITIAL_FORMS": "2",
            "members-MIN_NUM_FORMS": "0",
            "members-MAX_NUM_FORMS": "0",
        },
    )

    group.refresh_from_db()
    event = ConversationEvent.objects.get(conversation=group, type="conversation.updated")
    assert response.status_code == 302 and group.about == "Fridays at ten"
    assert event.payload["about"] == "Fridays at ten" and event.payload["changed"] == ["about"]


def test_the_conversation_list_filters_and_searches_by_member(client, staff, group, alice):
    by_member = client.get("/admin/chat/conversation/", {"q": "bob@example.com"})
    groups = client.get("/admin/chat/conversation/", {"kind__exact": "group"})

    assert "Team" in by_member.content.decode()
    assert "Team" in groups.content.decode()


def test_membership_actions_call_the_services(client, staff, group, bob):
    membership = Membership.objects.get(conversation=group, user=bob)

    client.post(
        "/admin/chat/membership/",
        {"action": "make_admin", "_selected_action": [membership.pk]},
    )
    membership.refresh_from_db()
    made_admin = membership.role
    client.post(
        "/admin/chat/membership/",
        {"action": "remove_from_group", "_selected_action": [membership.pk]},
    )
    membership.refresh_from_db()

    assert made_admin == "admin"
    assert membership.left_at is not None
    assert ConversationEvent.objects.filter(conversation=group, type="member.left").exists()


def test_delete_for_everyone_from_the_message_list(client, staff, group, bob):
    membership = Membership.objects.get(conversation=group, user=bob)
    message, _ = services.message_send(membership=membership, body="spam", client_id="m1")

    response = client.post(
        "/admin/chat/message/",
        {"action": "delete_for_everyone", "_selected_action": [message.pk]},
    )
    listing = client.get("/admin/chat/message/", {"q": "spam"})

    message.refresh_from_db()
    assert response.status_code == 302
    assert message.deleted_at is not None and message.body == ""
    assert listing.status_code == 200


def test_admin_pages_render(client, staff, group, bob):
    membership = Membership.objects.get(conversation=group, user=bob)
    services.message_send(membership=membership, body="hello", client_id="m1")

    pages = [
        "/admin/chat/conversation/",
        f"/admin/chat/conversation/{group.pk}/change/",
        "/admin/chat/conversation/add/",
        "/admin/chat/membership/",
        f"/admin/chat/membership/{membership.pk}/change/",
        "/admin/chat/message/",
        "/admin/accounts/user/",
        f"/admin/accounts/user/{bob.pk}/change/",
        "/admin/accounts/user/add/",
    ]

    assert {p: client.get(p).status_code for p in pages} == dict.fromkeys(pages, 200)


def test_staff_see_api_tokens_without_keys_and_revoke_them(client, staff, alice):
    token, key = token_create(user=alice, name="deploy bot")
    kept, _ = token_create(user=alice, name="laptop")

    listing = client.get("/admin/accounts/apitoken/").content.decode()
    response = client.post(
        "/admin/accounts/apitoken/",
        {"action": "revoke", "_selected_action": [token.pk]},
    )

    assert "deploy bot" in listing and token.prefix in listing
    assert key not in listing and token.key_hash not in listing
    assert response.status_code == 302
    assert list(ApiToken.objects.values_list("pk", flat=True)) == [kept.pk]


def test_staff_let_a_group_show_its_history_to_new_members_on_the_change_page(client, staff, group):
    response = client.post(
        f"/admin/chat/conversation/{group.pk}/change/",
        {
            "title": "Team",
            "about": "",
            "history_visible_to_new_members": "on",
            "edits_allowed": "on",
            "add_members": "",
            "members-TOTAL_FORMS": "0",
            "members-INITIAL_FORMS": "2",
            "members-MIN_NUM_FORMS": "0",
            "members-MAX_NUM_FORMS": "0",
        },
    )

    group.refresh_from_db()
    event = ConversationEvent.objects.get(conversation=group, type="conversation.updated")
    assert response.status_code == 302
    assert group.history_visible_to_new_members is True
    assert event.payload["title"] == "Team" and event.payload["history_visible_to_new_members"]
    assert event.payload["changed"] == ["history_visible_to_new_members"]


def test_staff_turn_a_groups_edits_off_on_the_change_page(client, staff, group):
    response = client.post(
        f"/admin/chat/conversation/{group.pk}/change/",
        {
            "title": group.title,
            "about": "",
            "add_members": "",
            "members-TOTAL_FORMS": "0",
            "members-INITIAL_FORMS": "2",
            "members-MIN_NUM_FORMS": "0",
            "members-MAX_NUM_FORMS": "0",
        },
    )

    group.refresh_from_db()
    event = ConversationEvent.objects.get(conversation=group, type="conversation.updated")
    assert response.status_code == 302
    assert group.edits_allowed is False
    assert event.payload["edits_allowed"] is False
