"""A widget's bot: ordered rules (keywords, patterns with a time limit), the greeting,
the out-of-office answer and the fallback, the handoff to a person, and answers that are
never sent twice (docs/widget.md, "The bot")."""

from __future__ import annotations

import time
import uuid

import pytest

from parley.chat import services as chat
from parley.chat.models import ConversationEvent, Membership, Message
from parley.common import connected
from parley.common.errors import InvalidInput
from parley.support import services
from parley.support.models import SupportConversation, Widget

pytestmark = pytest.mark.django_db


@pytest.fixture
def widget(alice) -> Widget:
    return services.widget_create(owner=alice, name="Shop")


@pytest.fixture
def team_online(monkeypatch):
    """Every team member is connected (the gateway answers this in production)."""
    monkeypatch.setattr(connected, "_lookup", lambda ids: set(ids))


def configure(widget, **fields):
    return services.bot_update(actor=widget.owner, widget=widget, **{"enabled": True, **fields})


class Visitor:
    """One visitor writing to the widget, and what the bot answers each time."""

    def __init__(self, widget: Widget) -> None:
        self.widget = widget
        self.id = uuid.uuid4()
        self.n = 0

    def says(self, body: str, client_id: str | None = None) -> str | None:
        self.n += 1
        message, _ = services.visitor_message_send(
            widget=self.widget, visitor_id=self.id, body=body, client_id=client_id or f"c{self.n}"
        )
        self.conversation_id = message.conversation_id
        answer = services.bot_answer(conversation_id=message.conversation_id, seq=message.seq)
        return answer.body if answer else None

    def bot_messages(self) -> list[str]:
        return list(
            Message.objects.filter(conversation_id=self.conversation_id, sender__bot__isnull=False)
            .order_by("seq")
            .values_list("body", flat=True)
        )


def agent_writes(conversation_id, user, body="Hi, I am here."):
    membership = Membership.objects.get(conversation_id=conversation_id, user=user)
    chat.message_send(membership=membership, body=body, client_id=uuid.uuid4().hex)


# --- rules ----------------------------------------------------------------------------------


def test_the_first_rule_in_order_that_matches_answers(widget, team_online):
    configure(
        widget,
        rules=[
            {"keywords": ["price", "how much"], "answer": "From 10 euros."},
            {"pattern": r"ship(ping|ped)?\b", "answer": "We ship in 2 days."},
            {"keywords": ["shipping"], "answer": "never: the pattern above comes first"},
        ],
    )
    visitor = Visitor(widget)

    assert visitor.says("When is my order shipped?") == "We ship in 2 days."
    assert visitor.says("How MUCH is shipping?") == "From 10 euros."
    assert visitor.says("Do you have it in blue?") is None  # online: a person answers
    assert visitor.bot_messages() == ["We ship in 2 days.", "From 10 euros."]


def test_keywords_match_whole_words_and_phrases_in_a_row(widget, team_online):
    configure(widget, rules=[{"keywords": ["opening hours"], "answer": "9 to 5."}])
    visitor = Visitor(widget)

    assert visitor.says("hours of opening?") is None
    assert visitor.says("reopening hours") is None
    assert visitor.says("Your  Opening\nhours, please!") == "9 to 5."


def test_a_pathological_pattern_is_stopped_at_its_time_limit_and_the_next_rule_answers(
    widget, team_online, settings
):
    settings.PARLEY = {**settings.PARLEY, "BOT_REGEX_TIMEOUT": 0.2}
    configure(
        widget,
        rules=[
            {"pattern": r"(a+)+$", "answer": "never: backtracks for hours"},
            {"keywords": ["help"], "answer": "How can I help?"},
            {"pattern": r"refund", "answer": "never: after the keyword rule that matched"},
        ],
    )
    visitor = Visitor(widget)

    started = time.monotonic()
    answer = visitor.says("a" * 40 + "! help, refund")
    took = time.monotonic() - started

    assert answer == "How can I help?"
    assert took < 3  # the pattern alone runs for hours
    # The sandbox starts again for the next message.
    configure(widget, rules=[{"pattern": r"refund", "answer": "Refunds take a week."}])
    assert visitor.says("a refund?") == "Refunds take a week."


def test_rules_are_validated_when_saved_and_nothing_is_saved_when_one_is_wrong(widget):
    with pytest.raises(InvalidInput) as refused:
        configure(
            widget,
            rules=[
                {"pattern": "(unclosed", "answer": "x"},
                {"pattern": "a" * 201, "answer": "x"},
                {"keywords": ["x"], "pattern": "x", "answer": "x"},
                {"keywords": [], "answer": "x"},
                {"keywords": ["ok"], "answer": ""},
                {"keywords": ["ok"], "answer": "x", "extra": 1},
                {"pattern": "nul\x00byte", "answer": "x"},
            ],
            name="",
        )

    assert set(refused.value.details) == {
        "rules.0.pattern",
        "rules.1.pattern",
        "rules.2",
        "rules.3.keywords",
        "rules.4.answer",
        "rules.5",
        "rules.6.pattern",
        "name",
    }
    assert (
        services.bot_settings_of(widget).pk is None or not services.bot_settings_of(widget).enabled
    )


