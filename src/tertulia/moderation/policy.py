"""The rules engine: which actions a brand's rules ask for on a message. Pure: no database, no network.

Rules are compiled once per batch (conditions parsed, text patterns built); `evaluate` then only
reads the message and its context. Rules run in order; a matching rule with `stop_processing`
ends the evaluation for that message. What the guardrails make of each planned action is decided
afterwards (tertulia.moderation.guardrails), by the caller.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from django.core.exceptions import ValidationError

from tertulia.moderation.authors import Context
from tertulia.moderation.models import ModerationRule
from tertulia.moderation.schema import ActionSpec, Conditions, parse_actions, parse_conditions
from tertulia.moderation.textmatch import fold, phrase_pattern

logger = logging.getLogger(__name__)


class MessageFacts(Protocol):
    """What the engine reads of a message (a tertulia.inbox Message has all of it)."""

    @property
    def text(self) -> str: ...
    @property
    def intent(self) -> str: ...
    @property
    def sentiment(self) -> str: ...
    @property
    def language(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def channel_id(self) -> int: ...


@dataclass(frozen=True)
class CompiledRule:
    id: int | None
    name: str
    conditions: Conditions
    actions: tuple[ActionSpec, ...]
    stop_processing: bool
    pattern: re.Pattern[str] | None


@dataclass(frozen=True)
class PlannedAction:
    rule: CompiledRule
    index: int  # position among the rule's actions
    spec: ActionSpec

    @property
    def action_type(self) -> str:
        return self.spec.type


def compile_rule(rule: ModerationRule) -> CompiledRule:
    conditions = parse_conditions(rule.conditions)
    return CompiledRule(
        id=rule.pk,
        name=rule.name,
        conditions=conditions,
        actions=tuple(parse_actions(rule.actions)),
        stop_processing=rule.stop_processing,
        pattern=phrase_pattern([fold(p) for p in conditions.text_matches]),
    )


def compile_rules(rules: Iterable[ModerationRule]) -> list[CompiledRule]:
    """Rules in their order. A rule stored invalid (written around the actions layer) is skipped and
    logged: a broken rule must never stop the inbox from receiving messages."""
    compiled = []
    for rule in rules:
        try:
            compiled.append(compile_rule(rule))
        except ValidationError:
            logger.warning("moderation rule %s is not valid and was skipped", rule.pk)
    return compiled


def matches(rule: CompiledRule, message: MessageFacts, context: Context, folded: str | None = None) -> bool:
    """Whether `message` meets every condition of `rule`. `folded`: the message's text through
    `textmatch.fold`, when the caller already has it."""
    c = rule.conditions
    if c.intents and message.intent not in c.intents:
        return False
    if c.sentiments and message.sentiment not in c.sentiments:
        return False
    if c.languages and message.language not in c.languages:
        return False
    if c.kinds and message.kind not in c.kinds:
        return False
    if c.channels and message.channel_id not in c.channels:
        return False
    reach = context.author.reach
    if c.min_followers is not None and reach < c.min_followers:
        return False
    if c.max_followers is not None and reach > c.max_followers:
        return False
    if c.influential is not None and context.influential != c.influential:
        return False
    if c.customer is not None and context.author.is_customer != c.customer:
        return False
    if rule.pattern is not None:
        text = folded if folded is not None else fold(message.text)
        if rule.pattern.search(text) is None:
            return False
    return True


def evaluate(rules: Sequence[CompiledRule], message: MessageFacts, context: Context) -> list[PlannedAction]:
    """Every action the rules ask for on `message`, in rule order then action order."""
    planned: list[PlannedAction] = []
    folded: str | None = None
    for rule in rules:
        if rule.pattern is not None and folded is None:
            folded = fold(message.text)  # once per message, whatever the number of text rules
        if not matches(rule, message, context, folded):
            continue
        planned.extend(PlannedAction(rule, i, spec) for i, spec in enumerate(rule.actions))
        if rule.stop_processing:
            break
    return planned
