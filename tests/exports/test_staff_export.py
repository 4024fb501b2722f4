"""Staff export a whole conversation, or all data of a person, from the admin or a command
(docs/export.md, "Staff exports")."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.test import Client

from parley.accounts.models import ApiToken
from parley.chat import selectors, services
from parley.common.errors import PermissionDenied
from parley.exports import scopes
from parley.exports import services as exports
from parley.exports.models import Export
from tests.exports.conftest import unzip
from tests.jobs.helpers import run_jobs

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume:Warning"),
]


@pytest.fixture
def history(alice, bob, carol, group, direct, say):
    """A group where Bob deleted one message for everyone, Alice one for herself, Carol
    cleared her history and then left; and a direct chat of Alice and Bob."""
    team = group(alice, bob, carol, title="Launch")
    say(alice, team, "plan A")
    gone = say(bob, team, "deleted for all")
    mine = say(carol, team, "alice hid this")
    services.message_delete_for_everyone(
        membership=selectors.membership_for(bob, team.pk), seq=gone.seq
    )
    services.message_delete_for_me(
        membership=selectors.membership_for(alice, team.pk), seq=mine.seq
    )
    services.history_clear(membership=selectors.membership_for(carol, team.pk))
    services.conversation_leave(user=carol, conversation=team)
    chat = direct(alice, bob)
    say(alice, chat, "psst bob")
    say(bob, chat, "yes alice")
    return team, chat


def test_a_whole_conversation_has_every_message_member_and_event(history, written):
    team, _ = history

    out = written(scopes.conversation_archive(team))

    assert out.bodies == ["plan A", "", "alice hid this"]
    assert [m["deleted"] for m in out.messages] == [False, True, False]
    members = out.json("members.json")
    assert [(m["username"], m["left_at"] is not None) for m in members] == [
        ("alice", False),
        ("bob", False),
        ("carol", True),
    ]
    assert {"member.left", "message.deleted"} <= {e["type"] for e in out.json("events.json")}
    assert "deleted for all" not in out.everything()  # its text is gone from the database


def test_all_data_of_a_person_is_their_account_memberships_and_every_message_they_sent(
    alice, history, written
):
    ApiToken.objects.create(user=alice, name="my bot", prefix="abc", key_hash="x" * 64)

    out = written(scopes.user_archive(alice))

    account = out.json("account.json")
    assert (account["username"], account["email"]) == ("alice", "alice@example.com")
    assert [t["name"] for t in account["api_tokens"]] == ["my bot"]
    assert "x" * 64 not in out.everything()  # never a token's hash, nor a password's
    assert "pbkdf2" not in out.everything() and "argon2" not in out.everything()
    titles = [m["conversation"]["title"] for m in out.json("memberships.json")]
    assert titles == ["Launch", "Bob"]
    assert [(m["conversation"], m["body"]) for m in out.messages] == [
        (history[0].pk, "plan A"),
        (history[1].pk, "psst bob"),
    ]
    assert "yes alice" not in out.everything()  # Bob's, not hers


def test_only_staff_may_ask_for_them(alice, history):
    with pytest.raises(PermissionDenied):
        exports.export_request_admin(staff=alice, conversation=history[0])


def test_staff_export_from_the_conversation_list_and_download_it_in_the_admin(
    make_user, alice, history
):
    admin = make_user("root", is_staff=True, is_superuser=True)
    team, _ = history
    browser = Client()
    browser.force_login(admin)

    response = browser.post(
        "/admin/chat/conversation/",
        {"action": "export_conversations", "_selected_action": [team.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "1 export(s) asked for" in response.content.decode()
    export = Export.objects.get()
    assert (export.kind, export.conversation_id, export.requested_by) == (
        "conversation_admin",
        team.pk,
        admin,
    )
    run_jobs()
    listing = browser.get("/admin/exports/export/").content.decode()
    url = f"/admin/exports/export/{export.pk}/download/"
    assert url in listing

    response = browser.get(url)

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="parley-conversation-')
    assert unzip(b"".join(response)).bodies == ["plan A", "", "alice hid this"]
    # A member who is not staff gets nothing from the admin's door.
    other = Client()
    other.force_login(alice)
    assert other.get(url).status_code == 302  # to the admin's login


def test_staff_who_may_only_view_conversations_cannot_export_them(make_user, history):
    viewer = make_user("viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_conversation"))
    browser = Client()
    browser.force_login(viewer)

    response = browser.post(
        "/admin/chat/conversation/",
        {"action": "export_conversations", "_selected_action": [history[0].pk]},
        follow=True,
    )

    assert "You may not make exports." in response.content.decode()
    assert not Export.objects.exists()


def test_staff_export_a_persons_data_from_the_user_list(make_user, alice, history):
    admin = make_user("root", is_staff=True, is_superuser=True)
    browser = Client()
    browser.force_login(admin)

    browser.post(
        "/admin/accounts/user/", {"action": "export_users", "_selected_action": [alice.pk]}
    )
    run_jobs()

    export = Export.objects.get()
    assert (export.kind, export.subject, export.state) == ("user", alice, "ready")
    content = b"".join(browser.get(f"/admin/exports/export/{export.pk}/download/"))
    assert unzip(content).json("account.json")["username"] == "alice"


def test_staff_ask_for_one_on_the_add_page(make_user, alice, history):
    admin = make_user("root", is_staff=True, is_superuser=True)
    browser = Client()
    browser.force_login(admin)

    refused = browser.post("/admin/exports/export/add/", {"kind": "user"})
    response = browser.post("/admin/exports/export/add/", {"kind": "user", "subject": alice.pk})

    assert refused.status_code == 200 and "Whose data?" in refused.content.decode()
    assert response.status_code == 302
    assert Export.objects.get().subject == alice


def test_the_command_writes_a_conversation_or_a_persons_data(alice, history, tmp_path):
    team, _ = history
    target = tmp_path / "team.zip"

    call_command(
        "parley_export_data", conversation=team.pk, output=str(target), stderr=io.StringIO()
    )
    assert unzip(target.read_bytes()).bodies == ["plan A", "", "alice hid this"]

    call_command("parley_export_data", user="ALICE", output=str(target), stderr=io.StringIO())
    assert unzip(target.read_bytes()).json("account.json")["username"] == "alice"

    with pytest.raises(CommandError, match="No user"):
        call_command("parley_export_data", user="nobody", output=str(target))
