"""The engine alone: conditions, order, stop processing. No database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tertulia.moderation.authors import Author, Context
from tertulia.moderation.policy import CompiledRule, evaluate, matches
from tertulia.moderation.schema import parse_actions, parse_conditions
from tertulia.moderation.textmatch import fold, phrase_pattern


@dataclass
class Msg:
    text: str = "hola"
    intent: str = "other"
    sentiment: str = "neutral"
    language: str = "es"
    kind: str = "reply"
    channel_id: int = 1


def compiled(
    conditions: dict[str, Any], actions: list[dict[str, Any]] | None = None, **kw: Any
) -> CompiledRule:
    parsed = parse_conditions(conditions)
    return CompiledRule(
        id=kw.get("id", 1),
        name=kw.get("name", "r"),
        conditions=parsed,
        actions=tuple(parse_actions(actions or [{"type": "escalate"}])),
        stop_processing=kw.get("stop", False),
        pattern=phrase_pattern([fold(p) for p in parsed.text_matches]),
    )


NOBODY = Context(Author(reach=10), reach_threshold=5000)
BLOGGER = Context(Author(reach=10_000), reach_threshold=5000)
CUSTOMER = Context(Author(reach=3, is_customer=True), reach_threshold=5000)


@pytest.mark.parametrize(
    ("conditions", "message", "context", "expected"),
    [
        ({"intents": ["spam"]}, Msg(intent="spam"), NOBODY, True),
        ({"intents": ["spam"]}, Msg(intent="question"), NOBODY, False),
        ({"sentiments": ["negative"]}, Msg(sentiment="negative"), NOBODY, True),
        ({"languages": ["en"]}, Msg(language="es"), NOBODY, False),
        ({"kinds": ["direct_message"]}, Msg(kind="reply"), NOBODY, False),
        ({"channels": [2, 3]}, Msg(channel_id=3), NOBODY, True),
        ({"min_followers": 5000}, Msg(), BLOGGER, True),
        ({"min_followers": 5000}, Msg(), NOBODY, False),
        ({"max_followers": 100}, Msg(), BLOGGER, False),
        ({"influential": True}, Msg(), BLOGGER, True),
        ({"influential": False}, Msg(), BLOGGER, False),
        ({"customer": True}, Msg(), CUSTOMER, True),
        ({"customer": False}, Msg(), CUSTOMER, False),
        ({"intents": ["complaint"], "influential": True}, Msg(intent="complaint"), NOBODY, False),
    ],
)
def test_every_condition_must_hold(conditions, message, context, expected) -> None:
    assert matches(compiled(conditions), message, context) is expected


@pytest.mark.parametrize(
    ("phrase", "text", "expected"),
    [
        ("envio gratis", "¡ENVÍO   gratis hoy!", True),  # case, accents, spaces
        ("envío", "envio", True),
        ("spam", "soy un spammer", False),  # whole words only
        ("spam", "esto es spam.", True),
        ("spam", "s\u200bpam aquí", True),  # a zero-width character does not hide the word
        ("c++", "me gusta c++ mucho", True),  # escaped: never a regular expression
        (".*", "cualquier cosa", False),
        ("gana dinero", "gana mucho dinero", False),
    ],
)
def test_text_matches_words_as_people_mean_them(phrase, text, expected) -> None:
    assert matches(compiled({"text_matches": [phrase]}), Msg(text=text), NOBODY) is expected


def test_rules_run_in_order_and_stop_processing_ends_them() -> None:
    first = compiled(
        {"intents": ["spam"]}, [{"type": "hide"}, {"type": "tag", "tag": "spam"}], id=1, stop=True
    )
    second = compiled({"intents": ["spam"]}, [{"type": "escalate"}], id=2)
    planned = evaluate([first, second], Msg(intent="spam"), NOBODY)
    assert [(p.rule.id, p.index, p.action_type) for p in planned] == [(1, 0, "hide"), (1, 1, "tag")]
    first_no_stop = compiled({"intents": ["spam"]}, [{"type": "hide"}], id=1)
    planned = evaluate([first_no_stop, second], Msg(intent="spam"), NOBODY)
    assert [p.action_type for p in planned] == ["hide", "escalate"]
    # A rule that does not match does not stop anything.
    assert [p.action_type for p in evaluate([first, second], Msg(intent="abuse"), NOBODY)] == []
