"""A widget bot's rules: validated when saved, matched against a visitor's message.

A rule is `{"keywords": [...], "answer": ...}` or `{"pattern": ..., "answer": ...}`.
Keywords match whole words, case-insensitively: a keyword of several words matches them
in a row ("opening hours" matches "what are your Opening  hours?", not "hours of
opening"). A pattern is a regular expression (Python's syntax, case-insensitive) found
anywhere in the message, run with a time limit (parley/support/regex_sandbox.py). The
first rule in order that matches answers (docs/widget.md, "The bot").
"""

from __future__ import annotations

import logging
import re
from typing import Any

from parley.chat.text import clean_line, clean_text
from parley.support.regex_sandbox import MatchTimeout, compile_error, first_match

log = logging.getLogger(__name__)

RULES_MAX = 50
KEYWORDS_MAX = 20
KEYWORD_MAX_LENGTH = 80
ANSWER_MAX_LENGTH = 1000

_WORD = re.compile(r"\w+")  # our own pattern: linear, never an owner's


def words(text: str) -> str:
    """The words of `text`, case-folded, each between single spaces (" a b c ")."""
    return " " + " ".join(_WORD.findall(text.casefold())) + " "


def has_keyword(keywords: list[str], text: str) -> bool:
    """Whether any of `keywords` is in `text` as whole words."""
    said = words(text)
    return any(words(k) != "  " and words(k) in said for k in keywords)


def clean_keywords(value: Any, field: str, problems: dict[str, list[str]]) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems[field] = ["A list of words or phrases."]
        return []
    cleaned = [clean_line(v) for v in value if clean_line(v)]
    if len(cleaned) > KEYWORDS_MAX:
        problems[field] = [f"At most {KEYWORDS_MAX}."]
    elif any(len(k) > KEYWORD_MAX_LENGTH for k in cleaned):
        problems[field] = [f"Each at most {KEYWORD_MAX_LENGTH} characters."]
    elif any(words(k) == "  " for k in cleaned):
        problems[field] = ["Each needs a letter or a digit."]
    return cleaned


def clean_answer(value: Any, field: str, problems: dict[str, list[str]]) -> str:
    text = clean_text(value).strip() if isinstance(value, str) else ""
    if not isinstance(value, str):
        problems[field] = ["Text."]
    elif len(text) > ANSWER_MAX_LENGTH:
        problems[field] = [f"At most {ANSWER_MAX_LENGTH} characters."]
    return text


def clean_rules(value: Any, problems: dict[str, list[str]]) -> list[dict[str, Any]]:
    """The rules as stored, in order; each problem under `rules.<index>.<field>`."""
    if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
        problems["rules"] = ["A list of rules, each {keywords or pattern, answer}."]
        return []
    if len(value) > RULES_MAX:
        problems["rules"] = [f"At most {RULES_MAX} rules."]
        return []
    cleaned = []
    for i, rule in enumerate(value):
        where = f"rules.{i}"
        unknown = set(rule) - {"keywords", "pattern", "answer"}
        if unknown:
            problems[where] = [f"Unknown fields: {', '.join(sorted(unknown))}."]
            continue
        if ("keywords" in rule) == ("pattern" in rule):
            problems[where] = ["Either keywords or a pattern."]
            continue
        answer = clean_answer(rule.get("answer"), f"{where}.answer", problems)
        if not answer and f"{where}.answer" not in problems:
            problems[f"{where}.answer"] = ["Required."]
        if "keywords" in rule:
            keywords = clean_keywords(rule["keywords"], f"{where}.keywords", problems)
            if not keywords and f"{where}.keywords" not in problems:
                problems[f"{where}.keywords"] = ["At least one."]
            cleaned.append({"keywords": keywords, "answer": answer})
        else:
            pattern = rule["pattern"] if isinstance(rule["pattern"], str) else ""
            error = compile_error(pattern)
            if error:
                problems[f"{where}.pattern"] = [error]
            cleaned.append({"pattern": pattern, "answer": answer})
    return cleaned


def matching_rule(rules: list[dict[str, Any]], text: str) -> dict[str, Any] | None:
    """The first of `rules` that matches `text`, or None. The patterns before the first
    keyword rule that matches run in one request to the sandbox; when they overrun its
    time limit, none of them matched (the keyword rule still may)."""
    keyword_hit = next(
        (i for i, r in enumerate(rules) if "keywords" in r and has_keyword(r["keywords"], text)),
        len(rules),
    )
    before = [(i, r["pattern"]) for i, r in enumerate(rules[:keyword_hit]) if "pattern" in r]
    if before:
        try:
            found = first_match([p for _, p in before], text)
        except MatchTimeout:
            found = None
        if found is not None:
            return rules[before[found][0]]
    return rules[keyword_hit] if keyword_hit < len(rules) else None
