"""What happens in each tick: a pure function of (seed, tick, rate, targets, crisis).

No database here. The same inputs always give the same plan, byte for byte,
in any process (see `seeding`). Base traffic and crisis traffic draw from
separate streams, so staging a crisis adds messages without changing the ones
that would have been generated anyway.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

from tertulia.connectors.sandbox.simulator import community, corpus
from tertulia.connectors.sandbox.simulator.seeding import seeded

TICK_SECONDS = 2.0
BLOGGER_PERIOD = 450  # ticks: the blogger complains every 15 minutes...
BLOGGER_OFFSET = 15  # ...the first time 30 seconds in, so a demo shows her early
BRAND_POST_PERIOD = 900  # ticks: the brand posts every 30 minutes
CRISIS_FLOOR_PER_MINUTE = 6  # a crisis still surges on a simulation with little or no base traffic

MENTION, REPLY, QUOTE, DM = "mention", "reply", "quote", "dm"
KIND_WEIGHTS = ((MENTION, 45), (REPLY, 30), (QUOTE, 10), (DM, 15))
CRISIS_KIND_WEIGHTS = ((MENTION, 55), (REPLY, 30), (QUOTE, 12), (DM, 3))
CATEGORY_WEIGHTS = (
    (corpus.PRAISE, 22),
    (corpus.QUESTION, 26),
    (corpus.COMPLAINT, 20),
    (corpus.SPAM, 8),
    (corpus.INSULT, 5),
    (corpus.OFF_TOPIC, 19),
)


@dataclass(frozen=True)
class CrisisSpec:
    topic: str
    multiplier: int


@dataclass(frozen=True)
class PlannedMessage:
    kind: str  # mention, reply, quote or dm
    category: str
    language: str
    author: str  # handle
    target: str  # brand handle it is addressed to
    text: str
    pick: int  # which of the target's recent posts a reply or quote answers (modulo how many there are)
    offset: float  # seconds into the tick
    topic: str | None = None


@dataclass(frozen=True)
class PlannedEngagement:
    kind: str  # like or repost
    author: str
    target: str
    pick: int


@dataclass(frozen=True)
class PlannedBrandPost:
    target: str
    language: str
    text: str


@dataclass(frozen=True)
class TickPlan:
    tick: int
    messages: tuple[PlannedMessage, ...] = ()
    engagements: tuple[PlannedEngagement, ...] = ()
    brand_posts: tuple[PlannedBrandPost, ...] = ()


def poisson(rng: random.Random, mean: float) -> int:
    """Arrivals in one tick: Knuth's method for small means, a normal approximation for large ones."""
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def _weighted(rng: random.Random, weights: Sequence[tuple[str, int]]) -> str:
    return rng.choices([name for name, _w in weights], weights=[w for _name, w in weights])[0]


def _mention(text: str, target: str, rng: random.Random) -> str:
    return f"@{target} {text}" if rng.random() < 0.6 else f"{text} @{target}"


def _message(
    rng: random.Random,
    targets: Sequence[str],
    category: str,
    kinds: Sequence[tuple[str, int]],
    topic: str | None,
) -> PlannedMessage:
    person = rng.choice(community.speakers())
    target = rng.choice(list(targets))
    kind = _weighted(rng, kinds)
    if topic is not None:
        text = corpus.crisis_message(topic, person.language, rng)
    else:
        text = corpus.community_message(category, person.language, rng)
    if kind == MENTION or (kind == QUOTE and rng.random() < 0.3) or (kind == REPLY and rng.random() < 0.2):
        text = _mention(text, target, rng)
    return PlannedMessage(
        kind=kind,
        category=category,
        language=person.language,
        author=person.handle,
        target=target,
        text=text,
        pick=rng.randrange(1_000_000),
        offset=rng.random() * TICK_SECONDS,
        topic=topic,
    )


def plan_community_message(rng: random.Random, targets: Sequence[str]) -> PlannedMessage:
    return _message(rng, targets, _weighted(rng, CATEGORY_WEIGHTS), KIND_WEIGHTS, None)


def plan_crisis_message(rng: random.Random, targets: Sequence[str], topic: str) -> PlannedMessage:
    category = corpus.INSULT if rng.random() < 0.12 else corpus.COMPLAINT
    return _message(rng, targets, category, CRISIS_KIND_WEIGHTS, topic)


def plan_blogger_message(
    rng: random.Random, targets: Sequence[str], crisis: CrisisSpec | None
) -> PlannedMessage:
    person = community.blogger()
    target = rng.choice(list(targets))
    kind = MENTION if rng.random() < 0.6 else REPLY
    if crisis is not None:
        text = corpus.crisis_message(crisis.topic, "es", rng)
    else:
        text = corpus.blogger_message(rng)
    if kind == MENTION:
        text = _mention(text, target, rng)
    return PlannedMessage(
        kind=kind,
        category=corpus.COMPLAINT,
        language="es",
        author=person.handle,
        target=target,
        text=text,
        pick=rng.randrange(1_000_000),
        offset=rng.random() * TICK_SECONDS,
        topic=crisis.topic if crisis else None,
    )


def plan_brand_post(seed: int, tick: int, target: str) -> PlannedBrandPost:
    rng = seeded("sandbox", seed, tick, "brand", target)
    language = "es" if rng.random() < 0.6 else "en"
    return PlannedBrandPost(target=target, language=language, text=corpus.brand_post(language, rng))


def plan_tick(
    seed: int, tick: int, rate_per_minute: int, targets: Sequence[str], crisis: CrisisSpec | None = None
) -> TickPlan:
    """Everything the community does towards `targets` in tick `tick`."""
    if not targets:
        return TickPlan(tick)
    targets = sorted(targets)
    rng = seeded("sandbox", seed, tick)
    per_tick = rate_per_minute * TICK_SECONDS / 60
    messages = [plan_community_message(rng, targets) for _ in range(poisson(rng, per_tick))]
    engagements = [
        PlannedEngagement(
            kind=kind,
            author=rng.choice(community.speakers()).handle,
            target=rng.choice(targets),
            pick=rng.randrange(10),
        )
        for kind, mean in (("like", per_tick * 1.5), ("repost", per_tick * 0.3))
        for _ in range(poisson(rng, mean))
    ]
    brand_posts = (
        [plan_brand_post(seed, tick, target) for target in targets]
        if rate_per_minute and tick % BRAND_POST_PERIOD == 1
        else []
    )
    if crisis is not None:
        crisis_rng = seeded("sandbox", seed, tick, "crisis", crisis.topic)
        surge = (
            max(rate_per_minute, CRISIS_FLOOR_PER_MINUTE) * TICK_SECONDS / 60 * max(crisis.multiplier - 1, 0)
        )
        messages.extend(
            plan_crisis_message(crisis_rng, targets, crisis.topic) for _ in range(poisson(crisis_rng, surge))
        )
    if (rate_per_minute or crisis is not None) and tick % BLOGGER_PERIOD == BLOGGER_OFFSET:
        messages.append(plan_blogger_message(seeded("sandbox", seed, tick, "blogger"), targets, crisis))
    return TickPlan(tick, tuple(messages), tuple(engagements), tuple(brand_posts))


def plan_burst(seed: int, index: int, targets: Sequence[str]) -> PlannedMessage:
    """Message `index` of a burst: the same community mix, without waiting for ticks."""
    return plan_community_message(seeded("sandbox", seed, "burst", index), sorted(targets))
