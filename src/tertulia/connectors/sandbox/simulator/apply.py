"""Write planned traffic to the network, as the community's many clients would."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tertulia.connectors.base import ConnectorError
from tertulia.connectors.sandbox import network
from tertulia.connectors.sandbox.models import SandboxAccount, SandboxPost
from tertulia.connectors.sandbox.simulator import community
from tertulia.connectors.sandbox.simulator.planner import (
    DM,
    QUOTE,
    REPLY,
    PlannedBrandPost,
    PlannedEngagement,
    PlannedMessage,
    plan_brand_post,
)

RECENT_POSTS = 10


@dataclass
class Stage:
    """The accounts a batch of plans refers to, loaded once per batch."""

    seed: int
    targets: dict[str, SandboxAccount]
    people: dict[str, SandboxAccount]
    simulation_id: int | None = None
    recent: dict[str, list[SandboxPost]] = field(default_factory=dict)

    @classmethod
    def load(cls, seed: int, targets: Iterable[SandboxAccount], simulation_id: int | None = None) -> Stage:
        handles = [p.handle for p in community.speakers()] + [community.BLOGGER_HANDLE]
        people = {a.handle: a for a in SandboxAccount.objects.filter(handle__in=handles)}
        return cls(seed, {t.handle: t for t in targets}, people, simulation_id)

    def posts_of(self, target: str, tick: int, at: datetime) -> list[SandboxPost]:
        """The brand's recent posts; if it has none, it posts first (something must be there to answer)."""
        if target not in self.recent:
            self.recent[target] = list(network.recent_posts(self.targets[target], RECENT_POSTS))
        if not self.recent[target]:
            self.brand_post(plan_brand_post(self.seed, tick, target), tick, at)
        return self.recent[target]

    def brand_post(self, planned: PlannedBrandPost, tick: int, at: datetime) -> None:
        created = network.post(
            self.targets[planned.target],
            planned.text,
            language=planned.language,
            meta={"simulation": self.simulation_id, "tick": tick, "category": "brand"},
            now=at,
        )
        self.recent.setdefault(planned.target, []).insert(0, created)
        del self.recent[planned.target][RECENT_POSTS:]


def apply_message(stage: Stage, planned: PlannedMessage, tick: int | None, at: datetime) -> bool:
    """Publish one planned message; False if the network refused it (e.g. the brand blocked the author)."""
    author = stage.people.get(planned.author)
    target = stage.targets.get(planned.target)
    if author is None or target is None:
        return False
    meta = {
        "simulation": stage.simulation_id,
        "tick": tick,
        "category": planned.category,
        "topic": planned.topic,
        "language": planned.language,
    }
    try:
        if planned.kind == DM:
            network.send_dm(author, target, planned.text, meta=meta, now=at)
        elif planned.kind in (REPLY, QUOTE):
            posts = stage.posts_of(planned.target, tick or 0, at)
            answered = posts[planned.pick % len(posts)]
            if planned.kind == REPLY:
                network.reply(author, answered, planned.text, language=planned.language, meta=meta, now=at)
            else:
                network.quote(author, answered, planned.text, language=planned.language, meta=meta, now=at)
        else:
            network.post(author, planned.text, language=planned.language, meta=meta, now=at)
    except ConnectorError:
        return False
    return True


def apply_engagement(stage: Stage, planned: PlannedEngagement, tick: int, at: datetime) -> None:
    author = stage.people.get(planned.author)
    if author is None or planned.target not in stage.targets:
        return
    posts = stage.posts_of(planned.target, tick, at)
    answered = posts[planned.pick % len(posts)]
    (network.like if planned.kind == "like" else network.repost)(author, answered)


def moment(base: datetime, offset_seconds: float, cap: datetime) -> datetime:
    """When a planned item happens, never in the future (catch-up after a pause stays in the past)."""
    return min(base + timedelta(seconds=offset_seconds), cap)


def apply_messages(
    stage: Stage, planned: Sequence[PlannedMessage], tick: int | None, base: datetime, cap: datetime
) -> int:
    return sum(apply_message(stage, p, tick, moment(base, p.offset, cap)) for p in planned)
