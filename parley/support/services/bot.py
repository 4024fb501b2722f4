"""A widget's bot: its settings, its answers to visitors' messages, and the handoff to a
person (docs/widget.md, "The bot").

The bot is a participant of its own kind (`chat.Bot`, sender kind `bot`); its messages go
through the chat services like every other message. Its answer to the visitor's message
`seq` is sent with client_id `bot:<seq>`, so the core's idempotency (one message per
sender and client_id) makes a second answer to the same message a no-op, whichever
process tries and however often. The gateway and the frame's HTTP endpoint run the bot
before they acknowledge the visitor's message: a server that dies in between never
acknowledged it, the visitor's client sends it again (same client_id, the stored message
comes back), and the bot answers then.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.db import transaction

from parley.accounts.models import User
from parley.chat import services as chat
from parley.chat.models import Bot, Conversation, Membership, Message
from parley.chat.text import clean_line
from parley.common.errors import InvalidInput
from parley.common.outage import refusal
from parley.support import bot_rules
from parley.support.availability import widget_availability
from parley.support.models import SupportBot, SupportConversation, Widget
from parley.support.services.conversations import set_handoff
from parley.support.services.widgets import owner_check

log = logging.getLogger(__name__)

# Conversations whose widget had no bot on when this process last looked, until when
# (monotonic) that is trusted: the visitor's socket then acknowledges a message without a
# database hop for the bot. A bot turned on answers on this process at once and on the
# others within OFF_TRUSTED seconds.
OFF_TRUSTED = 5.0
_OFF_MAX = 10_000
_bot_off_until: dict[int, float] = {}


def bot_known_off(conversation_id: int) -> bool:
    """Whether this process saw lately that the conversation's widget has no bot on."""
    return _bot_off_until.get(conversation_id, 0.0) > time.monotonic()


def _note_off(conversation_id: int) -> None:
    if len(_bot_off_until) >= _OFF_MAX:
        _bot_off_until.clear()
    _bot_off_until[conversation_id] = time.monotonic() + OFF_TRUSTED


DEFAULT_NAME = "Bot"
DEFAULT_HANDOFF_WORDS = ["human", "person", "agent", "operator", "talk to someone"]
DEFAULT_HANDOFF_MESSAGE = "I am asking someone from the team to join you."
NAME_MAX_LENGTH = 80
TEXTS = ("greeting", "out_of_office", "fallback", "handoff_message")
FIELDS = ("enabled", "name", *TEXTS, "handoff_words", "rules")


# --- settings ----------------------------------------------------------------------------------


def bot_settings_of(widget: Widget) -> SupportBot:
    """The widget's bot settings: the saved ones, or the defaults (unsaved, disabled)."""
    found = SupportBot.objects.filter(widget=widget).select_related("bot").first()
    return found or SupportBot(
        widget=widget,
        bot=Bot(name=DEFAULT_NAME),
        handoff_words=list(DEFAULT_HANDOFF_WORDS),
        handoff_message=DEFAULT_HANDOFF_MESSAGE,
    )


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    problems: dict[str, list[str]] = {}
    for field, value in fields.items():
        if field == "enabled":
            if type(value) is not bool:
                problems[field] = ["true or false."]
            cleaned[field] = value
        elif field == "name":
            name = clean_line(value) if isinstance(value, str) else ""
            if not 1 <= len(name) <= NAME_MAX_LENGTH:
                problems[field] = [f"1 to {NAME_MAX_LENGTH} characters."]
            cleaned[field] = name
        elif field in TEXTS:
            cleaned[field] = bot_rules.clean_answer(value, field, problems)
        elif field == "handoff_words":
            cleaned[field] = bot_rules.clean_keywords(value, field, problems)
        elif field == "rules":
            cleaned[field] = bot_rules.clean_rules(value, problems)
        else:
            problems[field] = ["Unknown field."]
    if problems:
        raise InvalidInput("The bot was not saved.", **problems)
    return cleaned


def bot_update(*, actor: User, widget: Widget, **fields: Any) -> SupportBot:
    """Change the widget's bot (the owner only): any of FIELDS, all validated before
    anything is saved (InvalidInput naming each bad field, `rules.<i>.<field>` for a
    rule). `rules` replaces the whole ordered list. Its first save creates the bot."""
    owner_check(actor=actor, widget=widget)
    cleaned = _clean(fields)
    with transaction.atomic():
        Widget.objects.select_for_update().filter(pk=widget.pk).first()  # one bot per widget
        config = bot_settings_of(widget)
        name = cleaned.pop("name", None)
        if config.bot.pk is None or (name is not None and name != config.bot.name):
            config.bot.name = name or config.bot.name
            config.bot.save()
            config.bot = config.bot  # the id, now that it has one
        for field, value in cleaned.items():
            setattr(config, field, value)
        config.save()
    _bot_off_until.clear()  # on this process at once
    return config


# --- answers -------------------------------------------------------------------------------------


def _team_wrote_after(support: SupportConversation, seq: int) -> bool:
    return Message.objects.filter(
        conversation_id=support.pk, seq__gt=seq, sender__user__isnull=False
    ).exists()


def _team_wrote(support: SupportConversation) -> bool:
    """Whether one of the team wrote since the bot started answering this conversation."""
    return _team_wrote_after(support, support.bot_since_seq)


def _waiting(support: SupportConversation) -> bool:
    return support.handoff_seq > support.bot_since_seq


class _Online:
    """Whether the team answers now, asked once and only when a decision needs it."""

    def __init__(self, widget: Widget) -> None:
        self.widget = widget
        self._online: bool | None = None

    def __bool__(self) -> bool:
        if self._online is None:
            self._online = widget_availability(widget=self.widget).online
        return self._online


