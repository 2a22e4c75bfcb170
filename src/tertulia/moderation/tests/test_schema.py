"""Conditions and actions: stored in one normal form, anything else refused with an error that says where."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from tertulia.moderation.schema import parse_actions, parse_conditions


def _error(call, value) -> str:
    with pytest.raises(ValidationError) as caught:
        call(value)
    return " ".join(caught.value.messages)


def test_conditions_are_normalised() -> None:
    conditions = parse_conditions(
        {
            "intents": ["spam", "abuse", "spam"],
            "text_matches": ["  gana   dinero ", "gana dinero", "Sorteo"],
            "customer": None,
            "min_followers": 0,
            "influential": False,
        }
    )
    assert conditions.to_json() == {
        "intents": ["abuse", "spam"],
        "text_matches": ["gana dinero", "Sorteo"],
        "min_followers": 0,
        "influential": False,
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("spam", "must be a JSON object"),
        ([], "must be a JSON object"),
        ({}, "at least one condition"),
        ({"customer": None}, "at least one condition"),
        ({"intent": ["spam"]}, "Unknown condition: intent"),
        ({"intents": "spam"}, "intents: must be a list"),
        ({"intents": ["spam", "rudeness"]}, "intents: “rudeness” is not one of"),
        ({"sentiments": [1]}, "sentiments: “1” is not one of"),
        ({"kinds": ["tweet"]}, "kinds: “tweet” is not one of"),
        ({"languages": ["Spanish"]}, "languages: “Spanish” is not a language code"),
        ({"text_matches": [""]}, "text_matches"),
        ({"text_matches": ["\u200b"]}, "text_matches"),
        ({"text_matches": ["a\x00b"]}, "text_matches"),
        ({"text_matches": ["x" * 101]}, "text_matches"),
        ({"min_followers": -1}, "min_followers"),
        ({"min_followers": True}, "min_followers"),
        ({"max_followers": "100"}, "max_followers"),
        ({"min_followers": 10, "max_followers": 5}, "min_followers cannot be more than max_followers"),
        ({"customer": "yes"}, "customer: must be true, false or null"),
        ({"channels": ["12"]}, "channels: “12” is not a channel id"),
        ({"channels": [0]}, "channels"),
    ],
)
def test_bad_conditions_say_what_is_wrong(value, expected) -> None:
    assert expected in _error(parse_conditions, value)


def test_actions_are_normalised() -> None:
    actions = parse_actions(
        [{"type": "hide"}, {"type": "tag", "tag": "  Spam\u200b "}, {"type": "auto_reply", "text": "Hola"}]
    )
    assert [a.to_json() for a in actions] == [
        {"type": "hide"},
        {"type": "tag", "tag": "spam"},
        {"type": "auto_reply", "text": "Hola"},
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"type": "hide"}, "non-empty list"),
        ([], "non-empty list"),
        (["hide"], "actions[0]: must be an object with a type"),
        ([{"type": "unhide"}], "actions[0]: “unhide” is not one of"),
        ([{"type": "nuke"}], "“nuke” is not one of"),
        ([{"type": "hide", "tag": "x"}], "unexpected key: tag"),
        ([{"type": "tag"}], 'needs a "tag"'),
        ([{"type": "tag", "tag": "\u200b"}], "actions[0]"),
        ([{"type": "auto_reply", "text": " "}], "automatic reply needs"),
        ([{"type": "auto_reply", "text": "a\x00"}], "NUL"),
        ([{"type": "assign", "user": "7"}], "assign action needs"),
        ([{"type": "assign", "user": True}], "assign action needs"),
        ([{"type": "hide"}, {"type": "hide"}], "appears twice"),
        ([{"type": "hide"}, {"type": "delete"}], "hide or delete"),
        ([{"type": "tag", "tag": str(i)} for i in range(11)], "at most 10"),
    ],
)
def test_bad_actions_say_what_is_wrong(value, expected) -> None:
    assert expected in _error(parse_actions, value)


def test_several_tags_are_fine() -> None:
    assert len(parse_actions([{"type": "tag", "tag": "a"}, {"type": "tag", "tag": "b"}])) == 2
