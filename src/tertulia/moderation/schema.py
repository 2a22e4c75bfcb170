"""The shape of a rule: its conditions and its actions, as stored (JSON) and as the engine uses them.

Conditions (every key optional, at least one given; all given must hold; a list holds when any of
its values does):

    {
      "intents": ["spam", "abuse"],          # question, complaint, praise, spam, abuse, other
      "sentiments": ["negative"],            # negative, neutral, positive
      "languages": ["es", "en"],             # as detected (tertulia.nlp)
      "text_matches": ["sorteo", "gana dinero"],  # whole words or phrases; case and accents ignored
      "min_followers": 5000, "max_followers": 100,  # the author's reach
      "influential": true,                   # reach at least the brand's threshold (or false: below it)
      "customer": true,                      # the author's contact is marked customer (or false: not)
      "channels": [12, 14],                  # channel ids of the rule's brand
      "kinds": ["reply", "mention"]          # mention, reply, quote, comment, direct_message
    }

Actions (in order, at least one): {"type": "hide"}, {"type": "delete"}, {"type": "block"},
{"type": "escalate"}, {"type": "assign", "user": 7}, {"type": "tag", "tag": "spam"},
{"type": "auto_reply", "text": "..."}.

`parse_conditions` and `parse_actions` are the only way in: they refuse anything else with an
error that says which key is wrong and what it should be (the web form, the API and the model's
own validation all show it as is).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from tertulia.inbox.actions.common import ActionRefused
from tertulia.inbox.actions.tags import clean_tag
from tertulia.inbox.models import Intent, MessageKind, Sentiment
from tertulia.moderation.choices import RULE_ACTIONS, ActionType
from tertulia.moderation.textmatch import fold

MAX_LIST = 50
MAX_PHRASE = 100
MAX_ACTIONS = 10
MAX_REPLY = 1000
MAX_TAG = 50
MAX_COUNT = 2**31 - 1
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")

CONDITION_KEYS = (
    "intents",
    "sentiments",
    "languages",
    "text_matches",
    "min_followers",
    "max_followers",
    "influential",
    "customer",
    "channels",
    "kinds",
)


@dataclass(frozen=True)
class Conditions:
    intents: frozenset[str] = frozenset()
    sentiments: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    text_matches: tuple[str, ...] = ()
    min_followers: int | None = None
    max_followers: int | None = None
    influential: bool | None = None
    customer: bool | None = None
    channels: frozenset[int] = frozenset()
    kinds: frozenset[str] = frozenset()

    def to_json(self) -> dict[str, Any]:
        """The stored form: only the keys that say something, lists sorted (stable diffs in the audit)."""
        data: dict[str, Any] = {}
        for key in ("intents", "sentiments", "languages", "kinds"):
            values = getattr(self, key)
            if values:
                data[key] = sorted(values)
        if self.text_matches:
            data["text_matches"] = list(self.text_matches)
        for key in ("min_followers", "max_followers", "influential", "customer"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        if self.channels:
            data["channels"] = sorted(self.channels)
        return data


@dataclass(frozen=True)
class ActionSpec:
    type: str
    tag: str = ""
    text: str = ""
    user: int | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": self.type}
        if self.type == ActionType.TAG:
            data["tag"] = self.tag
        elif self.type == ActionType.AUTO_REPLY:
            data["text"] = self.text
        elif self.type == ActionType.ASSIGN:
            data["user"] = self.user
        return data

    @property
    def params(self) -> dict[str, Any]:
        """What a ModerationAction records besides its type."""
        data = self.to_json()
        data.pop("type")
        return data


def _where(path: str, message: str) -> str:
    return f"{path}: {message}"


def _storable(text: str) -> bool:
    """Text every database can keep in JSON: no NUL, no unpaired surrogate."""
    return "\x00" not in text and not any("\ud800" <= ch <= "\udfff" for ch in text)


def _choices(path: str, value: Any, allowed: Iterable[str]) -> frozenset[str]:
    allowed = list(allowed)
    if not isinstance(value, list):
        raise ValidationError(
            _where(path, _("must be a list, e.g. [%(example)s].") % {"example": allowed[0]})
        )
    if len(value) > MAX_LIST:
        raise ValidationError(_where(path, _("at most %(n)d values.") % {"n": MAX_LIST}))
    for item in value:
        if not isinstance(item, str) or item not in allowed:
            raise ValidationError(
                _where(
                    path,
                    _("“%(value)s” is not one of: %(allowed)s.")
                    % {"value": str(item)[:40], "allowed": ", ".join(allowed)},
                )
            )
    return frozenset(value)


def _languages(value: Any) -> frozenset[str]:
    if not isinstance(value, list) or len(value) > MAX_LIST:
        raise ValidationError(
            _where("languages", _('must be a list of language codes such as ["es", "en"].'))
        )
    for item in value:
        if not isinstance(item, str) or not LANGUAGE.match(item):
            raise ValidationError(
                _where(
                    "languages",
                    _("“%(value)s” is not a language code such as es, en or pt-BR.")
                    % {"value": str(item)[:40]},
                )
            )
    return frozenset(value)


def _phrases(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) > MAX_LIST:
        raise ValidationError(
            _where("text_matches", _("must be a list of at most %(n)d words or phrases.") % {"n": MAX_LIST})
        )
    phrases: list[str] = []
    for item in value:
        if not isinstance(item, str) or not _storable(item) or not fold(item) or len(item) > MAX_PHRASE:
            raise ValidationError(
                _where(
                    "text_matches",
                    _("each word or phrase needs 1 to %(n)d characters, with at least one visible.")
                    % {"n": MAX_PHRASE},
                )
            )
        phrase = " ".join(item.split())
        if phrase not in phrases:
            phrases.append(phrase)
    return tuple(phrases)


def _count(path: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        raise ValidationError(_where(path, _("must be a whole number of followers, 0 or more.")))
    return int(value)


def _flag(path: str, value: Any) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise ValidationError(_where(path, _("must be true, false or null (either).")))
    return value


def _ids(path: str, value: Any) -> frozenset[int]:
    if not isinstance(value, list) or len(value) > MAX_LIST:
        raise ValidationError(_where(path, _("must be a list of channel ids.")))
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int) or not 1 <= item <= 2**63 - 1:
            raise ValidationError(
                _where(path, _("“%(value)s” is not a channel id.") % {"value": str(item)[:40]})
            )
    return frozenset(value)


def parse_conditions(data: Any) -> Conditions:
    """Conditions from their JSON form; ValidationError (saying where and why) if they are not valid."""
    if not isinstance(data, dict):
        raise ValidationError(_('Conditions must be a JSON object, e.g. {"intents": ["spam"]}.'))
    unknown = sorted(str(k) for k in data if k not in CONDITION_KEYS)
    if unknown:
        raise ValidationError(
            _("Unknown condition: %(unknown)s. Known conditions: %(known)s.")
            % {"unknown": ", ".join(k[:40] for k in unknown), "known": ", ".join(CONDITION_KEYS)}
        )
    conditions = Conditions(
        intents=_choices("intents", data["intents"], Intent.values) if "intents" in data else frozenset(),
        sentiments=(
            _choices("sentiments", data["sentiments"], Sentiment.values)
            if "sentiments" in data
            else frozenset()
        ),
        languages=_languages(data["languages"]) if "languages" in data else frozenset(),
        text_matches=_phrases(data["text_matches"]) if "text_matches" in data else (),
        min_followers=_count("min_followers", data.get("min_followers")),
        max_followers=_count("max_followers", data.get("max_followers")),
        influential=_flag("influential", data.get("influential")),
        customer=_flag("customer", data.get("customer")),
        channels=_ids("channels", data["channels"]) if "channels" in data else frozenset(),
        kinds=_choices("kinds", data["kinds"], MessageKind.values) if "kinds" in data else frozenset(),
    )
    if (
        conditions.min_followers is not None
        and conditions.max_followers is not None
        and conditions.min_followers > conditions.max_followers
    ):
        raise ValidationError(_("min_followers cannot be more than max_followers."))
    if not conditions.to_json():
        raise ValidationError(
            _("A rule needs at least one condition; a rule for every message is almost never meant.")
        )
    return conditions


def _action(index: int, data: Any) -> ActionSpec:
    path = f"actions[{index}]"
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise ValidationError(_where(path, _('must be an object with a type, e.g. {"type": "hide"}.')))
    kind = data["type"]
    allowed = sorted(RULE_ACTIONS)
    if kind not in allowed:
        raise ValidationError(
            _where(
                path,
                _("“%(value)s” is not one of: %(allowed)s.")
                % {"value": kind[:40], "allowed": ", ".join(allowed)},
            )
        )
    needs = {ActionType.TAG: "tag", ActionType.AUTO_REPLY: "text", ActionType.ASSIGN: "user"}.get(
        ActionType(kind)
    )
    extra = sorted(str(k) for k in data if k not in ("type", needs))
    if extra:
        raise ValidationError(
            _where(path, _("unexpected key: %(keys)s.") % {"keys": ", ".join(k[:40] for k in extra)})
        )
    if kind == ActionType.TAG:
        value = data.get("tag")
        if not isinstance(value, str) or not _storable(value):
            raise ValidationError(_where(path, _('a tag action needs a "tag" (text).')))
        try:
            return ActionSpec(kind, tag=clean_tag(value))
        except ActionRefused as refused:
            raise ValidationError(_where(path, str(refused))) from None
    if kind == ActionType.AUTO_REPLY:
        text = data.get("text")
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_REPLY:
            raise ValidationError(
                _where(
                    path, _('an automatic reply needs a "text" of 1 to %(n)d characters.') % {"n": MAX_REPLY}
                )
            )
        if not _storable(text):
            raise ValidationError(
                _where(path, _("the text must not contain NUL or unpaired surrogate characters."))
            )
        return ActionSpec(kind, text=text)
    if kind == ActionType.ASSIGN:
        user = data.get("user")
        if isinstance(user, bool) or not isinstance(user, int) or not 1 <= user <= 2**63 - 1:
            raise ValidationError(_where(path, _('an assign action needs a "user" (a member\'s id).')))
        return ActionSpec(kind, user=user)
    return ActionSpec(kind)


def parse_actions(data: Any) -> list[ActionSpec]:
    if not isinstance(data, list) or not data:
        raise ValidationError(_('Actions must be a non-empty list, e.g. [{"type": "hide"}].'))
    if len(data) > MAX_ACTIONS:
        raise ValidationError(_("A rule has at most %(n)d actions.") % {"n": MAX_ACTIONS})
    specs = [_action(i, item) for i, item in enumerate(data)]
    kinds = [s.type for s in specs]
    for kind in set(kinds) - {ActionType.TAG}:
        if kinds.count(kind) > 1:
            raise ValidationError(_("The action “%(type)s” appears twice.") % {"type": kind})
    if ActionType.HIDE in kinds and ActionType.DELETE in kinds:
        raise ValidationError(_("Choose hide or delete, not both: a deleted message cannot be hidden."))
    return specs


def validate_conditions(value: Any) -> None:
    parse_conditions(value)


def validate_actions(value: Any) -> None:
    parse_actions(value)