def _away_answer(config: SupportBot, support: SupportConversation) -> str:
    """The out-of-office answer once per stretch of the bot's conversation, the fallback
    after it."""
    if config.out_of_office and support.away_sent_seq <= support.bot_since_seq:
        return config.out_of_office
    return config.fallback


def _decide(
    config: SupportBot,
    support: SupportConversation,
    *,
    wants_person: bool,
    rule: dict[str, Any] | None,
    online: _Online,
) -> str:
    """What the bot answers (empty: nothing). The order is documented in docs/widget.md."""
    if wants_person:
        if not online and config.out_of_office:
            return _away_answer(config, support) or config.handoff_message
        return config.handoff_message or DEFAULT_HANDOFF_MESSAGE
    if _waiting(support):  # asked for a person: no more rules, only say nobody is there
        return "" if online else _away_answer(config, support)
    if rule is not None:
        return str(rule["answer"])
    return "" if online else _away_answer(config, support)


def _lock(conversation_id: int) -> SupportConversation | None:
    """Lock the conversation, then its support row (the order the visitor's send takes)."""
    if not Conversation.objects.select_for_update().filter(pk=conversation_id).exists():
        return None
    return SupportConversation.objects.select_for_update().filter(pk=conversation_id).first()


def _first_of_visitor(support: SupportConversation, seq: int) -> bool:
    return not Message.objects.filter(
        conversation_id=support.pk,
        seq__gt=support.bot_since_seq,
        seq__lt=seq,
        sender__visitor__isnull=False,
    ).exists()


def _send(membership: Membership, body: str, client_id: str) -> tuple[Message, bool]:
    return chat.message_send(membership=membership, body=body, client_id=client_id)


def bot_answer(*, conversation_id: int, seq: int) -> Message | None:
    """The bot's answer to the visitor's message `seq` of a support conversation, or None
    when it says nothing (no bot, disabled, a team member has written, nothing to say).

    Idempotent: the answer is sent with client_id `bot:<seq>` and the greeting with
    `greeting:<since>`, so running it again (another process, a retry after a crash)
    returns the stored answer and changes nothing. Matches the rules before any lock (a
    pattern may take up to its time limit), then locks the conversation and its support
    row, so that two answers in one conversation decide one after the other. Publishes
    message.created for what it sends, and support.updated when the visitor asks for a
    person.
    """
    support = (
        SupportConversation.objects.select_related("widget").filter(pk=conversation_id).first()
    )
    if support is None:
        return None
    config = SupportBot.objects.filter(widget_id=support.widget_id).select_related("bot").first()
    if config is None or not config.enabled:
        _note_off(conversation_id)
        return None
    said = (
        Message.objects.filter(
            conversation_id=conversation_id,
            seq=seq,
            sender__visitor__isnull=False,
            deleted_at__isnull=True,
        )
        .values_list("body", flat=True)
        .first()
    )
    if said is None:
        return None
    wants_person = bot_rules.has_keyword(config.handoff_words, said)
    rule = None if wants_person else bot_rules.matching_rule(config.rules, said)
    online = _Online(support.widget)
    with transaction.atomic():
        locked = _lock(conversation_id)
        if locked is None or _team_wrote(locked):
            return None
        membership = chat.support_bot_membership(conversation=locked.conversation, bot=config.bot)
        if config.greeting and _first_of_visitor(locked, seq):
            _send(membership, config.greeting, f"greeting:{locked.bot_since_seq}")
        answer = _decide(config, locked, wants_person=wants_person, rule=rule, online=online)
        if not answer:
            return None
        message, created = _send(membership, answer, f"bot:{seq}")
        if created:
            if answer == config.out_of_office and not (wants_person and online):
                locked.away_sent_seq = message.seq
                locked.save(update_fields=["away_sent_seq"])
            if wants_person and not _waiting(locked):
                set_handoff(locked, seq)
    return message


def bot_answer_or_log(*, conversation_id: int, seq: int) -> None:
    """`bot_answer` for the doors that store a visitor's message (the frame's HTTP
    endpoint, the visitor's socket): the visitor's message stays stored and acknowledged
    whatever happens to the bot; a failure is logged (a database outage by the outage
    log), never the visitor's error."""
    try:
        bot_answer(conversation_id=conversation_id, seq=seq)
    except Exception as exc:
        if refusal(exc) is None:
            log.exception("the bot did not answer message %s of %s", seq, conversation_id)


def handoff_request(*, support: SupportConversation) -> SupportConversation:
    """The visitor asks for a person ("talk to a human"): the conversation waits for an
    agent (support.updated with `waiting: true`) until one of the team writes, and the bot
    stops answering rules. The bot, when it is on, says so (the handoff message, or the
    out-of-office answer when nobody is there). Idempotent while it waits."""
    config = SupportBot.objects.filter(widget_id=support.widget_id).select_related("bot").first()
    online = _Online(support.widget)
    with transaction.atomic():
        locked = _lock(support.pk)
        if locked is None:
            return support
        if _waiting(locked) and not _team_wrote_after(locked, locked.handoff_seq):
            return locked
        since = locked.conversation.last_seq
        set_handoff(locked, since)
        if config is not None and config.enabled and not _team_wrote(locked):
            membership = chat.support_bot_membership(
                conversation=locked.conversation, bot=config.bot
            )
            answer = _decide(config, locked, wants_person=True, rule=None, online=online)
            message, created = _send(membership, answer, f"handoff:{since}")
            if created and answer == config.out_of_office and not online:
                locked.away_sent_seq = message.seq
                locked.save(update_fields=["away_sent_seq"])
    return locked
