"""Message search: the query language, and the one read that finds messages by their words.

What a reader may see comes from the selectors that every other read uses
(`selectors.visible_messages` for one conversation, `selectors.visible_messages_of_user`
for all of theirs): above their history floor (cleared, or joined a conversation that hides
its earlier history), not deleted for them, only conversations they are an active member
of. Messages deleted for everyone are never found (their body is gone anyway).

The engine-specific part is `_text_match`: PostgreSQL's full-text search on the stored
`search_vector` column, or SQLite's FTS5 table `chat_message_fts` (both built by migration
chat 0006). docs/search.md describes the syntax, the engines and the limits.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import reduce
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import F, FloatField, Q, QuerySet, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast
from django.utils import timezone

from parley.accounts.models import User
from parley.chat import selectors
from parley.chat.models import Conversation, Membership, Message
from parley.common.errors import InvalidInput

# Limits (docs/search.md, "Limits"): a query is a few words and filters, not a document.
MAX_QUERY_LENGTH = 200
MAX_TERMS = 10
MAX_PAGE = 50
# A snippet without words to highlight (a search by filters only): the body's beginning.
PLAIN_SNIPPET_CHARS = 160
# Marks around a matched word in a snippet, as the engines return it. No stored body holds
# them (clean_text strips C0 controls), so a body can never fake a highlight.
MARK_START, MARK_END = "\x02", "\x03"

ORDERS = ("newest", "best")


class SearchQueryTooLong(InvalidInput):
    code = "search_query_too_long"
    default_message = f"A search is at most {MAX_QUERY_LENGTH} characters."


class SearchTooManyTerms(InvalidInput):
    code = "search_too_many_terms"
    default_message = f"A search has at most {MAX_TERMS} words, phrases and filters."


class SearchQueryInvalid(InvalidInput):
    code = "search_query_invalid"


class InvalidCursor(InvalidInput):
    code = "invalid_cursor"
    default_message = "This cursor does not belong to this search; start from the first page."


# --- The query language ----------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """A parsed search: the words and phrases every result contains, and its filters."""

    words: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    senders: tuple[str, ...] = ()  # from: usernames ("me": the reader)
    conversations: tuple[str, ...] = ()  # in: ids or names
    has_file: bool = False
    after: datetime | None = None  # created at or after
    before: datetime | None = None  # created before

    @property
    def has_text(self) -> bool:
        return bool(self.words or self.phrases)


# An optional `operator:`, then a "quoted phrase" (the closing quote may be missing) or a
# run of anything but spaces and quotes.
_TOKEN = re.compile(r'\s*(?:(?P<op>[A-Za-z]+):)?(?:"(?P<quoted>[^"]*)"?|(?P<bare>[^\s"]+))')
_WORDY = re.compile(r"\w")
OPERATORS = ("from", "in", "has", "after", "before")


def _day(operator: str, value: str) -> datetime:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise SearchQueryInvalid(
            f"{operator}: takes a date like 2026-12-31, not {value[:40]!r}.", operator=operator
        ) from None
    return timezone.make_aware(datetime.combine(day, time.min))


def parse(text: str) -> Query:
    """The words, "phrases" and filters (from:, in:, has:file, after:, before:) of a search.

    Raises SearchQueryTooLong, SearchTooManyTerms, or SearchQueryInvalid (nothing to search
    for, a date that is not one, an unknown has:)."""
    if len(text) > MAX_QUERY_LENGTH:
        raise SearchQueryTooLong(limit=MAX_QUERY_LENGTH)
    parts: dict[str, Any] = {"words": [], "phrases": [], "senders": [], "conversations": []}
    terms = 0
    for match in _TOKEN.finditer(text):
        op, quoted, bare = match.group("op"), match.group("quoted"), match.group("bare")
        value = (quoted if quoted is not None else bare or "").strip()
        operator = op.lower() if op else None
        if operator not in OPERATORS:
            # Not a filter (a word with a colon, like a link): its text is searched.
            value = f"{op}:{value}" if op else value
            operator = None
        if not value:
            continue
        terms += 1
        if terms > MAX_TERMS:
            raise SearchTooManyTerms(limit=MAX_TERMS)
        if operator is None:
            if _WORDY.search(value):  # punctuation alone matches nothing in either engine
                key = "phrases" if quoted is not None and " " in value else "words"
                parts[key].append(value)
        elif operator == "from":
            parts["senders"].append(value.lstrip("@"))
        elif operator == "in":
            parts["conversations"].append(value)
        elif operator == "has":
            if value.lower() != "file":
                raise SearchQueryInvalid("has: takes only has:file.", operator="has")
            parts["has_file"] = True
        else:
            parts[operator] = _day(operator, value)
    query = Query(**{k: tuple(v) if isinstance(v, list) else v for k, v in parts.items()})
    filters = query.senders or query.conversations or query.has_file
    if not (query.has_text or filters or query.after or query.before):
        raise SearchQueryInvalid("Search for some words, or use a filter like from:name.")
    return query


# --- Results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    conversation_id: int
    conversation_title: str
    seq: int
    created_at: datetime
    sender: Membership
    # The snippet as (text, matched) segments, in order: the caller renders matched ones
    # highlighted, all of them as text.
    snippet: list[tuple[str, bool]]


@dataclass(frozen=True)
class Page:
    results: list[Hit] = field(default_factory=list)
    next_cursor: str | None = None


def search(
    user: User,
    text: str,
    *,
    membership: Membership | None = None,
    order: str = "newest",
    cursor: str | None = None,
    limit: int = 20,
) -> Page:
    """One page of the messages `user` may see that match the search `text`: in one
    conversation (`membership`, theirs) or in all of theirs; newest first, or best first
    (then newest); the next page from `cursor` (keyset, never OFFSET)."""
    query = parse(text)
    if order not in ORDERS:
        raise SearchQueryInvalid("order is newest or best.")
    limit = max(1, min(limit, MAX_PAGE))
    if membership is not None:
        qs = selectors.visible_messages(membership).select_related(None)
    else:
        qs = selectors.visible_messages_of_user(user)
    qs = _filtered(qs.filter(deleted_at__isnull=True), query, user)
    qs = _text_match(qs, query)
    after = _decode_cursor(cursor, order) if cursor else None
    # Newest first is the order messages were stored in: the primary key, whose index
    # PostgreSQL walks backwards, testing each message, until a page is found (a common
    # word costs a page, not every match); a rare word is looked up in the GIN index.
    keys = ("rank", "pk") if order == "best" and query.has_text else ("pk",)
    if after is not None:
        if len(after) != len(keys):  # a cursor of a search by other terms
            raise InvalidCursor()
        qs = qs.filter(_beyond(keys, after))
    rows = list(
        qs.order_by(*[f"-{k}" for k in keys]).values(
            "pk", "conversation_id", "seq", "created_at", "sender_id", "rank", "snippet"
        )[: limit + 1]
    )
    more = len(rows) > limit
    rows = rows[:limit]
    senders = selectors.senders_by_id(row["sender_id"] for row in rows)
    titles = _titles({row["conversation_id"] for row in rows}, user)
    hits = [
        Hit(
            conversation_id=row["conversation_id"],
            conversation_title=titles.get(row["conversation_id"], ""),
            seq=row["seq"],
            created_at=row["created_at"],
            sender=senders[row["sender_id"]],
            snippet=segments(row["snippet"] or "", highlighted=query.has_text),
        )
        for row in rows
    ]
    next_cursor = _encode_cursor(order, [rows[-1][k] for k in keys]) if more else None
    return Page(hits, next_cursor)


def _filtered(qs: QuerySet[Message], query: Query, user: User) -> QuerySet[Message]:
    if query.has_file:
        # Only a message with files has a list of them (docs/files.md); a tombstone has none.
        qs = qs.filter(attachments__isnull=False)
    if query.senders:
        match = Q()
        for name in query.senders:
            match |= Q(pk=user.pk) if name.lower() == "me" else Q(username__iexact=name)
        qs = qs.filter(sender__user__in=User.objects.filter(match).values("pk"))
    if query.conversations:
        qs = qs.filter(conversation_id__in=_named_conversations(user, query.conversations))
    if query.after is not None:
        qs = qs.filter(created_at__gte=query.after)
    if query.before is not None:
        qs = qs.filter(created_at__lt=query.before)
    return qs


def _named_conversations(user: User, names: tuple[str, ...]) -> list[int]:
    """The ids of the conversations of `user` that in: names: by id, by a title containing
    the name, or a direct chat with the person of that username."""
    match = Q()
    for name in names:
        if name.isdigit() and len(name) < 19:
            match |= Q(conversation_id=int(name))
        match |= Q(conversation__title__icontains=name)
        match |= Q(
            conversation__kind=Conversation.Kind.DIRECT,
            conversation__members__user__username__iexact=name.lstrip("@"),
        )
    return list(
        selectors.active_memberships(user).filter(match).values_list("conversation_id", flat=True)
    )


def _titles(conversation_ids: set[int], user: User) -> dict[int, str]:
    """Each conversation's title as the list shows it (a direct chat: the other's name)."""
    conversations = Conversation.objects.in_bulk(conversation_ids)
    titles = {pk: c.title for pk, c in conversations.items()}
    direct = [pk for pk, c in conversations.items() if c.is_direct]
    for m in (
        Membership.objects.filter(conversation_id__in=direct, user__isnull=False)
        .exclude(user=user)
        .select_related("user")
    ):
        titles[m.conversation_id] = m.user.name
    return titles


# --- The engines -----------------------------------------------------------------------------


def _text_match(qs: QuerySet[Message], query: Query) -> QuerySet[Message]:
    """`qs` narrowed to the messages containing every word and phrase of `query`, annotated
    with `rank` (higher is better) and `snippet` (marked with MARK_START and MARK_END).
    The one place that knows each engine."""
    if not query.has_text:
        return qs.annotate(rank=Value(0.0, output_field=FloatField()), snippet=F("body"))
    if connection.vendor == "postgresql":
        return _postgres_match(qs, query)
    if connection.vendor == "sqlite":
        return _sqlite_match(qs, query)
    raise NotImplementedError(f"message search does not support {connection.vendor}")


def _postgres_match(qs: QuerySet[Message], query: Query) -> QuerySet[Message]:
    from django.contrib.postgres.search import (
        SearchHeadline,
        SearchQuery,
        SearchRank,
        SearchVectorField,
    )

    language = settings.PARLEY["SEARCH_LANGUAGE"]
    tsquery = reduce(
        lambda a, b: a & b,
        [SearchQuery(w, search_type="plain", config=language) for w in query.words]
        + [SearchQuery(p, search_type="phrase", config=language) for p in query.phrases],
    )
    # The stored column of migration chat 0006, not a model field (see there why).
    vector = RawSQL(
        f'"{Message._meta.db_table}"."search_vector"', [], output_field=SearchVectorField()
    )
    return (
        qs.annotate(search_vector=vector)
        .filter(search_vector=tsquery)
        .annotate(
            # float8: a float4 read back as text and compared would not equal itself, and
            # the rank is part of the keyset of best-first pages.
            rank=Cast(SearchRank(vector, tsquery), FloatField()),
            snippet=SearchHeadline(
                "body",
                tsquery,
                config=language,
                start_sel=MARK_START,
                stop_sel=MARK_END,
                max_words=24,
                min_words=12,
                max_fragments=2,
                fragment_delimiter=" … ",
            ),
        )
    )


def _fts5_string(term: str) -> str:
    """A term as an FTS5 string: its words, in order (a phrase), never operators."""
    return '"' + term.replace('"', '""') + '"'


def _sqlite_match(qs: QuerySet[Message], query: Query) -> QuerySet[Message]:
    expression = " AND ".join(_fts5_string(t) for t in query.words + query.phrases)
    table = Message._meta.db_table
    one = f"FROM chat_message_fts WHERE chat_message_fts MATCH %s AND rowid = {table}.id"
    return qs.filter(
        pk__in=RawSQL(
            "SELECT rowid FROM chat_message_fts WHERE chat_message_fts MATCH %s", (expression,)
        )
    ).annotate(
        # bm25 is lower for better matches.
        rank=RawSQL(f"(SELECT -bm25(chat_message_fts) {one})", (expression,), FloatField()),
        snippet=RawSQL(
            f"(SELECT snippet(chat_message_fts, 0, char(2), char(3), '…', 16) {one})",
            (expression,),
        ),
    )


# --- Snippets and cursors --------------------------------------------------------------------


def segments(text: str, *, highlighted: bool = True) -> list[tuple[str, bool]]:
    """A marked snippet as (text, matched) segments. Without highlights (a search by
    filters only) the body's beginning, cut at PLAIN_SNIPPET_CHARS."""
    if not highlighted:
        cut = text[:PLAIN_SNIPPET_CHARS]
        return [(cut + ("…" if len(text) > PLAIN_SNIPPET_CHARS else ""), False)] if cut else []
    out: list[tuple[str, bool]] = []
    inside = False
    for part in re.split(f"([{MARK_START}{MARK_END}])", text):
        if part == MARK_START:
            inside = True
        elif part == MARK_END:
            inside = False
        elif part:
            out.append((part, inside))
    return out


def _beyond(keys: tuple[str, ...], values: list[Any]) -> Q:
    """Rows after `values` in descending order of `keys`: the keyset condition."""
    condition = Q()
    for i, key in enumerate(keys):
        step = Q(**{f"{key}__lt": values[i]})
        for earlier, value in zip(keys[:i], values[:i], strict=False):
            step &= Q(**{earlier: value})
        condition |= step
    return condition


def _encode_cursor(order: str, values: list[Any]) -> str:
    raw = json.dumps([order, *values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, order: str) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        decoded = json.loads(raw)
        if not isinstance(decoded, list) or decoded[0] != order:
            raise ValueError
        *rank, pk = decoded[1:]
        values = [float(r) for r in rank] + [int(pk)]
        if len(rank) > 1 or isinstance(pk, bool) or not 0 < values[-1] < 2**62:
            raise ValueError
    except (ValueError, TypeError, IndexError, binascii.Error, UnicodeDecodeError):
        raise InvalidCursor() from None
    return values