def test_only_the_owner_changes_the_bot(widget, bob):
    services.agent_add(actor=widget.owner, widget=widget, user=bob)
    with pytest.raises(Exception) as refused:
        services.bot_update(actor=bob, widget=widget, enabled=True)
    assert refused.value.code == "not_allowed"


# --- greeting, out of office, fallback ---------------------------------------------------


def test_the_greeting_comes_once_when_the_conversation_starts(widget, team_online):
    configure(widget, greeting="Hello! Ask me anything.")
    visitor = Visitor(widget)

    visitor.says("Hi")
    visitor.says("Anyone?")

    assert visitor.bot_messages() == ["Hello! Ask me anything."]


def test_offline_the_bot_says_out_of_office_once_then_the_fallback(widget):
    configure(
        widget,
        out_of_office="We are away; we answer tomorrow from 9.",
        fallback="I did not understand; the team will read this.",
        rules=[{"keywords": ["price"], "answer": "From 10 euros."}],
    )
    visitor = Visitor(widget)  # nobody is connected: offline

    assert visitor.says("Hello") == "We are away; we answer tomorrow from 9."
    assert visitor.says("price?") == "From 10 euros."
    assert visitor.says("and colours?") == "I did not understand; the team will read this."


def test_outside_the_hours_the_team_being_connected_does_not_count(widget, team_online):
    services.widget_update(
        actor=widget.owner, widget=widget, hours={}, closed_dates=[_today()], time_zone="UTC"
    )
    configure(widget, out_of_office="Closed today.")
    assert Visitor(widget).says("Hello") == "Closed today."


def _today() -> str:
    import datetime

    return datetime.datetime.now(datetime.UTC).date().isoformat()


# --- handoff --------------------------------------------------------------------------------


def test_asking_for_a_person_hands_off_and_an_agents_message_silences_the_bot(
    widget, alice, team_online
):
    configure(
        widget,
        handoff_message="Someone is coming.",
        rules=[{"keywords": ["price"], "answer": "From 10 euros."}],
        out_of_office="Away.",
    )
    visitor = Visitor(widget)
    assert visitor.says("price?") == "From 10 euros."

    assert visitor.says("Can I talk to a HUMAN please") == "Someone is coming."

    support = SupportConversation.objects.get(pk=visitor.conversation_id)
    assert support.handoff_seq > 0
    last = ConversationEvent.objects.filter(
        conversation_id=support.pk, type="support.updated"
    ).last()
    assert last.payload["waiting"] is True
    assert visitor.says("price?") is None  # waiting for a person: no more rules
    agent_writes(support.pk, alice)
    connected.register(lambda ids: set())  # and even once nobody is online
    assert visitor.says("price?") is None
    assert visitor.says("hello?") is None
    assert visitor.bot_messages() == ["From 10 euros.", "Someone is coming."]


def test_the_talk_to_a_human_button_hands_off_once(widget, team_online):
    configure(widget, handoff_message="Someone is coming.")
    visitor = Visitor(widget)
    visitor.says("hello")
    support = SupportConversation.objects.get(pk=visitor.conversation_id)

    services.handoff_request(support=support)
    services.handoff_request(support=support)

    waits = ConversationEvent.objects.filter(conversation_id=support.pk, type="support.updated")
    assert [e.payload["waiting"] for e in waits] == [True]
    assert visitor.bot_messages() == ["Someone is coming."]


def test_a_visitor_may_ask_for_a_person_with_the_bot_off(widget):
    visitor = Visitor(widget)
    visitor.says("hello")
    support = SupportConversation.objects.get(pk=visitor.conversation_id)

    services.handoff_request(support=support)

    support.refresh_from_db()
    assert support.handoff_seq > 0
    assert visitor.bot_messages() == []


def test_after_resolve_the_bot_greets_and_answers_a_returning_visitor_again(
    widget, alice, team_online
):
    configure(widget, greeting="Hello!", rules=[{"keywords": ["price"], "answer": "10."}])
    visitor = Visitor(widget)
    visitor.says("price")
    agent_writes(visitor.conversation_id, alice)
    assert visitor.says("price") is None
    support = SupportConversation.objects.get(pk=visitor.conversation_id)

    services.conversation_set_status(support=support, status="resolved")

    assert visitor.says("price again") == "10."
    assert visitor.bot_messages() == ["Hello!", "10.", "Hello!", "10."]


# --- idempotency -------------------------------------------------------------------------


def test_a_visitor_message_is_answered_once_however_often_the_bot_runs(widget, team_online):
    configure(widget, greeting="Hello!", rules=[{"keywords": ["price"], "answer": "10."}])
    visitor = Visitor(widget)
    visitor.says("price", client_id="same")
    message = Message.objects.get(conversation_id=visitor.conversation_id, client_id="same")

    again = services.bot_answer(conversation_id=message.conversation_id, seq=message.seq)
    visitor.says("price", client_id="same")  # the visitor's retry: the stored message

    assert again.body == "10." and again.client_id == f"bot:{message.seq}"
    assert visitor.bot_messages() == ["Hello!", "10."]


def test_the_bot_answers_nothing_when_it_is_off(widget, team_online):
    configure(widget, enabled=False, rules=[{"keywords": ["price"], "answer": "10."}])
    assert Visitor(widget).says("price") is None
